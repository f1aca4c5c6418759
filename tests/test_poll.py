"""The poller: per-feed isolation, backoff and reset, adaptive timing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from config import load_settings
from feeds.fetch import Fetcher, FetchSettings
from feeds.poll import Poller
from feeds.schedule import PollTiming, next_poll_at
from filters.watchlist import Matcher
from store import Store
from tests.conftest import ROOT, SHARED, FakeClock
from tests.feedserver import FeedServer

FEED = SHARED / "data" / "feeds" / "hespress-ar-2026-02-11.xml"


def matcher() -> Matcher:
    return Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)


async def test_failing_feed_backs_off_others_go_on_and_success_resets(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    feed_server.set("/ok.xml", FEED)
    feed_server.set("/bad.xml", b"oops", status=500)
    await store.sync_feeds(
        [
            ("ok", feed_server.url("/ok.xml"), "ar", 60),
            ("bad", feed_server.url("/bad.xml"), "ar", 60),
        ],
        clock.now,
    )
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher(), clock, rng=random.Random(1))
        outcomes = {o.feed_id: o for o in await poller.poll_due()}
        assert (
            outcomes["ok"].status == "ok" and outcomes["ok"].new == 10 and outcomes["ok"].first_poll
        )
        assert outcomes["bad"].status == "error" and outcomes["bad"].error == "HTTP 500"
        feeds = {f.id: f for f in await store.feeds()}
        assert feeds["bad"].error_count == 1 and feeds["bad"].last_error == "HTTP 500"
        assert (
            timedelta(seconds=60) <= feeds["ok"].next_poll_at - clock.now <= timedelta(seconds=66)
        )

        clock.advance(67)
        assert len(await poller.poll_due()) == 2
        feeds = {f.id: f for f in await store.feeds()}
        assert feeds["bad"].error_count == 2
        assert feeds["bad"].next_poll_at - clock.now >= timedelta(seconds=120)  # 60 x 2^1
        clock.advance(67)
        (again,) = await poller.poll_due()  # the failing feed waits longer than the healthy one
        assert (again.feed_id == "ok" and again.status == "not_modified") or again.new == 0

        feed_server.set("/bad.xml", FEED)
        clock.advance(600)
        await poller.poll_due()
        feeds = {f.id: f for f in await store.feeds()}
        assert (feeds["bad"].error_count, feeds["bad"].last_error) == (0, None)


def test_schedule_backoff_quiet_and_hints() -> None:
    now = datetime(2026, 2, 11, tzinfo=UTC)
    rng = random.Random(0)

    def delay(**kw: object) -> float:
        timing = PollTiming(**{"interval": 120, "error_count": 0, "last_new_at": now, **kw})  # type: ignore[arg-type]
        return (next_poll_at(timing, now, rng) - now).total_seconds()

    assert 120 <= delay() <= 132
    assert 480 <= delay(error_count=3) <= 528
    assert 6 * 3600 <= delay(error_count=30) <= 6.6 * 3600  # capped
    assert 360 <= delay(last_new_at=now - timedelta(days=1)) <= 396  # quiet feed: 3x
    assert 900 <= delay(hint=900) <= 990  # server hint is a lower bound
    assert 6 * 3600 <= delay(hint=10**9) <= 6.6 * 3600  # but capped
