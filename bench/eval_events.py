"""Pair precision and recall of same-event grouping on the labelled pair set (issue 14).

    .venv/bin/python bench/eval_events.py            # report (exit 0)
    .venv/bin/python bench/eval_events.py --check    # exit 1 when a target is missed
    .venv/bin/python bench/eval_events.py --show fp  # list false merges (fp) or misses (fn)

Every pair is judged on content alone, as if both stories had been published within the
window (the time check is trivial; the content decision is what can go wrong). The stories'
watchlist labels are computed by the bot's own matcher from config.yaml, as in the bot.
Reported per split: "tune" (looked at while choosing the method) and "held" (never).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from events.fingerprint import Fingerprint, Fingerprinter, load_concepts  # noqa: E402
from events.grouping import idf, same_event, similarity  # noqa: E402
from events.pairset import LabelledPair, PairScore, load_pairs, score_pairs  # noqa: E402
from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

TARGET_PRECISION = 0.98
TARGET_RECALL = 0.85


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "events")
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--show", choices=("fp", "fn"), default=None)
    ap.add_argument("--split", choices=("tune", "held", "all"), default="all")
    args = ap.parse_args()

    raw = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    matcher = Matcher(WatchlistsConfig.model_validate(raw["watchlists"]))
    fingerprinter = Fingerprinter(load_concepts())
    pairs = load_pairs(args.data)
    prints: dict[str, Fingerprint] = {}
    for pair in pairs:
        for s in (pair.a, pair.b):
            if s.id not in prints:
                labels = matcher.match(s.title, s.summary, s.lang).labels
                prints[s.id] = fingerprinter.fingerprint(s.title, s.summary, s.lang, labels)

    # Key rarity over the stories of the set, as EventWindow computes it over its window.
    df: Counter[str] = Counter()
    for fp in prints.values():
        df.update(fp.words | fp.concepts)

    def rarity(key: str) -> float:
        return idf(df[key], len(prints))

    def decide(p: LabelledPair) -> bool:
        return same_event(prints[p.a.id], prints[p.b.id], rarity)

    rows: list[tuple[str, PairScore, int]] = []
    for name, chosen in (
        ("tune", [p for p in pairs if not p.held]),
        ("held", [p for p in pairs if p.held]),
        ("held, real stories only", [p for p in pairs if p.held and not p.constructed]),
        ("all", pairs),
        ("all, cross-language", [p for p in pairs if p.cross_language]),
        ("all, dated within a day", [p for p in pairs if p.dated_together]),
    ):
        rows.append((name, score_pairs(chosen, decide), len(chosen)))
    print(
        f"{'split':<26}{'pairs':>7}{'same':>6}{'P':>8}{'R':>8}{'false merges':>14}{'hard FP':>10}"
    )
    for name, s, n in rows:
        print(
            f"{name:<26}{n:>7}{s.tp + s.fn:>6}{s.precision:>8.3f}{s.recall:>8.3f}"
            f"{s.fp:>14}{f'{s.hard_fp}/{s.hard}':>10}"
        )
    if args.show:
        for p in pairs:
            if args.split != "all" and (p.held != (args.split == "held")):
                continue
            said = decide(p)
            if (args.show == "fp" and said and not p.same) or (
                args.show == "fn" and p.same and not said
            ):
                s = similarity(prints[p.a.id], prints[p.b.id], rarity)
                print(
                    f"\n{p.a.id}[{p.a.lang}] {p.b.id}[{p.b.lang}] word={s.word:.2f} "
                    f"concept={s.concept:.2f} specific={s.specific} "
                    f"shared={sorted(prints[p.a.id].concepts & prints[p.b.id].concepts)}"
                )
                print("  A:", (p.a.title + " | " + p.a.summary)[:160].replace("\n", " "))
                print("  B:", (p.b.title + " | " + p.b.summary)[:160].replace("\n", " "))
    if args.check:
        missed = [
            name
            for name, s, _ in rows[:2]
            if s.precision < TARGET_PRECISION or s.recall < TARGET_RECALL
        ]
        if missed:
            print(f"targets missed on: {', '.join(missed)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
