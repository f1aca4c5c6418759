"""A feed paused from the dashboard stays paused (issue 15): a poll already in flight when
the operator pauses writes the feed's next poll time when it finishes, and must not resume
the feed by doing so. Run on SQLite and PostgreSQL like the store tests; the poll's fetch is
held by the test, and time is a FakeClock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from config import load_settings
from feeds.errors import FetchError
from feeds.fetch import FetchResult
from feeds.poll import Poller
from filters.watchlist import Matcher
from store import Store
from store.reports import Reports
from tests.helpers import FEEDS, ROOT, FakeClock

FIRST = (FEEDS / "hespress-ar-2026-02-11.xml").read_bytes()
LATER = (FEEDS / "aljazeera-ar-2026-01-29.xml").read_bytes()  # other items: new stories
URL = "https://feeds.example/hespress.xml"


class HeldFetch:
    """A Fetcher whose answer waits until the test releases it: 200 with the feed, 304,
    or a failure."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.body = FIRST
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        self.started.set()
        await self.release.wait()
        self.started.clear()
        self.release.clear()
        if self.answer == "error":
            raise FetchError("HTTP 500", status=500)
        fresh = self.answer == "200"
        return FetchResult(
            url=url,
            status=200 if fresh else 304,
            not_modified=not fresh,
            body=self.body if fresh else b"",
            headers={},
            etag='"v1"',
            last_modified=None,
            min_interval=None,
            elapsed_ms=5,
        )


@pytest.fixture
async def reports(database_url: str, store: Store) -> AsyncIterator[Reports]:
    r = Reports.open(database_url)
    yield r
    await r.close()


def poller(store: Store, fetch: HeldFetch, clock: FakeClock) -> Poller:
    matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
    return Poller(store, fetch, matcher, clock, rng=random.Random(1))  # type: ignore[arg-type]


async def polled(store: Store, poll: Poller, fetch: HeldFetch) -> list[str]:
    """Run one poll tick to the end (releasing the held fetch); the feeds it polled."""
    task = asyncio.create_task(poll.poll_due())
    while not task.done() and not fetch.started.is_set():
        await asyncio.sleep(0.01)
    fetch.release.set()
    return [o.feed_id for o in await task]


@pytest.mark.parametrize("answer", ["200", "304", "error"])
async def test_a_poll_in_flight_while_pausing_does_not_resume_the_feed(
    store: Store, reports: Reports, clock: FakeClock, answer: str
) -> None:
    await store.sync_feeds([("hespress_ar", URL, "ar", 60)], clock())
    fetch = HeldFetch("200")
    poll = poller(store, fetch, clock)
    assert await polled(store, poll, fetch) == ["hespress_ar"]  # the first poll: recorded
    clock.advance(120)

    fetch.answer, fetch.body = answer, LATER
    in_flight = asyncio.create_task(poll.poll_due())
    await asyncio.wait_for(fetch.started.wait(), 10)  # the poll holds the feed, fetching
    assert await reports.set_paused("hespress_ar", True, clock())
    fetch.release.set()
    (outcome,) = await in_flight
    assert outcome.status == {"200": "ok", "304": "not_modified", "error": "error"}[answer]

    # the poll wrote its next poll time; the feed stays paused all the same
    (feed,) = await store.feeds()
    assert feed.paused and feed.next_poll_at <= clock() + timedelta(minutes=5)
    clock.advance(timedelta(days=2).total_seconds())
    assert await store.due_feeds(clock()) == []
    assert await store.next_poll_at() is None
    assert await poll.poll_due() == []  # the scheduler's tick skips it
    (report,) = await reports.feeds(clock())
    assert report.paused
    assert not await reports.poll_now("hespress_ar", clock())  # resumed, not polled behind

    # resuming clears the flag and makes the feed due at once
    assert await reports.set_paused("hespress_ar", False, clock())
    (feed,) = await store.feeds()
    assert not feed.paused and feed.next_poll_at == clock()
    fetch.answer = "304"
    assert await polled(store, poll, fetch) == ["hespress_ar"]
