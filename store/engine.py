"""The database engine: opening it (SQLite or PostgreSQL), reads, writes taking turns, and the
write batching the feeds repository uses.

SQLAlchemy 2 Core on an async engine: SQLite (aiosqlite, WAL) by default, PostgreSQL through a
`postgresql+asyncpg://` URL. Every repository method takes the current time from its caller
(`now`), so behaviour is testable without a clock.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from sqlalchemy import Column, event, select
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.visitors import InternalTraversal

from .sqlite_link import one_trip_connect

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def _prepare_sqlite_file(url: str) -> None:
    """Create the database file owner-only (0600) before SQLite does, and its folder.

    An existing file is never opened here, only its mode tightened. SQLite's locks are POSIX
    record locks, which belong to the process, and closing any descriptor of the file drops
    all of them: the running bot opens a second engine (store/reports.py) after its store's
    connections hold their locks, and an open-and-close here left it holding none. Another
    process reading the live file (`bot.py latest`, the sqlite3 shell) then took itself for
    the last connection when it closed, checkpointed and deleted the write-ahead log under
    the bot, whose next query failed with "disk I/O error" (issue 16).
    """
    parsed = make_url(url)
    if (
        not parsed.drivername.startswith("sqlite")
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)  # a new file: no connection of this process holds a lock on it yet
    path.chmod(0o600)  # an existing file made under a looser umask is tightened too


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _open_existing_file(path: str) -> Callable[[], Awaitable[Any]]:
    """Connections that open the SQLite file read-write but never create it (`mode=rw`).

    The file is created once, by _prepare_sqlite_file. Without this, a database deleted under
    the running bot was silently recreated empty by the next pooled connection; now that
    connection fails ("unable to open database file") and the file watch (store/dbfile.py)
    stops the bot, naming the file.
    """
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=rw"

    def connect() -> Any:
        # each statement one trip to the connection's thread (store/sqlite_link.py)
        connection = one_trip_connect(
            lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
        return connection

    return connect


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`, with SQLite's file and connection settings applied."""
    _prepare_sqlite_file(url)
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.drivername == "sqlite+aiosqlite" and parsed.database not in (None, "", ":memory:"):
        assert parsed.database is not None
        options["async_creator"] = _open_existing_file(parsed.database)
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def upsert(dialect: str, table: Table) -> PostgresInsert | SqliteInsert:
    """An INSERT with the dialect's ON CONFLICT clauses (`on_conflict_do_nothing`, ...)."""
    if dialect == "postgresql":
        # imported here: the PostgreSQL dialect is ~1.4 MB of modules that a SQLite instance
        # never uses (issue 19, memory)
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table)
    return sqlite_insert(table)


class _SqliteDoNothing(sqlite_dml.OnConflictDoNothing):
    """SQLite's `ON CONFLICT (columns) DO NOTHING`, with a cache key (what it is made of)."""

    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own class attribute, a list)
        ("inferred_target_elements", InternalTraversal.dp_clauseelement_list),
        ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
    ]


class _SqliteInsert(sqlite_dml.Insert):
    # Insert's own cache key, which covers its ON CONFLICT clause: cached only with the clause
    # above (SQLAlchemy's own clauses have no cache key, so with one of them the statement is
    # compiled each time, as sqlite_insert's always is)
    inherit_cache = True


@cache
def _postgres_insert_classes() -> tuple[type[PostgresInsert], type[Any]]:
    """The same two for PostgreSQL, made on first use: its dialect is imported only there."""
    from sqlalchemy.dialects.postgresql import dml

    class PostgresDoNothing(dml.OnConflictDoNothing):
        _traverse_internals = [  # noqa: RUF012 (as above)
            ("constraint_target", InternalTraversal.dp_string),
            ("inferred_target_elements", InternalTraversal.dp_clauseelement_list),
            ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
        ]

    class PostgresInsertNew(dml.Insert):
        inherit_cache = True

    return PostgresInsertNew, PostgresDoNothing


def insert_new(
    dialect: str, table: Table, key: Sequence[Column[Any]]
) -> PostgresInsert | SqliteInsert:
    """`INSERT ... ON CONFLICT (key) DO NOTHING`, compiled once per engine.

    upsert(...).on_conflict_do_nothing(...) has no cache key in SQLAlchemy 2.0, on either
    dialect, so SQLAlchemy compiled it anew on every execution: for the insert of a changed
    feed's new stories, once per changed poll, ~0.6 ms of CPU on SQLite and ~1.4 ms on
    PostgreSQL (issue 19; BENCHMARKS.md). Same SQL, same behaviour."""
    insert_class: type[PostgresInsert] | type[SqliteInsert]
    do_nothing: type[Any]
    if dialect == "postgresql":
        insert_class, do_nothing = _postgres_insert_classes()
    else:
        insert_class, do_nothing = _SqliteInsert, _SqliteDoNothing
    statement = insert_class(table)
    statement._post_values_clause = do_nothing(index_elements=list(key))
    return statement


class Database:
    """One engine, shared by every repository."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite allows one writer at a time: see write(). PostgreSQL locks rows, not the file.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reading (no transaction is committed)."""
        return self.engine.connect()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; on SQLite, this process's writers take turns.

        SQLite allows one writer at a time. With many feeds finishing together, writers
        queued in SQLite's busy handler behind each other and some gave up after its timeout
        with "database is locked" (BENCHMARKS.md, Polling); here they queue on a lock instead,
        in order and without a timeout. Readers are not serialised: WAL lets them run beside
        the writer.
        """
        turn: AbstractAsyncContextManager[Any] = self._write_lock or nullcontext()
        async with turn, self.engine.begin() as conn:
            yield conn

    async def ping(self) -> bool:
        async with self.read() as conn:
            return (await conn.execute(select(1))).scalar() == 1

    async def dispose(self) -> None:
        await self.engine.dispose()


class Repository:
    """Base of the repositories: each holds the shared Database (cooperative __init__, so
    `store.Store` can combine them)."""

    def __init__(self, db: Database) -> None:
        self._db = db


T = TypeVar("T")


class Batcher(Generic[T]):
    """Collects the items added within `window` seconds of the first one and hands them to
    `write` in one call; every caller waits until the call that carries its item is done and
    sees its error, if any."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], window: float) -> None:
        self._write = write
        self._window = window
        self._items: list[T] = []
        self._written: asyncio.Future[None] | None = None  # for the batch being collected
        self._flushes: set[asyncio.Task[None]] = set()

    async def add(self, item: T) -> None:
        self._items.append(item)
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
            flush = asyncio.create_task(self._flush(self._written))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        # shield: a caller cancelled meanwhile must not cancel the write the others wait for
        await asyncio.shield(self._written)

    async def drain(self) -> None:
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def _flush(self, written: asyncio.Future[None]) -> None:
        try:
            await asyncio.sleep(self._window)
            items, self._items, self._written = self._items, [], None
            await self._write(items)
        except Exception as exc:  # every caller in the batch reports it
            written.set_exception(exc)
        else:
            written.set_result(None)
        finally:
            if not written.done():  # cancelled: release the callers too
                written.cancel()
