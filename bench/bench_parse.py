"""How long does parsing take on real and hostile feeds? The speed half of tests/test_parse.py.

    .venv/bin/python bench/bench_parse.py            # 5 runs each, medians
    .venv/bin/python bench/bench_parse.py --runs 11

The tests check what parsing yields (no entity expanded, every story kept) and bound only CPU
time, generously; the wall-clock targets live here, where a loaded machine gives a slow figure
instead of a failed test. Inputs: the feed files in tests/data/feeds/ (part of the repository)
and the same crafted bodies the tests build (hostile prologs, 10,000 items).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.errors import ParseError  # noqa: E402
from feeds.parse import parse_feed  # noqa: E402

FEEDS = ROOT / "tests" / "data" / "feeds"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
RSS = {"content-type": "application/rss+xml"}


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    target_s: float  # the wall-clock target per parse


def _parse(body: bytes) -> None:
    with contextlib.suppress(ParseError):  # hostile prologs are refused: how fast is the point
        parse_feed(
            body,
            RSS,
            feed_id="bench",
            url="https://feeds.example.com/f.xml",
            language=None,
            now=NOW,
        )


def _rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://e.com/</link>{items}</channel></rss>"
    ).encode()


def cases() -> list[Case]:
    ten_thousand = "".join(
        f"<item><title>Story {i} &amp; more</title><link>https://e.com/{i}?utm_source=rss</link>"
        f"<description>&lt;p&gt;Summary {i}&lt;/p&gt;</description><guid>g{i}</guid>"
        "<pubDate>Wed, 11 Feb 2026 03:14:52 +0000</pubDate></item>"
        for i in range(10_000)
    )
    return [
        Case(
            "hespress-ar-2026-02-11.xml (real, 15 items)", _read("hespress-ar-2026-02-11.xml"), 0.1
        ),
        Case("billion-laughs.xml", _read("billion-laughs.xml"), 1.0),
        Case("quadratic-blowup.xml", _read("quadratic-blowup.xml"), 2.0),
        Case("prolog: 1M unclosed quotes", b"<!DOCTYPE rss [<!ENTITY " + b"'\"" * 1_000_000, 5.0),
        Case("prolog: 1M comment openers", b"<!DOCTYPE rss [" + b"<!--" * 1_000_000, 5.0),
        Case("prolog: 500k entity openers", b'<!ENTITY "' * 500_000, 5.0),
        Case("10,000 items", _rss(ten_thousand), 15.0),
    ]


def _read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def _median(fn: Callable[[], None], runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs per input (medians are shown)")
    args = ap.parse_args(argv)

    print("| input | bytes | median wall | median CPU | target | |")
    print("|---|---:|---:|---:|---:|---|")
    missed = 0
    for case in cases():
        wall, cpu = _median(lambda body=case.body: _parse(body), args.runs)
        ok = wall < case.target_s
        missed += not ok
        print(
            f"| {case.name} | {len(case.body):,} | {wall * 1000:,.1f} ms | {cpu * 1000:,.1f} ms "
            f"| < {case.target_s:g} s | {'met' if ok else '**missed**'} |"
        )
    tracemalloc.start()
    _parse(_read("quadratic-blowup.xml"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nquadratic-blowup.xml peak memory under tracemalloc: {peak / 1e6:.1f} MB (test: < 50)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
