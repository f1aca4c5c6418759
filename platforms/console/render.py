"""The terminal block for one alert. Pure: no clock, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from alerts.render import AlertView, evidence_lines, local_time, shorten
from models import LabelInfo


def render_console(view: AlertView, labels: Mapping[str, LabelInfo], tz: tzinfo) -> str:
    """The terminal block for one alert: title, source, time, link, labels and why; headed
    ALERT, or UPDATE when it replaces one printed before. Also the other outlets that
    reported the event, and whether the feed corrected it."""
    story, match = view.story, view.match
    heading = "UPDATE" if view.edit else "ALERT"
    zone = getattr(tz, "key", None) or str(tz)
    lines = [
        "=" * 72,
        f"{heading:<7} {story.title or '(no title)'}",
        f"source  {view.source} {view.updated_label}".rstrip(),
        f"time    {local_time(story.published, tz)} {zone}",
        f"link    {story.link or '-'}",
    ]
    if story.summary:
        lines.append(f"summary {shorten(story.summary, 280)}")
    for name, link in view.also:
        lines.append(f"also    {name} {link}".rstrip())
    why = evidence_lines(match, labels)
    lines.append(f"labels  {why[0]}" if why else "labels  -")
    lines.extend(f"        {line}" for line in why[1:])
    return "\n".join(lines) + "\n"


def render_digest_header(count: int) -> str:
    return "=" * 72 + f"\nDIGEST  {count} stories\n"
