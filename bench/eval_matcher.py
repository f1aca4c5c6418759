"""Precision and recall of the watchlist matcher on labelled stories, beside a naive baseline.

    .venv/bin/python bench/eval_matcher.py                  # report (exit 0)
    .venv/bin/python bench/eval_matcher.py --check          # exit 1 when a target is missed
    .venv/bin/python bench/eval_matcher.py --ids w,m        # only ids starting with w or m

The matcher is built exactly as the bot builds it: `yaml.safe_load` of the config, then
`WatchlistsConfig.model_validate` of its `watchlists` key. Stories marked "uncertain" are
skipped (see ../shared/data/LABELS.md). The baseline looks for one plain spelling per name
and the phrase الذكاء الاصطناعي as raw substrings (ai_policy: that phrase plus one of a few
policy words, also raw substrings) — what a first attempt without Arabic handling would do.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filters.schema import WatchlistsConfig  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev" / "stories.jsonl"
LABELS = ("altman", "musk", "trump", "ai", "ai_policy")
# Issue 3 targets: (precision, recall)
TARGETS = {
    "altman": (0.98, 0.97),
    "musk": (0.98, 0.97),
    "trump": (0.98, 0.97),
    "ai": (0.95, 0.95),
    "ai_policy": (0.90, 0.90),
}
BASELINE_NAMES = {"altman": "ألتمان", "musk": "ماسك", "trump": "ترامب", "ai": "الذكاء الاصطناعي"}
BASELINE_POLICY = ("قانون", "حكومة", "تنظيم", "وزير", "أمر تنفيذي", "محكمة")


def baseline(title: str, summary: str) -> set[str]:
    """Raw-substring labels: the naive approach the matcher is measured against."""
    text = f"{title}\n{summary}"
    out = {label for label, word in BASELINE_NAMES.items() if word in text}
    if "ai" in out and any(word in text for word in BASELINE_POLICY):
        out.add("ai_policy")
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, predicted: bool, truth: bool) -> None:
        if predicted and truth:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1


def load_matcher(config: Path) -> Matcher:
    """The matcher from a config file's `watchlists:` block, as the bot loads it."""
    with config.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Matcher(WatchlistsConfig.model_validate(raw["watchlists"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--ids", default="", help="comma-separated id prefixes to keep (e.g. w,m)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--quiet", action="store_true", help="do not list the misses")
    args = ap.parse_args(argv)

    matcher = load_matcher(args.config)
    prefixes = tuple(p for p in args.ids.split(",") if p)
    ours = {label: Score() for label in LABELS}
    base = {label: Score() for label in LABELS}
    misses: dict[str, list[str]] = {label: [] for label in LABELS}
    n = skipped = 0
    with args.data.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if prefixes and not row["id"].startswith(prefixes):
                continue
            if row.get("uncertain"):
                skipped += 1
                continue
            n += 1
            title, summary = row.get("title") or "", row.get("summary") or ""
            match = matcher.match(title, summary, row.get("lang"))
            predicted = set(match.labels)
            naive = baseline(title, summary)
            for label in LABELS:
                truth = bool(row["labels"][label])
                ours[label].add(label in predicted, truth)
                base[label].add(label in naive, truth)
                if (label in predicted) != truth:
                    kind = "FP" if truth is False else "FN"
                    shown = title or summary[:90]
                    why = "; ".join(
                        f"{e.term} -> «{e.text}» ({e.field})" for e in match.evidence_for(label)
                    )
                    misses[label].append(
                        f"  {kind} {row['id']}: {shown}" + (f"   [{why}]" if why else "")
                    )

    print(f"stories scored: {n} (skipped as uncertain: {skipped}); data: {args.data.name}")
    header = (
        f"{'label':<10} | {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7} |"
        f" {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7} | target P/R"
    )
    print(f"{'':<10} | {'Mirsad matcher':^35} | {'naive baseline':^35} |")
    print(header)
    print("-" * len(header))
    failed: list[str] = []
    for label in LABELS:
        o, b = ours[label], base[label]
        tp, tr = TARGETS[label]
        ok = o.precision >= tp and o.recall >= tr
        if not ok:
            failed.append(label)
        print(
            f"{label:<10} | {o.tp:>3} {o.fp:>3} {o.fn:>3} {o.precision:>9.3f} {o.recall:>7.3f} |"
            f" {b.tp:>3} {b.fp:>3} {b.fn:>3} {b.precision:>9.3f} {b.recall:>7.3f} |"
            f" {tp:.2f}/{tr:.2f} {'ok' if ok else 'MISSED'}"
        )
    if not args.quiet:
        for label in LABELS:
            if misses[label]:
                print(f"\nmisses for {label}:")
                print("\n".join(misses[label]))
    if failed:
        print(f"\ntargets missed: {', '.join(failed)}")
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
