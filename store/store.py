"""The only module that talks to the database.

SQLAlchemy 2 Core on an async engine: SQLite (aiosqlite, WAL) by default, any SQLAlchemy URL
otherwise. Every method takes the current time from its caller (`now`), so behaviour is
testable without a clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from models import Evidence, Match, Story

from . import tables as t

log = logging.getLogger("mirsad.store")


@dataclass(frozen=True)
class FeedState:
    id: str
    url: str
    language: str | None
    interval: int
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    initialized: bool
    error_count: int
    last_error: str | None


@dataclass(frozen=True)
class FeedUpdate:
    """What a poll learned about a feed, written together with its stories."""

    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # None = success
    not_modified: bool = False  # a 304: the feed's items are the ones it listed last time


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: str
    chat_id: str
    thread_id: str
    guild_id: str | None
    labels: tuple[str, ...]
    active: bool
    paused_reason: str | None
    lang: str


@dataclass(frozen=True)
class Delivery:
    """One pending outbox row with everything a sender needs to render and send it."""

    outbox_id: int
    attempts: int
    queued_at: datetime
    subscription: Subscription
    story: Story
    match: Match


@dataclass(frozen=True)
class StoredAlert:
    story: Story
    match: Match


@dataclass(frozen=True)
class ChatMigration:
    """What moving a migrated chat did to the alerts pending for its old id."""

    moved: int  # pending alerts handed to the new chat's existing subscription
    cancelled: int  # pending alerts cancelled: already queued there, or paused there


@dataclass(frozen=True)
class IngestResult:
    new_stories: int
    matched: int
    queued: int


def _evidence_to_json(match: Match) -> list[dict[str, str | int]]:
    return [e.as_dict() for e in match.evidence]


def _match_from_row(labels: Sequence[str], evidence: Sequence[dict[str, Any]]) -> Match:
    return Match(
        labels=tuple(labels),
        evidence=tuple(
            Evidence(
                label=e["label"],
                term=e["term"],
                text=e["text"],
                field=e["field"],
                start=int(e.get("start", 0)),
                end=int(e.get("end", 0)),
            )
            for e in evidence
        ),
    )


def _story_from_row(row: Any) -> Story:
    return Story(
        id=row.id,
        feed_id=row.feed_id,
        title=row.title,
        summary=row.summary,
        link=row.link,
        published=row.published,
        image=row.image,
        language=row.language,
    )


def _feed_from_row(row: Any) -> FeedState:
    return FeedState(
        id=row.id,
        url=row.url,
        language=row.language,
        interval=row.interval,
        etag=row.etag,
        last_modified=row.last_modified,
        next_poll_at=row.next_poll_at,
        last_polled_at=row.last_polled_at,
        last_success_at=row.last_success_at,
        last_new_at=row.last_new_at,
        initialized=bool(row.initialized),
        error_count=row.error_count,
        last_error=row.last_error,
    )


_SUBSCRIPTION_COLUMNS = (
    t.subscriptions.c.id.label("sub_id"),
    t.subscriptions.c.platform,
    t.subscriptions.c.chat_id,
    t.subscriptions.c.thread_id,
    t.subscriptions.c.guild_id,
    t.subscriptions.c.labels.label("sub_labels"),
    t.subscriptions.c.active,
    t.subscriptions.c.paused_reason,
    func.coalesce(t.chat_settings.c.lang, "ar").label("lang"),
)
_SETTINGS_JOIN = and_(
    t.chat_settings.c.platform == t.subscriptions.c.platform,
    t.chat_settings.c.chat_id == t.subscriptions.c.chat_id,
)


def _subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.sub_id,
        platform=row.platform,
        chat_id=row.chat_id,
        thread_id=row.thread_id,
        guild_id=row.guild_id,
        labels=tuple(row.sub_labels),
        active=bool(row.active),
        paused_reason=row.paused_reason,
        lang=row.lang,
    )


def _prepare_sqlite_file(url: str) -> None:
    """Create the database file owner-only (0600) before SQLite does, and its folder."""
    parsed = make_url(url)
    if (
        not parsed.drivername.startswith("sqlite")
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    path.chmod(0o600)  # an existing file made under a looser umask is tightened too


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


NOT_MODIFIED_WINDOW = 0.02  # seconds: 304 answers this close together share a transaction


T = TypeVar("T")


class _Batcher(Generic[T]):
    """Collects the items added within `window` seconds of the first one and hands them to
    `write` in one call; every caller waits until the call that carries its item is done and
    sees its error, if any."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], window: float) -> None:
        self._write = write
        self._window = window
        self._items: list[T] = []
        self._written: asyncio.Future[None] | None = None  # for the batch being collected
        self._flushes: set[asyncio.Task[None]] = set()

    async def add(self, item: T) -> None:
        self._items.append(item)
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
            flush = asyncio.create_task(self._flush(self._written))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        # shield: a caller cancelled meanwhile must not cancel the write the others wait for
        await asyncio.shield(self._written)

    async def drain(self) -> None:
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def _flush(self, written: asyncio.Future[None]) -> None:
        try:
            await asyncio.sleep(self._window)
            items, self._items, self._written = self._items, [], None
            await self._write(items)
        except Exception as exc:  # every caller in the batch reports it
            written.set_exception(exc)
        else:
            written.set_result(None)
        finally:
            if not written.done():  # cancelled: release the callers too
                written.cancel()


class Store:
    """Feed state, stories, matches, subscriptions and the outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._write_lock = asyncio.Lock()
        self._not_modified = _Batcher(self._store_not_modified, NOT_MODIFIED_WINDOW)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; this process's writers take turns.

        SQLite allows one writer at a time. With many feeds finishing together, writers
        queued in SQLite's busy handler behind each other and some gave up after its timeout
        with "database is locked" (BENCHMARKS.md, Polling); here they queue on a lock instead,
        in order and without a timeout. Readers are not serialised: WAL lets them run beside
        the writer.
        """
        async with self._write_lock, self._engine.begin() as conn:
            yield conn

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect, create or migrate the schema, and return a ready store."""
        _prepare_sqlite_file(url)
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        store = cls(engine)
        await store._migrate()
        return store

    async def close(self) -> None:
        await self._not_modified.drain()  # a batch being written is finished, not cut off
        await self._engine.dispose()

    async def _migrate(self) -> None:
        def run(sync: Connection) -> None:
            t.metadata.create_all(sync)
            row = sync.execute(
                select(t.meta.c.value).where(t.meta.c.key == "schema_version")
            ).first()
            if row is None:
                sync.execute(
                    insert(t.meta).values(key="schema_version", value=str(t.SCHEMA_VERSION))
                )
                return
            version = int(row.value)
            if version > t.SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database is schema version {version}, newer than this Mirsad "
                    f"({t.SCHEMA_VERSION}): upgrade Mirsad or use another database"
                )
            if version < 2:
                column = t.feeds.c.last_listed_at
                sync.exec_driver_sql(
                    f"ALTER TABLE feeds ADD COLUMN {column.name} "
                    f"{column.type.compile(dialect=sync.dialect)}"
                )
                # the closest known time the feed served its list; pruning waits a bit longer
                sync.execute(update(t.feeds).values(last_listed_at=t.feeds.c.last_new_at))
                for index in t.stories.indexes:
                    index.create(sync, checkfirst=True)
            if version < t.SCHEMA_VERSION:
                sync.execute(
                    update(t.meta)
                    .where(t.meta.c.key == "schema_version")
                    .values(value=str(t.SCHEMA_VERSION))
                )

        async with self._write() as conn:
            await conn.run_sync(run)

    async def ping(self) -> bool:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(1))).scalar() == 1

    # --- meta ---------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(t.meta.c.value).where(t.meta.c.key == key))).scalar()

    async def set_meta(self, key: str, value: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(t.meta).where(t.meta.c.key == key))
            await conn.execute(insert(t.meta).values(key=key, value=value))

    async def meta_keys(self, prefix: str) -> list[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.meta.c.key).where(t.meta.c.key.startswith(prefix, autoescape=True))
            )
            return sorted(r.key for r in rows)

    async def delete_meta(self, key: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(t.meta).where(t.meta.c.key == key))

    # --- feeds --------------------------------------------------------------------------

    async def sync_feeds(
        self, feeds: Iterable[tuple[str, str, str | None, int]], now: datetime
    ) -> None:
        """Make the feeds table match the config: (id, url, language, interval) each.

        New feeds are due at once; feeds gone from the config are disabled, not deleted, so
        their stories keep their history. A changed URL drops the old validators.
        """
        wanted = {fid: (url, lang, interval) for fid, url, lang, interval in feeds}
        async with self._write() as conn:
            rows = {r.id: r for r in await conn.execute(select(t.feeds))}
            for fid, (url, lang, interval) in wanted.items():
                row = rows.get(fid)
                if row is None:
                    await conn.execute(
                        insert(t.feeds).values(
                            id=fid,
                            url=url,
                            language=lang,
                            interval=interval,
                            next_poll_at=now,
                            initialized=False,
                            error_count=0,
                            enabled=True,
                        )
                    )
                    continue
                values: dict[str, Any] = {"language": lang, "interval": interval, "enabled": True}
                if not row.enabled:
                    # Back after being removed: its stories may have been pruned meanwhile, so
                    # the first poll records what it holds again instead of alerting on it.
                    values.update(initialized=False, next_poll_at=now)
                if row.url != url:
                    values.update(
                        url=url, etag=None, last_modified=None, next_poll_at=now, error_count=0
                    )
                await conn.execute(update(t.feeds).where(t.feeds.c.id == fid).values(**values))
            gone = set(rows) - set(wanted)
            if gone:
                await conn.execute(
                    update(t.feeds).where(t.feeds.c.id.in_(gone)).values(enabled=False)
                )

    async def feeds(self) -> list[FeedState]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.feeds).where(t.feeds.c.enabled).order_by(t.feeds.c.id)
            )
            return [_feed_from_row(r) for r in rows]

    async def due_feeds(self, now: datetime) -> list[FeedState]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.feeds)
                .where(t.feeds.c.enabled, t.feeds.c.next_poll_at <= now)
                .order_by(t.feeds.c.next_poll_at, t.feeds.c.id)
            )
            return [_feed_from_row(r) for r in rows]

    async def next_poll_at(self) -> datetime | None:
        async with self._engine.connect() as conn:
            value: datetime | None = (
                await conn.execute(
                    select(func.min(t.feeds.c.next_poll_at)).where(t.feeds.c.enabled)
                )
            ).scalar()
            return value

    async def known_story_ids(self, ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                rows = await conn.execute(select(t.stories.c.id).where(t.stories.c.id.in_(chunk)))
                known.update(r.id for r in rows)
        return known

    async def recent_titles(self, feed_id: str, titles: Sequence[str], since: datetime) -> set[str]:
        """Which of `titles` a story of this feed, seen since `since`, already has."""
        found: set[str] = set()
        wanted = list(dict.fromkeys(titles))
        async with self._engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = await conn.execute(
                    select(t.stories.c.title).where(
                        t.stories.c.feed_id == feed_id,
                        t.stories.c.title.in_(wanted[start : start + 500]),
                        t.stories.c.seen_at >= since,
                    )
                )
                found.update(r.title for r in rows)
        return found

    async def record_not_modified(self, feed_id: str, update_: FeedUpdate, now: datetime) -> None:
        """Store a 304 answer: the feed's validators and next poll time, nothing else.

        Most polls of a healthy bot are 304s, so the ones that arrive within
        NOT_MODIFIED_WINDOW of each other share one transaction (a fraction of the cost of
        one each: BENCHMARKS.md, Polling). The caller still returns only once its own answer
        is stored, so the feed is never seen as due again before its new poll time is written.
        """
        await self._not_modified.add((feed_id, update_, now))

    async def _store_not_modified(
        self, updates: Sequence[tuple[str, FeedUpdate, datetime]]
    ) -> None:
        """One transaction for a batch of 304 answers: (feed id, its update, poll time) each."""
        statement = (
            update(t.feeds)
            .where(t.feeds.c.id == bindparam("b_feed_id"))
            .values(
                etag=bindparam("b_etag"),
                last_modified=bindparam("b_last_modified"),
                next_poll_at=bindparam("b_next_poll_at"),
                last_polled_at=bindparam("b_polled_at"),
                last_success_at=bindparam("b_polled_at"),
                initialized=True,
                error_count=0,
                last_error=None,
            )
        )
        async with self._write() as conn:
            await conn.execute(
                statement,
                [
                    {
                        "b_feed_id": feed_id,
                        "b_etag": u.etag,
                        "b_last_modified": u.last_modified,
                        "b_next_poll_at": u.next_poll_at,
                        "b_polled_at": polled_at,
                    }
                    for feed_id, u, polled_at in updates
                ],
            )

    async def record_feed_failure(self, feed_id: str, update_: FeedUpdate, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.feeds)
                .where(t.feeds.c.id == feed_id)
                .values(
                    error_count=t.feeds.c.error_count + 1,
                    last_error=update_.error,
                    last_polled_at=now,
                    next_poll_at=update_.next_poll_at,
                )
            )

    async def ingest(
        self,
        feed_id: str,
        stories: Sequence[Story],
        matched: dict[str, Match],
        feed_update: FeedUpdate,
        now: datetime,
        *,
        alert: bool,
    ) -> IngestResult:
        """Store a successful poll in ONE transaction.

        New stories, their matches, one outbox row per (active subscription, matching story)
        and the feed's new state commit together, so a crash leaves either all or none.
        `alert=False` (a feed's first poll) records stories as seen and queues nothing.
        """
        async with self._write() as conn:
            new_ids = await self._insert_new_stories(conn, stories, now)
            new_matches = {sid: m for sid, m in matched.items() if sid in new_ids and m}
            if new_matches:
                await conn.execute(
                    insert(t.matches),
                    [
                        {
                            "story_id": sid,
                            "labels": list(m.labels),
                            "evidence": _evidence_to_json(m),
                            "matched_at": now,
                        }
                        for sid, m in new_matches.items()
                    ],
                )
            queued = 0
            if alert and new_matches:
                queued = await self._queue(
                    conn, [s for s in stories if s.id in new_matches], new_matches, now
                )
            await conn.execute(
                update(t.feeds)
                .where(t.feeds.c.id == feed_id)
                .values(
                    etag=feed_update.etag,
                    last_modified=feed_update.last_modified,
                    next_poll_at=feed_update.next_poll_at,
                    last_polled_at=now,
                    last_success_at=now,
                    **({} if feed_update.not_modified else {"last_listed_at": now}),
                    initialized=True,
                    error_count=0,
                    last_error=None,
                    **({"last_new_at": now} if new_ids else {}),
                )
            )
        return IngestResult(new_stories=len(new_ids), matched=len(new_matches), queued=queued)

    async def _insert_new_stories(
        self, conn: AsyncConnection, stories: Sequence[Story], now: datetime
    ) -> set[str]:
        ids = [s.id for s in stories]
        existing: set[str] = set()
        for start in range(0, len(ids), 500):
            rows = await conn.execute(
                select(t.stories.c.id).where(t.stories.c.id.in_(ids[start : start + 500]))
            )
            existing.update(r.id for r in rows)
        if existing:
            # still in its feed: keep it from being pruned (and so from alerting again later)
            await conn.execute(
                update(t.stories).where(t.stories.c.id.in_(list(existing))).values(seen_at=now)
            )
        fresh: dict[str, Story] = {}
        for s in stories:
            if s.id not in existing and s.id not in fresh:
                fresh[s.id] = s
        if fresh:
            await conn.execute(
                insert(t.stories),
                [
                    {
                        "id": s.id,
                        "feed_id": s.feed_id,
                        "title": s.title,
                        "summary": s.summary,
                        "link": s.link,
                        "published": s.published,
                        "image": s.image,
                        "language": s.language,
                        "seen_at": now,
                    }
                    for s in fresh.values()
                ],
            )
        return set(fresh)

    async def _queue(
        self,
        conn: AsyncConnection,
        stories: Sequence[Story],
        matched: dict[str, Match],
        now: datetime,
    ) -> int:
        subs = [
            _subscription_from_row(r)
            for r in await conn.execute(
                select(*_SUBSCRIPTION_COLUMNS)
                .select_from(t.subscriptions.outerjoin(t.chat_settings, _SETTINGS_JOIN))
                .where(t.subscriptions.c.active)
            )
        ]
        rows = []
        for story in stories:
            labels = set(matched[story.id].labels)
            for sub in subs:
                if labels.intersection(sub.labels):
                    rows.append(
                        {
                            "subscription_id": sub.id,
                            "story_id": story.id,
                            "published": story.published,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
        if rows:
            await conn.execute(insert(t.outbox), rows)
        return len(rows)

    # --- subscriptions ------------------------------------------------------------------

    async def subscription(
        self, platform: str, chat_id: str, thread_id: str = ""
    ) -> Subscription | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_SUBSCRIPTION_COLUMNS)
                    .select_from(t.subscriptions.outerjoin(t.chat_settings, _SETTINGS_JOIN))
                    .where(
                        t.subscriptions.c.platform == platform,
                        t.subscriptions.c.chat_id == chat_id,
                        t.subscriptions.c.thread_id == thread_id,
                    )
                )
            ).first()
            return None if row is None else _subscription_from_row(row)

    async def subscriptions(
        self, platform: str | None = None, chat_id: str | None = None
    ) -> list[Subscription]:
        query = select(*_SUBSCRIPTION_COLUMNS).select_from(
            t.subscriptions.outerjoin(t.chat_settings, _SETTINGS_JOIN)
        )
        if platform is not None:
            query = query.where(t.subscriptions.c.platform == platform)
        if chat_id is not None:
            query = query.where(t.subscriptions.c.chat_id == chat_id)
        async with self._engine.connect() as conn:
            return [
                _subscription_from_row(r)
                for r in await conn.execute(query.order_by(t.subscriptions.c.id))
            ]

    async def save_subscription(
        self,
        platform: str,
        chat_id: str,
        labels: Sequence[str],
        now: datetime,
        *,
        thread_id: str = "",
        guild_id: str | None = None,
    ) -> Subscription:
        """Create or replace a chat's labels. Non-empty labels make it active again;
        empty labels deactivate it (unsubscribed), keeping the row for its history."""
        active = bool(labels)
        values: dict[str, Any] = {
            "labels": list(labels),
            "active": active,
            "paused_reason": None if active else "unsubscribed",
            "updated_at": now,
        }
        if guild_id is not None:
            values["guild_id"] = guild_id
        async with self._write() as conn:
            where = and_(
                t.subscriptions.c.platform == platform,
                t.subscriptions.c.chat_id == chat_id,
                t.subscriptions.c.thread_id == thread_id,
            )
            result = await conn.execute(update(t.subscriptions).where(where).values(**values))
            if result.rowcount == 0:
                try:
                    await conn.execute(
                        insert(t.subscriptions).values(
                            platform=platform,
                            chat_id=chat_id,
                            thread_id=thread_id,
                            created_at=now,
                            **values,
                        )
                    )
                except IntegrityError:  # a concurrent insert won the race; update instead
                    await conn.execute(update(t.subscriptions).where(where).values(**values))
            if not active:
                await self._cancel_pending(conn, where, "unsubscribed", now)
        sub = await self.subscription(platform, chat_id, thread_id)
        assert sub is not None
        return sub

    async def pause_chat(self, platform: str, chat_id: str, reason: str, now: datetime) -> int:
        """Pause every subscription of a chat (bot blocked, kicked, chat gone, no permission).

        Their pending alerts are cancelled with the reason: when the chat comes back and
        subscribes again it starts fresh instead of receiving a flood of old stories.
        """
        where = and_(t.subscriptions.c.platform == platform, t.subscriptions.c.chat_id == chat_id)
        async with self._write() as conn:
            result = await conn.execute(
                update(t.subscriptions)
                .where(where, t.subscriptions.c.active)
                .values(active=False, paused_reason=reason, updated_at=now)
            )
            await self._cancel_pending(conn, where, f"paused: {reason}", now)
            return int(result.rowcount)

    async def pause_subscription(self, subscription_id: int, reason: str, now: datetime) -> None:
        """Pause one subscription (e.g. its Telegram forum topic was deleted), not the chat."""
        where = t.subscriptions.c.id == subscription_id
        async with self._write() as conn:
            await conn.execute(
                update(t.subscriptions)
                .where(where)
                .values(active=False, paused_reason=reason, updated_at=now)
            )
            await self._cancel_pending(conn, where, f"paused: {reason}", now)

    async def _cancel_pending(
        self, conn: AsyncConnection, where: Any, reason: str, now: datetime
    ) -> None:
        sub_ids = select(t.subscriptions.c.id).where(where).scalar_subquery()
        await conn.execute(
            update(t.outbox)
            .where(t.outbox.c.subscription_id.in_(sub_ids), t.outbox.c.status == "pending")
            .values(status="cancelled", last_error=reason)
        )

    async def migrate_chat(
        self, platform: str, old_chat_id: str, new_chat_id: str, now: datetime
    ) -> ChatMigration:
        """A Telegram group became a supergroup: move its subscriptions, alerts and settings.

        Each subscription of the old chat (per topic) moves to the new id. When the new chat
        already has a subscription for the same topic (someone subscribed there after the
        upgrade), that one survives and the old one is deactivated; the old one's pending
        alerts move to it, so nothing is stranded (issue 11, point 5). An alert for a story
        the survivor already has (queued or sent) is cancelled with the reason instead of
        being sent twice, and so is every pending alert when the survivor is paused.
        """
        moved = cancelled = 0
        reason = f"migrated to {new_chat_id}"
        async with self._write() as conn:
            old_subs = (
                await conn.execute(
                    select(t.subscriptions.c.id, t.subscriptions.c.thread_id).where(
                        t.subscriptions.c.platform == platform,
                        t.subscriptions.c.chat_id == old_chat_id,
                    )
                )
            ).all()
            for old in old_subs:
                survivor = (
                    await conn.execute(
                        select(t.subscriptions.c.id, t.subscriptions.c.active).where(
                            t.subscriptions.c.platform == platform,
                            t.subscriptions.c.chat_id == new_chat_id,
                            t.subscriptions.c.thread_id == old.thread_id,
                        )
                    )
                ).first()
                if survivor is None:
                    await conn.execute(
                        update(t.subscriptions)
                        .where(t.subscriptions.c.id == old.id)
                        .values(chat_id=new_chat_id, updated_at=now)
                    )
                    continue
                pending = and_(t.outbox.c.subscription_id == old.id, t.outbox.c.status == "pending")
                if survivor.active:
                    already_there = (
                        select(t.outbox.c.story_id)
                        .where(t.outbox.c.subscription_id == survivor.id)
                        .scalar_subquery()
                    )
                    cancelled += (
                        await conn.execute(
                            update(t.outbox)
                            .where(pending, t.outbox.c.story_id.in_(already_there))
                            .values(
                                status="cancelled",
                                last_error=f"{reason}: the story is already queued there",
                            )
                        )
                    ).rowcount
                    moved += (
                        await conn.execute(
                            update(t.outbox).where(pending).values(subscription_id=survivor.id)
                        )
                    ).rowcount
                else:
                    cancelled += (
                        await conn.execute(
                            update(t.outbox)
                            .where(pending)
                            .values(
                                status="cancelled",
                                last_error=f"{reason}, where the subscription is paused",
                            )
                        )
                    ).rowcount
                await conn.execute(
                    update(t.subscriptions)
                    .where(t.subscriptions.c.id == old.id)
                    .values(active=False, paused_reason=reason, updated_at=now)
                )
            settings_there = (
                await conn.execute(
                    select(func.count())
                    .select_from(t.chat_settings)
                    .where(
                        t.chat_settings.c.platform == platform,
                        t.chat_settings.c.chat_id == new_chat_id,
                    )
                )
            ).scalar()
            old_settings = and_(
                t.chat_settings.c.platform == platform, t.chat_settings.c.chat_id == old_chat_id
            )
            if settings_there:  # the new chat's own choice wins
                await conn.execute(delete(t.chat_settings).where(old_settings))
            else:
                await conn.execute(
                    update(t.chat_settings).where(old_settings).values(chat_id=new_chat_id)
                )
        result = ChatMigration(moved=moved, cancelled=cancelled)
        if moved or cancelled:
            # one line per outcome; the cancelled rows carry their reason in last_error
            log.log(
                logging.WARNING if cancelled else logging.INFO,
                "chat_migration_alerts platform=%s from=%s to=%s moved=%d cancelled=%d",
                platform,
                old_chat_id,
                new_chat_id,
                moved,
                cancelled,
            )
        return result

    async def chat_lang(self, platform: str, chat_id: str) -> str | None:
        async with self._engine.connect() as conn:
            return (
                await conn.execute(
                    select(t.chat_settings.c.lang).where(
                        t.chat_settings.c.platform == platform, t.chat_settings.c.chat_id == chat_id
                    )
                )
            ).scalar()

    async def set_chat_lang(self, platform: str, chat_id: str, lang: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                delete(t.chat_settings).where(
                    t.chat_settings.c.platform == platform, t.chat_settings.c.chat_id == chat_id
                )
            )
            await conn.execute(
                insert(t.chat_settings).values(platform=platform, chat_id=chat_id, lang=lang)
            )

    # --- outbox -------------------------------------------------------------------------

    async def next_deliveries(
        self, platforms: Sequence[str], now: datetime, limit: int = 500
    ) -> list[Delivery]:
        """The head of each active subscription's queue, if it is due.

        Alerts go out in publication order per subscription: only the oldest pending row of
        each subscription is eligible, so a row waiting for a retry holds back the later ones.
        """
        ranked = (
            select(
                t.outbox.c.id,
                func.row_number()
                .over(
                    partition_by=t.outbox.c.subscription_id,
                    order_by=(t.outbox.c.published, t.outbox.c.id),
                )
                .label("rank"),
            )
            .where(t.outbox.c.status == "pending")
            .subquery()
        )
        query = (
            select(
                t.outbox.c.id.label("outbox_id"),
                t.outbox.c.attempts,
                t.outbox.c.created_at.label("queued_at"),
                *_SUBSCRIPTION_COLUMNS,
                t.stories,
                t.matches.c.labels.label("match_labels"),
                t.matches.c.evidence,
            )
            .select_from(
                ranked.join(t.outbox, t.outbox.c.id == ranked.c.id)
                .join(t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id)
                .outerjoin(t.chat_settings, _SETTINGS_JOIN)
                .join(t.stories, t.stories.c.id == t.outbox.c.story_id)
                .join(t.matches, t.matches.c.story_id == t.outbox.c.story_id)
            )
            .where(
                ranked.c.rank == 1,
                t.outbox.c.next_attempt_at <= now,
                t.subscriptions.c.active,
                t.subscriptions.c.platform.in_(platforms),
            )
            .order_by(t.outbox.c.published, t.outbox.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [
                Delivery(
                    outbox_id=r.outbox_id,
                    attempts=r.attempts,
                    queued_at=r.queued_at,
                    subscription=_subscription_from_row(r),
                    story=_story_from_row(r),
                    match=_match_from_row(r.match_labels, r.evidence),
                )
                for r in await conn.execute(query)
            ]

    async def next_delivery_at(self, platforms: Sequence[str]) -> datetime | None:
        async with self._engine.connect() as conn:
            value: datetime | None = (
                await conn.execute(
                    select(func.min(t.outbox.c.next_attempt_at))
                    .select_from(
                        t.outbox.join(
                            t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id
                        )
                    )
                    .where(
                        t.outbox.c.status == "pending",
                        t.subscriptions.c.active,
                        t.subscriptions.c.platform.in_(platforms),
                    )
                )
            ).scalar()
            return value

    async def mark_sent(self, outbox_id: int, message_id: str | None, now: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(
                    status="sent",
                    message_id=message_id,
                    sent_at=now,
                    attempts=t.outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    async def mark_retry(
        self, outbox_id: int, error: str, next_attempt_at: datetime, *, count_attempt: bool = True
    ) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(
                    last_error=error,
                    next_attempt_at=next_attempt_at,
                    attempts=t.outbox.c.attempts + (1 if count_attempt else 0),
                )
            )

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(status="failed", last_error=error, attempts=t.outbox.c.attempts + 1)
            )

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """(platform, status) -> number of outbox rows."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.subscriptions.c.platform, t.outbox.c.status, func.count())
                .select_from(
                    t.outbox.join(
                        t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id
                    )
                )
                .group_by(t.subscriptions.c.platform, t.outbox.c.status)
            )
            return {(r[0], r[1]): int(r[2]) for r in rows}

    async def outbox_rows(self) -> list[dict[str, Any]]:
        """Every outbox row with its chat, for tests and diagnostics."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    t.outbox,
                    t.subscriptions.c.platform,
                    t.subscriptions.c.chat_id,
                    t.subscriptions.c.thread_id,
                )
                .select_from(
                    t.outbox.join(
                        t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id
                    )
                )
                .order_by(t.outbox.c.id)
            )
            return [dict(r._mapping) for r in rows]

    # --- reading stories ----------------------------------------------------------------

    async def latest_alerts(self, labels: Sequence[str], limit: int = 5) -> list[StoredAlert]:
        """The newest matched stories carrying any of `labels`, newest first."""
        wanted = set(labels)
        found: list[StoredAlert] = []
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.stories, t.matches.c.labels.label("match_labels"), t.matches.c.evidence)
                .select_from(t.stories.join(t.matches, t.matches.c.story_id == t.stories.c.id))
                .order_by(t.stories.c.published.desc(), t.stories.c.id.desc())
                .limit(max(limit * 40, 200))
            )
            for r in rows:
                if wanted.intersection(r.match_labels):
                    found.append(
                        StoredAlert(_story_from_row(r), _match_from_row(r.match_labels, r.evidence))
                    )
                    if len(found) == limit:
                        break
        return found

    async def count_stories(self) -> int:
        async with self._engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(t.stories))).scalar() or 0
            )

    async def prune(self, now: datetime, retention: timedelta) -> int:
        """Delete stories older than the retention that nothing still needs.

        A story id must stay known while its feed still lists it, or it would alert again. A
        feed answering 304 lists the same items without refreshing their `seen_at`, so age
        alone is not enough: a story goes only when its feed has since served its list without
        it (`last_listed_at` after its `seen_at`), or its feed is disabled, and no pending
        alert needs it.
        """
        cutoff = now - retention
        pending = select(t.outbox.c.story_id).where(t.outbox.c.status == "pending")
        may_still_be_listed = (
            select(t.feeds.c.id)
            .where(
                t.feeds.c.id == t.stories.c.feed_id,
                t.feeds.c.enabled,
                or_(
                    t.feeds.c.last_listed_at.is_(None),
                    t.feeds.c.last_listed_at <= t.stories.c.seen_at,
                ),
            )
            .exists()
        )
        old = select(t.stories.c.id).where(
            t.stories.c.seen_at < cutoff,
            t.stories.c.id.not_in(pending),
            ~may_still_be_listed,
        )
        async with self._write() as conn:
            await conn.execute(delete(t.outbox).where(t.outbox.c.story_id.in_(old)))
            await conn.execute(delete(t.matches).where(t.matches.c.story_id.in_(old)))
            result = await conn.execute(delete(t.stories).where(t.stories.c.id.in_(old)))
            return int(result.rowcount)
