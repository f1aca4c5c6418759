"""Rendering helpers shared by every platform's renderer. Pure functions only.

Each platform renders in its own package (platforms/*/render.py) and reuses these helpers so
that every platform says the same thing about a story.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from core import texts
from models import FOLLOW_LABEL, LabelInfo, Match, Story


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


RLM = "\u200f"  # right-to-left mark: a line that starts with it reads right to left
LRM = "\u200e"
# Explicit embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): a feed must
# not be able to change the direction of text outside its own words. Marks (LRM/RLM) stay.
_BIDI_CONTROLS = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


# What `clean` does to each character, as one str.translate table (a loop over the characters
# was the costliest step of delivering an alert, issue 19): line and tab breaks become a space;
# the bidi controls, the BOM and every other control character (category Cc, all below U+00A0)
# are dropped.
_CLEAN_TABLE: dict[int, str | None] = {
    **{code: None for code in range(0xA0) if unicodedata.category(chr(code)) == "Cc"},
    **dict.fromkeys(_BIDI_CONTROLS | {0xFEFF}),
    **{ord(ch): " " for ch in "\r\n\t\v\f\x85\u2028\u2029"},
}


def clean(text: str) -> str:
    """Feed text made safe to show: no control or bidi-override characters, one line."""
    return " ".join(text.translate(_CLEAN_TABLE).split())


def is_rtl(text: str) -> bool:
    """True when most strong characters are right-to-left (Arabic, Hebrew...)."""
    rtl = ltr = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            rtl += 1
        elif kind == "L":
            ltr += 1
    return rtl > ltr


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


def group_name(label: str, labels: Mapping[str, LabelInfo], lang: str) -> str:
    """The heading of a digest's section: a label's name, or "Your words" for the chat's own
    /follow words."""
    if label == FOLLOW_LABEL:
        return texts.t("digest_own_words", lang)
    return label_name(label, labels, lang)


def digest_sources(view: AlertView, lang: str, most: int = 4) -> str:
    """A digest line's sources: the story's own, then the other outlets that reported the
    same event (issue 14), at most `most` names, each once, joined for `lang`."""
    names = list(dict.fromkeys([view.source, *(name for name, _ in view.also)]))
    shown = texts.join(names[:most], lang)
    return shown + (" …" if len(names) > most else "")
