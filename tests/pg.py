"""PostgreSQL for tests: a fresh database per test on the server MIRSAD_TEST_POSTGRES_URL names.

`scripts/test` sets the variable when a server answers on 127.0.0.1:5432 (the dev and CI
machines run PostgreSQL 15 there) and says so when none does; every test of a database (the
`database_url` and `store` fixtures in tests/conftest.py) then runs on both SQLite and
PostgreSQL. Nothing here starts a server.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from store import Store

POSTGRES_URL = os.environ.get("MIRSAD_TEST_POSTGRES_URL", "")


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database="postgres").render_as_string(hide_password=False)


_template: str | None = None  # this process's migrated template database, made on first use


async def _migrated_template(url: str) -> str:
    """A database migrated to head once per test process; fresh databases copy it (CREATE
    DATABASE ... TEMPLATE copies files), which is much faster than migrating each one."""
    global _template
    if _template is None:
        name = f"mirsad_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = await asyncpg.connect(_admin_dsn(url))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        store = await Store.open(
            make_url(url).set(database=name).render_as_string(hide_password=False)
        )
        await store.close()  # a template must have no open connection
        atexit.register(_drop_now, url, name)
        _template = name
    return _template


def _drop_now(url: str, name: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(_admin_dsn(url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


@asynccontextmanager
async def fresh_database(url: str = POSTGRES_URL, *, migrated: bool = False) -> AsyncIterator[str]:
    """A database on the test server for one test, dropped afterwards: empty, or (`migrated`)
    with Mirsad's schema already at head, copied from a template."""
    name = f"mirsad_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{await _migrated_template(url)}"' if migrated else ""
    admin = await asyncpg.connect(_admin_dsn(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_admin_dsn(url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
