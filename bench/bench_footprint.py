"""Footprint: start-up time and memory, and 30 simulated hours of polling 1,000 feeds.

    .venv/bin/python bench/bench_footprint.py                   # ~4 minutes
    .venv/bin/python bench/bench_footprint.py --part start --starts 5
    .venv/bin/python bench/bench_footprint.py --part day --hours 72 --interval 120 --items 50   # slow

start: `python bot.py run` (no token: alerts to the terminal) with 1,000 loopback feeds and a
       new database, `--starts` times: seconds to the `mirsad_ready` log line and to the first
       200 from /healthz, resident memory (VmRSS) at ready; the first start also runs on until
       the first poll of all 1,000 feeds (each 200 with 50 items) is done, for its peak (VmHWM).
day:   the real composition in this process (runtime.app.build with a FAKE clock passed as
       AppOptions.clock) against the farm in simulated-time mode. Every simulated minute the
       farm's and the bot's clocks advance together and `poller.poll_due()` +
       `outbox.deliver_due()` run; every 6 simulated hours `store.prune()` with the configured
       retention (1 day, the smallest the config allows), as run_forever does. Stories last
       seen at hour h can go at the first prune after h + 24, so 30 hours show it working.
       150 feeds gain one story every 10 simulated minutes (21,600 new stories a day), 800
       never change, 50 are slow or failing. Sampled every 6 hours: this process's RSS, the
       database files, the stories kept. `--interval` (default 3600 s; quiet feeds go to 3x
       that after 6 hours) keeps it to minutes: the stories per day do not depend on it, only
       the number of polls does (`--interval 120`, the default config, is about 20x longer).
       Then a check that pruning is safe: one feed that never changed (so only 304s since its
       first poll) publishes one new story; how many alerts does that queue?
caches: the matcher's per-word caches (filters/arabic.py, filters/watchlist.py) are bounded;
       their memory at the bound is measured by filling them with synthetic Arabic words.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import socket
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    ROOT,
    BotProcess,
    FarmProcess,
    FarmSpec,
    feed_kind,
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

HEALTHCHECK_TIMEOUT = 8.0  # seconds: urlopen's timeout in the Dockerfile's HEALTHCHECK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _num(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def starts(farm: FarmProcess, count: int) -> None:
    feeds = [(f"f{i:04d}", farm.url(i)) for i in range(farm.spec.feeds)]
    rows: list[list[object]] = []
    ready_s: list[float] = []
    health_s: list[float] = []
    rss: list[float] = []
    peaks: list[float] = []
    probes: list[tuple[float, int]] = []  # (seconds, status) of /healthz during a first cycle
    for n in range(1, count + 1):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            bot = BotProcess(write_config(Path(tmp), feeds, health_port=port)).start()
            try:
                healthz = float("nan")
                while time.monotonic() - bot.started < 30:
                    try:
                        if http_get(f"http://127.0.0.1:{port}/healthz", 1)[0] == 200:
                            healthz = time.monotonic() - bot.started
                            break
                    except OSError:
                        pass
                    time.sleep(0.005)
                ready, _ = bot.wait_for_log(r"mirsad_ready")
                at_ready = memory_mb(bot.pid)["rss"]
                first_cycle = float("nan")
                mem = {"rss": float("nan"), "peak": float("nan")}
                if n == 1:  # once: through the first poll of every feed (its peak memory)
                    w0 = time.monotonic()
                    while True:
                        # /healthz as Docker's HEALTHCHECK asks it, while the cycle runs
                        h0 = time.monotonic()
                        try:
                            status = http_get(f"http://127.0.0.1:{port}/healthz", 30)[0]
                        except OSError:
                            status = 0
                        probes.append((time.monotonic() - h0, status))
                        page = http_get(f"http://127.0.0.1:{port}/metrics", 60)[1]
                        if metric(page, "mirsad_feed_polls_total") >= farm.spec.feeds:
                            break
                        if time.monotonic() - w0 > 180:
                            raise TimeoutError("the first cycle took over 3 minutes")
                        time.sleep(0.5)
                    first_cycle = time.monotonic() - w0
                    mem = memory_mb(bot.pid)
                    peaks.append(mem["peak"])
            finally:
                bot.stop()
        rows.append(
            [
                n,
                f"{ready:.2f}",
                f"{healthz:.2f}",
                f"{at_ready:.0f}",
                _num(first_cycle),
                _num(mem["rss"]),
                _num(mem["peak"]),
            ]
        )
        print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)
        ready_s.append(ready)
        health_s.append(healthz)
        rss.append(at_ready)
    rows.append(
        [
            "**median**",
            f"**{median(ready_s):.2f}**",
            f"**{median(health_s):.2f}**",
            f"**{median(rss):.0f}**",
            "",
            "",
            f"**{median(peaks):.0f}**",
        ]
    )
    slow = sum(1 for t, st in probes if t > HEALTHCHECK_TIMEOUT or st != 200)
    print(
        f"  /healthz during the first cycle: {len(probes)} probes, slowest "
        f"{max(t for t, _ in probes):.1f} s, {slow} not 200 within {HEALTHCHECK_TIMEOUT:g} s (the "
        f"Dockerfile's health check timeout); statuses {sorted({st for _, st in probes})}"
    )
    print()
    print(
        table(
            [
                "start",
                "to mirsad_ready s",
                "to /healthz 200 s",
                "RSS at ready MB",
                "first cycle s",
                "RSS after it MB",
                "peak RSS MB",
            ],
            rows,
        )
    )


@dataclass
class SimClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def db_mb(directory: Path) -> str:
    """The database file and its write-ahead log, in MB."""
    main = (directory / "mirsad.db").stat().st_size / 1e6
    wal = directory / "mirsad.db-wal"
    return f"{main:.1f} + {wal.stat().st_size / 1e6 if wal.exists() else 0:.1f}"


async def simulate(
    farm: FarmProcess, args: argparse.Namespace, tmp: Path, devnull: TextIO, log: TextIO
) -> None:
    from config import load_settings
    from runtime.app import AppOptions, build
    from runtime.logs import setup_logging

    feeds = [(f"f{i:04d}", farm.url(i)) for i in range(farm.spec.feeds)]
    settings = load_settings(
        write_config(tmp, feeds, interval=args.interval, health_port=None), env={}
    )
    setup_logging(settings.config.logging, [], stream=log)
    retention = timedelta(days=settings.config.retention_days)
    start = datetime.now(UTC).replace(microsecond=0)
    clock = SimClock(start)
    polls = 0

    def count(_outcome: object) -> None:
        nonlocal polls
        polls += 1

    rows: list[list[object]] = []
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, AppOptions(clock=clock, stream=devnull, on_poll=count))
        store = parts.store
        w0, c0 = time.perf_counter(), time.process_time()
        base = memory_mb()["rss"]
        pruned = 0
        crashes: dict[str, int] = {}
        step = 60
        for minute in range(0, args.hours * 60 + 1):
            t = minute * step
            clock.now = start + timedelta(seconds=t)
            farm.set_clock(t)
            crash = await survive(parts.poller.poll_due())
            if crash:
                crashes[crash] = crashes.get(crash, 0) + 1
            await parts.outbox.deliver_due()
            if minute and minute % 360 == 0:  # every 6 hours, like run_forever's prune job
                pruned += await store.prune(clock.now, retention)
            if minute % (60 * args.sample_hours) == 0:
                mem = memory_mb()
                rows.append(
                    [
                        f"{minute // 60} h",
                        f"{polls:,}",
                        f"{await store.count_stories():,}",
                        f"{pruned:,}",
                        db_mb(tmp),
                        f"{mem['rss']:.0f}",
                        f"{mem['peak']:.0f}",
                        f"{time.process_time() - c0:.0f}",
                        f"{time.perf_counter() - w0:.0f}",
                    ]
                )
                print("  " + " | ".join(str(c) for c in rows[-1]), flush=True)

        # A feed that only ever answered 304 since its first poll now publishes one story.
        quiet = next(i for i in range(farm.spec.feeds) if feed_kind(i, farm.spec) == "static")
        farm.publish(quiet, "ترامب يعلن قرارا جديدا")
        state = next(f for f in await store.feeds() if f.id == f"f{quiet:04d}")
        outcome = await parts.poller.poll_feed(state)
    print()
    print(
        table(
            [
                "simulated",
                "polls",
                "stories kept",
                "pruned",
                "database + WAL MB",
                "RSS MB",
                "peak RSS MB",
                "CPU s",
                "wall s",
            ],
            rows,
        )
    )
    print(f"RSS before the first poll: {base:.0f} MB")
    for crash, n in crashes.items():
        print(f"!! {n} poll cycle(s) raised {crash}")
    print(
        f"prune check: a feed quiet since its first poll published 1 story -> "
        f"{outcome.new} stories taken as new, {outcome.queued} alerts queued "
        f"(1 expected: its older stories were pruned while still in the feed "
        f"if more)"
    )


def cache_bound() -> None:
    """RSS of the matcher's word caches when full (synthetic, distinct Arabic words)."""
    import gc

    from config import load_settings
    from filters.watchlist import Matcher

    settings = load_settings(write_config(Path(tempfile.mkdtemp()), []), env={})
    matcher = Matcher(settings.config.watchlists)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    rng = random.Random(1)
    gc.collect()
    before = memory_mb()["rss"]
    words = 0
    for _ in range(6000):  # 6,000 texts x 40 new words = 240,000 distinct words
        text = " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(40)
        )
        matcher.match(text, "", "ar")
        words += 40
    gc.collect()
    after = memory_mb()["rss"]
    print(
        f"matcher word caches after {words:,} distinct words (both caches past their bounds): "
        f"+{after - before:.0f} MB RSS"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["start", "day", "caches", "all"], default="all")
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--hours", type=int, default=30)
    ap.add_argument("--sample-hours", type=int, default=6)
    ap.add_argument("--interval", type=int, default=3600, help="day: seconds between polls")
    ap.add_argument("--items", type=int, default=20, help="day: items per feed")
    args = ap.parse_args(argv)
    print_machine()
    if args.part in ("start", "all"):
        print(f"\n## start-up: `bot.py run` with {args.feeds} feeds, new database", flush=True)
        with FarmProcess(FarmSpec(feeds=args.feeds, period=3600.0)) as farm:
            starts(farm, args.starts)
    if args.part in ("day", "all"):
        print(
            f"\n## {args.hours} simulated hours: {args.feeds} feeds every {args.interval} s, "
            f"{args.items} items each, retention 1 day",
            flush=True,
        )
        spec = FarmSpec(feeds=args.feeds, items=args.items, period=600.0, slow_delay=0.2, sim=True)
        with (
            FarmProcess(spec) as farm,
            tempfile.TemporaryDirectory() as tmp,
            Path(os.devnull).open("w") as devnull,
            (Path(tmp) / "bot.log").open("w") as log,
        ):
            asyncio.run(simulate(farm, args, Path(tmp), devnull, log))
    if args.part in ("caches", "all"):
        print("\n## matcher caches at their bound", flush=True)
        cache_bound()
    return 0


if __name__ == "__main__":
    sys.exit(main())
