"""The terminal block for one alert. Pure: no clock, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from alerts.render import evidence_lines, local_time, shorten
from models import LabelInfo, Match, Story


def render_console(
    story: Story,
    match: Match,
    labels: Mapping[str, LabelInfo],
    tz: tzinfo,
    source: str,
    *,
    heading: str = "ALERT",
    also: Sequence[tuple[str, str]] = (),
    updated: bool = False,
    lang: str = "en",
) -> str:
    """The terminal block for one alert: title, source, time, link, labels and why.
    `heading`: ALERT for a new one, UPDATE when it replaces one printed before; `also`: the
    other outlets (name, link) that reported the event; `updated`: the feed corrected it."""
    zone = getattr(tz, "key", None) or str(tz)
    lines = [
        "=" * 72,
        f"{heading:<7} {story.title or '(no title)'}",
        f"source  {source}" + (" (updated)" if updated else ""),
        f"time    {local_time(story.published, tz)} {zone}",
        f"link    {story.link or '-'}",
    ]
    if story.summary:
        lines.append(f"summary {shorten(story.summary, 280)}")
    for name, link in also:
        lines.append(f"also    {name} {link}".rstrip())
    why = evidence_lines(match, labels, lang)
    lines.append(f"labels  {why[0]}" if why else "labels  -")
    lines.extend(f"        {line}" for line in why[1:])
    return "\n".join(lines) + "\n"


def render_digest_header(count: int) -> str:
    return "=" * 72 + f"\nDIGEST  {count} stories\n"
