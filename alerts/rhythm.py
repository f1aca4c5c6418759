"""When a chat hears its alerts: digest modes and quiet hours, as pure functions of a clock.

A chat either hears each alert at once (`instant`) or collects them into one digest sent
`hourly`, `daily HH:MM` or `weekly <day> HH:MM` in the chat's time zone. Quiet hours
(`HH:MM-HH:MM`, possibly across midnight) hold alerts that fall inside the window and release
them as one digest when it ends.

Everything here takes the time and the zone as arguments and returns aware UTC datetimes; the
outbox stores those as the time a held alert becomes due. Wall-clock times that do not exist
(the hour skipped when clocks go forward) resolve as zoneinfo does, to the same wall time with
the offset before the change, i.e. one hour later in UTC; a repeated wall time (clocks go back)
takes its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "WEEKDAYS",
    "QuietHours",
    "Rhythm",
    "RhythmError",
    "Timing",
    "hold_until",
    "next_digest",
    "parse_quiet",
    "parse_rhythm",
    "quiet_release",
    "read_timing",
]

RhythmKind = Literal["instant", "hourly", "daily", "weekly"]

# Day names a user may type, in the bot's three interface languages, to Monday = 0.
WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mon", "monday", "lundi", "الاثنين", "الإثنين", "اثنين"),
        ("tue", "tuesday", "mardi", "الثلاثاء", "ثلاثاء"),
        ("wed", "wednesday", "mercredi", "الأربعاء", "الاربعاء", "أربعاء"),
        ("thu", "thursday", "jeudi", "الخميس", "خميس"),
        ("fri", "friday", "vendredi", "الجمعة", "جمعة"),
        ("sat", "saturday", "samedi", "السبت", "سبت"),
        ("sun", "sunday", "dimanche", "الأحد", "الاحد", "أحد"),
    )
):
    for _name in _names:
        WEEKDAYS[_name] = _index

_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:h.]([0-5]\d)$")


class RhythmError(ValueError):
    """A digest mode or quiet window the user typed that cannot be read; the message says
    what to type instead."""


@dataclass(frozen=True)
class Rhythm:
    """How a chat hears its alerts."""

    kind: RhythmKind
    at: time | None = None  # daily and weekly: local wall time
    weekday: int | None = None  # weekly: Monday = 0

    def describe(self) -> str:
        """The canonical form a user can type back (`daily 07:30`, `weekly mon 08:00`)."""
        match self.kind:
            case "instant":
                return "off"
            case "hourly":
                return "hourly"
            case "daily":
                assert self.at is not None
                return f"daily {self.at:%H:%M}"
            case "weekly":
                assert self.at is not None and self.weekday is not None
                day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[self.weekday]
                return f"weekly {day} {self.at:%H:%M}"


INSTANT = Rhythm("instant")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local wall time during which alerts wait. `start == end` is refused
    at parse time (it would mean either nothing or the whole day)."""

    start: time
    end: time

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _clock(text: str) -> time:
    found = _CLOCK.match(text.strip())
    if not found:
        raise RhythmError(f"«{text}» is not a time: write it as HH:MM, e.g. 07:30")
    return time(int(found.group(1)), int(found.group(2)))


def parse_rhythm(text: str) -> Rhythm:
    """`off` | `instant` | `hourly` | `daily HH:MM` | `weekly <day> HH:MM`."""
    words = text.casefold().split()
    usage = "write off, hourly, daily HH:MM or weekly <day> HH:MM"
    if not words:
        raise RhythmError(f"no digest mode given: {usage}")
    match words:
        case ["off" | "instant" | "none"]:
            return INSTANT
        case ["hourly"]:
            return Rhythm("hourly")
        case ["daily", at]:
            return Rhythm("daily", _clock(at))
        case ["weekly", day, at]:
            if day not in WEEKDAYS:
                raise RhythmError(f"«{day}» is not a day of the week: write e.g. mon, friday")
            return Rhythm("weekly", _clock(at), WEEKDAYS[day])
        case _:
            raise RhythmError(f"«{text.strip()}» is not a digest mode: {usage}")


def parse_quiet(text: str) -> QuietHours | None:
    """`HH:MM-HH:MM` or `off` (None)."""
    cleaned = text.strip().casefold()
    if cleaned in ("off", "none"):
        return None
    start, dash, end = cleaned.replace("–", "-").partition("-")
    if not dash:
        raise RhythmError(f"«{text.strip()}» is not a window: write HH:MM-HH:MM, e.g. 23:00-07:00")
    window = QuietHours(_clock(start), _clock(end))
    if window.start == window.end:
        raise RhythmError("quiet hours must start and end at different times, e.g. 23:00-07:00")
    return window


def _at(day: datetime, wall: time, zone: ZoneInfo) -> datetime:
    """`wall` on the local date of `day`, as UTC."""
    local = datetime.combine(day.date(), wall, tzinfo=zone)
    return local.astimezone(UTC)


def next_digest(rhythm: Rhythm, zone: ZoneInfo, after: datetime) -> datetime:
    """The first digest time strictly after `after` (aware). `instant` has none: ValueError."""
    local = after.astimezone(zone)
    match rhythm.kind:
        case "instant":
            raise ValueError("an instant chat has no digest time")
        case "hourly":
            top = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            return top.astimezone(UTC)
        case "daily":
            assert rhythm.at is not None
            for days in range(3):
                candidate = _at(local + timedelta(days=days), rhythm.at, zone)
                if candidate > after:
                    return candidate
        case "weekly":
            assert rhythm.at is not None and rhythm.weekday is not None
            for days in range(9):
                day = local + timedelta(days=days)
                if day.weekday() != rhythm.weekday:
                    continue
                candidate = _at(day, rhythm.at, zone)
                if candidate > after:
                    return candidate
    raise AssertionError(f"no digest time found for {rhythm}")  # pragma: no cover


def quiet_release(window: QuietHours, zone: ZoneInfo, at: datetime) -> datetime | None:
    """When an alert due at `at` may go out: the end of the quiet window that holds `at`
    (UTC), or None when `at` is outside every window."""
    local = at.astimezone(zone)
    now = local.time()
    if window.start < window.end:  # within one day, e.g. 13:00-15:00
        inside = window.start <= now < window.end
        end_day = local
    else:  # across midnight, e.g. 23:00-07:00
        inside = now >= window.start or now < window.end
        end_day = local + timedelta(days=1) if now >= window.start else local
    if not inside:
        return None
    return _at(end_day, window.end, zone)


@dataclass(frozen=True)
class Timing:
    """A chat's rhythm, zone and quiet hours, read: what `hold_until` decides with."""

    zone: ZoneInfo
    rhythm: Rhythm = INSTANT
    quiet: QuietHours | None = None


def read_timing(
    digest: str | None, tz: str | None, quiet: str | None, default_zone: ZoneInfo
) -> Timing:
    """A chat's stored settings (canonical forms, checked when the chat set them) as a Timing.
    A value this release cannot read any more counts as not set: the chat then hears its
    alerts at once rather than never."""
    try:
        zone = ZoneInfo(tz) if tz else default_zone
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        zone = default_zone
    try:
        rhythm = parse_rhythm(digest) if digest else INSTANT
    except RhythmError:
        rhythm = INSTANT
    try:
        window = parse_quiet(quiet) if quiet else None
    except RhythmError:
        window = None
    return Timing(zone, rhythm, window)


def hold_until(timing: Timing, now: datetime) -> datetime | None:
    """When an alert that is due `now` goes out: None at once, on its own; else the time of
    the digest it joins — the chat's next digest time, or the end of its quiet hours when
    that time (or now, for a chat without digests) falls inside them. The one decision of
    when a chat hears something (the outbox worker and the re-planning on a change ask it)."""
    at = None if timing.rhythm.kind == "instant" else next_digest(timing.rhythm, timing.zone, now)
    if timing.quiet is not None:
        release = quiet_release(timing.quiet, timing.zone, at or now)
        if release is not None:
            at = release
    return at
