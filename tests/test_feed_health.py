"""Feed health in words (issue 18 point 3): one line per feed state change, a start-up
summary, /healthz degraded when every feed has been failing too long, 304 polls at DEBUG."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import socket
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from config import load_settings
from feeds.fetch import Fetcher, FetchSettings
from feeds.health import FeedHealth
from feeds.poll import Poller, PollOutcome
from filters.watchlist import Matcher
from runtime.app import AppOptions, Parts, run_forever
from store import Store
from tests.feedserver import FeedServer
from tests.helpers import ROOT, FakeClock, write_config

FEED = Path(__file__).parent / "data" / "feeds" / "hespress-ar-2026-02-11.xml"


def failed(feed_id: str, clock: FakeClock, retry_in: float = 120) -> PollOutcome:
    return PollOutcome(
        feed_id,
        "error",
        error="connection failed",
        next_poll_at=clock.now + timedelta(seconds=retry_in),
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_up_summary_is_logged_once_when_every_feed_has_an_outcome(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    health = FeedHealth([f"f{i}" for i in range(11)], timedelta(minutes=2), clock)
    caplog.set_level(logging.INFO, logger="mirsad.poll")
    for i in range(10):
        health.observe(failed(f"f{i}", clock))
    assert "feeds_checked" not in caplog.text  # f10 has not been polled yet
    health.observe(failed("f10", clock, retry_in=150))
    assert [r.getMessage() for r in caplog.records] == [
        "feeds_checked 11 feeds: 0 reachable, 11 failing, retrying in 2 min"
    ]
    assert caplog.records[0].levelno == logging.WARNING
    health.observe(failed("f3", clock))
    assert len(caplog.records) == 1  # once, not at every retry


def test_summary_when_all_is_well(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    health = FeedHealth(["a", "b", "c"], timedelta(minutes=2), clock)
    caplog.set_level(logging.INFO, logger="mirsad.poll")
    for feed_id in "abc":
        health.observe(PollOutcome(feed_id, "ok", new=3))
    assert caplog.records[0].getMessage() == "feeds_checked 3 feeds: 3 reachable"
    assert caplog.records[0].levelno == logging.INFO


def test_degraded_only_when_every_feed_has_failed_longer_than_three_intervals(
    clock: FakeClock,
) -> None:
    health = FeedHealth(["a", "b"], timedelta(minutes=2), clock)
    health.observe(failed("a", clock))
    clock.advance(600)
    assert health.problem() is None  # b has not failed: not every feed is down
    health.observe(failed("b", clock))
    clock.advance(6 * 60)
    assert health.problem() is None  # exactly 3 intervals for b: not longer
    clock.advance(1)
    assert health.problem() == (
        "degraded: all 2 feeds failing for 6 min (more than 3 poll intervals)"
    )
    health.observe(PollOutcome("a", "not_modified"))
    assert health.problem() is None  # one reachable feed: the network is up


async def test_state_changes_are_logged_once_and_routine_polls_at_debug(
    store: Store, clock: FakeClock, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.set("/feed.xml", b"", status=503)
    await store.sync_feeds([("f", feed_server.url("/feed.xml"), "ar", 60)], clock.now)
    matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
    caplog.set_level(logging.INFO, logger="mirsad.poll")
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher, clock, rng=random.Random(1))

        async def poll() -> None:
            clock.advance(3600)
            await poller.poll(await store.feeds())

        for _ in range(3):
            await poll()
        feed_server.set("/feed.xml", b"", status=404)
        await poll()
        feed_server.set("/feed.xml", FEED, etag='"v1"')
        await poll()
        await poll()  # 304
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4, lines
    assert lines[0].startswith("feed_failing id=f error='HTTP 503' retry_in=")
    assert lines[1].startswith("feed_failing id=f error='HTTP 404' retry_in=")
    assert lines[1].endswith(" was='HTTP 503'")  # a new reason is a new state
    assert lines[2] == ("feed_recovered id=f status=ok after=4 failures last_error='HTTP 404'")
    assert lines[3].startswith("feed_polled id=f status=ok new=10")
    assert not any("not_modified" in line for line in lines)  # the 304 is at DEBUG


async def test_healthz_is_degraded_with_the_count_when_every_feed_keeps_failing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    port = closed_port()
    config = write_config(
        tmp_path,
        f"""
        database: {database_url}
        poll_interval: 60
        feeds:
          - {{id: one, url: "http://127.0.0.1:{port}/a.xml"}}
          - {{id: two, url: "http://127.0.0.1:{port}/b.xml"}}
        http: {{allow_private_addresses: true, total_timeout: 5}}
        health: {{port: 0}}
        """,
    )
    settings = load_settings(config, env={})
    clock = FakeClock()
    ready: list[Parts] = []
    stop = asyncio.Event()
    caplog.set_level(logging.INFO)
    options = AppOptions(clock=clock, on_ready=ready.append)
    task = asyncio.create_task(run_forever(settings, options, stop))
    try:
        for _ in range(500):
            if "feeds_checked" in caplog.text:
                break
            await asyncio.sleep(0.02)
        # the retry time is the earliest next poll: one interval plus up to 10% jitter
        assert re.search(
            r"feeds_checked 2 feeds: 0 reachable, 2 failing, retrying in 6\d s", caplog.text
        )
        url = f"http://127.0.0.1:{ready[0].health_port}/healthz"
        assert await asyncio.to_thread(status_of, url) == (200, "ok\n")
        clock.advance(4 * 60)
        ready[0].feed_health.observe(PollOutcome("one", "error", error="x"))  # no poll came in
        status, text = await asyncio.to_thread(status_of, url)
        assert status == 503
        assert "degraded: all 2 feeds failing for 4 min (more than 3 poll intervals)" in text
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def status_of(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
