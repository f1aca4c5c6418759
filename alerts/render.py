"""Rendering helpers shared by every platform's renderer. Pure functions only.

Each platform renders in its own package (platforms/*/render.py) and reuses these helpers so
that every platform says the same thing about a story.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from core import texts
from models import LabelInfo, Match, Story


@dataclass(frozen=True)
class AlertView:
    """One story as every platform shows it, in the reader's language: the story and why it
    matched, its source's name, the other outlets that reported the same event (issue 14)
    and the words for them. Each renderer (platforms/*/render.py) takes one of these."""

    story: Story
    match: Match
    source: str  # the feed's name
    also: tuple[tuple[str, str], ...] = ()  # (source name, link) of the other outlets
    also_label: str = ""  # "Also reported by:"
    updated_label: str = ""  # "(updated)" when the feed corrected the story, else ""
    edit: bool = False  # it replaces a message already sent


def alert_view(
    story: Story,
    match: Match,
    lang: str,
    sources: Mapping[str, str],
    *,
    also: tuple[Story, ...] = (),
    updated: bool = False,
    edit: bool = False,
) -> AlertView:
    """The view of one story for a reader of `lang`; `sources`: feed id -> name."""
    return AlertView(
        story,
        match,
        sources.get(story.feed_id, story.feed_id),
        tuple((sources.get(s.feed_id, s.feed_id), s.link) for s in also),
        texts.t("also_reported", lang) if also else "",
        texts.t("updated", lang) if updated else "",
        edit,
    )


def local_time(when: datetime, tz: tzinfo) -> str:
    """`2026-02-11 14:05` in the reader's zone (the zone name is shown by callers that need it)."""
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:،؛") + "…"


def label_name(label: str, labels: Mapping[str, LabelInfo], lang: str) -> str:
    info = labels.get(label)
    return info.name(lang) if info else label


def evidence_lines(match: Match, labels: Mapping[str, LabelInfo], lang: str = "en") -> list[str]:
    """One line per label: its name and the distinct words that matched it, with the field."""
    lines = []
    for label in match.labels:
        seen: list[str] = []
        for e in match.evidence_for(label):
            item = f"«{e.text}» ({e.field})"
            if item not in seen:
                seen.append(item)
        lines.append(f"{label_name(label, labels, lang)}: {', '.join(seen[:4]) or '-'}")
    return lines
