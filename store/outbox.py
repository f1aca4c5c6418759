"""The outbox: the due head of each subscription's queue and the outcome of each send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Story

from . import records as rec
from . import tables as t
from .engine import Repository


def _delivery_query(outbox: Any) -> Select[Any]:
    """The columns of a Delivery, read from `outbox` (the outbox table, joined as needed)."""
    return select(
        t.outbox.c.id.label("outbox_id"),
        t.outbox.c.attempts,
        t.outbox.c.revision,
        t.outbox.c.created_at.label("queued_at"),
        t.outbox.c.digest_at,
        *rec.SUBSCRIPTION_COLUMNS,
        t.chat_rhythms.c.digest.label("rhythm_digest"),
        t.chat_rhythms.c.tz.label("rhythm_tz"),
        t.chat_rhythms.c.quiet.label("rhythm_quiet"),
        t.stories,
        t.matches.c.labels.label("match_labels"),
        t.matches.c.evidence,
        t.outbox.c.follows.label("follow_evidence"),
    ).select_from(
        outbox.join(t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id)
        .outerjoin(t.chat_settings, rec.SETTINGS_JOIN)
        .outerjoin(
            t.chat_rhythms,
            and_(
                t.chat_rhythms.c.platform == t.subscriptions.c.platform,
                t.chat_rhythms.c.chat_id == t.subscriptions.c.chat_id,
            ),
        )
        .join(t.stories, t.stories.c.id == t.outbox.c.story_id)
        # a story may come for a chat's own words alone (issue 13): no label match
        .outerjoin(t.matches, t.matches.c.story_id == t.outbox.c.story_id)
    )


def _queue_ranks(*columns: Any) -> Select[Any]:
    """Pending outbox rows (`columns` of them) with their place in their subscription's queue
    (`rank`, 1 = the head): alerts go out per subscription in publication order."""
    return select(
        *columns,
        func.row_number()
        .over(
            partition_by=t.outbox.c.subscription_id,
            order_by=(t.outbox.c.published, t.outbox.c.id),
        )
        .label("rank"),
    ).where(t.outbox.c.status == "pending")


def _due_heads() -> Select[Any]:
    """The due head of each active subscription's queue on `platforms`, `limit` of them, by
    publication: built once (the worker asks after every send; building this statement and
    its cache key cost more CPU than running it, issue 19)."""
    ranked = _queue_ranks(t.outbox.c.id).subquery()
    return (
        _delivery_query(ranked.join(t.outbox, t.outbox.c.id == ranked.c.id))
        .where(
            ranked.c.rank == 1,
            t.outbox.c.next_attempt_at <= bindparam("now", type_=t.outbox.c.next_attempt_at.type),
            t.subscriptions.c.active,
            t.subscriptions.c.platform.in_(bindparam("platforms", expanding=True)),
        )
        .order_by(t.outbox.c.published, t.outbox.c.id)
        .limit(bindparam("limit"))
    )


_DUE_HEADS = _due_heads()
# after every send: built once, likewise
_MARK_SENT = (
    update(t.outbox)
    .where(t.outbox.c.id == bindparam("b_outbox_id"))
    .values(
        status="sent",
        message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_now", type_=t.outbox.c.sent_at.type),
        attempts=t.outbox.c.attempts + 1,
        last_error=None,
        claimed_by=None,
        claim_until=None,
    )
)


class OutboxRepository(Repository):
    """The `outbox` table, as the delivery worker uses it."""

    async def next_deliveries(
        self,
        platforms: Sequence[str],
        now: datetime,
        limit: int = 500,
        *,
        owner: str | None = None,
        claim: timedelta = timedelta(seconds=30),
    ) -> list[rec.Delivery]:
        """The head of each active subscription's queue, if it is due.

        Alerts go out in publication order per subscription: only the oldest pending row of
        each subscription is eligible, so a row waiting for a retry holds back the later ones.

        With several instances (`owner` given), the heads returned are claimed by `owner` for
        `claim`: another instance skips them, and since only heads are offered, it skips the
        rest of that queue too, so per-chat order holds. A crashed instance's claims run out.
        """
        params = {"now": now, "platforms": list(platforms), "limit": limit}
        if owner is not None:
            return await self._claim(_DUE_HEADS, params, now, owner, claim)
        async with self._db.read() as conn:
            return await self._deliveries(conn, list(await conn.execute(_DUE_HEADS, params)))

    async def _deliveries(self, conn: AsyncConnection, rows: Sequence[Any]) -> list[rec.Delivery]:
        """Outbox rows read with their story and subscription, as deliveries: with the other
        sources of the story's event and, for an edit, the message it edits."""
        also = await self._event_sources(conn, {r.id for r in rows})
        edit_of = await self._sent_message_ids(
            conn, {(r.sub_id, r.id) for r in rows if r.revision > 0}
        )
        return [
            rec.Delivery(
                outbox_id=r.outbox_id,
                attempts=r.attempts,
                queued_at=r.queued_at,
                subscription=rec.subscription_from_row(r),
                story=rec.story_from_row(r),
                match=rec.delivery_match(r.match_labels, r.evidence, r.follow_evidence),
                revision=r.revision,
                edit_of=edit_of.get((r.sub_id, r.id)),
                also=also.get(r.id, ()),
                updated=r.revised_at is not None,
                rhythm=rec.ChatRhythm(r.rhythm_digest, r.rhythm_tz, r.rhythm_quiet),
                digest_at=r.digest_at,
            )
            for r in rows
        ]

    async def _claim(
        self,
        query: Select[Any],
        params: dict[str, Any],
        now: datetime,
        owner: str,
        claim: timedelta,
    ) -> list[rec.Delivery]:
        free_or_mine = or_(
            t.outbox.c.claim_until.is_(None),
            t.outbox.c.claim_until <= now,
            t.outbox.c.claimed_by == owner,
        )
        query = query.add_columns(t.outbox.c.claim_until, t.outbox.c.claimed_by).where(free_or_mine)
        async with self._db.write() as conn:
            rows = (await conn.execute(query, params)).all()
            # a claim of ours with more than half its time left is not renewed (saves writes)
            renew = [
                r.outbox_id
                for r in rows
                if r.claimed_by != owner or r.claim_until is None or r.claim_until < now + claim / 2
            ]
            taken: set[int] = set()
            if renew:
                lockable = select(t.outbox.c.id).where(
                    t.outbox.c.id.in_(renew), t.outbox.c.status == "pending", free_or_mine
                )
                if self._db.dialect == "postgresql":
                    # the heads were found with a window function, which cannot be locked: lock
                    # the rows themselves, skipping those another instance is claiming now
                    lockable = lockable.with_for_update(skip_locked=True)
                result = await conn.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id.in_(lockable.scalar_subquery()))
                    .values(claimed_by=owner, claim_until=now + claim)
                    .returning(t.outbox.c.id)
                )
                taken = {r.id for r in result}
            # only the rows this instance holds now: claimed just now, or still ours
            held = [r for r in rows if r.outbox_id in taken or r.outbox_id not in renew]
            return await self._deliveries(conn, held)

    @staticmethod
    async def _event_sources(
        conn: AsyncConnection, story_ids: set[str]
    ) -> dict[str, tuple[Story, ...]]:
        """story id -> the other stories grouped into its event, oldest first (issue 14)."""
        out: dict[str, list[Story]] = {}
        ids = list(story_ids)
        for start in range(0, len(ids), 500):
            rows = await conn.execute(
                select(t.stories)
                .where(t.stories.c.event_id.in_(ids[start : start + 500]))
                .order_by(t.stories.c.seen_at, t.stories.c.id)
            )
            for r in rows:
                out.setdefault(r.event_id, []).append(rec.story_from_row(r))
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    async def _sent_message_ids(
        conn: AsyncConnection, alerts: set[tuple[int, str]]
    ) -> dict[tuple[int, str], str]:
        """(subscription, story) -> the platform id of the message its alert became."""
        out: dict[tuple[int, str], str] = {}
        for sub_id, story_id in alerts:
            value = (
                await conn.execute(
                    select(t.outbox.c.message_id).where(
                        t.outbox.c.subscription_id == sub_id,
                        t.outbox.c.story_id == story_id,
                        t.outbox.c.revision == 0,
                        t.outbox.c.status == "sent",
                    )
                )
            ).scalar()
            if value:
                out[(sub_id, story_id)] = value
        return out

    async def next_delivery_at(self, platforms: Sequence[str]) -> datetime | None:
        """When the next head of a queue becomes due. Only heads count: a row behind a head
        that waits (a retry, an alert held for a digest) is due only when the head has gone,
        so counting it would wake the worker again and again for nothing."""
        heads = (
            _queue_ranks(t.outbox.c.next_attempt_at)
            .select_from(
                t.outbox.join(t.subscriptions, t.subscriptions.c.id == t.outbox.c.subscription_id)
            )
            .where(t.subscriptions.c.active, t.subscriptions.c.platform.in_(platforms))
            .subquery()
        )
        async with self._db.read() as conn:
            value: datetime | None = (
                await conn.execute(
                    select(func.min(heads.c.next_attempt_at)).where(heads.c.rank == 1)
                )
            ).scalar()
            return value

    async def mark_sent(self, outbox_id: int, message_id: str | None, now: datetime) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                _MARK_SENT, {"b_outbox_id": outbox_id, "b_message_id": message_id, "b_now": now}
            )

    async def mark_retry(
        self, outbox_id: int, error: str, next_attempt_at: datetime, *, count_attempt: bool = True
    ) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(
                    last_error=error,
                    next_attempt_at=next_attempt_at,
                    attempts=t.outbox.c.attempts + (1 if count_attempt else 0),
                    claimed_by=None,
                    claim_until=None,
                )
            )

    # -- digests (issue 13) --------------------------------------------------------------

    async def hold_for_digest(self, outbox_id: int, until: datetime) -> None:
        """This alert waits until `until` and then goes out in one digest with the others of
        its subscription (those queued behind it wait anyway: one queue per subscription)."""
        async with self._db.write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id, t.outbox.c.status == "pending")
                .values(digest_at=until, next_attempt_at=until, claimed_by=None, claim_until=None)
            )

    async def digest_deliveries(self, subscription_id: int, now: datetime) -> list[rec.Delivery]:
        """Every alert of a subscription due at `now`, oldest first: what its digest holds."""
        query = (
            _delivery_query(t.outbox)
            .where(
                t.outbox.c.subscription_id == subscription_id,
                t.outbox.c.status == "pending",
                t.outbox.c.next_attempt_at <= now,
            )
            .order_by(t.outbox.c.published, t.outbox.c.id)
        )
        async with self._db.read() as conn:
            return await self._deliveries(conn, list(await conn.execute(query)))

    async def mark_digest_sent(self, sent: Sequence[int], now: datetime) -> None:
        """The digest holding the alerts `sent` went out. They keep no message id: a digest
        message is not the story's own, so no later edit (a correction) replaces it."""
        async with self._db.write() as conn:
            for start in range(0, len(sent), 500):
                await conn.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id.in_(list(sent[start : start + 500])))
                    .values(
                        status="sent",
                        message_id=None,
                        sent_at=now,
                        digest_at=func.coalesce(t.outbox.c.digest_at, now),
                        attempts=t.outbox.c.attempts + 1,
                        last_error=None,
                        claimed_by=None,
                        claim_until=None,
                    )
                )

    async def mark_cancelled(self, outbox_id: int, reason: str) -> None:
        """Nothing to send for this row, and nothing went wrong (e.g. an edit of a story the
        chat only saw in a digest)."""
        async with self._db.write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(status="cancelled", last_error=reason, claimed_by=None, claim_until=None)
            )

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(t.outbox)
                .where(t.outbox.c.id == outbox_id)
                .values(
                    status="failed",
                    last_error=error,
                    attempts=t.outbox.c.attempts + 1,
                    claimed_by=None,
                    claim_until=None,
                )
            )

    async def outbox_counts(self) -> dict[tuple[str, str], int]:
        """(platform, status) -> number of outbox rows."""
        async with self._db.read() as conn:
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
        async with self._db.read() as conn:
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
