"""runtime/memory.py: the malloc arena cap (issue 19, peak memory)."""

from __future__ import annotations

import platform
import subprocess
import sys

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
