"""SIGKILL in the middle of a delivery burst and at random points of a poll cycle (issue 7).

After restarts, every matched alert reached every subscribed chat, with at most one repeat per
chat per kill (the send in flight when the process died), and the database is intact.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import Store
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401
from tests.feedserver import FeedServer
from tests.helpers import ROOT, rss, write_config

pytestmark = pytest.mark.sqlite_only(
    "SIGKILL and the SQLite file (integrity_check); on PostgreSQL: test_several_instances.py"
)

CHATS = [2000 + i for i in range(20)]


def feed(stories: int) -> bytes:
    items = [
        (
            f"ترامب يعلن قرارا جديدا رقم {i}",
            f"https://www.hespress.com/trump-{i}.html",
            f"Wed, 11 Feb 2026 {8 + i // 60:02d}:{i % 60:02d}:00 +0000",
        )
        for i in range(stories)
    ]
    return rss(items)


def start(config: Path, fake: FakeTelegram) -> asyncio.Future[asyncio.subprocess.Process]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": fake.token,
    }
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bot.py"),
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    )


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await proc.communicate()


async def setup(
    tmp_path: Path, server: FeedServer, fake: FakeTelegram, health: bool = False
) -> Path:
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
          enabled: false
        """,
    )
    # the feed's first poll happened and the chats subscribed before the news broke
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'state' / 'm.db'}")
    now = datetime.now(UTC)
    await store.sync_feeds([("h", server.url("/feed.xml"), None, 1)], now)
    from store import FeedUpdate

    await store.ingest("h", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
    for chat in CHATS:
        fake.private_chat(chat)
        await store.save_subscription("telegram", str(chat), ["trump"], now)
    await store.close()
    return config


def delivered(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    return Counter(
        (m.chat_id, m.visible.split("\n")[0].strip("\u200f\u200e "))
        for m in fake.messages()
        if m.chat_id in CHATS
    )


def check_database(path: Path, stories: int) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        statuses = Counter(row[0] for row in db.execute("SELECT status FROM outbox"))
        assert statuses == {"sent": stories * len(CHATS)}
        assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == stories


async def finish(config: Path, fake: FakeTelegram, expected: int) -> None:
    proc = await start(config, fake)
    try:
        for _ in range(600):
            if len(delivered(fake)) == expected:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 15)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_mid_burst_loses_nothing(
    tmp_path: Path, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    config = await setup(tmp_path, feed_server, fake_telegram)
    stories = 5
    feed_server.set("/feed.xml", feed(stories))
    proc = await start(config, fake_telegram)
    for _ in range(300):
        if sum(delivered(fake_telegram).values()) >= 40:
            break
        await asyncio.sleep(0.05)
    await kill(proc)  # mid-burst: many alerts are still pending
    assert 40 <= sum(delivered(fake_telegram).values()) < stories * len(CHATS)

    restarted_at = fake_telegram.clock()
    await finish(config, fake_telegram, stories * len(CHATS))
    got = delivered(fake_telegram)
    assert len(got) == stories * len(CHATS)  # every (chat, story) arrived
    repeats = Counter(chat for (chat, _), n in got.items() for _ in range(n - 1))
    assert all(n <= 1 for n in repeats.values())  # at most one repeat per chat, at the kill
    # The new process does not know when the killed one last sent to a chat: when it starts
    # within a second of the kill, its first message to such a chat may get one 429 (which
    # it honours). Nothing else may: none before the kill, no chat twice, none later.
    refused = [chat for chat, at, _ in fake_telegram.rate_limited]
    assert len(refused) == len(set(refused)), fake_telegram.rate_limited
    assert all(restarted_at <= at < restarted_at + 10 for _, at, _ in fake_telegram.rate_limited)
    check_database(tmp_path / "state" / "m.db", stories)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_at_random_points_of_poll_cycles(
    tmp_path: Path, feed_server: FeedServer, fake_telegram: FakeTelegram
) -> None:
    config = await setup(tmp_path, feed_server, fake_telegram)
    rng = random.Random(7)
    stories = 0
    kills = 4
    for _ in range(kills):
        stories += 2  # new stories appear, and the process dies somewhere in its next cycle
        feed_server.set("/feed.xml", feed(stories))
        proc = await start(config, fake_telegram)
        await asyncio.sleep(
            rng.uniform(0.3, 1.6)
        )  # start-up, polling, matching, storing or sending
        await kill(proc)
    await finish(config, fake_telegram, stories * len(CHATS))
    got = delivered(fake_telegram)
    assert len(got) == stories * len(CHATS)
    repeats = Counter(chat for (chat, _), n in got.items() for _ in range(n - 1))
    assert all(n <= kills for n in repeats.values())  # at most one per chat per kill
    check_database(tmp_path / "state" / "m.db", stories)
