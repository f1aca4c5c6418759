"""Shared fixtures. Tests only ever talk to servers they start on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import Store
from tests.pg import POSTGRES_URL, fresh_database

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"
for _name in (
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "TELEGRAM_BOT_TOKEN_FILE",
    "DISCORD_BOT_TOKEN_FILE",
    "MIRSAD_DATABASE_URL",
    "MIRSAD_DATABASE_URL_FILE",
):
    os.environ.pop(_name, None)  # a developer's real token must never reach a test

with contextlib.suppress(ImportError):  # the loopback feed server, while it is being written
    from tests.feedserver import feed_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


class FakeClock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 2, 11, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Every test that takes `store` (or `database_url`) runs on SQLite and, when a PostgreSQL
# server is configured for tests (tests/pg.py), on PostgreSQL too.
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
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


def write_config(tmp_path: Path, body: str, *, with_watchlists: bool = True) -> Path:
    """A config file in tmp_path: `body` plus the real default watchlists from config.yaml."""
    text = textwrap.dedent(body)
    if with_watchlists and "watchlists:" not in text:
        default = (ROOT / "config.yaml").read_text(encoding="utf-8")
        text += "\n" + default[default.index("# WATCHLISTS-BEGIN") :]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    def make(body: str, **kwargs: bool) -> Path:
        return write_config(tmp_path, body, **kwargs)

    return make
