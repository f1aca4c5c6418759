"""Process-wide memory settings of the C allocator (issue 19: peak memory).

glibc's malloc gives each thread that allocates its own arena (up to 8 per core), and an
arena keeps the memory its thread freed for that thread alone. Mirsad's threads (one per
SQLite connection, the parse thread, the executor's) each touched a few MB that stayed
resident: ~9 MB of the poll benchmark's peak (BENCHMARKS.md, "Against peers"), measured with
`MALLOC_ARENA_MAX=1`. The Python threads take turns under the GIL anyway, so one arena costs
no measurable CPU. The environment variable would have to be set before the interpreter
starts (Docker, cron, a shell); `mallopt` does the same from inside, for threads not yet made.
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 1


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `arenas` for threads started from now on. True when the
    C library took the setting; False elsewhere (musl, macOS: nothing to cap, nothing done)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
