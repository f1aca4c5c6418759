"""Plain records shared by every part of Mirsad.

They carry data between the pure core (parse, match, render) and the edges (fetch, store,
senders). No behaviour beyond small derived properties lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Story:
    """One news item as Mirsad sees it, after parsing and cleaning."""

    id: str  # stable id: canonical link, else guid, else content hash
    feed_id: str
    title: str  # plain text, may be ""
    summary: str  # plain text, HTML and WordPress boilerplate removed, may be ""
    link: str  # "" when the feed gives none
    published: datetime  # timezone-aware UTC
    image: str | None = None
    language: str | None = None  # "ar", "fr", "en"... from the feed config or the feed itself


# issue 13: the label of a chat's own /follow words in a Match and its evidence (a watchlist
# id never starts with "#"); alerts show it as #follow with the words the story holds.
FOLLOW_LABEL = "#follow"


class Evidence(NamedTuple):
    """Why a label matched: which configured term, found as which words, where.

    A named tuple rather than a frozen dataclass: the same immutable record, built about four
    times faster, which counts where a story makes dozens (every chat's /follow words found
    in it, issue 13, BENCHMARKS.md "/follow at scale")."""

    label: str  # watchlist id, e.g. "trump" or "ai_policy"
    term: str  # the configured alias or rule that fired, e.g. "ترامب" or "ai+policy"
    text: str  # the words exactly as they appear in the story, e.g. "لترمب"
    field: str  # "title" or "summary"
    start: int = 0  # character offsets into that field of the original text
    end: int = 0

    def as_dict(self) -> dict[str, str | int]:
        return {
            "label": self.label,
            "term": self.term,
            "text": self.text,
            "field": self.field,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class Match:
    """The result of matching one story against all watchlists."""

    labels: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.labels)

    def evidence_for(self, label: str) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.label == label)


@dataclass(frozen=True, slots=True)
class LabelInfo:
    """What users see of a watchlist entry: its id, kind and names in each language."""

    id: str
    kind: str  # "figure" or "topic"
    name_ar: str
    name_en: str
    default: bool = True  # part of the default subscription (`/subscribe` with no argument)
    name_fr: str = ""  # the French name, where it differs from the English one

    def name(self, lang: str) -> str:
        if lang == "ar":
            return self.name_ar
        return (self.name_fr or self.name_en) if lang == "fr" else self.name_en

    def hashtag(self, lang: str) -> str:
        """`#ترامب` in Arabic, `#DonaldTrump` in English, `#IntelligenceArtificielle` in French."""
        if lang == "ar":
            return self.hashtag_ar
        return "#" + "".join(w[:1].upper() + w[1:] for w in self.name(lang).split())

    @property
    def hashtag_ar(self) -> str:
        return "#" + "_".join(self.name_ar.split())

    @property
    def hashtag_en(self) -> str:
        return "#" + "".join(w[:1].upper() + w[1:] for w in self.name_en.split())
