"""Schema migrations (Alembic): a real schema-2 database migrated in place, a newer database
refused, instances starting together, and the migrations agreeing with store/tables.py."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from store import Store
from store.migrate import SchemaError, create_at_head, head_revision, migrate
from store.tables import metadata
from tests.helpers import DATA, ROOT
from tests.pg import fresh_database


@pytest.mark.sqlite_only("schema 2 was SQLite only (tests/data/schema2.db)")
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


async def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run one statement on the database behind `url` (SQLite or PostgreSQL), outside Mirsad."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_opening_twice_changes_nothing(database_url: str) -> None:
    for _ in range(2):
        store = await Store.open(database_url)
        await store.close()
    assert await sql(database_url, "SELECT version_num FROM alembic_version") == [
        (head_revision(),)
    ]


async def test_a_database_from_a_newer_mirsad_is_refused(database_url: str) -> None:
    store = await Store.open(database_url)
    await store.close()
    await sql(database_url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError, match="schema revision 9999, newer than this Mirsad"):
        await Store.open(database_url)


OPEN_AND_CLOSE = """
import asyncio, sys
from store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1])
    await store.close()

asyncio.run(main())
"""


@pytest.mark.slow
async def test_instances_starting_together_on_a_new_database_all_start(
    empty_database_url: str,
) -> None:
    """The migration lock: three processes open one new database at once (SQLite: the file
    lock; PostgreSQL: the advisory lock); one migrates, the others wait and find it done."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            OPEN_AND_CLOSE,
            empty_database_url,
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await asyncio.wait_for(p.communicate(), 60) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    store = await Store.open(empty_database_url)
    try:
        assert await store.get_meta("schema_version") == str(int(head_revision()))
    finally:
        await store.close()


async def test_the_migrations_build_exactly_the_schema_of_store_tables(
    empty_database_url: str,
) -> None:
    """A new column or index goes into tables.py AND a new revision file: this catches one
    without the other, on each backend. (The Alembic revisions run here from nothing, as on a
    database that predates them; Store.open makes a new database from tables.py, below.)"""
    engine = create_async_engine(empty_database_url)

    def diff(sync: Connection) -> list[object]:
        migrate(sync)
        context = MigrationContext.configure(sync, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def schema_of(sync: Connection) -> dict[str, object]:
    """Everything the database says about its tables: columns (type, nullable, default),
    primary key, indexes, unique constraints, foreign keys, by name, plus alembic_version's
    and meta's rows. Column order is left out: every statement of Mirsad names its columns
    (a column added by a revision comes last, where tables.py may list it elsewhere)."""
    inspector = inspect(sync)
    out: dict[str, object] = {}
    for table in sorted(inspector.get_table_names()):
        columns = {
            c["name"]: (str(c["type"]), c["nullable"], c.get("default"))
            for c in inspector.get_columns(table)
        }
        out[table] = {
            "columns": columns,
            "primary key": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign keys": sorted(
                (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    str(sorted(f.get("options", {}).items())),
                )
                for f in inspector.get_foreign_keys(table)
            ),
        }
    for table in ("alembic_version", "meta"):
        out[f"rows of {table}"] = sorted(
            tuple(r) for r in sync.execute(text(f"SELECT * FROM {table}"))
        )
    return out


async def test_a_new_database_made_from_tables_is_the_one_the_migrations_make(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Issue 19: a database with no table is made from tables.py and stamped at the newest
    revision, without Alembic (~7 MB). It must be the database the revisions build, so a
    later revision runs on it as on any other."""

    async def build(url: str, how: Callable[[Connection], object]) -> dict[str, object]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(how)
            async with engine.connect() as conn:
                return await conn.run_sync(schema_of)
        finally:
            await engine.dispose()

    by_tables = await build(empty_database_url, create_at_head)
    async with AsyncExitStack() as stack:
        if empty_database_url.startswith("sqlite"):
            other = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        else:
            other = await stack.enter_async_context(fresh_database())
        by_migrations = await build(other, migrate)
    assert by_tables == by_migrations
    assert by_tables["rows of alembic_version"] == [(head_revision(),)]


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "store" / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_alembic_is_imported_only_when_a_migration_is_needed(tmp_path: Path) -> None:
    """Issue 19: Alembic costs ~11 MB; a new database and one at the newest revision do not
    need it."""
    import subprocess

    script = (
        "import asyncio, sys\n"
        "from store import Store\n"
        "async def main():\n"
        f"    store = await Store.open('sqlite+aiosqlite:///{tmp_path / 'm.db'}')\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )

    def imported() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert imported() == "False"  # a new database: made from tables.py, stamped at head
    assert imported() == "False"  # at the newest revision: nothing to migrate
    shutil.copy(DATA / "schema2.db", tmp_path / "m.db")
    assert imported() == "True"  # an older schema: the revisions run
