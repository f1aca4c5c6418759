"""aiosqlite connections that run each statement in ONE trip to their thread.

aiosqlite runs a sqlite3 connection in a thread of its own; every call is a trip there and
back (a queue put, the thread's turn at the GIL, a wake-up of the event loop). SQLAlchemy's
aiosqlite adapter makes four trips for a SELECT (make a cursor, execute, fetch all, close)
and three for any other statement, and one more to roll back each connection it returns to
its pool, although the adapter reads every row at once anyway. A changed feed's poll runs
~10 statements on 4 connections (issue 19): most of the trips were this overhead.

Here a statement is one trip: the cursor is made, executed, read to the end and closed in
the connection's thread, and SQLAlchemy is handed the finished result. A commit or rollback
with no transaction open is no trip at all (sqlite3 does nothing in that case either).
What SQLAlchemy sees is unchanged: the same rows, rowcount, lastrowid, description and
exceptions (raised in the thread, passed back by aiosqlite as before).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite

# (description, rowcount, lastrowid, rows) of one finished statement
_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> _Outcome:  # in the connection's thread
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        # a statement with rows (RETURNING too) completes only once they are read: here
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses, one trip a statement."""

    __slots__ = ("_link", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, link: OneTripConnection) -> None:
        self._link = link
        self._rows: deque[Any] = deque()
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        await self._finish(sql, parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        await self._finish(sql, parameters, many=True)
        return self

    async def _finish(self, sql: str, parameters: Any, *, many: bool) -> None:
        # aiosqlite's own way to run a function in the thread (its cursor uses it too)
        run = self._link._execute
        outcome: _Outcome = await run(  # type: ignore[no-untyped-call]
            _run, self._link._conn, sql, parameters, many
        )
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        n = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(n, len(self._rows)))]

    async def close(self) -> None:
        self._rows.clear()  # the sqlite3 cursor was closed in the thread


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors finish a statement in one trip."""

    async def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    def _idle(self) -> bool:
        """No transaction open. Read from the event loop's thread: the connection's thread
        is waiting for its next call (each call is awaited before the next is made)."""
        return self._connection is not None and not self._connection.in_transaction

    async def commit(self) -> None:
        if not self._idle():
            await super().commit()

    async def rollback(self) -> None:
        if not self._idle():
            await super().rollback()


def one_trip_connect(connector: Callable[[], sqlite3.Connection]) -> OneTripConnection:
    """A connection (awaited to open, like aiosqlite.connect's) made by `connector`."""
    return OneTripConnection(connector, iter_chunk_size=64)
