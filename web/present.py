"""Small pure helpers that turn stored values into what a page shows."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import urlsplit


def direction(text: str | None) -> str:
    """ "rtl" or "ltr" from the first letter with a strong direction (Unicode bidi rule P2),
    so an Arabic title reads right to left even inside an English page."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def safe_url(url: str | None) -> str:
    """`url` if it is http(s), else "" (a feed could hand us javascript: or data: links)."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


@dataclass(frozen=True)
class When:
    iso: str  # for <time datetime=...>
    local: str  # "30 Nov 23:41" in the configured zone
    relative: str  # "3 min ago", "in 2 min", "never"


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{int(seconds // 86400)} d"


def when(moment: datetime | None, now: datetime, zone: tzinfo, *, due: bool = False) -> When:
    """`due`: a next-poll time, which in the past means "due now" rather than "ago"."""
    if moment is None:
        return When("", "—", "never")
    delta = (moment - now).total_seconds()
    if abs(delta) < 1 or (due and delta < 0):
        relative = "due now" if due else "now"
    elif delta < 0:
        relative = f"{_span(delta)} ago"
    else:
        relative = f"in {_span(delta)}"
    local = moment.astimezone(zone)
    # formatted by hand: strftime was a third of the feeds page's rendering (1,000 feeds)
    shown = f"{local.day:02d} {_MONTHS[local.month]} {local.hour:02d}:{local.minute:02d}"
    return When(moment.isoformat(), shown, relative)


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
