"""How fast is watchlist matching, next to parsing the same stories with feedparser?

    .venv/bin/python bench/bench_matcher.py            # 7 runs, medians
    .venv/bin/python bench/bench_matcher.py --runs 15 --repeat 50
    .venv/bin/python bench/bench_matcher.py --part lean  # only the lean-feed case (issue 12)

Stories: every item of the real feed files in ../shared/data/feeds/*.xml (without ../shared:
the same files in tests/data/feeds, and the dev stories from tests/data/matcher/stories.jsonl,
the copy bench/matcher_snapshot.py --copy makes) as the bot sees them (feeds.parse.parse_feed: plain text, boilerplate removed), and the dev set
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
`--runs` runs of each side, the sides taking turns (the minimum is the least disturbed by
other jobs on the machine). The last column is the part of matching that does not depend on
the rules: folding the text and the one automaton pass (PhraseAutomaton.find_fields).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
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

from bench.common import matcher_seconds  # noqa: E402
from feeds.parse import parse_feed  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

# The shared data folder beside the clone or beside the worktrees' folder; without it, the
# copies in tests/data (the feed files and tests/data/matcher/stories.jsonl, which holds both
# dev files and is made by bench/matcher_snapshot.py --copy).
SHARED = next(
    (
        p
        for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
        if (p / "dev").is_dir()
    ),
    None,
)
COPY = ROOT / "tests" / "data" / "matcher" / "stories.jsonl"
FEED_FILES = (
    "aljazeera-ar-2026-01-29.xml",
    "hespress-ar-2026-02-11.xml",
    "hespress-ar-2026-02-15.xml",
)


def dev_rows(*names: str) -> list[dict[str, object]]:
    """The dev stories of the named files (../shared/data/dev), or of the copy in tests/data."""
    rows: list[dict[str, object]] = []
    if SHARED is None:
        with COPY.open(encoding="utf-8") as fh:
            copied = [json.loads(line) for line in fh if line.strip()]
        # the copy keeps the files' order: stories.jsonl, then stories-2.jsonl (ids n...)
        first = [r for r in copied if "labels" in r and not str(r["id"]).startswith("n")]
        second = [r for r in copied if "labels" in r and str(r["id"]).startswith("n")]
        return [
            *(first if "stories.jsonl" in names else []),
            *(second if "stories-2.jsonl" in names else []),
        ]
    for name in names:
        with (SHARED / "dev" / name).open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def feed_paths() -> list[Path]:
    if SHARED is not None:
        return sorted((SHARED / "feeds").glob("*.xml"))
    return [ROOT / "tests" / "data" / "feeds" / name for name in FEED_FILES]


NOW = datetime(2026, 2, 16, tzinfo=UTC)


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

    feeds = [(p.name, p.read_bytes()) for p in feed_paths()]

    def bot_parse(name: str, body: bytes) -> list[tuple[str, str, str | None]]:
        parsed = parse_feed(
            body, {}, feed_id=name, url=f"https://example.org/{name}", language="ar", now=NOW
        )
        return [(s.title, s.summary, s.language) for s in parsed.stories]

    feed_stories = [story for name, body in feeds for story in bot_parse(name, body)]
    dev_stories = [
        (str(row.get("title") or ""), str(row.get("summary") or ""), _lang(row.get("lang")))
        for row in dev_rows("stories.jsonl")
    ]
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
    parse_s = matcher_seconds(parse_feeds, args.runs)
    bot_parse_s = matcher_seconds(parse_feeds_like_the_bot, args.runs)
    match_feed_s = matcher_seconds(match_all(feed_repeated), args.runs)
    match_mixed_s = matcher_seconds(match_all(mixed), args.runs)

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
    rows = dev_rows("stories.jsonl", "stories-2.jsonl")
    dense = [r for r in rows if any(dict(r["labels"]).values())]  # type: ignore[call-overload]
    print(
        f"lean feed case: {n} stories per feed, best of {runs} interleaved runs; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print()
    print(
        "| feed | stories | feedparser.parse | Matcher.match | µs/story (match) | ratio "
        "| of which fold + automaton (ratio) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, pool in (("dev-like (dev + stories-2)", rows), ("AI-dense (labelled only)", dense)):
        stories = (pool * (n // len(pool) + 1))[:n]
        body = _rss(stories)
        texts = [
            (str(s.get("title") or ""), str(s.get("summary") or ""), s.get("lang")) for s in stories
        ]
        parse_s, match_s, find_s = _best_interleaved(
            [
                functools.partial(feedparser.parse, body),
                functools.partial(_classify, matcher, texts),
                functools.partial(_find, matcher, texts),
            ],
            runs,
        )
        print(
            f"| {label} | {n} | {parse_s * 1000:.0f} ms | {match_s * 1000:.0f} ms | "
            f"{match_s / n * 1e6:.1f} | **{match_s / parse_s:.3f}** | {find_s / parse_s:.3f} |"
        )


def _find(matcher: Matcher, texts: list[tuple[str, str, object]]) -> None:
    """The part of `match` that does not depend on the rules: fold and one automaton pass."""
    find_fields = matcher.automaton.find_fields
    for title, summary, _lang in texts:
        find_fields((title, summary))


def _best_interleaved(fns: list[Callable[[], object]], runs: int) -> list[float]:
    """Best time of each function over `runs` rounds, the functions taking turns in each round
    (so a burst of load on the shared machine hits all of them alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def _lang(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _classify(matcher: Matcher, texts: list[tuple[str, str, object]]) -> None:
    for title, summary, lang in texts:
        matcher.match(title, summary, lang if isinstance(lang, str) else None)


if __name__ == "__main__":
    raise SystemExit(main())
