"""How fast is watchlist matching, next to parsing the same stories with feedparser?

    .venv/bin/python bench/bench_matcher.py            # 7 runs, medians
    .venv/bin/python bench/bench_matcher.py --runs 15 --repeat 50
    .venv/bin/python bench/bench_matcher.py --part lean  # only the lean-feed case (issue 12)

Stories: every item of the real feed files in ../shared/data/feeds/*.xml as the bot sees
them (feeds.parse.parse_feed: plain text, boilerplate removed), and the dev set
(../shared/data/dev/stories.jsonl), repeated `--repeat` times. Parsing, in the same run:
`feedparser.parse` of the same feed files' bytes with its default options (the yardstick of
issue 3: matching should cost < 10 % of it), and the bot's whole `parse_feed` (feedparser
with HTML sanitising off, plus cleaning and ids). Each timed run starts with the word-stem
cache cleared (filters.arabic.inflected_stems); the per-word caches of the Matcher stay warm,
as they do in a running bot.

The lean-feed case (issue 12): 20,000 dev-like stories (../shared/data/dev/stories.jsonl and
stories-2.jsonl repeated) written as one plain RSS 2.0 feed of title + description, parsed
with `feedparser.parse`, against `Matcher.match` of the same 20,000 stories; and the same on
an AI-dense feed (only the dev stories that carry a label: every one holds a watched name or
AI). Goal: matching < 10 % of the parse on both, in one run. Each ratio is the best of
`--runs` runs of each side (the minimum is the least disturbed by other jobs on the machine).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.parse import parse_feed  # noqa: E402
from filters.arabic import inflected_stems  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
NOW = datetime(2026, 2, 16, tzinfo=UTC)


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
    ap.add_argument("--part", choices=["all", "feeds", "lean"], default="all")
    ap.add_argument("--stories", type=int, default=20000, help="lean case: stories per feed")
    args = ap.parse_args(argv)

    with args.config.open(encoding="utf-8") as fh:
        config = WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"])
    t0 = time.perf_counter()
    matcher = Matcher(config)
    compile_ms = (time.perf_counter() - t0) * 1000

    if args.part in ("all", "lean"):
        lean_feed_case(matcher, args.stories, args.runs)
        if args.part == "lean":
            return 0
        print()

    feeds = [(p.name, p.read_bytes()) for p in sorted((SHARED / "feeds").glob("*.xml"))]

    def bot_parse(name: str, body: bytes) -> list[tuple[str, str, str | None]]:
        parsed = parse_feed(
            body, {}, feed_id=name, url=f"https://example.org/{name}", language="ar", now=NOW
        )
        return [(s.title, s.summary, s.language) for s in parsed.stories]

    feed_stories = [story for name, body in feeds for story in bot_parse(name, body)]
    dev_stories: list[tuple[str, str, str | None]] = []
    with (SHARED / "dev" / "stories.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            dev_stories.append((row.get("title") or "", row.get("summary") or "", row.get("lang")))
    mixed = (dev_stories + feed_stories) * args.repeat

    def parse_feeds() -> None:
        for _ in range(args.repeat):
            for _name, body in feeds:
                feedparser.parse(body)

    def parse_feeds_like_the_bot() -> None:
        for _ in range(args.repeat):
            for name, body in feeds:
                bot_parse(name, body)

    def match_all(stories: list[tuple[str, str, str | None]]) -> Callable[[], None]:
        def run() -> None:
            for title, summary, language in stories:
                matcher.match(title, summary, language)

        return run

    feed_repeated = feed_stories * args.repeat
    parse_s = _median_seconds(parse_feeds, args.runs)
    bot_parse_s = _median_seconds(parse_feeds_like_the_bot, args.runs)
    match_feed_s = _median_seconds(match_all(feed_repeated), args.runs)
    match_mixed_s = _median_seconds(match_all(mixed), args.runs)

    n_feed = len(feed_repeated)
    rows = [
        ("feedparser.parse (defaults), feed files", n_feed, parse_s),
        ("feeds.parse.parse_feed (the bot's parse), same files", n_feed, bot_parse_s),
        ("Matcher.match, same feed stories", n_feed, match_feed_s),
        ("Matcher.match, dev set + feed stories", len(mixed), match_mixed_s),
    ]
    print(
        f"machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )
    print(
        f"runs: {args.runs} (medians), repeat: {args.repeat}; feed files: {len(feeds)} "
        f"({len(feed_stories)} stories); dev stories: {len(dev_stories)}; "
        f"matcher compiled in {compile_ms:.1f} ms"
    )
    print()
    print("| what | stories | median time | stories/s | µs/story |")
    print("|---|---:|---:|---:|---:|")
    for name, n, secs in rows:
        print(f"| {name} | {n} | {secs * 1000:.1f} ms | {n / secs:,.0f} | {secs / n * 1e6:.0f} |")
    print()
    print(
        f"matching / feedparser.parse of the same stories: {match_feed_s / parse_s:.1%} "
        f"(target < 10%); matching / the bot's parse_feed: {match_feed_s / bot_parse_s:.1%}"
    )
    return 0


def _rss(stories: list[dict[str, object]]) -> bytes:
    items = "".join(
        f"<item><title>{escape(str(s.get('title') or ''))}</title>"
        f"<description>{escape(str(s.get('summary') or ''))}</description></item>\n"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>lean</title><link>https://example.org/</link>{items}</channel></rss>"
    ).encode()


def lean_feed_case(matcher: Matcher, n: int, runs: int) -> None:
    """classify of n dev-like stories vs feedparser.parse of them as a plain RSS feed."""
    rows: list[dict[str, object]] = []
    for name in ("stories.jsonl", "stories-2.jsonl"):
        with (SHARED / "dev" / name).open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    dense = [r for r in rows if any(dict(r["labels"]).values())]  # type: ignore[call-overload]
    print(f"lean feed case: {n} stories per feed, best of {runs} runs")
    print()
    print("| feed | stories | feedparser.parse | Matcher.match | µs/story (match) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, pool in (("dev-like (dev + stories-2)", rows), ("AI-dense (labelled only)", dense)):
        stories = (pool * (n // len(pool) + 1))[:n]
        body = _rss(stories)
        texts = [
            (str(s.get("title") or ""), str(s.get("summary") or ""), s.get("lang")) for s in stories
        ]

        parse_s = _best_seconds(functools.partial(feedparser.parse, body), runs)
        match_s = _best_seconds(functools.partial(_classify, matcher, texts), runs)
        print(
            f"| {label} | {n} | {parse_s * 1000:.0f} ms | {match_s * 1000:.0f} ms | "
            f"{match_s / n * 1e6:.1f} | **{match_s / parse_s:.3f}** |"
        )


def _classify(matcher: Matcher, texts: list[tuple[str, str, object]]) -> None:
    for title, summary, lang in texts:
        matcher.match(title, summary, lang if isinstance(lang, str) else None)


def _best_seconds(fn: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


if __name__ == "__main__":
    raise SystemExit(main())
