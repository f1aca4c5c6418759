"""Shared fixtures. Tests only ever talk to servers they start on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from store import Store
from tests.helpers import DATA, FEEDS, ROOT, FakeClock, write_config
from tests.pg import POSTGRES_URL, fresh_database

__all__ = ["DATA", "FEEDS", "ROOT", "FakeClock", "write_config"]  # re-exported for older tests

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"
for _name in (
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "TELEGRAM_BOT_TOKEN_FILE",
    "DISCORD_BOT_TOKEN_FILE",
    "MIRSAD_DATABASE_URL",
    "MIRSAD_DATABASE_URL_FILE",
    "MIRSAD_HEALTH_HOST",  # docker-compose.yml sets it: where /healthz listens
):
    os.environ.pop(_name, None)  # a developer's real token must never reach a test

with contextlib.suppress(ImportError):  # the loopback feed server, while it is being written
    from tests.feedserver import feed_server  # noqa: F401


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Every test that takes `store` (or `database_url`) runs on SQLite and, when a PostgreSQL
# server is configured for tests (tests/pg.py), on PostgreSQL too. Tests of a database start
# there (in-process or a `bot.py` subprocess given the URL in its config). Those about the
# SQLite file itself (deleted, replaced, disk full, WAL, old SQLite schemas) carry
# `@pytest.mark.sqlite_only(reason)` and build their own file.
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new database: a SQLite file in tmp_path (made by the test), or a fresh PostgreSQL
    database with the schema already at head (a copy of a template: faster than migrating)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mirsad.db'}"
        return
    async with fresh_database(migrated=True) as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Like `database_url`, but a PostgreSQL database is empty too (tests of migrations)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mirsad.db'}"
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = await Store.open(database_url)
    yield s
    await s.close()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    def make(body: str, **kwargs: bool) -> Path:
        return write_config(tmp_path, body, **kwargs)

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On several processes (scripts/test: pytest-xdist's work stealing), each process starts
    with its share of the slow tests. Work stealing hands each process one contiguous share of
    the list and later moves tests from the end of the longest queue; a slow test left to
    start last (a 60-s burst) would keep one process busy long after the others had finished,
    and slow tests all in one share would run one after the other. Otherwise the order is
    kept (the tests of a file together)."""
    # collection happens in each worker process; xdist tells it how many there are
    processes = getattr(config, "workerinput", {}).get("workercount", 1)
    if processes < 2:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    rest = [item for item in items if not item.get_closest_marker("slow")]
    slow.sort(key=lambda item: item.path.name != "test_several_instances.py")  # the longest
    ordered: list[pytest.Item] = []
    left = len(items)
    for n in range(processes):
        size = left // (processes - n)  # the share work stealing sends this process first
        left -= size
        mine = slow[n::processes]
        taken = max(size - len(mine), 0)
        ordered += mine + rest[:taken]
        del rest[:taken]
    items[:] = ordered + rest
