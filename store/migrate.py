"""Schema migrations: the Alembic revisions in store/migrations/versions, run on every start.

Both backends run the same revisions. Instances starting together take a lock first, so only
one migrates and the others find the work done (SQLite: an exclusive lock on a file next to the
database; PostgreSQL: a transaction-level advisory lock). Revisions are numbered "0001",
"0002", ...; the number of the newest one is also written to meta.schema_version, which the
releases before Alembic read, so an older Mirsad refuses a database newer than itself.

A database made before Alembic (no alembic_version table) is stamped at the revision its
meta.schema_version names, then upgraded in place.

Alembic itself (~11 MB of memory, issue 19) is imported only when there is work for it: a
database already at the newest revision (every start but the first after an upgrade) is
recognised by reading alembic_version against the revision files' own `revision =` lines,
and a database with no table at all is made from store/tables.py (`create_all`) and stamped
at the newest revision, as Alembic's own docs build one from scratch ("Building an Up to
Date Database from Scratch"): ~7 MB less at the first start (Alembic, Mako), one truth kept
by tests/test_migrations.py, which holds the migrations' schema to tables.py's column by
column, index by index, on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from . import tables as t

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# any fixed 64-bit number: the advisory lock all Mirsad instances on one PostgreSQL agree on
PG_LOCK_KEY = 0x6D69_7273_6164  # "mirsad"
# pre-Alembic meta.schema_version -> the revision that schema corresponds to
LEGACY_REVISIONS = {1: "0001", 2: "0002"}


class SchemaError(RuntimeError):
    """The database cannot be used by this Mirsad (newer schema, unknown history)."""


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


_REVISION = re.compile(r"""^(down_revision|revision)\s*=\s*(?:["']([^"']+)["']|None)""", re.M)


def head_revision() -> str:
    """The newest revision, read from the revision files without importing Alembic: the one
    no other revision names as its down_revision (tests/test_migrations.py holds it to
    Alembic's own answer)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


@contextlib.asynccontextmanager
async def _sqlite_file_lock(database: str | None) -> AsyncIterator[None]:
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)  # waits for another starter
        yield
    finally:
        os.close(fd)  # closing releases the lock


# Alembic's own version table, as `alembic stamp` creates it (its own MetaData: it is not
# part of the schema tables.py describes).
_alembic_version = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _upgrade(sync: Connection) -> None:
    if sync.dialect.name == "postgresql":
        # held until this transaction commits: a second instance waits here, then finds
        # alembic_version at head and does nothing
        sync.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    tables = set(inspect(sync).get_table_names())
    if not tables:
        create_at_head(sync)
        return
    if "alembic_version" in tables:
        current = sync.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if current == head_revision():
            return  # nothing to do: Alembic stays unimported
    migrate(sync, tables)


def create_at_head(sync: Connection) -> None:
    """A database with no table: tables.py's schema, stamped at the newest revision (what
    the migrations build from nothing, without importing Alembic)."""
    t.metadata.create_all(sync)
    _alembic_version.create(sync)
    head = head_revision()
    sync.execute(_alembic_version.insert().values(version_num=head))
    _write_schema_version(sync, head)


def migrate(sync: Connection, tables: set[str] | None = None) -> None:
    """Run the Alembic revisions from wherever the database is (nothing, a stamped revision,
    or a schema from before Alembic) up to the newest."""
    if tables is None:
        tables = set(inspect(sync).get_table_names())
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    config.attributes["connection"] = sync
    if "alembic_version" not in tables and "meta" in tables:
        row = sync.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).first()
        legacy = int(row.value) if row is not None else 1
        if legacy not in LEGACY_REVISIONS:
            raise SchemaError(
                f"the database is schema version {legacy}, newer than this Mirsad "
                f"({head_revision()}): upgrade Mirsad or use another database"
            )
        command.stamp(config, LEGACY_REVISIONS[legacy])
    elif "alembic_version" in tables:
        current = sync.execute(text("SELECT version_num FROM alembic_version")).scalar()
        known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
        if current is not None and current not in known:
            raise SchemaError(
                f"the database is at schema revision {current}, newer than this Mirsad "
                f"({head_revision()}): upgrade Mirsad or use another database"
            )
    command.upgrade(config, "head")
    _write_schema_version(sync, head_revision())


def _write_schema_version(sync: Connection, head: str) -> None:
    if head.isdigit():  # what releases before Alembic compare against (see module docstring)
        sync.execute(t.meta.delete().where(t.meta.c.key == "schema_version"))
        sync.execute(t.meta.insert().values(key="schema_version", value=str(int(head))))


# Alembic keeps the running migration in module globals (`alembic.context`, `alembic.op`), so
# one process runs one migration at a time whatever the database (tests open several at once).
_in_process: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def opening(url: str) -> AsyncIterator[None]:
    """Held while a store opens `url`: one opening per process at a time, and on SQLite one
    per database file across processes (the file checks, creation and migration together;
    PostgreSQL's lock is taken inside the migration itself)."""
    one_here = _in_process.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    parsed = make_url(url)
    async with one_here:
        if parsed.drivername.startswith("sqlite"):
            async with _sqlite_file_lock(parsed.database):
                yield
        else:
            yield


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision (a no-op when it is there already).
    Call it inside `opening(url)`."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
