"""Giant feeds against the real poller: event-loop stall, CPU and memory of one poll.

    .venv/bin/python bench/bench_giant.py            # the three cases of issue 17 item 2, ~1 min

Each case runs in its own child process (so peak memory is that poll's alone): a loopback
`http.server` child serves the body; the real Store (SQLite in a temp dir), Fetcher, Poller
and Matcher poll it once (`max_items_per_feed` 500, `http.max_bytes` 10 MB), while a
coroutine that sleeps 5 ms measures how late the event loop wakes it (the stall a /healthz
probe or another feed's alert would see). Memory: VmHWM (peak resident) minus the resident
size just before the poll, and the Python allocations' peak during the poll (tracemalloc,
measured in a second poll of a fresh feed, as tracing slows everything down).

Cases: 60,000 undated items in 3.9 MB, 150,000 in 9.8 MB (newest first), one 9.6 MB title.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, memory_mb, print_machine, table

sys.path.insert(0, str(ROOT))

CASES = {
    "60,000 items, 3.9 MB": ("items", 60_000, 4_000_000),
    "150,000 items, 9.8 MB": ("items", 150_000, 9_900_000),
    "one 9.6 MB title": ("title", 1, 9_600_000),
}


def body_of(kind: str, n: int, size: int) -> bytes:
    from tests.giant_feeds import many_items, one_huge_title

    return many_items(n, size, dated=False) if kind == "items" else one_huge_title(size)


async def poll_once(url: str, tmp: Path, trace: bool) -> dict[str, float]:
    from config import load_settings
    from feeds.fetch import Fetcher, FetchSettings
    from feeds.poll import Poller
    from filters.watchlist import Matcher
    from store import Store

    matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp / ('t.db' if trace else 'm.db')}")
    now = datetime.now(UTC)
    await store.sync_feeds([("giant", url, "ar", 60)], now)
    lateness: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(0.005)
            lateness.append(time.perf_counter() - asked - 0.005)

    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=120)) as f:
        poller = Poller(store, f, matcher, lambda: now, rng=random.Random(1), max_items=500)
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        before = memory_mb()["rss"]
        if trace:
            tracemalloc.start()
        c0, w0 = time.process_time(), time.perf_counter()
        (outcome,) = await poller.poll_due()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else 0.0
        tracemalloc.stop()
        done.set()
        await task
    await store.close()
    return {
        "status": 1.0 if outcome.status == "ok" else 0.0,
        "new": float(outcome.new),
        "cpu": cpu,
        "wall": wall,
        "stall_ms": max(lateness) * 1000,
        "peak_mb": memory_mb()["peak"] - before,
        "traced_mb": traced,
    }


def child(kind: str, n: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        body = body_of(kind, n, size)
        (tmp / "feed.xml").write_bytes(body)
        server = subprocess.Popen(
            [PYTHON, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", d],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
            port = int(line.split(" port ")[1].split()[0])
            url = f"http://127.0.0.1:{port}/feed.xml"
            del body
            result = asyncio.run(poll_once(url, tmp, trace=False))
            result["traced_mb"] = asyncio.run(poll_once(url, tmp, trace=True))["traced_mb"]
            result["bytes"] = (tmp / "feed.xml").stat().st_size
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, size = args.child
        child(kind, int(n), int(size))
        return
    print_machine()
    rows = []
    for name, (kind, n, size) in CASES.items():
        out = subprocess.run(
            [PYTHON, __file__, "--child", kind, str(n), str(size)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(
            [
                name,
                "ok" if r["status"] else "error",
                int(r["new"]),
                f"{r['cpu']:.2f}",
                f"{r['wall']:.2f}",
                f"{r['stall_ms']:.0f}",
                f"{r['peak_mb']:.0f}",
                f"{r['traced_mb']:.1f}",
            ]
        )
        print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)
    headers = [
        "feed",
        "poll",
        "stories kept",
        "CPU s",
        "wall s",
        "worst loop stall ms",
        "peak RSS growth MB",
        "Python allocations peak MB",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
