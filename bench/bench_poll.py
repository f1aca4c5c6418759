"""Polling 1,000 feeds: one full cycle, and the steady state at 6,000 feeds a minute.

    .venv/bin/python bench/bench_poll.py                 # both parts, ~3 minutes
    .venv/bin/python bench/bench_poll.py --part cycle    # only the full cycle
    .venv/bin/python bench/bench_poll.py --part steady --window 30 --windows 3

The feeds come from the farm in bench/common.py, a loopback aiohttp server in its own process
(its CPU is not the bot's), spread over 200 loopback addresses: 80% static (a conditional GET
gets 304), 15% changing (200 with 50 items, a few of them new), 2.5% slow (3 s before
answering), 2.5% failing (HTTP 500, or an HTML page with status 200).

cycle:  the real composition in this process (runtime.app.build: SQLite store in a temp dir,
        Fetcher, Poller, Matcher, console outbox), `poller.poll_all()` over the 1,000 feeds.
        The first cycle is cold (every feed answers 200 with 50 items and is recorded as
        seen); the warm cycles after it are the target (< 10 s). Wall time and this
        process's CPU time per cycle; medians of `--cycles`.
steady: `python bot.py run` as a child process (the real scheduler, outbox, health server,
        INFO logging to a file), 1,000 feeds at `--interval` seconds (7 s, which with the
        +0..10% jitter and the 5 s scheduler tick gives about 6,000 polls a minute). After the
        first polls settle, CPU (utime+stime of the bot process, all threads, from /proc) and
        polls (its own /metrics counter) over `--windows` windows of `--window` seconds.
        Target: 6,000 feeds a minute under 10% of one core and under 150 MB resident.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    ROOT,
    BotProcess,
    FarmProcess,
    FarmSpec,
    cpu_seconds,
    http_get,
    median,
    memory_mb,
    metric,
    print_machine,
    survive,
    table,
    write_config,
)

sys.path.insert(0, str(ROOT))


def feed_list(farm: FarmProcess) -> list[tuple[str, str]]:
    return [(f"f{i:04d}", farm.url(i)) for i in range(farm.spec.feeds)]


async def run_cycles(
    farm: FarmProcess, cycles: int, new_items: int, tmp: Path, devnull: TextIO, log: TextIO
) -> list[list[object]]:
    from config import load_settings
    from feeds.poll import PollOutcome
    from runtime.app import AppOptions, build
    from runtime.logs import setup_logging

    rows: list[list[object]] = []
    outcomes: list[PollOutcome] = []  # through on_poll: still counted when a cycle crashes
    settings = load_settings(write_config(tmp, feed_list(farm), health_port=None), env={})
    setup_logging(settings.config.logging, [], stream=log)  # INFO, as `bot.py run`
    async with AsyncExitStack() as stack:
        options = AppOptions(stream=devnull, on_poll=outcomes.append)
        parts = await build(settings, stack, options)
        walls: list[float] = []
        cpus: list[float] = []
        for n in range(cycles + 1):
            # the farm's clock: every changing feed gains `new_items` items per cycle
            farm.set_clock(n * new_items * farm.spec.period)
            outcomes.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            crash = await survive(parts.poller.poll_all())
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            d0 = time.perf_counter()
            delivered = await parts.outbox.deliver_due()
            deliver = time.perf_counter() - d0
            status = Counter(o.status for o in outcomes)
            # a bug or the database, not the feed (e.g. "database is locked")
            internal = sum(1 for o in outcomes if (o.error or "").startswith("internal"))
            new = sum(o.new for o in outcomes)
            label = "cold (first poll)" if n == 0 else f"warm {n}"
            if crash:
                label += f" CRASHED ({crash})"
            rows.append(
                [
                    label,
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    status["ok"],
                    status["not_modified"],
                    f"{status['error']} ({internal})",
                    new,
                    delivered,
                    f"{deliver:.2f}",
                ]
            )
            print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)
            if n:
                walls.append(wall)
                cpus.append(cpu)
        size = (tmp / "mirsad.db").stat().st_size / 1e6
    mem = memory_mb()
    rows.append(
        [
            f"**median of {cycles} warm**",
            f"**{median(walls):.2f}**",
            f"**{median(cpus):.2f}**",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    print(
        f"  database {size:.1f} MB; this process: RSS {mem['rss']:.0f} MB, peak {mem['peak']:.0f} MB"
    )
    return rows


def steady(farm: FarmProcess, interval: int, window: float, windows: int, warmup: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), feed_list(farm), interval=interval, health_port=0)
        bot = BotProcess(config).start()
        try:
            ready, _ = bot.wait_for_log(r"mirsad_ready")
            _, m = bot.wait_for_log(r"health_listening host=\S+ port=(\d+)")
            base = f"http://127.0.0.1:{m.group(1)}"
            print(f"  bot ready after {ready:.2f} s", flush=True)

            def sample() -> tuple[float, float, dict[str, float]]:
                page = http_get(base + "/metrics", 60)[1]  # slow while the database is busy
                counts = {
                    s: metric(page, "mirsad_feed_polls_total", status=s)
                    for s in ("ok", "not_modified", "error")
                }
                return time.monotonic(), cpu_seconds(bot.pid), counts

            # the first poll of every feed (200, 50 stories each) is not the steady state
            first = time.monotonic()
            while sum(sample()[2].values()) < farm.spec.feeds:
                time.sleep(1)
            print(
                f"  first poll of all {farm.spec.feeds} feeds done after "
                f"{time.monotonic() - first:.0f} s; settling {warmup:.0f} s more",
                flush=True,
            )
            time.sleep(warmup)
            rows: list[list[object]] = []
            rates: list[float] = []
            cores: list[float] = []
            norm: list[float] = []
            prev = sample()
            for n in range(1, windows + 1):
                time.sleep(window)
                cur = sample()
                wall = cur[0] - prev[0]
                cpu = cur[1] - prev[1]
                polls = {s: cur[2][s] - prev[2][s] for s in cur[2]}
                total = sum(polls.values())
                rate = total / wall * 60
                core = cpu / wall * 100
                at_6000 = core * 6000 / rate if rate else float("nan")
                rates.append(rate)
                cores.append(core)
                norm.append(at_6000)
                mem = memory_mb(bot.pid)
                rows.append(
                    [
                        n,
                        f"{wall:.0f}",
                        f"{rate:,.0f}",
                        f"{polls['ok']:.0f} / {polls['not_modified']:.0f} / {polls['error']:.0f}",
                        f"{core:.1f}%",
                        f"{at_6000:.1f}%",
                        f"{mem['rss']:.0f}",
                        f"{mem['peak']:.0f}",
                    ]
                )
                print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)
                prev = cur
            rows.append(
                [
                    "**median**",
                    "",
                    f"**{median(rates):,.0f}**",
                    "",
                    f"**{median(cores):.1f}%**",
                    f"**{median(norm):.1f}%**",
                    "",
                    "",
                ]
            )
            status, body = http_get(base + "/healthz")
            print(f"  /healthz at the end: {status} {body.strip()}")
        finally:
            bot.stop()
        print()
        print(
            table(
                [
                    "window",
                    "s",
                    "polls/min",
                    "200 / 304 / error",
                    "CPU (% of one core)",
                    "CPU at 6,000/min",
                    "RSS MB",
                    "peak RSS MB",
                ],
                rows,
            )
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["cycle", "steady", "both"], default="both")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=5, help="warm cycles (after the cold one)")
    ap.add_argument("--new", type=int, default=5, help="new items per changing feed and cycle")
    ap.add_argument("--interval", type=int, default=7, help="steady: seconds between polls")
    ap.add_argument("--window", type=float, default=30.0, help="steady: seconds per window")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument(
        "--warmup", type=float, default=15.0, help="steady: seconds after the first polls"
    )
    ap.add_argument(
        "--changing", type=float, default=0.15, help="fraction of feeds that change (0.15)"
    )
    args = ap.parse_args(argv)
    print_machine()
    static = 0.95 - args.changing
    if args.part in ("cycle", "both"):
        spec = FarmSpec(feeds=args.feeds, sim=True, static=static, changing=args.changing)
        print(f"\n## full cycle: {args.feeds} feeds, {args.cycles} warm cycles", flush=True)
        with (
            FarmProcess(spec) as farm,
            tempfile.TemporaryDirectory() as tmp,
            Path(os.devnull).open("w") as devnull,
            (Path(tmp) / "bot.log").open("w") as log,
        ):
            rows = asyncio.run(run_cycles(farm, args.cycles, args.new, Path(tmp), devnull, log))
        print()
        print(
            table(
                [
                    "cycle",
                    "wall s",
                    "CPU s",
                    "200",
                    "304",
                    "errors (internal)",
                    "new stories",
                    "alerts",
                    "deliver s",
                ],
                rows,
            )
        )
    if args.part in ("steady", "both"):
        # a changing feed gains an item every ~interval: most of its polls see something new
        spec = FarmSpec(
            feeds=args.feeds, period=float(args.interval), static=static, changing=args.changing
        )
        print(
            f"\n## steady state: {args.feeds} feeds every {args.interval} s, `bot.py run`",
            flush=True,
        )
        with FarmProcess(spec) as farm:
            steady(farm, args.interval, args.window, args.windows, args.warmup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
