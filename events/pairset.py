"""The labelled story-pair set of issue 14, and pair precision/recall of a decision. Pure.

The set lives in a folder (tests/data/events, built by bench/make_event_pairs.py):
`stories.jsonl` holds each story with the `event` it reports and its `split` ("tune" or
"held"); `unsure.json` the pairs left out. Every other pair of stories is labelled: the same
event when their `event` ids are equal, different events otherwise; `hard` when both name
the same watchlist figure (or both are AI-policy stories); held-out when either story is.

Time (issue 14: the bot only compares stories published within `events.window_hours` of each
other). Each story's publication time is known as precisely as its source gave it: to the
second (feed items), to the day (most dev stories), or not usefully (a month, a year,
nothing). `LabelledPair.gap` gives the smallest and largest time that can separate the two
stories; a pair *can meet* in one window when both are dated at least to the day and the
smallest gap is within the window. Those are the pairs the product decides; pairs further
apart cannot be merged whatever their content.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

__all__ = [
    "LabelledPair",
    "PairScore",
    "PairStory",
    "load_pairs",
    "published_span",
    "score_pairs",
]

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
    def gap(self) -> tuple[timedelta, timedelta] | None:
        """The smallest and largest time between the two publications, given how precisely
        each is known; None when either is known only to the month or not at all."""
        a, b = published_span(self.a.published), published_span(self.b.published)
        if a is None or b is None:
            return None
        least = max(a[0] - b[1], b[0] - a[1], timedelta(0))
        most = max(a[1] - b[0], b[1] - a[0])
        return least, most

    def can_meet(self, window: timedelta) -> bool:
        """Both stories are dated to the day or better and may lie within `window`."""
        gap = self.gap
        return gap is not None and gap[0] <= window

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


def published_span(published: str | None) -> tuple[datetime, datetime] | None:
    """The UTC interval a publication time stands for: an instant for a full timestamp
    (ISO 8601 or RFC 2822, as feeds give them), the whole day for a date (2025-06-05 or
    05/06/2025, day first as the dev stories write it); None for a month, a year or nothing,
    which cannot place a story within a window of hours. A date's day is taken in UTC: the
    outlets' zones (UTC-5 to UTC+4) move it by hours, and a pair two dates apart stays
    more than 12 hours apart."""
    if not published:
        return None
    text = published.strip()
    day: date | None = None
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            try:
                day = datetime.strptime(text, "%d/%m/%Y").date()
            except ValueError:
                return None
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            moment = None
    if moment is None or len(text) < 16:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, moment


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
