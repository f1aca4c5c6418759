"""Read-side queries for the operator's dashboard and `/stats`, plus the dashboard's two feed
controls (poll now, pause/resume).

Kept apart from the write path (store.py): these read many rows at once, run on their own
connection pool so a slow page never holds the pollers' connections, and return plain
records made for display.

Pausing a feed sets its `paused` flag: the poll tick never picks a paused feed (store/feeds.py),
and a poll already in flight when the operator pauses writes only the feed's next poll time,
so the feed stays paused. Resuming clears the flag and makes the feed due at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models import Evidence

from . import tables as t
from .engine import create_engine

# Subscription columns every schema has; any other column (follows, digest mode...) is shown
# as it is, so the dashboard keeps up with new subscription settings without a change here.
_SUBSCRIPTION_BASE = {
    "id",
    "platform",
    "chat_id",
    "thread_id",
    "guild_id",
    "labels",
    "active",
    "paused_reason",
    "created_at",
    "updated_at",
}


@dataclass(frozen=True)
class FeedReport:
    id: str
    url: str
    language: str | None
    enabled: bool
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    next_poll_at: datetime
    error_count: int  # consecutive failed polls
    last_error: str | None
    stories_24h: int  # stories published in the last 24 hours
    paused: bool  # by the operator: not polled until resumed


@dataclass(frozen=True)
class StoryReport:
    id: str
    feed_id: str
    title: str
    link: str
    published: datetime
    language: str | None
    labels: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class SubscriptionReport:
    id: int
    platform: str
    chat_id: str
    thread_id: str
    guild_id: str | None
    labels: tuple[str, ...]
    active: bool
    paused_reason: str | None
    updated_at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)  # settings added later: follows, mode


class Reports:
    """Queries over the tables in store/tables.py, on an engine of their own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> Reports:
        """An engine of its own on the database `Store.open(url)` created and migrated (same
        connection settings: WAL, busy timeout, never creating a missing SQLite file)."""
        return cls(create_engine(url))

    async def close(self) -> None:
        await self._engine.dispose()

    # --- feeds ----------------------------------------------------------------------------

    async def feeds(self, now: datetime) -> list[FeedReport]:
        """Every configured (enabled) feed with its polling state, ordered by id."""
        f = t.feeds
        recent = (
            select(t.stories.c.feed_id, func.count().label("n"))
            .where(t.stories.c.published >= now - timedelta(hours=24))
            .group_by(t.stories.c.feed_id)
            .subquery()
        )
        query = (
            select(
                f.c.id,
                f.c.url,
                f.c.language,
                f.c.enabled,
                f.c.last_polled_at,
                f.c.last_success_at,
                f.c.last_new_at,
                f.c.next_poll_at,
                f.c.error_count,
                f.c.last_error,
                func.coalesce(recent.c.n, 0).label("stories_24h"),
                f.c.paused,
            )
            .select_from(f.outerjoin(recent, recent.c.feed_id == f.c.id))
            .where(f.c.enabled)
            .order_by(f.c.id)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [FeedReport(**r._mapping) for r in rows]

    async def poll_now(self, feed_id: str, now: datetime) -> bool:
        """Make an active feed due now (the next tick, within a second, polls it).

        False when there is no such active feed (unknown, removed, or paused)."""
        f = t.feeds
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(f)
                .where(f.c.id == feed_id, f.c.enabled, ~f.c.paused)
                .values(next_poll_at=now)
            )
            return bool(result.rowcount)

    async def set_paused(self, feed_id: str, paused: bool, now: datetime) -> bool:
        """Pause a feed (its next poll time stays as it is, shown but not acted on) or resume
        it (due now). False: no such feed."""
        f = t.feeds
        values: dict[str, Any] = (
            {"paused": True} if paused else {"paused": False, "next_poll_at": now}
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(f).where(f.c.id == feed_id, f.c.enabled).values(**values)
            )
            return bool(result.rowcount)

    # --- stories --------------------------------------------------------------------------

    async def matched_stories(
        self, *, label: str | None = None, feed_id: str | None = None, limit: int = 100
    ) -> list[StoryReport]:
        """The latest matched stories, newest match first, optionally of one label or feed."""
        s, m = t.stories, t.matches
        query = (
            select(
                s.c.id,
                s.c.feed_id,
                s.c.title,
                s.c.link,
                s.c.published,
                s.c.language,
                m.c.labels,
                m.c.evidence,
            )
            .select_from(m.join(s, s.c.id == m.c.story_id))
            .order_by(m.c.matched_at.desc(), s.c.published.desc())
            .limit(limit)
        )
        if label:
            # labels is a JSON list of ids; '"id"' in its text finds the id on SQLite and
            # PostgreSQL alike (ids are [a-z0-9_-], so quotes delimit them exactly)
            query = query.where(cast(m.c.labels, Text).contains(f'"{label}"', autoescape=True))
        if feed_id:
            query = query.where(s.c.feed_id == feed_id)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [
                StoryReport(
                    id=r.id,
                    feed_id=r.feed_id,
                    title=r.title,
                    link=r.link,
                    published=r.published,
                    language=r.language,
                    labels=tuple(r.labels),
                    evidence=tuple(_evidence(e) for e in r.evidence),
                )
                for r in rows
            ]

    async def matches_since(
        self, after: datetime | None, published_from: datetime
    ) -> list[tuple[str, str, datetime, datetime]]:
        """(story id, labels as JSON text, published, matched_at) of the matches recorded at
        or after `after` (all when None) of stories published from `published_from`, oldest
        match first. Labels stay JSON text and times are parsed here, not by the column types:
        a first load reads tens of thousands of rows."""
        s, m = t.stories, t.matches
        query = (
            select(
                m.c.story_id,
                cast(m.c.labels, Text),
                cast(s.c.published, Text),
                cast(m.c.matched_at, Text),
            )
            .select_from(m.join(s, s.c.id == m.c.story_id))
            .where(s.c.published >= published_from)
            .order_by(m.c.matched_at)
        )
        if after is not None:
            query = query.where(m.c.matched_at >= after)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            (sid, labels, _utc(published), _utc(matched))
            for sid, labels, published, matched in rows
        ]

    # --- subscriptions --------------------------------------------------------------------

    async def subscriptions(self) -> list[SubscriptionReport]:
        """Every subscription, by platform then chat."""
        sub = t.subscriptions
        query = select(sub).order_by(sub.c.platform, sub.c.chat_id, sub.c.thread_id)
        async with self._engine.connect() as conn:
            words = await self._followed_words(conn)
            rhythms = await self._rhythms(conn)
            rows = await conn.execute(query)
            out = []
            for r in rows:
                row = r._mapping
                out.append(
                    SubscriptionReport(
                        id=row["id"],
                        platform=row["platform"],
                        chat_id=row["chat_id"],
                        thread_id=row["thread_id"],
                        guild_id=row["guild_id"],
                        labels=tuple(row["labels"]),
                        active=bool(row["active"]),
                        paused_reason=row["paused_reason"],
                        updated_at=row["updated_at"],
                        extra={
                            **{
                                k: v
                                for k, v in row.items()
                                if k not in _SUBSCRIPTION_BASE and v not in (None, "", [], {})
                            },
                            **words.get(row["id"], {}),
                            **rhythms.get((row["platform"], row["chat_id"]), {}),
                        },
                    )
                )
            return out

    @staticmethod
    async def _rhythms(conn: AsyncConnection) -> dict[tuple[str, str], dict[str, str]]:
        """(platform, chat) -> its digest mode, quiet hours and zone, where set (issue 13);
        a chat without them hears each alert at once (the page says "instant")."""
        out: dict[tuple[str, str], dict[str, str]] = {}
        for r in await conn.execute(select(t.chat_rhythms)):
            chosen = {"digest": r.digest, "quiet hours": r.quiet, "time zone": r.tz}
            out[(r.platform, r.chat_id)] = {k: v for k, v in chosen.items() if v}
        return out

    @staticmethod
    async def _followed_words(conn: AsyncConnection) -> dict[int, dict[str, list[str]]]:
        """subscription id -> {"follows": its /follow words, "muted": its mutes} (issue 13)."""
        out: dict[int, dict[str, list[str]]] = {}
        follows = await conn.execute(
            select(t.follows.c.subscription_id, t.follows.c.text).order_by(
                t.follows.c.subscription_id, t.follows.c.position
            )
        )
        for r in follows:
            out.setdefault(r.subscription_id, {}).setdefault("follows", []).append(r.text)
        mutes = await conn.execute(
            select(t.mutes.c.subscription_id, t.mutes.c.label, t.mutes.c.until).order_by(
                t.mutes.c.subscription_id, t.mutes.c.label
            )
        )
        for r in mutes:
            until = "until /unmute" if r.until is None else f"until {r.until:%Y-%m-%d %H:%M} UTC"
            out.setdefault(r.subscription_id, {}).setdefault("muted", []).append(
                f"{r.label} {until}"
            )
        return out


def _utc(stored: str | datetime) -> datetime:
    """A stored naive-UTC time (text from SQLite, a datetime from PostgreSQL) as aware UTC."""
    value = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return value.replace(tzinfo=UTC)


class TrendCounts:
    """Matched stories per label per local day, for the Trends page and `/stats`.

    Kept in memory and brought up to date incrementally: each call reads only the matches
    recorded since the previous one (matches.matched_at is indexed), so a chart costs a few
    milliseconds however many stories the database holds. A story published on an earlier
    day but found late still lands on its own day. Counts are not lowered when old stories
    are pruned: a story was in the news on its day whether or not it is still stored.
    """

    HORIZON = timedelta(days=90)  # the longest window asked for (`/stats` caps its days)
    # A poll stamps matched_at before it waits its turn to write, so a match may commit after
    # one stamped later was already read: each read goes back this far, skipping what it has.
    OVERLAP = timedelta(minutes=10)

    def __init__(self, reports: Reports, zone: tzinfo) -> None:
        self._reports = reports
        self._zone = zone
        self._by_label: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        self._watermark: datetime | None = None  # the latest matched_at read
        self._recent: dict[str, datetime] = {}  # story id -> matched_at, within OVERLAP of it
        self._lock = asyncio.Lock()

    async def _catch_up(self, now: datetime) -> None:
        async with self._lock:
            since = None if self._watermark is None else self._watermark - self.OVERLAP
            rows = await self._reports.matches_since(since, now - self.HORIZON)
            for story_id, labels_json, published, matched_at in rows:
                if story_id in self._recent:
                    continue
                self._recent[story_id] = matched_at
                if self._watermark is None or matched_at > self._watermark:
                    self._watermark = matched_at
                day = published.astimezone(self._zone).date()
                for label in json.loads(labels_json):
                    self._by_label[label][day] += 1
            if self._watermark is not None:
                keep_from = self._watermark - self.OVERLAP
                self._recent = {k: v for k, v in self._recent.items() if v >= keep_from}

    async def daily(
        self, labels: Iterable[str], days: int, now: datetime
    ) -> tuple[tuple[date, ...], dict[str, tuple[int, ...]]]:
        """The `days` local days ending today, and for each label its count on each day."""
        if not 1 <= days <= self.HORIZON.days:
            raise ValueError(f"days must be 1 to {self.HORIZON.days}, not {days}")
        await self._catch_up(now)
        today = now.astimezone(self._zone).date()
        day_list = tuple(today - timedelta(days=days - 1 - i) for i in range(days))
        counts = {}
        for label in dict.fromkeys(labels):
            per_day = self._by_label.get(label, {})
            counts[label] = tuple(per_day.get(d, 0) for d in day_list)
        return day_list, counts


def _evidence(raw: Mapping[str, Any]) -> Evidence:
    return Evidence(
        label=str(raw.get("label", "")),
        term=str(raw.get("term", "")),
        text=str(raw.get("text", "")),
        field=str(raw.get("field", "")),
        start=int(raw.get("start", 0)),
        end=int(raw.get("end", 0)),
    )
