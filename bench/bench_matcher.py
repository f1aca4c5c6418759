"""How fast is watchlist matching, next to parsing the same stories with feedparser?

    .venv/bin/python bench/bench_matcher.py            # 7 runs, medians
    .venv/bin/python bench/bench_matcher.py --runs 15 --repeat 50

Stories: the dev set (../shared/data/dev/stories.jsonl) and every item of the real feed files
in ../shared/data/feeds/*.xml, repeated `--repeat` times. Parsing: `feedparser.parse` of those
feed files' bytes, in the same run. The target of issue 3: matching costs a small fraction
(< 10 %) of parsing the same stories. Each timed run starts with the word-stem cache cleared
(filters.arabic.inflected_stems), so a run does not profit from the one before.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.arabic import inflected_stems  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
_TAG = re.compile(r"<[^>]+>")


def _median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        inflected_stems.cache_clear()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=20, help="times the story list is repeated")
    args = ap.parse_args(argv)

    with args.config.open(encoding="utf-8") as fh:
        config = WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"])
    t0 = time.perf_counter()
    matcher = Matcher(config)
    compile_ms = (time.perf_counter() - t0) * 1000

    feed_bytes = [p.read_bytes() for p in sorted((SHARED / "feeds").glob("*.xml"))]
    feed_stories: list[tuple[str, str]] = []
    for raw in feed_bytes:
        for entry in feedparser.parse(raw).entries:
            summary = html.unescape(_TAG.sub(" ", entry.get("summary", "")))
            feed_stories.append((entry.get("title", ""), summary))
    dev_stories: list[tuple[str, str]] = []
    with (SHARED / "dev" / "stories.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            dev_stories.append((row.get("title") or "", row.get("summary") or ""))
    mixed = (dev_stories + feed_stories) * args.repeat

    def parse_feeds() -> None:
        for _ in range(args.repeat):
            for raw in feed_bytes:
                feedparser.parse(raw)

    def match_all(stories: list[tuple[str, str]]) -> Callable[[], None]:
        def run() -> None:
            for title, summary in stories:
                matcher.match(title, summary)

        return run

    feed_repeated = feed_stories * args.repeat
    parse_s = _median_seconds(parse_feeds, args.runs)
    match_feed_s = _median_seconds(match_all(feed_repeated), args.runs)
    match_mixed_s = _median_seconds(match_all(mixed), args.runs)

    n_feed = len(feed_repeated)
    rows = [
        ("feedparser.parse, feed files", n_feed, parse_s),
        ("Matcher.match, same feed stories", n_feed, match_feed_s),
        ("Matcher.match, dev set + feed stories", len(mixed), match_mixed_s),
    ]
    print(
        f"machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )
    print(
        f"runs: {args.runs} (medians), repeat: {args.repeat}; feed files: {len(feed_bytes)} "
        f"({len(feed_stories)} stories); dev stories: {len(dev_stories)}; "
        f"matcher compiled in {compile_ms:.1f} ms"
    )
    print()
    print("| what | stories | median time | stories/s | µs/story |")
    print("|---|---:|---:|---:|---:|")
    for name, n, secs in rows:
        print(f"| {name} | {n} | {secs * 1000:.1f} ms | {n / secs:,.0f} | {secs / n * 1e6:.0f} |")
    ratio = match_feed_s / parse_s
    print()
    print(f"matching / parsing the same feed stories: {ratio:.1%} (target < 10%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
