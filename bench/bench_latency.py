"""Latency: from a story appearing in a feed to its alert reaching the (fake) Telegram chat.

    .venv/bin/python bench/bench_latency.py                       # 10 s interval, ~3 min
    .venv/bin/python bench/bench_latency.py --interval 60 --duration 600 --stories 80
    .venv/bin/python bench/bench_latency.py --slow 0.1            # 10% of feeds answer in 8 s

Mirsad runs in this process exactly as `bot.py run` runs it (runtime.app.run_forever: the
APScheduler tick, the outbox worker, the real Telegram platform and sender). The feeds come
from the farm (bench/common.py) and the Bot API from tests/fake_telegram.py, each in a child
process. Stories that match one watchlist label each are added to random feeds at random times;
each alert's latency is the fake's acceptance time minus the farm's publication time (both
CLOCK_MONOTONIC, the same clock in every process of the machine).

The latency splits into
- wait: publication -> the bot's next request for that feed (the farm logs requests); it is
  set by the schedule alone (interval, a fixed per-feed phase, 1 s scheduler tick);
- pipeline: that request -> the alert accepted (fetch, parse, match, store, outbox, send);
  it does not depend on the interval.
So a run with a short interval measures the pipeline quickly, and the 60-second figure is
projected by drawing waits from a simulation of the real scheduling rules
(feeds.schedule.next_poll_at, runtime.app.TICK_SECONDS) at 60 s and adding pipeline times
drawn from this run. The same simulation at the interval of the run is printed next to the
measured wait, as a check of the model. `--interval 60` measures it for real instead.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_delivery import TELEGRAM_TOKEN, FakeProcess, chat_ids
from common import (
    ROOT,
    FarmProcess,
    FarmSpec,
    feed_kind,
    median,
    percentile,
    print_machine,
    table,
    write_config,
)

sys.path.insert(0, str(ROOT))

# One watchlist label per chat and stories that match exactly one label: a chat gets every
# fourth story, so Telegram's 1 message/s per chat rarely queues one alert behind another
# (a burst of stories for one chat is paced at 1/s; that is the platform's limit, not the
# pipeline's cost).
LABELS = ("trump", "musk", "altman", "ai")
TITLES = (
    "ترامب يعلن قرارا جديدا",
    "إيلون ماسك يعلن عن صاروخ جديد",
    "سام ألتمان يتحدث عن مستقبل شركته",
    "الذكاء الاصطناعي يغير سوق العمل في المغرب",
)


async def run(
    farm: FarmProcess, fake: FakeProcess, chats: list[int], args: argparse.Namespace, tmp: Path
) -> list[tuple[float, int, str]]:
    """Run Mirsad, publish stories; return (published at, feed, link) of each."""
    from config import load_settings
    from platforms.telegram.platform import create_platform
    from runtime.app import AppOptions, Parts, run_forever

    feeds = [(f"f{i:03d}", farm.url(i)) for i in range(farm.spec.feeds)]
    config = write_config(
        tmp,
        feeds,
        interval=args.interval,
        health_port=None,
        extra={"telegram": {"api_base_url": fake.urls[0]}},
    )
    settings = load_settings(config, env={"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN})
    ready: list[Parts] = []
    polled: set[str] = set()
    options = AppOptions(
        platform_factories=(("telegram", create_platform),),
        on_ready=ready.append,
        on_poll=lambda o: polled.add(o.feed_id),
    )
    stop = asyncio.Event()
    app = asyncio.create_task(run_forever(settings, options, stop))
    while not ready or len(polled) < len(feeds):  # every feed's first poll: seen, no alerts
        if app.done():
            await app
        await asyncio.sleep(0.1)
    parts = ready[0]
    now = datetime.now(UTC)
    for k, chat in enumerate(chats):
        await parts.store.save_subscription("telegram", str(chat), [LABELS[k % 4]], now)
    print(f"  running; publishing {args.stories} stories over {args.duration:.0f} s", flush=True)

    rng = random.Random(args.seed)
    open_feeds = [i for i in range(farm.spec.feeds) if feed_kind(i, farm.spec) == "static"]
    times = sorted(rng.uniform(0, args.duration) for _ in range(args.stories))
    published: list[tuple[float, int, str]] = []
    start = time.monotonic()
    for n, at in enumerate(times):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        feed = rng.choice(open_feeds)
        title = f"{TITLES[n % 4]} رقم {n}"
        t, link = await asyncio.to_thread(farm.publish, feed, title)
        published.append((t, feed, link))
    # the last story needs at most one interval (+10%), a tick and the pipeline
    deadline = time.monotonic() + args.interval * 1.1 + 5 + 30
    expected = sum(1 for n in range(len(published)) for k in range(len(chats)) if k % 4 == n % 4)
    while time.monotonic() < deadline:
        if sum(parts.outbox.stats.sent.values()) >= expected:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(app, 60)
    return published


def simulate_wait(interval: float, samples: int, rng: random.Random) -> list[float]:
    """Waits from a uniformly random publication to the next poll, under the real rules: the
    first poll sets a jittered phase, then each poll is due one interval after the previous
    one was due (feeds.schedule.next_poll_at with `due_at`), and the feed is polled at the
    first scheduler tick (every TICK_SECONDS, at a random phase) at or after that."""
    from feeds.schedule import PollTiming, next_poll_at
    from runtime.app import TICK_SECONDS

    epoch = datetime(2026, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return epoch + timedelta(seconds=seconds)

    def tick_after(t: float) -> float:
        return phase + math.ceil((t - phase) / TICK_SECONDS) * TICK_SECONDS

    phase = rng.uniform(0, TICK_SECONDS)
    first = PollTiming(interval=int(interval), error_count=0, last_new_at=None)
    due = (next_poll_at(first, at(0), rng) - epoch).total_seconds()
    polls = [0.0]
    horizon = samples / 20 * interval + 10 * interval
    while polls[-1] < horizon:
        polled = tick_after(due)
        polls.append(polled)
        timing = PollTiming(interval=int(interval), error_count=0, last_new_at=None, due_at=at(due))
        due = (next_poll_at(timing, at(polled), rng) - epoch).total_seconds()
    waits: list[float] = []
    for _ in range(samples):
        t = rng.uniform(polls[1], polls[-2])
        waits.append(polls[bisect.bisect_right(polls, t)] - t)
    return waits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--interval", type=int, default=10, help="poll interval in seconds")
    ap.add_argument("--duration", type=float, default=150.0, help="seconds of publishing")
    ap.add_argument("--stories", type=int, default=60)
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--chats", type=int, default=4, help="chat k follows LABELS[k %% 4]")
    ap.add_argument("--slow", type=float, default=0.0, help="fraction of feeds answering slowly")
    ap.add_argument("--slow-delay", type=float, default=8.0)
    ap.add_argument("--project", type=int, default=60, help="interval to project to")
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args(argv)
    print_machine()
    print(
        f"\n## latency: {args.feeds} feeds every {args.interval} s"
        + (f", {args.slow:.0%} of them answering after {args.slow_delay:g} s" if args.slow else "")
        + f"; {args.stories} stories to {args.chats} Telegram chats",
        flush=True,
    )
    spec = FarmSpec(
        feeds=args.feeds,
        hosts=args.feeds,
        static=1.0 - args.slow,
        changing=0.0,
        slow=args.slow,
        slow_delay=args.slow_delay,
    )
    chats = chat_ids("telegram", args.chats, 0.0)
    with (
        FarmProcess(spec) as farm,
        FakeProcess("telegram", chats, 30) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        published = asyncio.run(run(farm, fake, chats, args, Path(tmp)))
        result: dict[str, Any] = fake.result()
        fetches = {feed: farm.fetches(feed) for feed in {f for _, f, _ in published}}
    arrived: dict[tuple[int, str], float] = {}
    for chat, t, link in result["sent"]:
        arrived.setdefault((chat, link), t)
    total: list[float] = []
    wait: list[float] = []
    pipeline: list[float] = []
    missing = 0
    for n, (t, feed, link) in enumerate(published):
        poll = next((f for f in fetches[feed] if f > t), None)
        for chat in (c for k, c in enumerate(chats) if k % 4 == n % 4):
            got = arrived.get((chat, link))
            if got is None:
                missing += 1
                continue
            total.append(got - t)
            if poll is not None:
                wait.append(poll - t)
                pipeline.append(got - poll)
    rng = random.Random(args.seed)
    model_here = simulate_wait(args.interval, 20000, rng)
    model_proj = simulate_wait(args.project, 20000, rng)
    projected = [w + rng.choice(pipeline) for w in model_proj] if pipeline else []

    def row(name: str, values: list[float]) -> list[object]:
        return [
            name,
            len(values),
            f"{median(values):.2f}",
            f"{percentile(values, 99):.2f}",
            f"{max(values) if values else float('nan'):.2f}",
        ]

    rows = [
        row(f"measured: total (interval {args.interval} s)", total),
        row("measured: wait for the next poll", wait),
        row("model: wait at this interval", model_here),
        row("measured: pipeline (poll -> accepted)", pipeline),
        row(f"**projected: total at {args.project} s**", projected),
    ]
    print()
    print(table(["latency (s)", "n", "p50", "p99", "max"], rows))
    if missing:
        print(f"  !! {missing} alerts never arrived")
    target = args.project + 2
    p99 = percentile(projected, 99)
    print(
        f"target p99 < interval + 2 s = {target} s at {args.project} s: "
        f"{'met' if p99 < target else 'missed'} ({p99:.1f} s); "
        f"overhead above the interval at p99: {p99 - args.project:+.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
