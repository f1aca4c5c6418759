"""PostgreSQL for tests: a fresh database per test on the server MIRSAD_TEST_POSTGRES_URL names.

`scripts/test` sets the variable when a server answers on 127.0.0.1:5432 (the dev and CI
machines run PostgreSQL 15 there) and says so when none does; the store, outbox and delivery
tests then run on both SQLite and PostgreSQL. Nothing here starts a server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("MIRSAD_TEST_POSTGRES_URL", "")


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database="postgres").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """An empty database on the test server for one test; dropped afterwards."""
    name = f"mirsad_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
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
