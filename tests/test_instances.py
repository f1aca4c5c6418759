"""Several instances on one database (issue 16): feed claims, outbox claims, sender leases.

Each test opens two or three `Store`s on one database, as separate instances would (on
PostgreSQL when tests have one: tests/pg.py; on SQLite otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from models import Evidence, Match, Story
from store import FeedUpdate, Store
from store import tables as t
from tests.helpers import FakeClock


@pytest.fixture
async def instances(database_url: str) -> AsyncIterator[list[Store]]:
    stores = [await Store.open(database_url) for _ in range(3)]
    yield stores
    for s in stores:
        await s.close()


async def test_each_due_feed_is_claimed_by_exactly_one_instance(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, c = instances
    feeds = [(f"f{i:03d}", f"https://example.org/{i}", None, 300) for i in range(60)]
    await a.sync_feeds(feeds, clock.now)
    ids: list[str] = []
    for _ in range(3):  # rounds of four claims at once, as instances ticking together
        claims = await asyncio.gather(
            *(
                s.claim_due_feeds(clock.now, name, min_lease=timedelta(seconds=60), limit=25)
                for s, name in ((a, "a"), (b, "b"), (c, "c"), (a, "a2"))
            )
        )
        ids += [f.id for claim in claims for f in claim]
    assert len(ids) == len(set(ids)) == 60  # every due feed once, none twice
    # claimed feeds are not offered again while their claim holds
    assert await b.claim_due_feeds(clock.now, "b", min_lease=timedelta(seconds=60)) == []


async def test_a_crashed_instances_claim_runs_out_after_the_feeds_interval(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, _ = instances
    await a.sync_feeds([("f", "https://example.org/f", None, 300)], clock.now)
    (claimed,) = await a.claim_due_feeds(clock.now, "a", min_lease=timedelta(seconds=60))
    # "a" dies without recording the poll; the feed is not polled again within its interval
    clock.advance(299)
    assert await b.claim_due_feeds(clock.now, "b", min_lease=timedelta(seconds=60)) == []
    clock.advance(1)
    (taken,) = await b.claim_due_feeds(clock.now, "b", min_lease=timedelta(seconds=60))
    assert taken.id == claimed.id == "f"


async def test_recording_a_poll_releases_its_claim(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, _ = instances
    await a.sync_feeds([("f", "https://example.org/f", None, 300)], clock.now)
    await a.claim_due_feeds(clock.now, "a", min_lease=timedelta(seconds=60))
    await a.record_feed_failure(
        "f", FeedUpdate(next_poll_at=clock.now, error="HTTP 500"), clock.now
    )
    assert [f.id for f in await b.claim_due_feeds(clock.now, "b", min_lease=timedelta(0))] == ["f"]
    await b.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    assert [f.id for f in await a.claim_due_feeds(clock.now, "a", min_lease=timedelta(0))] == ["f"]
    await a.record_not_modified(
        "f", FeedUpdate(next_poll_at=clock.now, not_modified=True), clock.now
    )
    assert [f.id for f in await b.claim_due_feeds(clock.now, "b", min_lease=timedelta(0))] == ["f"]
    await b.release_feed_claims("b")  # a shutdown that cut the poll short
    assert [f.id for f in await a.claim_due_feeds(clock.now, "a", min_lease=timedelta(0))] == ["f"]


async def test_two_instances_ingesting_one_story_store_and_alert_it_once(
    instances: list[Store], clock: FakeClock
) -> None:
    """Two feeds list the same story and their polls finish together on two instances."""
    a, b, _ = instances
    await a.sync_feeds(
        [("f1", "https://example.org/1", None, 60), ("f2", "https://example.org/2", None, 60)],
        clock.now,
    )
    await a.save_subscription("telegram", "1", ["ai"], clock.now)
    for fid in ("f1", "f2"):
        await a.ingest(fid, [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    stories = [
        Story(
            id=f"https://example.org/s{n}",
            feed_id="f1",
            title=f"t{n}",
            summary="s",
            link=f"https://example.org/s{n}",
            published=clock.now,
        )
        for n in range(50)
    ]
    matched = {s.id: Match(("ai",), (Evidence("ai", "ai", "ai", "title"),)) for s in stories}
    results = await asyncio.gather(
        a.ingest("f1", stories, matched, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True),
        b.ingest(
            "f2", stories[::-1], matched, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True
        ),
    )
    assert sum(r.new_stories for r in results) == 50
    assert len(await a.outbox_rows()) == 50  # one alert per story, whoever stored it


async def queue(store: Store, clock: FakeClock, chats: int, per_chat: int) -> None:
    await store.sync_feeds([("f", "https://example.org/f", None, 60)], clock.now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    for chat in range(chats):
        await store.save_subscription("telegram", str(chat), ["ai"], clock.now)
    stories = [
        Story(
            id=f"https://example.org/s{n}",
            feed_id="f",
            title=f"t{n}",
            summary="s",
            link=f"https://example.org/s{n}",
            published=clock.now + timedelta(minutes=n),
        )
        for n in range(per_chat)
    ]
    matched = {s.id: Match(("ai",), (Evidence("ai", "ai", "ai", "title"),)) for s in stories}
    await store.ingest(
        "f", stories, matched, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True
    )


async def test_outbox_heads_are_claimed_by_one_instance_and_order_is_kept(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, c = instances
    await queue(a, clock, chats=20, per_chat=3)
    batches = await asyncio.gather(
        *(
            s.next_deliveries(["telegram"], clock.now, owner=name)
            for s, name in ((a, "a"), (b, "b"), (c, "c"))
        )
    )
    heads = [d for batch in batches for d in batch]
    # every chat's head went to exactly one instance, and no chat's second alert overtook it
    assert sorted(int(d.subscription.chat_id) for d in heads) == list(range(20))
    assert {d.story.id for d in heads} == {"https://example.org/s0"}
    # an instance sees its own claims again, the others do not
    names = ("a", "b", "c")
    k = next(i for i, batch in enumerate(batches) if batch)
    owner, other = instances[k], instances[(k + 1) % 3]
    mine = {d.outbox_id for d in batches[k]}
    again = await owner.next_deliveries(["telegram"], clock.now, owner=names[k])
    assert {d.outbox_id for d in again} == mine
    theirs = await other.next_deliveries(["telegram"], clock.now, owner=names[(k + 1) % 3])
    assert not mine & {d.outbox_id for d in theirs}
    # once a head is sent its chat's next alert is free for anyone, in order
    sent = batches[k][0]
    await owner.mark_sent(sent.outbox_id, "1", clock.now)
    after = await other.next_deliveries(["telegram"], clock.now, owner=names[(k + 1) % 3])
    nxt = [d for d in after if d.subscription.chat_id == sent.subscription.chat_id]
    assert [d.story.id for d in nxt] == ["https://example.org/s1"]


async def test_a_crashed_instances_outbox_claims_run_out(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, _ = instances
    await queue(a, clock, chats=2, per_chat=1)
    assert len(await a.next_deliveries(["telegram"], clock.now, owner="a")) == 2
    assert await b.next_deliveries(["telegram"], clock.now, owner="b") == []
    clock.advance(31)  # "a" died; its 30 s claims ran out
    assert len(await b.next_deliveries(["telegram"], clock.now, owner="b")) == 2


async def test_one_sender_per_platform_token_at_a_time(
    instances: list[Store], clock: FakeClock
) -> None:
    a, b, c = instances
    ttl = timedelta(seconds=15)
    got = await asyncio.gather(
        *(
            s.acquire_lease("sender:telegram", name, clock.now, ttl)
            for s, name in ((a, "a"), (b, "b"), (c, "c"))
        )
    )
    assert sorted(got) == [False, False, True]
    holder = "abc"[got.index(True)]
    other = next(n for n in "abc" if n != holder)
    clock.advance(10)
    assert await a.acquire_lease("sender:telegram", holder, clock.now, ttl)  # renewed
    assert not await a.acquire_lease("sender:telegram", other, clock.now, ttl)
    assert await a.acquire_lease("sender:discord", other, clock.now, ttl)  # another token
    clock.advance(16)  # the holder stopped renewing (crashed)
    assert await b.acquire_lease("sender:telegram", other, clock.now, ttl)
    await b.release_lease("sender:telegram", other)  # a clean shutdown hands it over at once
    assert await c.acquire_lease("sender:telegram", holder, clock.now, ttl)


async def test_instances_starting_together_sync_the_same_feeds_once(
    instances: list[Store], clock: FakeClock
) -> None:
    """Two instances started together each write the config's feeds into an empty table. The
    second one used to stop on a duplicate key (the first had inserted the feed after the
    second looked); now it leaves that feed as the first inserted it."""
    a, b, _ = instances
    if a.dialect != "postgresql":
        pytest.skip("several instances run on PostgreSQL (README: Several instances on PostgreSQL)")
    feeds = [("f", "https://example.org/f", "ar", 300), ("g", "https://example.org/g", None, 60)]
    async with a.engine.connect() as first:  # "a" mid-sync: its insert not yet committed
        await first.execute(
            insert(t.feeds).values(
                id="f",
                url="https://example.org/f",
                language="ar",
                interval=300,
                next_poll_at=clock.now,
                initialized=False,
                error_count=0,
                enabled=True,
            )
        )
        second = asyncio.create_task(b.sync_feeds(feeds, clock.now))
        async with a.engine.connect() as watch:  # until "b" waits for a's row
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            while not (await watch.execute(waiting)).scalar() and not second.done():
                await asyncio.sleep(0.02)
        await first.commit()
    await second  # no duplicate key
    assert [(f.id, f.url, f.interval) for f in await b.feeds()] == [
        ("f", "https://example.org/f", 300),
        ("g", "https://example.org/g", 60),
    ]


async def test_sqlite_claim_skips_a_feed_another_process_claimed_since_its_select(
    instances: list[Store], clock: FakeClock
) -> None:
    """SQLite has no row locks: between the claim's SELECT and its UPDATE another process
    may claim a feed; the claim (one statement for all its feeds, issue 19) leaves it."""
    a, _, _ = instances
    if a.dialect != "sqlite":
        pytest.skip("SQLite's claim (PostgreSQL locks the rows it selects)")
    import sqlite3

    await a.sync_feeds(
        [(f"f{i}", f"https://example.org/{i}", None, 300) for i in range(5)], clock.now
    )
    path = a.engine.url.database
    assert path
    statements: list[str] = []

    def other_process_claims_f2(_c: object, _cur: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0].upper())
        if statements[-1] == "SELECT" and "lease_until" in statement:
            other = sqlite3.connect(path)
            with other:
                other.execute(
                    "UPDATE feeds SET lease_owner = 'z', lease_until = '2999-01-01 00:00:00'"
                    " WHERE id = 'f2'"
                )
            other.close()

    event.listen(a.engine.sync_engine, "after_cursor_execute", other_process_claims_f2)
    try:
        claimed = await a.claim_due_feeds(clock.now, "a", min_lease=timedelta(seconds=60))
    finally:
        event.remove(a.engine.sync_engine, "after_cursor_execute", other_process_claims_f2)
    assert [f.id for f in claimed] == ["f0", "f1", "f3", "f4"]
    assert statements == ["SELECT", "UPDATE"]  # one update for the five, not one each
