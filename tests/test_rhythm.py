"""Digest modes and quiet hours: parsing what users type and the times that follow."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from alerts.rhythm import (
    QuietHours,
    Rhythm,
    RhythmError,
    next_digest,
    parse_quiet,
    parse_rhythm,
    quiet_release,
)

CASA = ZoneInfo("Africa/Casablanca")
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("off", Rhythm("instant")),
        ("  Hourly ", Rhythm("hourly")),
        ("daily 07:30", Rhythm("daily", time(7, 30))),
        ("daily 7h05", Rhythm("daily", time(7, 5))),
        ("weekly mon 08:00", Rhythm("weekly", time(8), 0)),
        ("weekly Vendredi 18:00", Rhythm("weekly", time(18), 4)),
        ("weekly الجمعة 18:00", Rhythm("weekly", time(18), 4)),
    ],
)
def test_digest_modes_are_read_in_three_languages(typed: str, expected: Rhythm) -> None:
    assert parse_rhythm(typed) == expected
    assert parse_rhythm(expected.describe()) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "no digest mode given"),
        ("daily", "is not a digest mode"),
        ("daily 25:00", "«25:00» is not a time: write it as HH:MM"),
        ("weekly someday 08:00", "«someday» is not a day of the week"),
        ("monthly 1 08:00", "«monthly 1 08:00» is not a digest mode"),
    ],
)
def test_bad_digest_modes_say_what_to_type(typed: str, message: str) -> None:
    with pytest.raises(RhythmError, match=message):
        parse_rhythm(typed)


def test_hourly_digest_is_the_next_top_of_the_hour() -> None:
    after = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    assert next_digest(Rhythm("hourly"), CASA, after) == datetime(2026, 5, 4, 11, 0, tzinfo=UTC)
    half = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    assert next_digest(Rhythm("hourly"), CASA, half) == datetime(2026, 5, 4, 11, 0, tzinfo=UTC)


def test_daily_digest_is_at_local_wall_time_today_or_tomorrow() -> None:
    daily = Rhythm("daily", time(7, 30))
    # Paris is UTC+2 in summer: 07:30 local is 05:30 UTC.
    before = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    assert next_digest(daily, PARIS, before) == datetime(2026, 7, 1, 5, 30, tzinfo=UTC)
    at = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # strictly after: the next day
    assert next_digest(daily, PARIS, at) == datetime(2026, 7, 2, 5, 30, tzinfo=UTC)


def test_daily_digest_follows_the_clock_change() -> None:
    daily = Rhythm("daily", time(7, 0))
    # Paris goes from UTC+1 to UTC+2 on 2026-03-29: 07:00 local moves from 06:00 to 05:00 UTC.
    saturday = datetime(2026, 3, 28, 6, 0, tzinfo=UTC)
    assert next_digest(daily, PARIS, saturday) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    # A wall time skipped by the change still gives one digest that day.
    skipped = Rhythm("daily", time(2, 30))
    sunday = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    due = next_digest(skipped, PARIS, sunday)
    assert due.date() == datetime(2026, 3, 29).date()


def test_weekly_digest_lands_on_its_day() -> None:
    weekly = Rhythm("weekly", time(8, 0), 0)  # Monday 08:00
    wednesday = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    due = next_digest(weekly, CASA, wednesday)
    assert due.astimezone(CASA).weekday() == 0
    assert due.astimezone(CASA).time() == time(8, 0)
    assert (due - wednesday).days == 4


def test_instant_has_no_digest_time() -> None:
    with pytest.raises(ValueError, match="no digest time"):
        next_digest(Rhythm("instant"), CASA, datetime(2026, 1, 1, tzinfo=UTC))


def test_quiet_hours_are_read_and_refused_plainly() -> None:
    assert parse_quiet("23:00-07:00") == QuietHours(time(23), time(7))
    assert parse_quiet("off") is None
    with pytest.raises(RhythmError, match="write HH:MM-HH:MM"):
        parse_quiet("23:00")
    with pytest.raises(RhythmError, match="different times"):
        parse_quiet("07:00-07:00")


def test_quiet_window_across_midnight_releases_at_its_end() -> None:
    window = QuietHours(time(23), time(7))
    # Casablanca is UTC+1 on this date: 23:30 local = 22:30 UTC; the window ends 07:00 local.
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    assert quiet_release(window, CASA, late) == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    early = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 05:00 local, same window
    assert quiet_release(window, CASA, early) == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    day = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert quiet_release(window, CASA, day) is None
    edge = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 07:00 local: the window has ended
    assert quiet_release(window, CASA, edge) is None


def test_quiet_window_within_a_day() -> None:
    window = QuietHours(time(13), time(15))
    inside = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)  # 14:30 local
    assert quiet_release(window, CASA, inside) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert quiet_release(window, CASA, datetime(2026, 12, 2, 15, 0, tzinfo=UTC)) is None
