"""The store: one transaction per poll, no backfill, one outbox row per (subscription, story)."""

from __future__ import annotations

import asyncio
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from models import Story
from store import FeedUpdate, FollowedTerm, Store
from store.migrate import head_revision
from tests.helpers import FakeClock, match, story


@pytest.mark.sqlite_only("the file's mode and journal")
async def test_database_file_is_owner_only_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.db"
    s = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await s.ping()
    finally:
        await s.close()
    import sqlite3

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_first_poll_records_without_alerting_then_new_stories_alert(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", "ar", 60)], clock.now)
    await store.save_subscription("telegram", "1", ["trump"], clock.now)
    await store.save_subscription("telegram", "2", ["musk"], clock.now)
    upd = FeedUpdate(next_poll_at=clock.now + timedelta(minutes=1), etag='"a"')
    first = await store.ingest(
        "f", [story(1), story(2)], {story(1).id: match("trump")}, upd, clock.now, alert=False
    )
    assert (first.new_stories, first.matched, first.queued) == (2, 1, 0)
    assert await store.outbox_rows() == []
    (feed,) = await store.feeds()
    assert feed.initialized and feed.etag == '"a"'

    again = await store.ingest(
        "f",
        [story(1), story(2), story(3)],
        {story(3).id: match("trump", "musk")},
        upd,
        clock.now,
        alert=True,
    )
    assert (again.new_stories, again.matched, again.queued) == (1, 1, 2)
    rows = await store.outbox_rows()
    assert sorted(r["chat_id"] for r in rows) == ["1", "2"]
    assert {r["story_id"] for r in rows} == {story(3).id}
    # seen again: nothing new, nothing queued twice
    third = await store.ingest(
        "f", [story(3)], {story(3).id: match("trump")}, upd, clock.now, alert=True
    )
    assert (third.new_stories, third.queued) == (0, 0)
    assert len(await store.outbox_rows()) == 2


async def test_feed_failure_counts_and_success_resets(store: Store, clock: FakeClock) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    later = clock.now + timedelta(minutes=2)
    await store.record_feed_failure(
        "f", FeedUpdate(next_poll_at=later, error="HTTP 500"), clock.now
    )
    await store.record_feed_failure("f", FeedUpdate(next_poll_at=later, error="timeout"), clock.now)
    (feed,) = await store.feeds()
    assert (feed.error_count, feed.last_error, feed.next_poll_at) == (2, "timeout", later)
    assert await store.due_feeds(clock.now) == []
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=later), clock.now, alert=False)
    (feed,) = await store.feeds()
    assert (feed.error_count, feed.last_error) == (0, None)


async def test_feed_removed_from_config_is_disabled_and_url_change_drops_validators(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds(
        [("a", "https://a.example/feed", None, 60), ("b", "https://b.example/feed", None, 60)],
        clock.now,
    )
    await store.ingest(
        "a", [], {}, FeedUpdate(next_poll_at=clock.now, etag='"x"'), clock.now, alert=False
    )
    await store.sync_feeds([("a", "https://a.example/new", None, 60)], clock.now)
    (feed,) = await store.feeds()
    assert (feed.id, feed.url, feed.etag) == ("a", "https://a.example/new", None)


async def test_syncing_an_unchanged_config_writes_nothing(store: Store, clock: FakeClock) -> None:
    """Issue 19: every start (`bot.py once` each minute) syncs the config; feeds already as
    configured cost no statement, new ones one for all, a changed one its own update."""
    feeds = [(f"f{n}", f"https://example.org/{n}", "ar", 60) for n in range(20)]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await store.sync_feeds(feeds, clock.now)
        assert statements.count("INSERT") == 1 and "UPDATE" not in statements
        statements.clear()
        await store.sync_feeds(feeds, clock.now)
        assert statements == ["SELECT"]
        statements.clear()
        await store.sync_feeds(
            [*feeds[:-1], ("f19", "https://example.org/19", "ar", 120)], clock.now
        )
        assert statements == ["SELECT", "UPDATE"]
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
    assert len(await store.feeds()) == 20
    assert {f.interval for f in await store.feeds() if f.id == "f19"} == {120}


async def test_deliveries_come_in_publication_order_one_per_subscription(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    await store.save_subscription("telegram", "1", ["trump"], clock.now)
    stories = [story(3), story(1), story(2)]
    await store.ingest(
        "f",
        stories,
        {s.id: match("trump") for s in stories},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    (head,) = await store.next_deliveries(["telegram"], clock.now)
    assert head.story.id == story(1).id
    assert head.match.labels == ("trump",)
    # a retry in the future holds the queue: the later stories do not overtake it
    await store.mark_retry(head.outbox_id, "HTTP 502", clock.now + timedelta(seconds=30))
    assert await store.next_deliveries(["telegram"], clock.now) == []
    await store.mark_sent(head.outbox_id, "77", clock.now)
    (head,) = await store.next_deliveries(["telegram"], clock.now)
    assert head.story.id == story(2).id


async def test_pause_cancels_pending_and_resubscribe_starts_fresh(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    await store.save_subscription("telegram", "5", ["trump"], clock.now)
    await store.ingest(
        "f",
        [story(1)],
        {story(1).id: match("trump")},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    assert (
        await store.pause_chat("telegram", "5", "Forbidden: bot was blocked by the user", clock.now)
        == 1
    )
    sub = await store.subscription("telegram", "5")
    assert (
        sub is not None
        and not sub.active
        and sub.paused_reason == "Forbidden: bot was blocked by the user"
    )
    (row,) = await store.outbox_rows()
    assert row["status"] == "cancelled"
    await store.ingest(
        "f",
        [story(2)],
        {story(2).id: match("trump")},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    assert len(await store.outbox_rows()) == 1  # nothing queued for a paused chat
    sub = await store.save_subscription("telegram", "5", ["trump"], clock.now)
    assert sub.active and sub.paused_reason is None


async def test_migrate_chat_moves_subscription_and_language(store: Store, clock: FakeClock) -> None:
    await store.save_subscription("telegram", "-100", ["ai"], clock.now)
    await store.set_chat_lang("telegram", "-100", "en")
    await store.migrate_chat("telegram", "-100", "-100999", clock.now)
    assert await store.subscription("telegram", "-100") is None
    moved = await store.subscription("telegram", "-100999")
    assert moved is not None and moved.labels == ("ai",) and moved.lang == "en"


async def test_migrate_chat_onto_a_subscribed_chat_moves_the_pending_alerts(
    store: Store, clock: FakeClock
) -> None:
    """Issue 11 point 5 / issue 17 item 3: the supergroup was subscribed already; the old
    group's pending alerts used to stay pending forever (never sent, never pruned)."""
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    await store.save_subscription("telegram", "-5", ["musk", "trump"], clock.now)
    await store.set_chat_lang("telegram", "-5", "en")
    await store.save_subscription("telegram", "-1005", ["trump"], clock.now)
    await store.set_chat_lang("telegram", "-1005", "fr")
    stories = [story(1), story(2), story(3), story(4)]
    labels = {1: ("musk",), 2: ("musk",), 3: ("musk",), 4: ("trump",)}
    await store.ingest(
        "f",
        stories,
        {story(n).id: match(*labels[n]) for n in labels},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    (old_head,) = [
        d
        for d in await store.next_deliveries(["telegram"], clock.now)
        if d.subscription.chat_id == "-5"
    ]
    await store.mark_sent(old_head.outbox_id, "1", clock.now)  # story 1 reached the old group

    result = await store.migrate_chat("telegram", "-5", "-1005", clock.now)

    old = await store.subscription("telegram", "-5")
    assert old is not None and not old.active and old.paused_reason == "migrated to -1005"
    survivor = await store.subscription("telegram", "-1005")
    assert survivor is not None and survivor.active and survivor.labels == ("trump",)
    assert survivor.lang == "fr"  # the new chat's own choice is kept
    rows = {(r["chat_id"], r["story_id"]): r for r in await store.outbox_rows()}
    assert {k: r["status"] for k, r in rows.items()} == {
        ("-5", story(1).id): "sent",  # history stays with the old id
        ("-5", story(4).id): "cancelled",  # the survivor has it queued already
        ("-1005", story(2).id): "pending",
        ("-1005", story(3).id): "pending",
        ("-1005", story(4).id): "pending",
    }
    assert rows[("-5", story(4).id)]["last_error"] == (
        "migrated to -1005: the story is already queued there"
    )
    assert (result.moved, result.cancelled) == (2, 1)
    # the moved alerts are delivered at the new id, in publication order, then nothing is left
    for expected in (2, 3, 4):
        (head,) = await store.next_deliveries(["telegram"], clock.now)
        assert (head.subscription.chat_id, head.story.id) == ("-1005", story(expected).id)
        await store.mark_sent(head.outbox_id, str(expected), clock.now)
    assert await store.next_deliveries(["telegram"], clock.now) == []
    assert ("telegram", "pending") not in await store.outbox_counts()
    # and the stories are prunable once their feed no longer lists them
    clock.advance(40 * 86400)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True)
    assert await store.prune(clock.now, timedelta(days=30)) == 4


async def test_migrate_chat_onto_a_paused_subscription_cancels_with_the_reason(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False)
    await store.save_subscription("telegram", "-6", ["musk"], clock.now)
    await store.save_subscription("telegram", "-1006", [], clock.now)  # unsubscribed there
    await store.ingest(
        "f",
        [story(1)],
        {story(1).id: match("musk")},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    result = await store.migrate_chat("telegram", "-6", "-1006", clock.now)
    (row,) = await store.outbox_rows()
    assert (row["chat_id"], row["status"], row["last_error"]) == (
        "-6",
        "cancelled",
        "migrated to -1006, where the subscription is paused",
    )
    assert ("telegram", "pending") not in await store.outbox_counts()
    assert (result.moved, result.cancelled) == (0, 1)


async def test_prune_keeps_recent_and_pending_stories(store: Store, clock: FakeClock) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest(
        "f", [story(1), story(2)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False
    )
    clock.advance(40 * 86400)
    await store.ingest(
        "f", [story(2)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False
    )
    assert await store.prune(clock.now, timedelta(days=30)) == 1
    assert await store.known_story_ids([story(1).id, story(2).id]) == {story(2).id}


async def test_prune_keeps_stories_a_feed_answering_304_still_lists(
    store: Store, clock: FakeClock
) -> None:
    """A 304 means "same items as before": their ids must stay known however old, or the
    next 200 would alert on all of them again."""
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest(
        "f", [story(1), story(2)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False
    )
    for _ in range(40):
        clock.advance(86400)
        not_modified = FeedUpdate(next_poll_at=clock.now, not_modified=True)
        await store.ingest("f", [], {}, not_modified, clock.now, alert=True)
    assert await store.prune(clock.now, timedelta(days=30)) == 0

    # the feed then serves its list without story 1: story 1 has left the feed
    result = await store.ingest(
        "f", [story(2), story(3)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True
    )
    assert result.new_stories == 1
    assert await store.prune(clock.now, timedelta(days=30)) == 1
    assert await store.known_story_ids([story(n).id for n in (1, 2, 3)]) == {
        story(2).id,
        story(3).id,
    }


async def test_prune_keeps_a_story_a_pending_alert_needs(store: Store, clock: FakeClock) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.save_subscription("telegram", "1", ["ai"], clock.now)
    await store.ingest(
        "f", [story(1)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False
    )
    await store.ingest(
        "f",
        [story(2)],
        {story(2).id: match("ai")},
        FeedUpdate(next_poll_at=clock.now),
        clock.now,
        alert=True,
    )
    clock.advance(40 * 86400)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=True)
    # both left the feed long ago; only the one nobody waits for goes
    assert await store.prune(clock.now, timedelta(days=30)) == 1
    assert await store.known_story_ids([story(1).id, story(2).id]) == {story(2).id}


async def test_a_feed_removed_then_added_back_starts_with_a_silent_first_poll(
    store: Store, clock: FakeClock
) -> None:
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    await store.ingest(
        "f", [story(1)], {}, FeedUpdate(next_poll_at=clock.now), clock.now, alert=False
    )
    assert [f.initialized for f in await store.feeds()] == [True]
    await store.sync_feeds([], clock.now)
    assert await store.feeds() == []
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], clock.now)
    assert [f.initialized for f in await store.feeds()] == [False]


async def test_concurrent_ingests_all_commit(store: Store, clock: FakeClock) -> None:
    """Many feeds finishing together used to fail with "database is locked"."""
    feeds = [(f"f{i}", f"https://example.org/{i}/feed", None, 60) for i in range(40)]
    await store.sync_feeds(feeds, clock.now)

    def stories_of(i: int) -> list[Story]:
        return [
            Story(
                id=f"https://example.org/{i}/{n}",
                feed_id=f"f{i}",
                title=f"t {n}",
                summary="s",
                link=f"https://example.org/{i}/{n}",
                published=clock.now,
            )
            for n in range(50)
        ]

    await asyncio.gather(
        *(
            store.ingest(
                f"f{i}",
                stories_of(i),
                {},
                FeedUpdate(next_poll_at=clock.now),
                clock.now,
                alert=False,
            )
            for i in range(40)
        )
    )
    assert await store.count_stories() == 40 * 50
    assert all(f.initialized for f in await store.feeds())


@pytest.mark.sqlite_only("version 1 was SQLite only")
async def test_a_version_1_database_is_migrated_in_place(tmp_path: Path, clock: FakeClock) -> None:
    import sqlite3

    path = tmp_path / "m.db"
    with sqlite3.connect(path) as raw:  # what version 1 wrote: its tables, no Alembic
        raw.executescript(SCHEMA_1)
        raw.execute(
            "INSERT INTO feeds (id, url, interval, next_poll_at, last_new_at, initialized, "
            "error_count, enabled) VALUES ('f', 'https://example.org/feed', 60, "
            "'2026-02-11 12:00:00.000000', '2026-02-11 11:00:00.000000', 1, 0, 1)"
        )
        raw.execute(
            "INSERT INTO stories (id, feed_id, title, summary, link, published, seen_at) "
            "VALUES ('https://example.org/1', 'f', 't', 's', 'https://example.org/1', "
            "'2026-02-11 10:00:00.000000', '2026-02-11 12:00:00.000000')"
        )
        raw.execute("INSERT INTO meta VALUES ('schema_version', '1')")

    s = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert await s.get_meta("schema_version") == str(int(head_revision()))
        assert await s.known_story_ids([story(1).id]) == {story(1).id}
    finally:
        await s.close()
    with sqlite3.connect(path) as raw:
        row = raw.execute("SELECT last_listed_at, last_new_at FROM feeds").fetchone()
        indexes = {r[1] for r in raw.execute("PRAGMA index_list(stories)")}
    assert row[0] is not None and row[0] == row[1]
    assert "ix_stories_feed_title" in indexes


# The DDL the version-1 release ran (SQLAlchemy create_all on SQLite), for the test above.
SCHEMA_1 = """
CREATE TABLE meta (key VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key));
CREATE TABLE feeds (id VARCHAR(64) NOT NULL, url TEXT NOT NULL, language VARCHAR(16),
  interval INTEGER NOT NULL, etag TEXT, last_modified TEXT, next_poll_at DATETIME NOT NULL,
  last_polled_at DATETIME, last_success_at DATETIME, last_new_at DATETIME,
  initialized BOOLEAN NOT NULL, error_count INTEGER NOT NULL, last_error TEXT,
  enabled BOOLEAN NOT NULL, PRIMARY KEY (id));
CREATE TABLE stories (id TEXT NOT NULL, feed_id VARCHAR(64) NOT NULL, title TEXT NOT NULL,
  summary TEXT NOT NULL, link TEXT NOT NULL, published DATETIME NOT NULL, image TEXT,
  language VARCHAR(16), seen_at DATETIME NOT NULL, PRIMARY KEY (id),
  FOREIGN KEY(feed_id) REFERENCES feeds (id));
CREATE INDEX ix_stories_seen_at ON stories (seen_at);
CREATE TABLE matches (story_id TEXT NOT NULL, labels JSON NOT NULL, evidence JSON NOT NULL,
  matched_at DATETIME NOT NULL, PRIMARY KEY (story_id),
  FOREIGN KEY(story_id) REFERENCES stories (id) ON DELETE CASCADE);
CREATE INDEX ix_matches_matched_at ON matches (matched_at);
CREATE TABLE subscriptions (id INTEGER NOT NULL, platform VARCHAR(16) NOT NULL,
  chat_id VARCHAR(64) NOT NULL, thread_id VARCHAR(64) NOT NULL, guild_id VARCHAR(64),
  labels JSON NOT NULL, active BOOLEAN NOT NULL, paused_reason TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (id),
  CONSTRAINT uq_subscription_chat UNIQUE (platform, chat_id, thread_id));
CREATE TABLE outbox (id INTEGER NOT NULL, subscription_id INTEGER NOT NULL,
  story_id TEXT NOT NULL, published DATETIME NOT NULL, status VARCHAR(16) NOT NULL,
  attempts INTEGER NOT NULL, next_attempt_at DATETIME NOT NULL, message_id VARCHAR(64),
  last_error TEXT, created_at DATETIME NOT NULL, sent_at DATETIME, PRIMARY KEY (id),
  CONSTRAINT uq_outbox_subscription_story UNIQUE (subscription_id, story_id),
  FOREIGN KEY(subscription_id) REFERENCES subscriptions (id) ON DELETE CASCADE,
  FOREIGN KEY(story_id) REFERENCES stories (id) ON DELETE CASCADE);
CREATE INDEX ix_outbox_pending ON outbox (status, subscription_id, published);
CREATE TABLE chat_settings (platform VARCHAR(16) NOT NULL, chat_id VARCHAR(64) NOT NULL,
  lang VARCHAR(8) NOT NULL, PRIMARY KEY (platform, chat_id));
"""


async def test_poll_lookups_answer_as_the_three_reads_they_replace(
    store: Store, clock: FakeClock
) -> None:
    """Issue 19: known texts, a feed's recent titles and the follow generation in one read."""
    await store.sync_feeds(
        [("f", "https://example.org/feed", "ar", 60), ("g", "https://example.org/g", "ar", 60)],
        clock.now,
    )
    upd = FeedUpdate(next_poll_at=clock.now + timedelta(minutes=1))
    await store.ingest("f", [story(1), story(2)], {}, upd, clock.now, alert=False)
    other = replace(story(9), id="https://example.org/g9", feed_id="g")
    await store.ingest("g", [other], {}, upd, clock.now, alert=False)
    await store.add_follows("telegram", "42", [FollowedTerm("غزة", "غزة")], clock.now)
    clock.advance(3600)
    since = clock.now - timedelta(minutes=30)
    ids = [story(1).id, story(3).id, other.id]
    titles = ["title 1", "title 2", "title 9", "title 3"]
    got = await store.poll_lookups("f", ids, titles, since)
    assert got.known == await store.known_story_texts(ids)
    assert got.known == {story(1).id: ("title 1", "s"), other.id: ("title 9", "s")}
    assert got.titles == await store.recent_titles("f", titles, since) == set()  # seen 1 h ago
    since = clock.now - timedelta(hours=2)
    got = await store.poll_lookups("f", ids, titles, since)
    # feed f's own titles only: "title 9" is feed g's story
    assert got.titles == await store.recent_titles("f", titles, since) == {"title 1", "title 2"}
    assert got.generation == await store.follow_generation() == 1
    assert (await store.poll_lookups("f", [], [], since)).known == {}
    # past SQLite's bound-parameter chunk the same answer comes from the three reads
    many = await store.poll_lookups("f", [*ids, *(f"x{n}" for n in range(600))], titles, since)
    assert (many.known, many.titles, many.generation) == (got.known, got.titles, 1)


async def test_new_stories_insert_is_compiled_once(store: Store, clock: FakeClock) -> None:
    """Issue 19: INSERT ... ON CONFLICT DO NOTHING had no cache key in SQLAlchemy (SQLite's
    nor PostgreSQL's), so each changed feed's insert was compiled anew; now SQLAlchemy compiles it once, and a
    story already stored is still left alone and not reported new."""
    await store.sync_feeds([("f", "https://example.org/feed", "ar", 60)], clock.now)
    upd = FeedUpdate(next_poll_at=clock.now + timedelta(minutes=1))
    await store.ingest("f", [story(1)], {}, upd, clock.now, alert=False)
    compiled: list[object] = []

    def seen(
        _c: object, _cur: object, statement: str, _p: object, context: Any, *_: object
    ) -> None:
        if statement.startswith("INSERT INTO stories"):
            compiled.append(context.compiled)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for n in (2, 3, 4):
            got = await store.ingest("f", [story(n), story(1)], {}, upd, clock.now, alert=True)
            assert got.new_stories == 1  # story(1) is known
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
    assert len(compiled) == 3
    assert compiled[0] is compiled[1] is compiled[2]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_insert_new_is_sqlalchemys_upsert_with_a_cache_key(dialect: str) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    from store import tables as t
    from store.engine import insert_new, upsert

    compiler = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()

    def sql(statement: Any) -> str:
        return str(statement.compile(dialect=compiler))

    ours = insert_new(dialect, t.stories, [t.stories.c.id]).returning(t.stories.c.id)
    theirs = (
        upsert(dialect, t.stories)
        .on_conflict_do_nothing(index_elements=[t.stories.c.id])
        .returning(t.stories.c.id)
    )
    assert sql(ours) == sql(theirs)
    assert theirs._generate_cache_key() is None  # why ours exists
    key = ours._generate_cache_key()
    assert key is not None
    # the conflict target is part of the key: another target is another statement
    other = insert_new(dialect, t.stories, [t.stories.c.link]).returning(t.stories.c.id)
    assert other._generate_cache_key() != key
    assert "ON CONFLICT (link) DO NOTHING" in sql(other)
