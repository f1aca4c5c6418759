"""Disk full under `bot.py run` while a burst of alerts goes out (issue 17, case 1).

The disk fills for real, as far as the process can tell: the test lowers the running bot's
RLIMIT_FSIZE soft limit (`prlimit`), so every write the bot makes to a regular file (the
SQLite database and its WAL) fails the way a full filesystem fails it, while reads, the
network and the log pipe keep working. Raising the soft limit back is "space freed". This
needs no root, no mount and no special filesystem, so it runs the same in CI.

What a user would see is asserted: the messages that reached the fake Telegram server (no
storm of repeats), /healthz 503 with the reason, the exit code and the line printed, and
after a restart every alert delivered with at most one repeat per chat.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import signal
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import FeedUpdate, Store
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401
from tests.feedserver import FeedServer
from tests.helpers import ROOT, free_port, get, rss, write_config

CHATS = [3000 + i for i in range(20)]
STORIES = 8
LIMIT = 8  # seconds the store may refuse writes before the bot exits (config)

pytestmark = [
    pytest.mark.skipif(
        not hasattr(resource, "prlimit"), reason="needs Linux prlimit to fill the disk"
    ),
    pytest.mark.sqlite_only("the disk under the SQLite file fills up (a file size limit)"),
]


def feed(stories: int) -> bytes:
    return rss(
        [
            (
                f"ترامب يعلن قرارا جديدا رقم {i}",
                f"https://www.hespress.com/trump-{i}.html",
                f"Wed, 11 Feb 2026 08:{i:02d}:00 +0000",
            )
            for i in range(stories)
        ]
    )


def fill_disk(pid: int) -> None:
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))  # no file may grow past 1 byte


def free_disk(pid: int) -> None:
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))


class Bot:
    """`bot.py run` in a subprocess; its log lines are read as they come (never blocked)."""

    def __init__(self, config: Path, fake: FakeTelegram) -> None:
        self.config, self.fake = config, fake
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Bot:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "NO_PROXY": "127.0.0.1,localhost",
            "TELEGRAM_BOT_TOKEN": self.fake.token,
        }
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bot.py"),
            "run",
            "--config",
            str(self.config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace").rstrip())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def exit_code(self, within: float) -> int:
        assert self.proc is not None and self._reader is not None
        code = await asyncio.wait_for(self.proc.wait(), within)
        await self._reader
        return code

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.exit_code(20)


def delivered(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    return Counter(
        (m.chat_id, m.visible.split("\n")[0].strip("\u200f\u200e "))
        for m in fake.messages()
        if m.chat_id in CHATS
    )


def timed_out_chats(lines: list[str]) -> set[int]:
    """The chats where a send timed out (the bot logs the retry with the client's error)."""
    found = (
        re.search(r"alert_retry platform=telegram chat=(-?\d+) .*TimedOut", line) for line in lines
    )
    return {int(m[1]) for m in found if m}


def about(chats: set[int], lines: list[str], fake: FakeTelegram) -> str:
    """What reached these chats and what the bot logged about them, then its last lines:
    enough to tell why a chat got an alert twice."""
    marks = tuple(f"chat={chat} " for chat in chats)
    mentioned = [line for line in lines if any(mark in line for mark in marks)]
    got = [
        f"message={m.message_id} chat={m.chat_id} time={m.time:.3f} {m.visible[:60]!r}"
        for m in fake.messages()
        if m.chat_id in chats
    ]
    return "\n".join(
        [f"repeated in chats {sorted(chats)}:", *got, *mentioned, "last lines:", *lines[-80:]]
    )


def count(fake: FakeTelegram) -> int:
    return sum(delivered(fake).values())


async def until(check, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def prepare(tmp_path: Path, server: FeedServer, fake: FakeTelegram, port: int) -> Path:
    server.set("/feed.xml", feed(0))
    config = write_config(
        tmp_path,
        f"""\
        database: state/m.db
        feeds:
          - id: h
            url: {server.url("/feed.xml")}
            interval: 1
        http:
          allow_private_addresses: true
        telegram:
          api_base_url: {fake.api_base_url}
        health:
          port: {port}
        delivery:
          store_outage_limit: {LIMIT}
        """,
    )
    # the feed's first poll happened and the chats subscribed before the news broke
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'state' / 'm.db'}")
    now = datetime.now(UTC)
    await store.sync_feeds([("h", server.url("/feed.xml"), None, 1)], now)
    await store.ingest("h", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
    for chat in CHATS:
        fake.private_chat(chat)
        await store.save_subscription("telegram", str(chat), ["trump"], now)
    await store.close()
    return config


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_disk_full_during_a_burst_no_storm_503_then_exit_1_and_one_repeat_per_chat(
    tmp_path: Path, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    port = free_port()
    health = f"http://127.0.0.1:{port}/healthz"
    config = await prepare(tmp_path, feed_server, fake_telegram, port)
    total = STORIES * len(CHATS)
    feed_server.set("/feed.xml", feed(STORIES))
    bot = await Bot(config, fake_telegram).start()
    try:
        # 1. the disk fills in the middle of the burst, then space is freed
        await until(lambda: count(fake_telegram) >= 40, 60, "40 alerts delivered")
        fill_disk(bot.pid)
        await until(lambda: get(health)[0] == 503, 20, "/healthz 503")
        status, body = get(health)
        assert status == 503
        assert "delivery stopped: the database refuses writes (OperationalError: " in body
        assert "disk I/O error" in body
        # the sends under way when the disk filled still land (at most one per chat; on a
        # loaded machine the fake may take one in after the 503), then nothing more goes out
        # while the disk stays full
        stopped_at = count(fake_telegram)
        await asyncio.sleep(1.5)  # three times the first retry
        landed = count(fake_telegram)
        assert landed - stopped_at <= len(CHATS)
        await asyncio.sleep(1.5)  # the retries go on: still nothing new
        assert count(fake_telegram) == landed
        assert landed < total
        stopped_at = landed
        free_disk(bot.pid)
        await until(lambda: get(health)[0] == 200, 20, "/healthz 200 again")
        await until(lambda: count(fake_telegram) > stopped_at, 20, "delivery to resume")
        after_first = delivered(fake_telegram)
        # the owed marks were written: no repeat, except where a send timed out (on a loaded
        # machine its answer can come too late; at most one repeat then, as documented)
        repeated = {chat for (chat, _), n in after_first.items() if n > 1}
        assert repeated <= timed_out_chats(bot.lines), about(repeated, bot.lines, fake_telegram)

        # 2. the disk fills again and stays full: the bot exits 1 after the limit
        await until(lambda: count(fake_telegram) >= stopped_at + 40, 60, "40 more alerts")
        fill_disk(bot.pid)
        filled_at = count(fake_telegram)
        code = await bot.exit_code(LIMIT + 30)
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            bot.proc.kill()
            await bot.proc.wait()
    assert code == 1
    assert any(
        "mirsad_stopped" in line and "the database refused writes for 8 s" in line
        for line in bot.lines
    ), "\n".join(bot.lines[-20:])
    assert not any("Task exception was never retrieved" in line for line in bot.lines)
    in_flight = count(fake_telegram) - filled_at
    assert in_flight <= len(CHATS)  # only the sends under way: no storm
    assert count(fake_telegram) < total

    # 3. the supervisor restarts it with space back: everything arrives
    bot = await Bot(config, fake_telegram).start()
    try:
        await until(lambda: len(delivered(fake_telegram)) == total, 90, "every alert")
    finally:
        assert await bot.stop() == 0
    got = delivered(fake_telegram)
    repeats = Counter(chat for (chat, _), n in got.items() for _ in range(n - 1))
    assert all(n <= 1 for n in repeats.values()), repeats  # at most one per chat per fault
    with sqlite3.connect(tmp_path / "state" / "m.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = Counter(row[0] for row in db.execute("SELECT status FROM outbox"))
        assert statuses == {"sent": total}
    print(
        f"disk full: first fault (space freed) 0 repeats; second fault (exit 1 after {LIMIT} s) "
        f"{sum(repeats.values())} repeats over {len(repeats)} chats, {in_flight} sends in flight"
    )
