"""store/reports.py: per-day trend counts kept up to date incrementally, without double counts
or missed late commits, on the local day of publication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models import Evidence, Match, Story
from store import FeedUpdate, Store
from store.reports import Reports, TrendCounts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CASABLANCA = ZoneInfo("Africa/Casablanca")  # UTC+1 in November


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[tuple[Store, Reports]]:
    url = database_url
    store = await Store.open(url)
    await store.sync_feeds([("f", "https://f.example/feed", "ar", 120)], NOW)
    reports = Reports.open(url)
    yield store, reports
    await reports.close()
    await store.close()


async def add(
    store: Store, sid: str, published: datetime, labels: tuple[str, ...], at: datetime
) -> None:
    story = Story(sid, "f", f"title {sid}", "", f"https://f.example/{sid}", published, None, "ar")
    match = Match(labels, tuple(Evidence(label, label, label, "title") for label in labels))
    await store.ingest("f", [story], {sid: match}, FeedUpdate(next_poll_at=at), at, alert=False)


async def test_counts_per_local_day_and_new_matches_are_picked_up(
    db: tuple[Store, Reports],
) -> None:
    store, reports = db
    trends = TrendCounts(reports, CASABLANCA)
    # 23:30 UTC on the 29th is 00:30 on the 30th in Casablanca
    await add(store, "a", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), ("trump", "ai"), NOW)
    await add(store, "b", datetime(2026, 11, 29, 10, 0, tzinfo=UTC), ("trump",), NOW)
    await add(store, "c", NOW - timedelta(days=40), ("trump",), NOW)  # outside 30 days
    days, counts = await trends.daily(["trump", "ai", "musk"], 3, NOW)
    assert days == (date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30))
    assert counts == {"trump": (0, 1, 1), "ai": (0, 0, 1), "musk": (0, 0, 0)}

    later = NOW + timedelta(minutes=5)
    await add(store, "d", later, ("musk",), later)
    _, again = await trends.daily(["trump", "ai", "musk"], 3, later)
    assert again == {"trump": (0, 1, 1), "ai": (0, 0, 1), "musk": (0, 0, 1)}  # nothing twice
    _, wide = await trends.daily(["trump"], 45, later)
    assert sum(wide["trump"]) == 3 and wide["trump"][-41] == 1


async def test_a_match_stamped_earlier_but_committed_later_is_still_counted(
    db: tuple[Store, Reports],
) -> None:
    store, reports = db
    trends = TrendCounts(reports, CASABLANCA)
    await add(store, "late-stamp-second", NOW, ("trump",), NOW)
    _, first = await trends.daily(["trump"], 1, NOW)
    assert first == {"trump": (1,)}
    # a poll that stamped its matches two minutes earlier, then waited for the write lock
    stamped = NOW - timedelta(minutes=2)
    await add(store, "early-stamp-first", stamped, ("trump",), stamped)
    _, second = await trends.daily(["trump"], 1, NOW)
    assert second == {"trump": (2,)}


async def test_days_out_of_range_are_refused(db: tuple[Store, Reports]) -> None:
    trends = TrendCounts(db[1], UTC)
    with pytest.raises(ValueError, match="days must be 1 to 90, not 0"):
        await trends.daily(["trump"], 0, NOW)
