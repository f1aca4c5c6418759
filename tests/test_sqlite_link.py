"""store/sqlite_link.py: a statement in one trip to the connection's thread, and SQLAlchemy
sees exactly what it saw through aiosqlite's own cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from store.engine import create_engine
from store.sqlite_link import OneTripConnection

pytestmark = pytest.mark.sqlite_only("the SQLite connection adapter itself")

meta = MetaData()
things = Table(
    "things",
    meta,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True, nullable=False),
)


async def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'link.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    return engine


async def test_the_engine_uses_one_trip_connections(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)
        # the connect listener's pragmas went through it too
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_rows_rowcount_lastrowid_and_returning(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    async with engine.begin() as conn:
        one = await conn.execute(insert(things).values(name="a"))
        assert one.lastrowid == 1
        many = await conn.execute(insert(things), [{"name": "b"}, {"name": "c"}])
        assert many.rowcount == 2
        back = await conn.execute(
            insert(things).values(name="d").returning(things.c.id, things.c.name)
        )
        assert [tuple(r) for r in back] == [(4, "d")]
        changed = await conn.execute(
            update(things).where(things.c.name.in_(["a", "b"])).values(name=things.c.name + "!")
        )
        assert changed.rowcount == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(select(things).order_by(things.c.id))).all()
        assert [tuple(r) for r in rows] == [(1, "a!"), (2, "b!"), (3, "c"), (4, "d")]
        assert (await conn.execute(select(things).where(things.c.id == 99))).first() is None
        result = await conn.execute(select(things.c.name).order_by(things.c.id))
        assert result.fetchmany(3) == [("a!",), ("b!",), ("c",)]
        assert result.fetchone() == ("d",)
        assert result.fetchone() is None
    await engine.dispose()


async def test_an_error_rolls_the_transaction_back(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    async with engine.begin() as conn:
        await conn.execute(insert(things).values(name="kept"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(things).values(name="lost"))
            await conn.execute(insert(things).values(name="kept"))  # unique: fails
    # the pooled connection came back rolled back: the next transaction sees only "kept" and
    # can write (a transaction left open would hold SQLite's write lock)
    async with engine.begin() as conn:
        await conn.execute(insert(things).values(name="next"))
    async with engine.connect() as conn:
        names = (await conn.execute(select(things.c.name).order_by(things.c.id))).scalars()
        assert list(names) == ["kept", "next"]
        raw = await conn.get_raw_connection()
        assert not raw.driver_connection._conn.in_transaction
    await engine.dispose()


async def test_a_rollback_undoes_uncommitted_writes(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    async with engine.connect() as conn:
        await conn.execute(insert(things).values(name="x"))
        raw = await conn.get_raw_connection()
        assert raw.driver_connection._conn.in_transaction
        await conn.rollback()
        assert not raw.driver_connection._conn.in_transaction
        assert (await conn.execute(select(things.c.name))).all() == []
    await engine.dispose()
