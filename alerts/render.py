"""Rendering helpers shared by every platform's renderer. Pure functions only.

Each platform renders in its own package (platforms/*/render.py) and reuses these helpers so
that every platform says the same thing about a story.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime, tzinfo

from models import LabelInfo, Match

RLM = "\u200f"  # right-to-left mark: a line that starts with it reads right to left
LRM = "\u200e"
# Explicit embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): a feed must
# not be able to change the direction of text outside its own words. Marks (LRM/RLM) stay.
_BIDI_CONTROLS = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def clean(text: str) -> str:
    """Feed text made safe to show: no control or bidi-override characters, one line."""
    out = []
    for ch in text:
        code = ord(ch)
        if code in _BIDI_CONTROLS or code == 0xFEFF:
            continue
        if ch in "\r\n\t\v\f\x85\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


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
