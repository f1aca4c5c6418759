"""Stories in: a successful poll stored in one transaction, and the stories read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Match, Story

from . import records as rec
from . import tables as t
from .engine import Repository


class StoryRepository(Repository):
    """Stories, their matches and the outbox rows a poll queues."""

    async def known_story_ids(self, ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        async with self._db.read() as conn:
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                rows = await conn.execute(select(t.stories.c.id).where(t.stories.c.id.in_(chunk)))
                known.update(r.id for r in rows)
        return known

    async def recent_titles(self, feed_id: str, titles: Sequence[str], since: datetime) -> set[str]:
        """Which of `titles` a story of this feed, seen since `since`, already has."""
        found: set[str] = set()
        wanted = list(dict.fromkeys(titles))
        async with self._db.read() as conn:
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

    async def ingest(
        self,
        feed_id: str,
        stories: Sequence[Story],
        matched: dict[str, Match],
        feed_update: rec.FeedUpdate,
        now: datetime,
        *,
        alert: bool,
        listed: Sequence[str] = (),
    ) -> rec.IngestResult:
        """Store a successful poll in ONE transaction.

        New stories, their matches, one outbox row per (active subscription, matching story)
        and the feed's new state commit together, so a crash leaves either all or none.
        `alert=False` (a feed's first poll) records stories as seen and queues nothing.
        `listed`: ids of stored stories the feed still lists that were not parsed again
        (feeds/incremental.py); they are marked seen like the listed `stories`.
        """
        async with self._db.write() as conn:
            new_ids = await self._insert_new_stories(conn, stories, now)
            for start in range(0, len(listed), 500):
                chunk = list(listed[start : start + 500])
                await conn.execute(
                    update(t.stories).where(t.stories.c.id.in_(chunk)).values(seen_at=now)
                )
            new_matches = {sid: m for sid, m in matched.items() if sid in new_ids and m}
            if new_matches:
                await conn.execute(
                    insert(t.matches),
                    [
                        {
                            "story_id": sid,
                            "labels": list(m.labels),
                            "evidence": rec.evidence_to_json(m),
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
                    lease_owner=None,  # the poll's claim ends with its outcome
                    lease_until=None,
                    error_count=0,
                    last_error=None,
                    **({"last_new_at": now} if new_ids else {}),
                )
            )
        return rec.IngestResult(new_stories=len(new_ids), matched=len(new_matches), queued=queued)

    async def _insert_new_stories(
        self, conn: AsyncConnection, stories: Sequence[Story], now: datetime
    ) -> set[str]:
        # Sorted, so that two instances ingesting overlapping stories on PostgreSQL lock the
        # rows in the same order and cannot deadlock.
        ids = sorted({s.id for s in stories})
        postgres = self._db.dialect == "postgresql"
        existing: set[str] = set()
        for start in range(0, len(ids), 500):
            query = select(t.stories.c.id).where(t.stories.c.id.in_(ids[start : start + 500]))
            if postgres:
                query = query.order_by(t.stories.c.id).with_for_update()
            existing.update(r.id for r in await conn.execute(query))
        if existing:
            # still in its feed: keep it from being pruned (and so from alerting again later)
            await conn.execute(
                update(t.stories).where(t.stories.c.id.in_(sorted(existing))).values(seen_at=now)
            )
        fresh: dict[str, Story] = {}
        for s in sorted(stories, key=lambda s: s.id):
            if s.id not in existing and s.id not in fresh:
                fresh[s.id] = s
        if not fresh:
            return set()
        rows = [
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
        ]
        # Another instance may have inserted some of them since the look above (two feeds
        # listing one story): that instance alerts on them, this one treats them as known.
        upsert = pg_insert if postgres else sqlite_insert
        inserted = await conn.execute(
            upsert(t.stories)
            .on_conflict_do_nothing(index_elements=[t.stories.c.id])
            .returning(t.stories.c.id),
            rows,
        )
        return {r.id for r in inserted}

    async def _queue(
        self,
        conn: AsyncConnection,
        stories: Sequence[Story],
        matched: dict[str, Match],
        now: datetime,
    ) -> int:
        subs = [
            rec.subscription_from_row(r)
            for r in await conn.execute(
                select(*rec.SUBSCRIPTION_COLUMNS)
                .select_from(t.subscriptions.outerjoin(t.chat_settings, rec.SETTINGS_JOIN))
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

    async def latest_alerts(self, labels: Sequence[str], limit: int = 5) -> list[rec.StoredAlert]:
        """The newest matched stories carrying any of `labels`, newest first."""
        wanted = set(labels)
        found: list[rec.StoredAlert] = []
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.stories, t.matches.c.labels.label("match_labels"), t.matches.c.evidence)
                .select_from(t.stories.join(t.matches, t.matches.c.story_id == t.stories.c.id))
                .order_by(t.stories.c.published.desc(), t.stories.c.id.desc())
                .limit(max(limit * 40, 200))
            )
            for r in rows:
                if wanted.intersection(r.match_labels):
                    found.append(
                        rec.StoredAlert(
                            rec.story_from_row(r), rec.match_from_row(r.match_labels, r.evidence)
                        )
                    )
                    if len(found) == limit:
                        break
        return found

    async def count_stories(self) -> int:
        async with self._db.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(t.stories))).scalar() or 0
            )
