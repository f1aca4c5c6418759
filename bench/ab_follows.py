"""/follow matching, two versions of filters/follow_index.py in ONE process (issue 13).

    .venv/bin/python bench/ab_follows.py ../main-checkout/filters/follow_index.py
    .venv/bin/python bench/ab_follows.py OTHER/filters/follow_index.py --specific 1 --runs 9

On a loaded machine a `bench_follows.py` run's ratio moves by 0.3-0.5x from one run to the
next (BENCHMARKS.md, "/follow at scale"), as much as a change is worth. Here both indexes are
built from the same words in the same process and timed in turn against the same matcher
passes: matcher, matcher + this tree's `find`, matcher, matcher + the other's, the order of
the two swapped every other round; CPU time, medians of the rounds. The words and stories
are those of `bench_follows.py` (same options).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_follows import follows, stories, vocabulary  # noqa: E402
from filters.arabic import inflected_stems  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402


def _index_class(path: Path, name: str) -> type:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FollowIndex  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("other", type=Path, help="the other version's filters/follow_index.py")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=3, help="times the story list is repeated")
    ap.add_argument("--distinct", action="store_true", help="no word shared between chats")
    ap.add_argument("--specific", type=float, default=0.01)
    args = ap.parse_args(argv)

    with (ROOT / "config.yaml").open(encoding="utf-8") as fh:
        matcher = Matcher(WatchlistsConfig.model_validate(yaml.safe_load(fh)["watchlists"]))
    texts = stories()
    vocab = vocabulary(texts[0::2], args.specific)
    sample = texts[1::2] * args.repeat
    pairs = follows(10_000, 20, vocab, args.distinct)
    here = _index_class(ROOT / "filters" / "follow_index.py", "follow_index_here")(pairs, 1)
    other = _index_class(args.other, "follow_index_other")(pairs, 1)

    def matcher_only() -> None:
        for title, summary, language in sample:
            matcher.match(title, summary, language)

    def with_follows(index: object) -> Callable[[], None]:
        find = index.find  # type: ignore[attr-defined]

        def run() -> None:
            for title, summary, language in sample:
                matcher.match(title, summary, language)
                find(title, summary)

        return run

    passes = {"matcher": matcher_only, "here": with_follows(here), "other": with_follows(other)}
    rounds: list[dict[str, float]] = []
    for i in range(args.runs):
        order = ["matcher", "other", "matcher", "here"]
        if i % 2:
            order = ["matcher", "here", "matcher", "other"]
        row: dict[str, float] = {"matcher": 0.0}
        for name in order:
            inflected_stems.cache_clear()
            t0 = time.process_time()
            passes[name]()
            spent = time.process_time() - t0
            row[name] = row[name] + spent / 2 if name == "matcher" else spent
        rounds.append(row)
    n = len(sample)
    for name in ("matcher", "other", "here"):
        us = statistics.median(r[name] for r in rounds) / n * 1e6
        ratio = statistics.median(r[name] / r["matcher"] for r in rounds)
        print(f"{name:8s} {us:7.1f} us/story  ({ratio:.2f}x the matcher alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
