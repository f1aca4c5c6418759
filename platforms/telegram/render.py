"""Story + match -> a Telegram message in HTML parse mode. Pure: no clock, no I/O.

What a reader sees (Arabic chat)::

    ‏<b><a href="https://…">ترامب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي</a></b>
    ‏hespress_ar · 2026-02-11 14:05
    ‏ملخص قصير للخبر…
    ‏#ترامب #الذكاء_الاصطناعي

Rules (issue 4, notes/telegram-offline.md "Formatting"):
- everything that came from a feed is escaped (`html.escape`, with quotes inside `href`), so a
  title with `<`, `&` or a fake tag arrives as text; links that are not http(s) are dropped;
- bidi controls and other control characters from the feed are removed: an RLO (U+202E) in a
  title must not reverse the rest of our message;
- each line starts with a direction mark (RLM for Arabic lines, LRM otherwise), so a line that
  begins with a Latin word or a digit still displays right-to-left in an Arabic alert;
- the text after entity parsing never exceeds 4096 UTF-16 code units (Telegram counts in
  UTF-16); the summary is cut first, then the title.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlsplit

from alerts.payloads import DigestSection, part_title
from alerts.render import (
    LRM,
    RLM,
    AlertView,
    clean,
    digest_sources,
    group_name,
    is_rtl,
    local_time,
    shorten,
)
from core.texts import t
from models import FOLLOW_LABEL, LabelInfo, Match, Story

MAX_TEXT = 4096  # Telegram's limit for a text message, after entity parsing
TITLE_CHARS = 300
SUMMARY_CHARS = 500  # "a short summary": enough to decide whether to click
DIGEST_TITLE_CHARS = 200  # a digest lists titles, one a line
MAX_URL = 2048
MAX_ALSO = 5  # sources named on an alert's "also reported by" line

SEPARATOR = " · "


@dataclass(frozen=True)
class AlertText:
    """One alert in both shapes: HTML (normal) and plain text (fallback when HTML is refused)."""

    html: str
    plain: str


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def mark_for(text: str) -> str:
    return RLM if is_rtl(text) else LRM


def safe_link(link: str) -> str | None:
    """The link if it is a plain http(s) URL Telegram will accept, else None."""
    link = link.strip()
    if (
        not link
        or len(link) > MAX_URL
        or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in link)
    ):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return link


def cut(text: str, limit: int) -> str:
    """`shorten` (word boundary, ellipsis), then made to fit `limit` UTF-16 units."""
    if limit <= 0:
        return ""
    text = shorten(text, limit)
    while utf16_len(text) > limit:
        text = shorten(text, max(len(text) - max(utf16_len(text) - limit, 1), 0))
    return text


def hashtags(match: Match, labels: Mapping[str, LabelInfo], lang: str) -> str:
    """`#ترامب #الذكاء_الاصطناعي` (ar), `#DonaldTrump #ArtificialIntelligence` (en) or
    `#DonaldTrump #IntelligenceArtificielle` (fr); a chat's own words (issue 13) last, as
    `#follow غزة، النفط`."""
    tags: list[str] = []
    for label in match.labels:
        if label == FOLLOW_LABEL:
            continue
        info = labels.get(label)
        tag = "#" + label if info is None else info.hashtag(lang)
        if tag not in tags:
            tags.append(tag)
    words = list(dict.fromkeys(clean(e.text) for e in match.evidence_for(FOLLOW_LABEL)))
    if words:
        tags.append(FOLLOW_LABEL + " " + ("، " if lang == "ar" else ", ").join(words[:5]))
    return " ".join(tags)


def render_alert(
    view: AlertView,
    labels: Mapping[str, LabelInfo],
    *,
    lang: str,
    tz: tzinfo,
    limit: int = MAX_TEXT,
) -> AlertText:
    """The Telegram message for one alert, as HTML and as its plain-text fallback.

    Issue 14: the other outlets that reported the event (`view.also`) are shown on one line
    after `view.also_label`, each name linked; `view.updated_label` marks a story its feed
    has corrected."""
    story, match, source = view.story, view.match, view.source
    also_label, updated_label = view.also_label, view.updated_label
    ui_mark = RLM if lang == "ar" else LRM
    title = clean(story.title) or clean(story.summary)[:80] or t("no_title", lang)
    summary = clean(story.summary) if clean(story.title) else ""
    link = safe_link(story.link)
    meta = clean(source) + SEPARATOR + local_time(story.published, tz)
    if updated_label:
        meta += SEPARATOR + updated_label
    tags = hashtags(match, labels, lang)
    others = [(cut(clean(name), 40), safe_link(url)) for name, url in view.also[:MAX_ALSO]]
    comma = "، " if lang == "ar" else ", "
    also_plain = f"{also_label} " + comma.join(n for n, _ in others) if others else ""

    title = cut(title, TITLE_CHARS)
    # Worst case of the plain fallback (it also shows the URL) decides the budget, so both
    # shapes fit: lines are joined by "\n" and each starts with a one-unit direction mark.
    fixed = [meta, tags] + ([link] if link else []) + ([also_plain] if also_plain else [])
    fixed += [url for _, url in others if url]  # the plain shape lists the links too
    used = sum(utf16_len(x) + 2 for x in fixed) + utf16_len(title) + 2
    if used > limit:  # pathological: huge source name or hashtags; shorten everything
        tags = cut(tags, max(limit // 4, 0))
        meta = cut(meta, max(limit // 8, 0))
        title = cut(title, max(limit // 4, 0))
        used = sum(utf16_len(x) + 2 for x in (meta, tags, link or "")) + utf16_len(title) + 2
    summary = cut(summary, min(SUMMARY_CHARS, limit - used - 2)) if summary else ""

    t_mark = mark_for(title)
    esc = html.escape
    head = f"<b>{esc(title, quote=False)}</b>"
    if link:
        head = f'<b><a href="{esc(link, quote=True)}">{esc(title, quote=False)}</a></b>'
    html_lines = [t_mark + head, ui_mark + esc(meta, quote=False)]
    plain_lines = [t_mark + title] + ([link] if link else []) + [ui_mark + meta]
    if summary:
        s_mark = mark_for(summary)
        html_lines.append(s_mark + esc(summary, quote=False))
        plain_lines.append(s_mark + summary)
    if others:
        shown = [
            f'<a href="{esc(url, quote=True)}">{esc(name, quote=False)}</a>'
            if url
            else esc(name, quote=False)
            for name, url in others
        ]
        html_lines.append(ui_mark + esc(also_label, quote=False) + " " + comma.join(shown))
        plain_lines.append(ui_mark + also_plain)
        plain_lines.extend(url for _, url in others if url)
    if tags:
        html_lines.append(ui_mark + esc(tags, quote=False))
        plain_lines.append(ui_mark + tags)
    return AlertText(html="\n".join(html_lines), plain="\n".join(plain_lines))


def render_latest(
    header: str,
    items: Sequence[tuple[Story, str]],
    *,
    lang: str,
    tz: tzinfo,
    title_chars: int = 200,
) -> str:
    """`/latest`: a header line, then one numbered line per (story, source name), in HTML."""
    ui_mark = RLM if lang == "ar" else LRM
    esc = html.escape
    lines = [ui_mark + esc(header, quote=False)]
    for number, (story, source) in enumerate(items, start=1):
        title = cut(clean(story.title) or t("no_title", lang), title_chars)
        link = safe_link(story.link)
        shown = esc(title, quote=False)
        if link:
            shown = f'<a href="{esc(link, quote=True)}">{shown}</a>'
        meta = esc(
            cut(clean(source), 64) + SEPARATOR + local_time(story.published, tz), quote=False
        )
        lines.append(f"{mark_for(title)}{number}. {shown}\n{ui_mark}{meta}")
    return "\n".join(lines)


def render_digest(
    header: str,
    sections: Sequence[DigestSection],
    labels: Mapping[str, LabelInfo],
    *,
    lang: str,
    limit: int = MAX_TEXT,
) -> tuple[AlertText, ...]:
    """A digest (issue 13): under `header` (with `i/n` when it takes several messages), each
    label's stories one a line — the linked title and its source — in as few messages as fit
    `limit`, in order, none left out. A message that starts inside a label's list names the
    label again. The plain shape (the links written out), the longer one, decides the fit."""
    ui_mark = RLM if lang == "ar" else LRM
    esc = html.escape
    entries: list[tuple[str, AlertText]] = []  # (section heading, one story's line)
    for section in sections:
        name = cut(clean(group_name(section.label, labels, lang)), 64)
        for view in section.views:
            title = cut(clean(view.story.title) or t("no_title", lang), DIGEST_TITLE_CHARS)
            sources = cut(clean(digest_sources(view, lang)), 160)
            source = esc(sources, quote=False)
            link = safe_link(view.story.link)
            shown = esc(title, quote=False)
            if link:
                shown = f'<a href="{esc(link, quote=True)}">{shown}</a>'
            mark = mark_for(title)
            entries.append(
                (
                    name,
                    AlertText(
                        html=f"{mark}• {shown}{SEPARATOR}{source}",
                        plain=f"{mark}• {title}{SEPARATOR}{sources}"
                        + (f"\n{link}" if link else ""),
                    ),
                )
            )

    def heading(name: str) -> str:
        return "\n\n" + ui_mark + name

    room = limit - utf16_len(ui_mark + header + " · 99/99")
    parts: list[list[tuple[str, AlertText]]] = []
    used = 0
    for name, entry in entries:
        cost = utf16_len("\n" + entry.plain)
        opens = not parts or not parts[-1] or parts[-1][-1][0] != name
        if parts and used + cost + (utf16_len(heading(name)) if opens else 0) <= room:
            used += cost + (utf16_len(heading(name)) if opens else 0)
            parts[-1].append((name, entry))
        else:
            parts.append([(name, entry)])
            used = cost + utf16_len(heading(name))
    out = []
    for number, part in enumerate(parts, start=1):
        title = part_title(header, number, len(parts))
        html_lines = [f"{ui_mark}<b>{esc(title, quote=False)}</b>"]
        plain_lines = [ui_mark + title]
        previous = None
        for name, entry in part:
            if name != previous:
                html_lines.append(f"\n{ui_mark}<b>{esc(name, quote=False)}</b>")
                plain_lines.append("\n" + ui_mark + name)
                previous = name
            html_lines.append(entry.html)
            plain_lines.append(entry.plain)
        out.append(AlertText(html="\n".join(html_lines), plain="\n".join(plain_lines)))
    return tuple(out)
