"""The poller: per-feed isolation, backoff and reset, adaptive timing."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sql

from config import load_settings
from feeds.fetch import Fetcher, FetchSettings
from feeds.poll import Poller
from feeds.schedule import PollTiming, next_poll_at
from filters.watchlist import Matcher
from store import Store
from tests.feedserver import FeedServer
from tests.giant_feeds import many_items
from tests.helpers import FEEDS, ROOT, FakeClock, refuse_once

FEED = FEEDS / "hespress-ar-2026-02-11.xml"


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


def test_a_healthy_feed_keeps_its_phase_and_jitter_only_sets_a_new_one() -> None:
    """Polls every interval after the last *due* time, not after the fetch finished: no drift,
    so a story waits at most one interval (the latency target)."""
    due = datetime(2026, 2, 11, 10, 0, tzinfo=UTC)
    rng = random.Random(0)
    regular = PollTiming(interval=60, error_count=0, last_new_at=due, due_at=due)
    assert next_poll_at(regular, due + timedelta(seconds=3.7), rng) == due + timedelta(seconds=60)
    # overslept (the process was stopped): the next whole interval, same phase
    assert next_poll_at(regular, due + timedelta(seconds=250), rng) == due + timedelta(seconds=300)
    # a first poll (no phase yet) gets a jittered one, so feeds do not all fire together
    firsts = {next_poll_at(PollTiming(60, 0, None), due, rng) - due for _ in range(20)}
    assert len(firsts) > 1 and all(
        timedelta(seconds=60) <= d <= timedelta(seconds=66) for d in firsts
    )
    # a hint longer than the interval is a lower bound, and sets a new phase
    hinted = PollTiming(interval=60, error_count=0, last_new_at=due, due_at=due, hint=300)
    assert next_poll_at(hinted, due, rng) - due >= timedelta(seconds=300)


async def test_dispatch_does_not_wait_for_a_slow_feed(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    feed_server.set("/fast.xml", FEED)
    feed_server.set("/slow.xml", FEED, delay=1.5)
    await store.sync_feeds(
        [
            ("fast", feed_server.url("/fast.xml"), "ar", 60),
            ("slow", feed_server.url("/slow.xml"), "ar", 60),
        ],
        clock.now,
    )
    seen: list[str] = []
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(
            store, fetcher, matcher(), clock, on_outcome=lambda o: seen.append(o.feed_id)
        )
        assert await poller.dispatch_due() == 2
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert seen == ["fast"]  # the fast feed's outcome is in while the slow one still loads
        assert await poller.dispatch_due() == 0  # the slow one is not started twice
        assert await poller.finish_running(grace=5)
        assert seen == ["fast", "slow"]
        assert all(f.initialized for f in await store.feeds())


async def test_finished_polls_claim_no_more_once_the_due_feeds_ran_out(
    store: Store, clock: FakeClock, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that came back short (fewer due feeds than free slots) means none was left:
    the polls finishing after it claim nothing (issue 19: each one ran a claim, more claims
    than polls), and a feed coming due meanwhile is claimed by the next dispatch (the tick)."""
    for name in ("a", "b", "c"):
        feed_server.set(f"/{name}.xml", FEED, delay=0.3 if name != "c" else 0)
    feeds = [(name, feed_server.url(f"/{name}.xml"), "ar", 60) for name in ("a", "b", "c")]
    await store.sync_feeds(feeds[:2], clock.now)
    claims = 0
    claim = store.claim_due_feeds

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal claims
        claims += 1
        return await claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim_due_feeds", counted)
    seen: list[str] = []
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(
            store,
            fetcher,
            matcher(),
            clock,
            max_parallel=4,
            on_outcome=lambda o: seen.append(o.feed_id),
        )
        assert await poller.dispatch_due() == 2  # 2 due, 16 free: the due feeds ran out
        await store.sync_feeds(feeds, clock.now)  # "c" comes due while they are polled
        for _ in range(200):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # a claim started by the last one to finish would be done
        assert sorted(seen) == ["a", "b"] and claims == 1
        assert await poller.dispatch_due() == 1  # the next tick
        assert await poller.finish_running(grace=5)
    assert sorted(seen) == ["a", "b", "c"] and claims == 2


async def test_a_tick_the_store_refuses_is_one_line_and_not_a_cycle_the_next_tick_polls(
    store: Store,
    clock: FakeClock,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQLite locked past its busy timeout on a loaded machine (or a full disk) refuses the
    tick's claim: the scheduler's job must not raise (APScheduler printed a traceback, seen
    in test_e2e under load), the tick says it was no cycle, and the next one polls."""
    feed_server.set("/a.xml", FEED)
    await store.sync_feeds([("a", feed_server.url("/a.xml"), "ar", 60)], clock.now)
    refuse_once(monkeypatch, store, "claim_due_feeds", OSError("database is locked"))
    seen: list[str] = []
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(
            store, fetcher, matcher(), clock, on_outcome=lambda o: seen.append(o.feed_id)
        )
        with caplog.at_level(logging.WARNING, logger="mirsad"):
            assert await poller.tick() is False
        assert [r.getMessage() for r in caplog.records] == [
            "feed_claim_failed error=OSError('database is locked') (the next tick tries again)"
        ]
        assert await poller.tick() is True
        assert await poller.finish_running(grace=5)
    assert seen == ["a"]


HOSTILE = Path(__file__).parent / "data" / "feeds"


@pytest.mark.slow
async def test_hostile_feeds_side_by_side_leave_the_good_one_and_the_process_unharmed(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    feed_server.set("/good.xml", FEED)
    feed_server.set("/malformed.xml", b"<rss><channel><item><title>x</title></chann")
    feed_server.set("/html.xml", HOSTILE / "cloudflare-challenge.html", content_type="text/html")
    feed_server.set("/empty.xml", b"")
    feed_server.set("/huge.xml", b"<item>", size=2_000_000_000, chunked=True)
    feed_server.set("/bomb.xml", b"\0", size=50_000_000, gzip=True)
    feed_server.set("/trickle.xml", b"<rss>" * 200, trickle=0.05)
    feed_server.redirect("/loop-a.xml", "/loop-b.xml")
    feed_server.redirect("/loop-b.xml", feed_server.url("/loop-a.xml"))
    feed_server.redirect("/ftp.xml", "ftp://example.com/feed.xml")
    feed_server.set("/laughs.xml", HOSTILE / "billion-laughs.xml")
    feed_server.set("/quadratic.xml", HOSTILE / "quadratic-blowup.xml")
    feed_server.set("/xxe.xml", HOSTILE / "xxe-external-entity.xml")
    feed_server.set("/titles.xml", HOSTILE / "hostile-titles.xml")
    feed_server.set("/same-guid.xml", HOSTILE / "same-guid-everywhere.xml")
    paths = [
        "/good.xml",
        "/malformed.xml",
        "/html.xml",
        "/empty.xml",
        "/huge.xml",
        "/bomb.xml",
        "/trickle.xml",
        "/loop-a.xml",
        "/ftp.xml",
        "/laughs.xml",
        "/quadratic.xml",
        "/xxe.xml",
        "/titles.xml",
        "/same-guid.xml",
    ]
    await store.sync_feeds(
        [(p.strip("/").removesuffix(".xml"), feed_server.url(p), "ar", 60) for p in paths],
        clock.now,
    )
    settings = FetchSettings(allow_private_addresses=True, total_timeout=2, max_bytes=2_000_000)
    async with Fetcher(settings) as fetcher:
        outcomes = {o.feed_id: o for o in await Poller(store, fetcher, matcher(), clock).poll_all()}
    assert outcomes["good"].status == "ok" and outcomes["good"].new == 10
    for feed_id in ("html", "empty", "huge", "bomb", "trickle", "loop-a", "ftp"):
        assert outcomes[feed_id].status == "error", feed_id
        assert outcomes[feed_id].error and "\n" not in outcomes[feed_id].error  # one clear line
    for feed_id in ("malformed", "laughs", "quadratic", "xxe", "titles", "same-guid"):
        assert outcomes[feed_id].status in ("ok", "error"), (
            feed_id
        )  # survives; parsed safely or refused
    feeds = {f.id: f for f in await store.feeds()}
    assert feeds["good"].error_count == 0 and feeds["huge"].error_count == 1
    # nothing hostile reached the stored text: no bidi overrides or control characters
    async with store.engine.connect() as conn:  # the test reads the table directly
        titles = [r[0] for r in await conn.execute(sql("SELECT title FROM stories"))]
    assert titles and not any(ch in t for t in titles for ch in "\u202e\u202d\u2066\x00\x07")


def _rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Wed, 11 Feb 2026 09:30:00 GMT</pubDate><description>x</description></item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://www.hespress.com</link><description>x</description>{body}</channel></rss>"
    ).encode()


async def test_a_story_that_changes_its_link_is_not_alerted_twice(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    trump = "ترامب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي"
    musk = "إيلون ماسك يطلق شركة جديدة"
    feed_server.set("/f.xml", _rss([("خبر قديم", "https://www.hespress.com/old.html")]))
    await store.sync_feeds([("f", feed_server.url("/f.xml"), "ar", 60)], clock.now)
    await store.save_subscription("telegram", "1", ["trump", "musk"], clock.now)
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher(), clock)
        await poller.poll_all()  # first poll: recorded, not alerted
        feed_server.set("/f.xml", _rss([(trump, "https://www.hespress.com/a.html")]))
        (first,) = await poller.poll_all()
        assert first.queued == 1
        # the same story under a new link (a slug edit), beside a really new one
        feed_server.set(
            "/f.xml",
            _rss(
                [
                    (trump, "https://www.hespress.com/a-edited.html"),
                    (musk, "https://www.hespress.com/m.html"),
                ]
            ),
        )
        (second,) = await poller.poll_all()
    assert (second.new, second.queued) == (2, 1)  # both stored, only the new one alerted
    rows = await store.outbox_rows()
    assert sorted(r["story_id"] for r in rows) == [
        "https://www.hespress.com/a.html",
        "https://www.hespress.com/m.html",
    ]


async def test_not_modified_answers_are_stored_together(
    store: Store, clock: FakeClock, feed_server: FeedServer, monkeypatch: Any
) -> None:
    for i in range(20):
        feed_server.set(f"/{i}.xml", FEED, etag=f'"v{i}"')
    await store.sync_feeds(
        [(f"f{i}", feed_server.url(f"/{i}.xml"), "ar", 60) for i in range(20)], clock.now
    )
    batches: list[int] = []
    write = store._store_not_modified

    async def counting(updates: Any) -> None:
        batches.append(len(updates))
        await write(updates)

    monkeypatch.setattr(store._not_modified, "_write", counting)
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher(), clock)
        await poller.poll_all()
        clock.advance(120)
        outcomes = await poller.poll_due()
    assert [o.status for o in outcomes] == ["not_modified"] * 20
    assert sum(batches) == 20 and len(batches) < 20  # fewer transactions than answers
    feeds = await store.feeds()
    assert all(f.last_polled_at == clock.now and f.next_poll_at > clock.now for f in feeds)
    assert {f.etag for f in feeds} == {f'"v{i}"' for i in range(20)}


async def test_parsing_runs_in_a_worker_thread_and_a_stuck_parse_times_out(
    store: Store, clock: FakeClock, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.poll

    feed_server.set("/a.xml", FEED)
    feed_server.set("/stuck.xml", FEED)
    await store.sync_feeds(
        [
            ("a", feed_server.url("/a.xml"), "ar", 60),
            ("stuck", feed_server.url("/stuck.xml"), "ar", 60),
        ],
        clock.now,
    )
    threads: list[str] = []
    release = threading.Event()
    real_read = feeds.poll.read_feed  # the whole reading of a body: parse or ids alone

    def recording_read(body: bytes, headers: Any, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        if kw["feed_id"] == "stuck":
            release.wait(10)
        return real_read(body, headers, **kw)

    monkeypatch.setattr(feeds.poll, "read_feed", recording_read)
    ticks = 0

    async def ticking() -> None:  # the event loop keeps running while a parse is stuck
        nonlocal ticks
        while not release.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher(), clock, parse_timeout=0.3)
        (first,) = await poller.poll([f for f in await store.feeds() if f.id == "a"])
        assert first.status == "ok" and first.new == 10
        ticker = asyncio.create_task(ticking())
        try:
            (stuck,) = await poller.poll([f for f in await store.feeds() if f.id == "stuck"])
        finally:
            release.set()
            await ticker
    assert threads and all(name.startswith("mirsad-parse") for name in threads)
    assert stuck.status == "error" and stuck.error == "parsing took longer than 0.3s"
    assert ticks >= 5  # the loop went on for the whole 0.3 s wait
    (feed,) = [f for f in await store.feeds() if f.id == "stuck"]
    assert feed.error_count == 1 and feed.last_error == "parsing took longer than 0.3s"


@pytest.mark.slow
async def test_a_giant_feed_is_capped_to_its_newest_items_and_the_cut_logged(
    store: Store, clock: FakeClock, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.set("/giant.xml", many_items(60_000, 4_000_000, dated=False))
    await store.sync_feeds([("giant", feed_server.url("/giant.xml"), "ar", 60)], clock.now)
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=30)) as fetcher:
        poller = Poller(store, fetcher, matcher(), clock, max_items=500)
        with caplog.at_level(logging.WARNING, logger="mirsad.poll"):
            (outcome,) = await poller.poll_due()
    assert outcome.status == "ok" and outcome.new == 500
    assert "feed_items_capped id=giant kept=500 dropped=59500" in caplog.text
    known = await store.known_story_ids([f"http://g.co/{n}" for n in (0, 499, 500)])
    assert known == {"http://g.co/0", "http://g.co/499"}  # the newest 500, not the rest


async def test_instances_share_a_burst_of_due_feeds(
    database_url: str, clock: FakeClock, feed_server: FeedServer
) -> None:
    """Each instance claims only what it can start soon (4 x its parallel polls), and more
    as its polls finish: 40 feeds due at once are split between two instances with four
    slots each, every feed polled once. (An instance used to claim every due feed at its
    tick, leaving the other instances nothing to do.)"""
    ids = [f"f{i:02d}" for i in range(40)]
    for feed_id in ids:  # slow enough that the first claims are still polling below
        feed_server.set(f"/{feed_id}.xml", FEED, delay=0.5)
    a, b = await Store.open(database_url), await Store.open(database_url)
    await a.sync_feeds([(i, feed_server.url(f"/{i}.xml"), "ar", 600) for i in ids], clock.now)
    polled: dict[str, list[str]] = {"a": [], "b": []}
    settings = FetchSettings(allow_private_addresses=True, total_timeout=5, per_host_concurrency=4)
    try:
        async with Fetcher(settings) as fetch_a, Fetcher(settings) as fetch_b:
            pollers = {
                name: Poller(
                    store,
                    fetcher,
                    matcher(),
                    clock,
                    max_parallel=4,
                    instance=name,
                    on_outcome=lambda o, name=name: polled[name].append(o.feed_id),
                )
                for name, store, fetcher in (("a", a, fetch_a), ("b", b, fetch_b))
            }
            assert await pollers["a"].dispatch_due() == 16  # not all 40
            assert await pollers["b"].dispatch_due() == 16  # the other instance gets its share
            for _ in range(500):  # their finished polls claim the rest
                if len(polled["a"]) + len(polled["b"]) == len(ids):
                    break
                await asyncio.sleep(0.02)
            assert all([await p.finish_running(grace=5) for p in pollers.values()])
    finally:
        await a.close()
        await b.close()
    assert sorted(polled["a"] + polled["b"]) == ids  # every feed polled, none twice
    assert len(polled["a"]) >= 16 and len(polled["b"]) >= 16


async def test_a_dispatched_poll_whose_failure_cannot_be_recorded_is_logged(
    store: Store,
    clock: FakeClock,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A background poll (dispatch_due) whose outcome the store refuses: logged as
    unrecorded, the slot freed, nothing raised into the event loop."""
    feed_server.set("/gone.xml", b"", status=500)
    await store.sync_feeds([("gone", feed_server.url("/gone.xml"), "ar", 60)], clock.now)

    async def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(store, "record_feed_failure", refuse)
    seen: list[str] = []
    async with Fetcher(FetchSettings(allow_private_addresses=True)) as fetcher:
        poller = Poller(
            store, fetcher, matcher(), clock, on_outcome=lambda o: seen.append(o.feed_id)
        )
        with caplog.at_level(logging.ERROR, logger="mirsad.poll"):
            assert await poller.dispatch_due() == 1
            assert await poller.finish_running(grace=5)
    assert seen == []  # no outcome: it was never recorded
    assert "feed_poll_unrecorded id=gone error=RuntimeError('the database is gone')" in (
        caplog.text
    )
