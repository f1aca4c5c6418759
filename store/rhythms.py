"""When each chat hears its alerts (issue 13): its digest mode, time zone and quiet hours.

The settings belong to a chat (every forum topic of a Telegram group shares them), like its
language. Changing them re-plans the alerts already waiting for a digest in one transaction:
the caller says when those should go out under the new settings (now, when the chat turned
digests off; the new digest time otherwise), so nothing waiting is lost or stays stranded at
a time the chat no longer asked for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, insert, select, update

from . import records as rec
from . import tables as t
from .engine import Repository


def _chat(platform: str, chat_id: str) -> ColumnElement[bool]:
    return and_(t.chat_rhythms.c.platform == platform, t.chat_rhythms.c.chat_id == chat_id)


class RhythmRepository(Repository):
    """The `chat_rhythms` table, and the re-planning of held outbox rows."""

    async def chat_rhythm(self, platform: str, chat_id: str) -> rec.ChatRhythm:
        async with self._db.read() as conn:
            row = (
                await conn.execute(select(t.chat_rhythms).where(_chat(platform, chat_id)))
            ).first()
        if row is None:
            return rec.NO_RHYTHM
        return rec.ChatRhythm(digest=row.digest, tz=row.tz, quiet=row.quiet)

    async def set_chat_rhythm(
        self,
        platform: str,
        chat_id: str,
        rhythm: rec.ChatRhythm,
        now: datetime,
        *,
        release_at: datetime,
    ) -> int:
        """Store a chat's rhythm and move the alerts waiting for its digest to `release_at`.
        Returns how many alerts were waiting."""
        where = _chat(platform, chat_id)
        async with self._db.write() as conn:
            await conn.execute(delete(t.chat_rhythms).where(where))
            if rhythm != rec.NO_RHYTHM:
                await conn.execute(
                    insert(t.chat_rhythms).values(
                        platform=platform,
                        chat_id=chat_id,
                        digest=rhythm.digest,
                        tz=rhythm.tz,
                        quiet=rhythm.quiet,
                        updated_at=now,
                    )
                )
            chat_subs = (
                select(t.subscriptions.c.id)
                .where(t.subscriptions.c.platform == platform, t.subscriptions.c.chat_id == chat_id)
                .scalar_subquery()
            )
            moved = await conn.execute(
                update(t.outbox)
                .where(
                    t.outbox.c.subscription_id.in_(chat_subs),
                    t.outbox.c.status == "pending",
                    t.outbox.c.digest_at.is_not(None),
                )
                .values(digest_at=release_at, next_attempt_at=release_at)
            )
            return int(moved.rowcount or 0)
