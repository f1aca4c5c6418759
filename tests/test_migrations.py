"""Schema migrations (Alembic): a real schema-2 database migrated in place, a newer database
refused, instances starting together, and the migrations agreeing with store/tables.py."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from store import Store
from store.migrate import SchemaError, head_revision
from store.tables import metadata
from tests.helpers import DATA, ROOT


async def test_a_real_schema_2_database_is_migrated_in_place(tmp_path: Path) -> None:
    """tests/data/schema2.db was written by the release before Alembic (schema version 2):
    three feeds' worth of state, subscriptions on both platforms, outbox rows of each status."""
    path = tmp_path / "mirsad.db"
    shutil.copy(DATA / "schema2.db", path)
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert await store.get_meta("schema_version") == str(int(head_revision()))
        assert await store.get_meta("discord_sync:global") == "abc123"
        (feed,) = await store.feeds()  # old_feed stays disabled
        assert (feed.id, feed.etag, feed.initialized) == ("hespress_ar", '"e2"', True)
        user = await store.subscription("telegram", "1001")
        assert user is not None and user.active and user.labels == ("trump", "ai")
        assert user.lang == "en"
        topic = await store.subscription("telegram", "-1002", "7")
        assert topic is not None and topic.labels == ("musk",)
        channel = await store.subscription("discord", "3003")
        assert channel is not None and not channel.active
        assert (channel.guild_id, channel.paused_reason) == ("9009", "no_permission")
        assert await store.outbox_counts() == {("telegram", "pending"): 2, ("telegram", "sent"): 1}
        # the pending alerts go on where they were: the next due head is the second story
        later = datetime(2026, 11, 20, 9, 10, tzinfo=UTC)
        (head,) = await store.next_deliveries(["telegram"], later)
        assert head.story.id == "https://www.hespress.com/n-1.html"
        assert head.match.labels == ("trump",)
        # and the store works as usual on it
        await store.mark_sent(head.outbox_id, "502", later)
        assert await store.prune(later + timedelta(days=60), timedelta(days=30)) == 0
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]


async def test_a_feed_paused_the_old_way_is_marked_paused(tmp_path: Path) -> None:
    """Before schema 5 a paused feed had its next poll parked in the year 9999 (and a poll in
    flight could undo that); the migration turns it into the `paused` flag."""
    path = tmp_path / "mirsad.db"
    shutil.copy(DATA / "schema2.db", path)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE feeds SET next_poll_at = '9999-01-01 00:00:00.000000' WHERE id = 'hespress_ar'"
        )
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        (feed,) = await store.feeds()
        assert feed.id == "hespress_ar" and feed.paused
        assert await store.due_feeds(datetime(9999, 6, 1, tzinfo=UTC)) == []
    finally:
        await store.close()
    fresh = tmp_path / "fresh.db"
    shutil.copy(DATA / "schema2.db", fresh)
    store = await Store.open(f"sqlite+aiosqlite:///{fresh}")
    try:
        (feed,) = await store.feeds()
        assert not feed.paused  # any other feed is not
    finally:
        await store.close()


async def test_opening_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    for _ in range(2):
        store = await Store.open(url)
        await store.close()
    with sqlite3.connect(tmp_path / "m.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]


async def test_a_database_from_a_newer_mirsad_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    await store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError, match="schema revision 9999, newer than this Mirsad"):
        await Store.open(f"sqlite+aiosqlite:///{path}")


OPEN_AND_CLOSE = """
import asyncio, sys
from store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1])
    await store.close()

asyncio.run(main())
"""


@pytest.mark.slow
async def test_instances_starting_together_on_a_new_database_all_start(database_url: str) -> None:
    """The migration lock: three processes open one new database at once (SQLite: the file
    lock; PostgreSQL: the advisory lock); one migrates, the others wait and find it done."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            OPEN_AND_CLOSE,
            database_url,
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await asyncio.wait_for(p.communicate(), 60) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    store = await Store.open(database_url)
    try:
        assert await store.get_meta("schema_version") == str(int(head_revision()))
    finally:
        await store.close()


async def test_the_migrations_build_exactly_the_schema_of_store_tables(database_url: str) -> None:
    """A new column or index goes into tables.py AND a new revision file: this catches one
    without the other, on each backend."""
    store = await Store.open(database_url)

    def diff(sync: Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await store.close()
