"""Cost of same-event grouping per new story with a full window (issue 14: < 1 ms at 5,000).

    .venv/bin/python bench/bench_events.py [--window 5000] [--new 2000]

The window is filled with `--window` fingerprints of the labelled stories of
tests/data/events, each copy with a distinct id and a share of its words replaced by words
of the window's own vocabulary picked at random (so postings grow as on a busy day, and no
two copies are identical). Then `--new` stories are looked up (`EventWindow.find`) and added
(`EventWindow.add`), as the pipeline does for each new alerted story; the time of
fingerprinting (done once per story, at ingest) is reported apart.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events.fingerprint import Fingerprint, Fingerprinter  # noqa: E402
from events.grouping import EventWindow  # noqa: E402
from events.pairset import load_pairs  # noqa: E402


def _variant(fp: Fingerprint, vocabulary: list[frozenset[str]], rng: random.Random) -> Fingerprint:
    readings = list(fp.word_readings)
    for i in range(len(readings)):
        if rng.random() < 0.4:
            readings[i] = rng.choice(vocabulary)
    words: frozenset[str] = frozenset().union(*readings) if readings else frozenset()
    return replace(fp, words=words, word_readings=tuple(readings))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=int, default=5000)
    ap.add_argument("--new", type=int, default=2000)
    args = ap.parse_args()

    pairs = load_pairs(ROOT / "tests" / "data" / "events")
    stories = {s.id: s for p in pairs for s in (p.a, p.b)}
    fingerprinter = Fingerprinter()
    t0 = time.perf_counter()
    prints = [fingerprinter.fingerprint(s.title, s.summary, s.lang) for s in stories.values()]
    per_print_ms = (time.perf_counter() - t0) * 1000 / len(prints)
    vocabulary = [r for fp in prints for r in fp.word_readings]
    rng = random.Random(14)

    start = datetime(2026, 2, 11, tzinfo=UTC)
    window = EventWindow(window=timedelta(hours=12))
    # The window spans 12 hours: the oldest stories expire as new ones arrive.
    step = timedelta(hours=12) / args.window
    for i in range(args.window):
        window.add(f"w{i}", start + i * step, _variant(rng.choice(prints), vocabulary, rng))
    now = start + args.window * step
    timings = []
    grouped = 0
    for i in range(args.new):
        fp = _variant(rng.choice(prints), vocabulary, rng)
        now += step
        t = time.perf_counter()
        event = window.find(fp, now)
        window.add(f"n{i}", now, fp, event)
        timings.append((time.perf_counter() - t) * 1000)
        grouped += event is not None
    timings.sort()
    print(f"window {len(window)} stories; {args.new} new stories, {grouped} grouped")
    print(
        f"find + add per new story: mean {statistics.fmean(timings):.3f} ms, "
        f"p50 {timings[len(timings) // 2]:.3f} ms, p99 {timings[int(len(timings) * 0.99)]:.3f} ms"
    )
    print(f"fingerprint per story (once, at ingest): {per_print_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
