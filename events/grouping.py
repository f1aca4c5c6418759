"""Does a new story report an event already alerted? The decision and the window. Pure.

`similarity(a, b)` compares two fingerprints (events/fingerprint.py); `same_event` turns it
into the decision. `EventWindow` holds the fingerprints of the stories alerted in the last
`window` (issue 14: 12 hours by default) and finds, for a new story, the event it belongs
to — or None. It never reads a clock: every call takes `now`.

The decision, in words (the figures behind it are in BENCHMARKS.md, "Same-event grouping"):

- stories in one language share words: they are one event when enough of the content words
  of the headline and lead are shared (`word` score) *and* they share at least one
  language-neutral concept (a place, body, person, number...), so two stories that merely
  reuse stock phrasing stay apart (a watchlist figure is not such a concept: two stories
  on one figure the same day in the same words are often two events);
- stories in different languages share no words, only concepts: they are one event when the
  concepts they share weigh enough (`concept` score) and include at least two named things
  (`names`): "Trump" alone, or "Morocco" and "visit", is never enough.

- either way, two stories that each name a numbered thing ("رقم 3", "n° 2797") and not the
  same one are two events (a veto);
- a name one story writes in Latin letters and the other in Arabic script (Laftit / لفتيت)
  is shared, once the two spellings meet on one consonant skeleton (`bridged`).

Different events about the same person on the same day share that person and often a place
or two, so both paths also ask for overlap relative to the stories' size, not only counts.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events.fingerprint import ACTION, FIGURE, LABEL, LATIN, NAME, NUMBER, PLACE, Fingerprint

# Index keys only (never scored): the script-neutral skeletons of a story's Arabic words, and
# of its Latin names. A story is filed under both kinds and looks up the other kind, so a
# French edition finds the Arabic one that writes its names (and the other way round)
# without every Arabic story counting its words a second time against every other.
ARABIC_SKELETON = "s_"
LATIN_SKELETON = "t_"

__all__ = [
    "EventWindow",
    "Rarity",
    "Similarity",
    "Thresholds",
    "bridged",
    "idf",
    "same_event",
    "similarity",
    "unseen",
    "word_weights",
]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision's parameters (chosen on the tuning split of the pair set)."""

    same_language: float = 0.98  # word score + concept_share * concept score, one language...
    concept_share: float = 0.75
    same_specific: float = 2.0  # ...and weight of the names, numbers, places in common
    cross_language: float = 0.60  # concept score, across languages...
    cross_specific: float = 4.0  # ...and weight of the names, numbers, places in common


# What a shared concept is worth, by kind (events/fingerprint.py prefixes): a body, person,
# company or number says more than a country or a kind of event; a watchlist label says
# least, since every story of a chat's alerts shares one. Multiplied by the key's rarity.
KIND_WEIGHTS = {
    NAME: 1.0,
    FIGURE: 0.25,  # a watchlist figure: like a label, every story of a chat's alerts has one
    NUMBER: 1.0,
    LATIN: 1.0,
    PLACE: 0.5,
    ACTION: 0.5,
    LABEL: 0.25,
}
_SPECIFIC = (NAME, NUMBER, LATIN, PLACE)

# A window of a few stories says little about which keys are common: its size counts as at
# least this many stories, so early in the day every key weighs about the same.
_MIN_STORIES = 50


def idf(df: int, n: int) -> float:
    """Inverse document frequency of a key held by `df` of `n` stories (smoothed)."""
    return math.log((max(n, _MIN_STORIES) + 1) / (df + 1))


Rarity = Callable[[str], float]


def unseen(_: str) -> float:
    """The rarity of any key in an empty window."""
    return idf(0, 0)


@dataclass(frozen=True, slots=True)
class Similarity:
    word: float  # rarity-weighted Dice coefficient over distinct content words
    concept: float  # weighted Dice coefficient over concepts
    specific: float  # weight of the names, numbers and places in common
    shared_concepts: int
    shared_actions: int  # kinds of event in common (a visit, a summit, an order...)


def word_weights(fp: Fingerprint, rarity: Rarity) -> tuple[float, ...]:
    """The weight of each distinct word of a story: the rarity of its rarest reading."""
    return tuple(max(map(rarity, readings)) for readings in fp.word_readings)


def similarity(
    a: Fingerprint,
    b: Fingerprint,
    rarity: Rarity = unseen,
    weights: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
) -> Similarity:
    """How much two stories have in common. `rarity` weighs a key: EventWindow passes the
    inverse document frequency over the stories of its window, so a word or a concept that
    every story of the day has (ترامب on a Trump day) counts little. `weights`: the
    stories' `word_weights`, when already known."""
    wa, wb = weights or (word_weights(a, rarity), word_weights(b, rarity))
    matched = 0.0
    for readings, w in zip(a.word_readings, wa, strict=True):
        if not readings.isdisjoint(b.words):
            matched += w
    for readings, w in zip(b.word_readings, wb, strict=True):
        if not readings.isdisjoint(a.words):
            matched += w
    total = sum(wa) + sum(wb)
    word = matched / total if total else 0.0

    def weight(key: str) -> float:
        return KIND_WEIGHTS.get(key[:2], 1.0) * rarity(key)

    ca, cb = bridged(a, b)
    shared = ca & cb
    denom = sum(map(weight, ca)) + sum(map(weight, cb))
    concept = 2 * sum(map(weight, shared)) / denom if denom else 0.0
    specific = sum(weight(k) for k in shared if k.startswith(_SPECIFIC))
    actions = sum(1 for k in shared if k.startswith(ACTION))
    return Similarity(word, concept, specific, len(shared), actions)


def bridged(a: Fingerprint, b: Fingerprint) -> tuple[frozenset[str], frozenset[str]]:
    """The two stories' concepts, each with the Latin names of the other that it writes in
    Arabic script (a French edition's `l_laftit` is also the Arabic edition's when it has
    لفتيت): one name in two scripts is one key."""
    return _bridge(a, b), _bridge(b, a)


def _bridge(a: Fingerprint, b: Fingerprint) -> frozenset[str]:
    if not a.skeletons or not b.latin_skeletons:
        return a.concepts
    found = {k for k, sk in b.latin_skeletons if sk in a.skeletons and k not in a.concepts}
    return a.concepts | found if found else a.concepts


def same_event(
    a: Fingerprint,
    b: Fingerprint,
    rarity: Rarity = unseen,
    thresholds: Thresholds | None = None,
) -> bool:
    """The grouping decision for two stories already known to be within the window."""
    return decide(a, b, similarity(a, b, rarity), thresholds or _DEFAULT)


def decide(a: Fingerprint, b: Fingerprint, s: Similarity, t: Thresholds) -> bool:
    """`same_event` given the similarity already computed."""
    if a.numbered and b.numbered and a.numbered.isdisjoint(b.numbered):
        # Each names a numbered thing and not the same one (order No. 3 / order No. 4): two
        # things, whatever else the stories share. Same-day stories in the same words on one
        # figure are often just that (an order a day, a resolution by its number).
        return False
    if _same_language(a, b):
        score = s.word + t.concept_share * s.concept
        return s.specific >= t.same_specific and score >= t.same_language
    return (
        s.concept >= t.cross_language and s.specific >= t.cross_specific and s.shared_actions >= 1
    )


_DEFAULT = Thresholds()


def _same_language(a: Fingerprint, b: Fingerprint) -> bool:
    """Stories in one language are compared by their words and concepts; across languages
    (Arabic shares no word with French or English, French few with English) by their
    concepts only. A story of unknown language is compared by words."""
    if a.language is None or b.language is None:
        return True
    return a.language.split("-")[0] == b.language.split("-")[0]


class _Memo(dict[str, float]):
    """key -> rarity(key), computed on first use."""

    def __init__(self, rarity: Rarity) -> None:
        super().__init__()
        self._rarity = rarity

    def __missing__(self, key: str) -> float:
        value = self[key] = self._rarity(key)
        return value


@dataclass(slots=True)
class _Entry:
    key: str  # the story's id
    event: str  # the event it belongs to (the id of its first story)
    at: datetime
    fingerprint: Fingerprint
    weights: tuple[float, ...]  # word_weights when the story was added to the window
    keys: set[str]  # the keys it is filed under (built once, dropped by the same set)


@dataclass
class EventWindow:
    """The stories alerted within `window` of now, indexed by their keys.

    `find` compares a new story only with stories that share one of its rarer keys (an
    inverted index over words and concepts; keys held by more than `max_posting` stories,
    such as a figure's id on a busy day, are not used to find candidates), so a window of
    thousands of stories costs a few comparisons per new story.
    """

    window: timedelta = timedelta(hours=12)
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_posting: int = 200
    max_candidates: int = 8
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _postings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _expiry: list[tuple[datetime, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self, key: str, at: datetime, fingerprint: Fingerprint, event: str | None = None
    ) -> None:
        """Remember an alerted story (`event`: the event it was grouped into, else its own)."""
        if key in self._entries:
            self._drop(key)
        keys = self._keys(fingerprint)
        weights = word_weights(fingerprint, self.rarity)
        self._entries[key] = _Entry(key, event or key, at, fingerprint, weights, keys)
        postings = self._postings
        for k in keys:
            postings[k].add(key)
        heapq.heappush(self._expiry, (at, key))

    def find(self, fingerprint: Fingerprint, now: datetime) -> str | None:
        """The event a new story reports, if a story of the window reports it; else None.
        Among several matches, the most similar wins (ties: the earliest story)."""
        self.prune(now)
        postings = self._postings
        limit = self.max_posting
        counts = Counter(
            itertools.chain.from_iterable(
                p
                for p in map(postings.get, self._query_keys(fingerprint))
                if p is not None and len(p) <= limit
            )
        )
        # Only the stories sharing the most keys are compared in full: a story of the same
        # event shares many of its rarer keys, a story of another event few. Rarity is
        # looked up once per key for this call.
        rarity = _Memo(self.rarity)
        mine = word_weights(fingerprint, rarity.__getitem__)
        best: tuple[float, datetime, str] | None = None
        for key, _ in counts.most_common(self.max_candidates):
            entry = self._entries[key]
            s = similarity(
                entry.fingerprint, fingerprint, rarity.__getitem__, (entry.weights, mine)
            )
            if not decide(entry.fingerprint, fingerprint, s, self.thresholds):
                continue
            rank = (-(s.word + s.concept), entry.at, entry.event)
            if best is None or rank < best:
                best = rank
        return best[2] if best else None

    def rarity(self, key: str) -> float:
        """Inverse document frequency of a word or concept over the stories of the window."""
        posting = self._postings.get(key)
        return idf(len(posting) if posting else 0, len(self._entries))

    def prune(self, now: datetime) -> None:
        """Forget stories alerted before now - window."""
        cutoff = now - self.window
        while self._expiry and self._expiry[0][0] < cutoff:
            at, key = heapq.heappop(self._expiry)
            entry = self._entries.get(key)
            if entry is not None and entry.at == at:
                self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        for k in entry.keys:
            posting = self._postings.get(k)
            if posting is not None:
                posting.discard(key)
                if not posting:
                    del self._postings[k]

    @staticmethod
    def _keys(fingerprint: Fingerprint) -> set[str]:
        # Concept ids carry a prefix with "_", which no word has: the two never collide.
        return {
            *fingerprint.words,
            *fingerprint.concepts,
            *(ARABIC_SKELETON + sk for sk in fingerprint.skeletons),
            *(LATIN_SKELETON + sk for _, sk in fingerprint.latin_skeletons),
        }

    @staticmethod
    def _query_keys(fingerprint: Fingerprint) -> set[str]:
        """The keys a new story looks up: its words and concepts, and each skeleton under
        the other script's kind (its Arabic words against Latin names, and back)."""
        return {
            *fingerprint.words,
            *fingerprint.concepts,
            *(LATIN_SKELETON + sk for sk in fingerprint.skeletons),
            *(ARABIC_SKELETON + sk for _, sk in fingerprint.latin_skeletons),
        }
