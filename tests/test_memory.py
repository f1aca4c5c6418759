"""runtime/memory.py: the malloc arena cap (issue 19, peak memory)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

ARENAS = """
import ctypes, threading
from runtime.memory import limit_malloc_arenas

print(limit_malloc_arenas())
# glibc's malloc_stats() (to stderr) lists one "Arena N:" per arena in use: with the cap,
# threads that allocate share the main arena instead of getting their own
def work():
    blocks = [ctypes.create_string_buffer(4096) for _ in range(200)]
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(None).malloc_stats()
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the cap is glibc's",
)
def test_threads_share_one_malloc_arena() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ARENAS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert done.stderr.count("Arena ") == 1, done.stderr


def test_a_sqlite_bot_with_no_platform_imports_neither_postgresql_nor_the_chat_libraries(
    tmp_path: Path,
) -> None:
    """Issue 19, peak memory: what a SQLite instance with no bot token never uses is not
    imported (PostgreSQL's dialect ~2 MB; python-telegram-bot and discord.py more). A store
    opened, written and read, and the runtime that would start the platforms, imported."""
    script = (
        "import asyncio, sys\n"
        "from datetime import datetime, UTC\n"
        "import runtime.app\n"
        "from store import Store\n"
        "async def main():\n"
        f"    store = await Store.open('sqlite+aiosqlite:///{tmp_path / 'm.db'}')\n"
        "    await store.sync_feeds([('f1', 'http://127.0.0.1/a.xml', None, 60)],"
        " datetime.now(UTC))\n"
        "    assert await store.ping()\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "wanted = ('sqlalchemy.dialects.postgresql', 'asyncpg', 'telegram', 'discord')\n"
        "print(sorted(m for m in wanted if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
