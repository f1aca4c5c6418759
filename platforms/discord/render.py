"""Story + match -> a Discord embed (as the JSON dict Discord receives). Pure functions only.

Limits (docs.discord.com "Embed Limits", notes/platform-limits.md): title 256, description
4096, field name 256 / value 1024, author name 256, footer 2048, 6000 characters in all
embeds of one message. Lengths are counted in UTF-16 code units, the stricter of the two ways
a JavaScript server may count, so an emoji-heavy title can never push an embed over a limit.

Feed text is untrusted. It is shown, never obeyed:
- mentions are broken with a zero-width space (``@everyone``, ``<@&role>``, ``<@user>``,
  ``<#channel>``) on top of ``allowed_mentions`` none on every message, so a feed title can
  neither ping anyone nor render as a role or channel pill;
- Discord markdown is escaped in the summary and matched words, so ``[bank](https://evil)``
  stays visible text instead of becoming a masked link;
- URLs (story link, image) are used only when they are http(s) and well formed, because
  Discord rejects the whole message for one bad URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from alerts.payloads import DigestSection, pack, part_title
from alerts.render import AlertView, digest_sources, group_name, label_name, shorten
from core.texts import t
from models import FOLLOW_LABEL, LabelInfo, Match, Story

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
AUTHOR_LIMIT = 256
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
URL_LIMIT = 2048  # longer URLs are refused by Discord's URL validation

# An alert is a notification, not the article: a few lines of summary read better in a
# channel than a wall of text, and the link is one click away.
SUMMARY_LIMIT = 700
MAX_WORDS_PER_LABEL = 4

# Distinct, readable on dark and light themes. A label's colour is its position in the
# watchlists, so each configured label gets its own colour and keeps it across restarts.
PALETTE = (
    0xE74C3C,  # red
    0x3498DB,  # blue
    0x2ECC71,  # green
    0xF1C40F,  # yellow
    0x9B59B6,  # purple
    0xE67E22,  # orange
    0x1ABC9C,  # teal
    0xEC407A,  # pink
    0x95A5A6,  # grey
    0x34495E,  # slate
)
DEFAULT_COLOUR = 0x5865F2  # Discord blurple, for a label missing from the config

_ZWSP = "\u200b"
_MENTION_AT = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_MENTION_ANGLE = re.compile(r"<(?=[@#/]|a?:\w|t:)")
_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"^([#>-])")  # headings, quotes and lists only work at a line start

MAX_ALSO = 5  # sources named in an alert's "also reported by" field


def discord_len(text: str) -> int:
    """Length as Discord's limits count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def neutralise_mentions(text: str) -> str:
    """Break every mention syntax with a zero-width space: it reads the same, pings nobody."""
    return _MENTION_ANGLE.sub("<" + _ZWSP, _MENTION_AT.sub("@" + _ZWSP, text))


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown so feed text shows literally (no masked links)."""
    return _LINE_START.sub(r"\\\1", _MARKDOWN.sub(r"\\\1", text))


def clean(text: str, limit: int, *, markdown: bool = True) -> str:
    """Untrusted text made safe and cut to `limit` UTF-16 units at a word boundary."""
    text = neutralise_mentions(" ".join(text.split()))
    if markdown:
        text = escape_markdown(text)
    return fit(text, limit)


def fit(text: str, limit: int) -> str:
    """Shorten (with an ellipsis) until the UTF-16 length is within `limit`."""
    budget = limit
    out = shorten(text, budget)
    while discord_len(out) > limit and budget > 1:
        budget -= max(discord_len(out) - limit, 1)
        out = shorten(text, budget)
    if out.endswith("\\…"):  # never leave a dangling escape before the ellipsis
        out = out[:-2] + "…"
    return out if discord_len(out) <= limit else ""


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` UTF-16 units keeping line breaks (for multi-line message content)."""
    if discord_len(text) <= limit:
        return text
    out = text[: max(limit - 1, 0)]
    while out and discord_len(out) > limit - 1:
        out = out[:-1]
    cut = max(out.rfind("\n"), out.rfind(" "))
    if cut > len(out) * 0.6:
        out = out[:cut]
    return out.rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """The URL if Discord would accept it in an embed (http(s), host, no spaces), else None."""
    if not url or len(url) > URL_LIMIT or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def label_colour(label: str | None, labels: Mapping[str, LabelInfo]) -> int:
    """The colour of a label: its position among the configured labels, in the palette."""
    if label is None or label not in labels:
        return DEFAULT_COLOUR
    return PALETTE[list(labels).index(label) % len(PALETTE)]


def why_lines(match: Match, labels: Mapping[str, LabelInfo], lang: str) -> list[str]:
    """One line per matched label: its name in bold and the words that matched it."""
    lines = []
    for label in match.labels:
        words: list[str] = []
        for evidence in match.evidence_for(label):
            word = " ".join(evidence.text.split())
            if word and word not in words:
                words.append(word)
        shown = ", ".join(f"«{clean(w, 80)}»" for w in words[:MAX_WORDS_PER_LABEL])
        name = clean(label_name(label, labels, lang), 100)
        lines.append(f"**{name}**: {shown}" if shown else f"**{name}**")
    return lines


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 total of one embed."""
    total = discord_len(str(embed.get("title", ""))) + discord_len(
        str(embed.get("description", ""))
    )
    total += discord_len(str(embed.get("author", {}).get("name", "")))
    total += discord_len(str(embed.get("footer", {}).get("text", "")))
    for field in embed.get("fields", []):
        total += discord_len(str(field.get("name", ""))) + discord_len(str(field.get("value", "")))
    return total


def story_embed(
    view: AlertView,
    labels: Mapping[str, LabelInfo],
    lang: str,
    *,
    summary_limit: int = SUMMARY_LIMIT,
) -> dict[str, Any]:
    """The alert embed: linked title, summary, source as author, publication time as
    timestamp, the matched labels and words as a field, the story image as thumbnail and the
    first label's colour. Every limit holds whatever the feed sent.

    Issue 14: the other outlets that reported the event (`view.also`) are a field of masked
    links named `view.also_label`; `view.updated_label` (a story its feed corrected) is the
    footer."""
    story, match, source = view.story, view.match, view.source
    also, also_label, updated_label = view.also, view.also_label, view.updated_label
    title = clean(story.title, TITLE_LIMIT, markdown=False) or clean(
        story.summary, TITLE_LIMIT, markdown=False
    )
    embed: dict[str, Any] = {
        "type": "rich",
        "title": title or t("no_title", lang),
        "color": label_colour(match.labels[0] if match.labels else None, labels),
        "timestamp": story.published.isoformat(),
    }
    link = safe_url(story.link)
    if link:
        embed["url"] = link
    summary = clean(story.summary, min(summary_limit, DESCRIPTION_LIMIT))
    if summary and summary != title:
        embed["description"] = summary
    author = clean(source, AUTHOR_LIMIT, markdown=False)
    if author:
        embed["author"] = {"name": author}
    why = why_lines(match, labels, lang)
    if why:
        value = fit("\n".join(why), FIELD_VALUE_LIMIT) if len(why) == 1 else _join_lines(why)
        embed["fields"] = [{"name": t("why_alert", lang), "value": value, "inline": False}]
    if also:
        shown = []
        for name, url in also[:MAX_ALSO]:
            text = clean(name, 40)
            link = safe_url(url)
            shown.append(f"[{text}]({link})" if link and ")" not in link else text)
        embed.setdefault("fields", []).append(
            {
                "name": clean(also_label, 256, markdown=False),
                "value": _join_lines(shown) if shown else "…",
                "inline": False,
            }
        )
    if updated_label:
        embed["footer"] = {"text": clean(updated_label, 256, markdown=False)}
    image = safe_url(story.image)
    if image:
        embed["thumbnail"] = {"url": image}
    # Cannot trigger with the caps above (256 + 700 + 256 + 1024 + field name); kept so that
    # raising SUMMARY_LIMIT can never produce an embed Discord refuses.
    excess = embed_length(embed) - TOTAL_LIMIT
    if excess > 0 and "description" in embed:
        embed["description"] = fit(embed["description"], discord_len(embed["description"]) - excess)
    return embed


def _join_lines(lines: Sequence[str]) -> str:
    """Whole lines up to the field value limit; the rest is summarised as "…"."""
    out: list[str] = []
    for line in lines:
        candidate = "\n".join([*out, line])
        if discord_len(candidate) > FIELD_VALUE_LIMIT - 2:
            out.append("…")
            break
        out.append(line)
    return "\n".join(out)


def latest_embed(
    items: Sequence[tuple[Story, Match]],
    labels: Mapping[str, LabelInfo],
    lang: str,
    title: str,
    sources: Mapping[str, str],
) -> dict[str, Any]:
    """One embed listing stories newest first: linked title, source, labels and a Discord
    timestamp (`<t:…:f>`), which every reader sees in their own time zone."""
    lines: list[str] = []
    for story, match in items:
        head = clean(story.title or story.summary, 200) or t("no_title", lang)
        link = safe_url(story.link)
        # Brackets are escaped by clean(), so the title cannot break out of the link text;
        # parentheses in the URL are percent-encoded so they cannot end the link early.
        target = link.replace("(", "%28").replace(")", "%29") if link else None
        shown = f"[{head}]({target})" if target else head
        names = ", ".join(clean(label_name(lb, labels, lang), 60) for lb in match.labels)
        source = clean(sources.get(story.feed_id, story.feed_id), 60)
        lines.append(f"• {shown}\n  {source} · <t:{_unix(story.published)}:f> · {names}")
    description = ""
    for line in lines:
        candidate = f"{description}\n{line}" if description else line
        if discord_len(candidate) > DESCRIPTION_LIMIT:
            break
        description = candidate
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(title, TITLE_LIMIT),
        "color": DEFAULT_COLOUR,
    }
    if description:
        embed["description"] = description
    return embed


def _unix(when: datetime) -> int:
    return int(when.timestamp())


MAX_EMBEDS = 10  # Discord: embeds per message
CONTENT_LIMIT = 2000  # Discord: message content


@dataclass(frozen=True)
class DiscordMessage:
    """One Discord message as Mirsad posts it: optional content and embeds (as dicts)."""

    embeds: tuple[dict[str, Any], ...]
    content: str | None = None


def digest_messages(
    header: str,
    sections: Sequence[DigestSection],
    labels: Mapping[str, LabelInfo],
    lang: str,
) -> tuple[DiscordMessage, ...]:
    """A digest (issue 13): one embed per label, titled with its name in its colour, listing
    its stories one a line (the linked title and the source); a list longer than an embed's
    description goes on in another embed of the same label. The embeds go in as few messages
    as Discord takes (at most 10 embeds and 6000 embed characters each), in order, each
    message headed by `header` (with `i/n`). Nothing is left out."""
    embeds: list[dict[str, Any]] = []
    for section in sections:
        name = fit(group_name(section.label, labels, lang), TITLE_LIMIT)
        colour = label_colour(None if section.label == FOLLOW_LABEL else section.label, labels)
        description = ""
        for view in section.views:
            head = clean(view.story.title or view.story.summary, 200) or t("no_title", lang)
            link = safe_url(view.story.link)
            target = link.replace("(", "%28").replace(")", "%29") if link else None
            shown = f"[{head}]({target})" if target else head
            line = f"• {shown} — {clean(digest_sources(view, lang), 160)}"
            candidate = f"{description}\n{line}" if description else line
            if description and discord_len(candidate) > DESCRIPTION_LIMIT:
                embeds.append(
                    {"type": "rich", "title": name, "color": colour, "description": description}
                )
                candidate = line
            description = candidate
        if description:
            embeds.append(
                {"type": "rich", "title": name, "color": colour, "description": description}
            )
    groups = pack(embeds, embed_length, TOTAL_LIMIT, most=MAX_EMBEDS)
    return tuple(
        DiscordMessage(
            tuple(group),
            truncate(neutralise_mentions(part_title(header, number, len(groups))), CONTENT_LIMIT),
        )
        for number, group in enumerate(groups, start=1)
    )
