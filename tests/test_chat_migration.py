"""Issue 17 item 3, end to end: a group upgraded to a supergroup that was already subscribed.

`bot.py once` runs against the fake Telegram with a database that holds the group's pending
alerts; the group's first send answers "upgraded to a supergroup". Before the fix, the group's
other alerts stayed pending forever (never sent, never pruned).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models import Evidence, Match, Story
from store import FeedUpdate, Store
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401
from tests.feedserver import FeedServer
from tests.helpers import ROOT, write_config

EMPTY_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><link>https://h.test/</link>
<description>d</description></channel></rss>
"""

OLD_GROUP = -5003
SUPERGROUP = -1005003


def story(n: int, now: datetime) -> Story:
    return Story(
        id=f"https://h.test/{n}",
        feed_id="hespress_ar",
        title=f"خبر رقم {n}",
        summary="ملخص",
        link=f"https://h.test/{n}",
        published=now - timedelta(minutes=10 - n),
        language="ar",
    )


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_group_migrated_onto_a_subscribed_supergroup_gets_its_pending_alerts(
    tmp_path: Path, feed_server: FeedServer, fake_telegram: FakeTelegram, database_url: str
) -> None:
    feed_server.set("/feed.xml", EMPTY_FEED, etag='"1"')
    config = write_config(
        tmp_path,
        f"""\
        database: {database_url}
        feeds:
          - id: hespress_ar
            url: {feed_server.url("/feed.xml")}
            language: ar
        http:
          allow_private_addresses: true
          total_timeout: 5
        telegram:
          api_base_url: {fake_telegram.api_base_url}
        """,
    )
    # The state the bug report describes, written through the store as a running bot would.
    now = datetime.now(UTC)
    store = await Store.open(database_url)
    try:
        await store.sync_feeds([("hespress_ar", feed_server.url("/feed.xml"), "ar", 300)], now)
        await store.ingest("hespress_ar", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
        await store.save_subscription("telegram", str(OLD_GROUP), ["musk"], now)
        await store.save_subscription("telegram", str(SUPERGROUP), ["trump"], now)
        labels = {1: ("musk",), 2: ("musk",), 3: ("musk",), 4: ("musk", "trump")}
        await store.ingest(
            "hespress_ar",
            [story(n, now) for n in labels],
            {
                story(n, now).id: Match(ls, tuple(Evidence(x, x, x, "title") for x in ls))
                for n, ls in labels.items()
            },
            FeedUpdate(next_poll_at=now),
            now,
            alert=True,
        )
    finally:
        await store.close()
    fake_telegram.group(OLD_GROUP, supergroup=False)
    fake_telegram.group(SUPERGROUP)
    fake_telegram.fail(
        OLD_GROUP,
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": SUPERGROUP},
        times=None,
    )

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "once",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            "PATH": os.environ.get("PATH", ""),
            "NO_PROXY": "127.0.0.1,localhost",
            "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        },
    )
    _, err_bytes = await asyncio.wait_for(proc.communicate(), 60)
    err = err_bytes.decode()
    assert proc.returncode == 0, err[-3000:]

    # Every alert reached the supergroup exactly once; none is left pending. (Story 4, the
    # supergroup's own, may go first: it was sendable while the group's first send migrated.)
    got = [
        m.visible.split("\n")[0].lstrip("\u200f\u200e") for m in fake_telegram.messages(SUPERGROUP)
    ]
    assert sorted(got) == [story(n, now).title for n in (1, 2, 3, 4)]
    assert fake_telegram.messages(OLD_GROUP) == []
    store = await Store.open(database_url)
    try:
        counts = await store.outbox_counts()
        rows = await store.outbox_rows()
    finally:
        await store.close()
    assert ("telegram", "pending") not in counts
    assert counts[("telegram", "sent")] == 4
    (cancelled,) = [r for r in rows if r["status"] == "cancelled"]  # story 4, queued twice
    assert (cancelled["chat_id"], cancelled["story_id"]) == (str(OLD_GROUP), story(4, now).id)
    assert "chat_migration_alerts" in err and "Traceback" not in err
