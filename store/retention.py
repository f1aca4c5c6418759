"""Retention: stories nothing needs any more are deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from . import tables as t
from .engine import Repository


class RetentionRepository(Repository):
    """Deletes old stories with their matches and finished outbox rows."""

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
        async with self._db.write() as conn:
            await conn.execute(delete(t.outbox).where(t.outbox.c.story_id.in_(old)))
            await conn.execute(delete(t.matches).where(t.matches.c.story_id.in_(old)))
            result = await conn.execute(delete(t.stories).where(t.stories.c.id.in_(old)))
            return int(result.rowcount)
