"""The labelled story-pair set of issue 14, and pair precision/recall of a decision. Pure.

The set lives in a folder (tests/data/events, built by bench/make_event_pairs.py):
`stories.jsonl` holds each story with the `event` it reports and its `split` ("tune" or
"held"); `unsure.json` the pairs left out. Every other pair of stories is labelled: the same
event when their `event` ids are equal, different events otherwise; `hard` when both name
the same watchlist figure (or both are AI-policy stories); held-out when either story is.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["LabelledPair", "PairScore", "PairStory", "load_pairs", "score_pairs"]

_HARD_LABELS = ("altman", "musk", "trump", "ai_policy")


@dataclass(frozen=True, slots=True)
class PairStory:
    id: str
    lang: str
    title: str
    summary: str
    labels: tuple[str, ...]
    event: str
    split: str
    published: str | None = None  # as the source gave it: a date, a month, or nothing
    constructed: bool = False


@dataclass(frozen=True, slots=True)
class LabelledPair:
    a: PairStory
    b: PairStory
    same: bool

    @property
    def held(self) -> bool:
        return "held" in (self.a.split, self.b.split)

    @property
    def hard(self) -> bool:
        return not self.same and any(
            x in self.a.labels and x in self.b.labels for x in _HARD_LABELS
        )

    @property
    def cross_language(self) -> bool:
        return self.a.lang != self.b.lang

    @property
    def dated_together(self) -> bool:
        """Both stories carry a full date and the dates are at most a day apart: the pairs
        that can meet in one grouping window."""
        a, b = _day(self.a.published), _day(self.b.published)
        return a is not None and b is not None and abs((a - b).days) <= 1

    @property
    def constructed(self) -> bool:
        return self.a.constructed or self.b.constructed


@dataclass
class PairScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    hard_fp: int = 0
    hard: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _day(published: str | None) -> date | None:
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10])
    except ValueError:
        return None


def load_pairs(folder: Path) -> list[LabelledPair]:
    stories = [
        PairStory(
            id=d["id"],
            lang=d["lang"],
            title=d["title"],
            summary=d["summary"],
            labels=tuple(d["labels"]),
            event=d["event"],
            split=d["split"],
            published=d.get("published"),
            constructed=bool(d.get("constructed")),
        )
        for d in map(json.loads, (folder / "stories.jsonl").read_text("utf-8").splitlines())
    ]
    unsure = {frozenset(p) for p in json.loads((folder / "unsure.json").read_text("utf-8"))}
    return [
        LabelledPair(a, b, a.event == b.event)
        for a, b in itertools.combinations(stories, 2)
        if frozenset((a.id, b.id)) not in unsure
    ]


def score_pairs(pairs: Iterable[LabelledPair], decide: Callable[[LabelledPair], bool]) -> PairScore:
    score = PairScore()
    for pair in pairs:
        said = decide(pair)
        if pair.hard:
            score.hard += 1
            score.hard_fp += said
        if pair.same:
            score.tp += said
            score.fn += not said
        else:
            score.fp += said
            score.tn += not said
    return score
