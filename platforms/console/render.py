"""The terminal's text: one alert as a block of lines, one story of `bot.py latest` as a line.
Pure: no clock, no I/O; whether to colour is decided at the edge (`Style.for_stream`).

What a reader sees with `language: en` (stdout piped, so no colours; ⁧ and ⁩ stand for the
invisible RLI and PDI around each Arabic piece)::

    ════════════════════════════════════════════════════════════════════════
    ALERT   ⁧ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي & الرقائق⁩
    source  hespress_ar
    time    2026-02-15 09:30 Africa/Casablanca
    link    https://www.hespress.com/trump-ai-order-1700001.html
    summary ⁧وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا.⁩
    labels  Donald Trump: «⁧ترمب⁩» (title), «⁧ترامب⁩» (summary)

Rules:
- the line names (ALERT, source...), label names and where a word matched are in the config's
  `language` (core.texts); an Arabic block's lines start with RLM, so a terminal that applies
  the Unicode bidi algorithm lays them out right to left;
- feed text is cleaned of control and bidi-override characters (a title's RLO must not reverse
  our lines), then a piece of feed text, name, time or link whose direction differs from the
  block's sits in its own isolate (RLI…PDI, LRI…PDI): an Arabic title reads right to left
  inside an English line, a Latin link or a time keeps its place inside an Arabic one;
- colours (ANSI SGR) only when asked: stdout a terminal and NO_COLOR unset; piped output is
  plain text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from alerts.payloads import DigestSection
from alerts.render import (
    RLM,
    AlertView,
    clean,
    digest_sources,
    group_name,
    is_rtl,
    label_name,
    local_time,
    shorten,
)
from core.texts import t
from models import LabelInfo, Match, Story

RULE = "═" * 72
LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"
SUMMARY_CHARS = 280
TITLE_FROM_SUMMARY = 80  # a story without a title shows this much of its summary instead
MAX_WORDS = 4  # matched words shown per label
_LINES = ("alert", "update", "source", "time", "link", "summary", "also", "labels")

# ANSI SGR parameters
BOLD, DIM, UNDERLINE = "1", "2", "4"
GREEN, YELLOW, BLUE, MAGENTA, CYAN = "32", "33", "34", "35", "36"


@dataclass(frozen=True)
class Style:
    """Colours on or off: ANSI escapes for a terminal, none for a pipe or a file."""

    colour: bool = False

    @classmethod
    def for_stream(cls, stream: object, env: Mapping[str, str]) -> Style:
        """Colour when `stream` is a terminal and NO_COLOR is unset or empty (no-color.org)."""
        if env.get("NO_COLOR"):
            return cls(False)
        isatty = getattr(stream, "isatty", None)
        try:
            return cls(bool(callable(isatty) and isatty()))
        except ValueError:  # a closed stream
            return cls(False)

    def paint(self, text: str, *codes: str) -> str:
        if not self.colour or not text or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


PLAIN = Style(False)


def isolate(text: str, lang: str) -> str:
    """Text made safe, and kept in its own direction where it differs from the block's
    (`lang`): RLI…PDI around right-to-left text in an English or French block, LRI…PDI
    around left-to-right text in an Arabic one; "" when nothing is left."""
    text = clean(text)
    if not text or is_rtl(text) == (lang == "ar"):
        return text
    return (RLI if is_rtl(text) else LRI) + text + PDI


def _comma(lang: str) -> str:
    return "، " if lang == "ar" else ", "


def _mark(lang: str) -> str:
    return RLM if lang == "ar" else ""


def _title(story: Story, lang: str) -> str:
    return (
        isolate(story.title, lang)
        or isolate(shorten(clean(story.summary), TITLE_FROM_SUMMARY), lang)
        or t("no_title", lang)
    )


@dataclass(frozen=True)
class _Block:
    """Lines of one block: `name value`, the names in `lang` padded to one column."""

    lang: str
    style: Style

    def name(self, key: str) -> str:
        return t(f"console_{key}", self.lang)

    @property
    def width(self) -> int:
        return max(len(self.name(key)) for key in _LINES) + 1

    def line(self, key: str, value: str, *codes: str) -> str:
        name = self.name(key).ljust(self.width)
        return _mark(self.lang) + self.style.paint(name, *(codes or (DIM,))) + value

    def more(self, value: str) -> str:
        """A further value under the last one."""
        return _mark(self.lang) + " " * self.width + value


def _link(url: str, lang: str, style: Style) -> str:
    url = clean(url)
    return style.paint(isolate(url, lang), UNDERLINE, BLUE) if url else ""


def _evidence(match: Match, labels: Mapping[str, LabelInfo], lang: str, style: Style) -> list[str]:
    """One entry per label: its name and the distinct words that matched it, with the field."""
    out = []
    for label in match.labels:
        seen: list[str] = []
        for e in match.evidence_for(label):
            where = t(f"console_in_{e.field}", lang) if e.field in ("title", "summary") else e.field
            item = f"«{isolate(e.text, lang)}» ({where})"
            if item not in seen:
                seen.append(item)
        name = style.paint(isolate(label_name(label, labels, lang), lang), BOLD, CYAN)
        out.append(f"{name}: {_comma(lang).join(seen[:MAX_WORDS]) or '-'}")
    return out


def render_console(
    view: AlertView,
    labels: Mapping[str, LabelInfo],
    tz: tzinfo,
    *,
    lang: str = "en",
    style: Style = PLAIN,
) -> str:
    """The terminal block for one alert: title, source, time, link, summary, the other
    outlets that reported the event, labels and the words that matched; headed alert, or
    update when it replaces a block printed before (a terminal cannot edit), and marked when
    the feed corrected the story."""
    story, match, update = view.story, view.match, view.edit
    block = _Block(lang, style)
    zone = getattr(tz, "key", None) or str(tz)
    heading = "update" if update else "alert"
    lines = [
        style.paint(RULE, DIM),
        block.line(
            heading, style.paint(_title(story, lang), BOLD), BOLD, YELLOW if update else GREEN
        ),
        block.line(
            "source", " ".join(filter(None, (isolate(view.source, lang), view.updated_label)))
        ),
        block.line("time", isolate(f"{local_time(story.published, tz)} {zone}", lang)),
        block.line("link", _link(story.link, lang, style) or "-"),
    ]
    if clean(story.title) and clean(story.summary):
        lines.append(
            block.line("summary", isolate(shorten(clean(story.summary), SUMMARY_CHARS), lang))
        )
    for name, url in view.also:
        lines.append(
            block.line(
                "also", " ".join(filter(None, (isolate(name, lang), _link(url, lang, style))))
            )
        )
    why = _evidence(match, labels, lang, style)
    lines.append(block.line("labels", why[0] if why else "-"))
    lines.extend(block.more(line) for line in why[1:])
    return "\n".join(lines) + "\n"


def render_digest(
    header: str,
    sections: Sequence[DigestSection],
    labels: Mapping[str, LabelInfo],
    *,
    lang: str = "en",
    style: Style = PLAIN,
) -> str:
    """A digest (issue 13) in the terminal: its heading, then each label's name and its
    stories one a line (title, source, link)."""
    lines = [style.paint(RULE, DIM), _mark(lang) + style.paint(header, BOLD, MAGENTA)]
    for section in sections:
        name = group_name(section.label, labels, lang)
        lines.append(_mark(lang) + style.paint(isolate(name, lang), BOLD, YELLOW))
        for view in section.views:
            parts = [
                "•",
                style.paint(_title(view.story, lang), BOLD),
                style.paint(isolate(digest_sources(view, lang), lang), CYAN),
                _link(view.story.link, lang, style),
            ]
            lines.append(_mark(lang) + "  ".join(p for p in parts if p))
    return "\n".join(lines) + "\n"


def render_latest_line(
    story: Story,
    match: Match,
    labels: Mapping[str, LabelInfo],
    tz: tzinfo,
    source: str,
    *,
    lang: str = "en",
    style: Style = PLAIN,
) -> str:
    """`bot.py latest`: one story per line: local time, source, title, [labels], link."""
    names = _comma(lang).join(label_name(label, labels, lang) for label in match.labels)
    parts = [
        style.paint(isolate(local_time(story.published, tz), lang), DIM),
        style.paint(isolate(source, lang), CYAN),
        style.paint(_title(story, lang), BOLD),
        "[" + style.paint(isolate(names, lang), YELLOW) + "]",
        _link(story.link, lang, style),
    ]
    return _mark(lang) + "  ".join(p for p in parts if p) + "\n"
