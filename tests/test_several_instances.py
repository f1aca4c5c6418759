"""Issue 16, "Done when": three `bot.py run` instances on one PostgreSQL database and the fake
Telegram. 1,000 alerts to 100 chats; the instance sending them is SIGKILLed mid-burst and
another one restarts. Every alert arrives, at most one repeat per chat for the kill, the feed
is never polled twice within its interval and the fake never sees Telegram's global limit
exceeded. Needs PostgreSQL (tests/pg.py); skipped without one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from store import Store
from store import tables as t
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401
from tests.feedserver import FeedServer
from tests.helpers import ROOT, write_config
from tests.pg import POSTGRES_URL, fresh_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set MIRSAD_TEST_POSTGRES_URL"),
]

CHATS = [7000 + i for i in range(100)]
STORIES = 10
INTERVAL = 5  # seconds between polls of the feed


def rss(count: int) -> bytes:
    """The feed with `count` new stories about Trump (newest first) and one older story."""
    items = [
        f"<item><title>دونالد ترامب يعلن القرار رقم {n}</title>"
        f"<link>https://news.test/{n}</link><guid>https://news.test/{n}</guid>"
        f"<description>خبر</description>"
        f"<pubDate>Tue, 01 Dec 2026 08:{n:02d}:00 +0000</pubDate></item>"
        for n in range(count, 0, -1)
    ]
    items.append(
        "<item><title>خبر قديم</title><link>https://news.test/old</link>"
        "<description>قديم</description><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate></item>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://news.test/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class Instance:
    def __init__(self, name: str, config: Path, roles: str, token: str, logs: Path) -> None:
        self.name, self.config, self.roles, self.token = name, config, roles, token
        self.log = logs / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bot.py"),
            "run",
            "--config",
            str(self.config),
            "--roles",
            self.roles,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.log.open("a"),  # a pipe nobody reads would fill up and block it
            env={
                "PATH": os.environ.get("PATH", ""),
                "NO_PROXY": "127.0.0.1,localhost",
                "TELEGRAM_BOT_TOKEN": self.token,
            },
        )

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), 30)


async def wait_until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.timeout(300)
async def test_three_instances_deliver_everything_through_a_kill_and_a_restart(
    tmp_path: Path, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    disruptions: list[float] = []  # when an instance was killed or stopped (monotonic)
    for chat in CHATS:
        fake.private_chat(chat)
    feed_server.set("/feed.xml", rss(0), etag='"0"')
    async with fresh_database() as url:
        store = await Store.open(url)
        try:
            from datetime import UTC, datetime

            for chat in CHATS:
                await store.save_subscription("telegram", str(chat), ["trump"], datetime.now(UTC))
        finally:
            await store.close()
        config = write_config(
            tmp_path,
            f"""\
            database: {url}
            feeds:
              - id: news
                url: {feed_server.url("/feed.xml")}
                language: ar
                interval: {INTERVAL}
            http:
              allow_private_addresses: true
              total_timeout: 5
            telegram:
              api_base_url: {fake.api_base_url}
            health:
              enabled: false
            """,
        )
        # one instance answers commands (one getUpdates reader per token); all poll and deliver
        instances = [
            Instance("a", config, "poll,deliver,commands", fake.token, tmp_path),
            Instance("b", config, "poll,deliver", fake.token, tmp_path),
            Instance("c", config, "poll,deliver", fake.token, tmp_path),
        ]
        try:
            for instance in instances:
                await instance.start()
            await wait_until(lambda: feed_server.hits("/feed.xml") >= 1, 60, "the first poll")
            await asyncio.sleep(1)  # the first poll is recorded (silently)
            feed_server.set("/feed.xml", rss(STORIES), etag='"1"')

            def delivered() -> int:
                return len(fake.messages())

            await wait_until(lambda: delivered() >= 250, 90, "the burst to be under way")
            # SIGKILL the instance holding Telegram's sender lease: the one sending now
            store = await Store.open(url)
            try:
                async with store.engine.connect() as conn:
                    owner = (
                        await conn.execute(
                            select(t.leases.c.owner).where(t.leases.c.name == "sender:telegram")
                        )
                    ).scalar_one()
            finally:
                await store.close()
            pid = int(owner.split("-")[-2])
            (victim,) = [i for i in instances if i.proc is not None and i.proc.pid == pid]
            disruptions.append(time.monotonic())
            assert await victim.stop(signal.SIGKILL) == -signal.SIGKILL
            killed_at = delivered()
            # another instance restarts (an upgrade): a clean stop, then it comes back
            await wait_until(lambda: delivered() >= killed_at + 150, 90, "delivery to resume")
            restarted = next(i for i in instances if i is not victim)
            disruptions.append(time.monotonic())
            assert await restarted.stop() == 0
            await restarted.start()

            expected = {(chat, n) for chat in CHATS for n in range(1, STORIES + 1)}

            def seen() -> Counter[tuple[int, int]]:
                return Counter(
                    (m.chat_id, int(m.visible.split("\n")[0].rsplit(" ", 1)[-1]))
                    for m in fake.messages()
                    if "القرار رقم" in m.visible
                )

            await wait_until(lambda: set(seen()) >= expected, 150, "every alert delivered")
        finally:
            for instance in instances:
                if instance.proc is not None and instance.proc.returncode is None:
                    instance.proc.kill()
                    await instance.proc.wait()
        logs = "\n".join(i.log.read_text(errors="replace")[-3000:] for i in instances)

    counts = seen()
    assert set(counts) == expected, logs
    repeats = Counter(chat for (chat, _), n in counts.items() for _ in range(n - 1))
    assert max(repeats.values(), default=0) <= 1, (repeats, logs)  # one kill: <= 1 per chat
    assert fake.rate_limited == [], logs  # never over the global (or a chat's) limit
    # No due time of the feed polled twice by two instances. Polls keep the feed's phase on a
    # 1 s tick, but a request can go out seconds late on a loaded machine (the next one is on
    # time again, so that gap is short by the lateness: 3.2 s was seen with INTERVAL 5 under
    # the full suite), and a poll the kill or the stop cut off is made again sooner by another
    # instance. What a double poll looks like: two requests within about a tick, or more
    # requests than due times.
    times = [r.at for r in feed_server.requests("/feed.xml")]
    gaps = [
        b - a for a, b in itertools.pairwise(times) if not any(a <= d <= b for d in disruptions)
    ]
    assert min(gaps) >= 1.5, gaps
    assert len(times) - 1 <= (times[-1] - times[0]) / INTERVAL + 1 + len(disruptions), times
    assert "Traceback" not in logs, logs
