"""A chat's own words (/follow) and its silenced labels (/mute), issue 13.

Follows belong to a subscription (a Telegram forum topic has its own). Every change to the
follows bumps `follows_generation` in the meta table, in the same transaction: the poller keeps
one automaton of every chat's words and rebuilds it when the generation it built from is no
longer the stored one (feeds/follows.py). A subscription is active while it has labels or
follows: the last word unfollowed from a chat without labels unsubscribes it, as the last
label does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from . import records as rec
from . import tables as t
from .engine import upsert
from .subscriptions import SubscriptionRepository, chat_where, has_follows, upsert_subscription

GENERATION_KEY = "follows_generation"
# read before matching every changed feed's new stories: built once (store/ingest.py says why)
_GENERATION = select(t.meta.c.value).where(t.meta.c.key == GENERATION_KEY)
# read by every poll that queues alerts, likewise
_MUTED = select(t.mutes.c.subscription_id, t.mutes.c.label).where(
    or_(t.mutes.c.until.is_(None), t.mutes.c.until > bindparam("now", type_=t.mutes.c.until.type))
)


async def read_generation(conn: AsyncConnection) -> int:
    """The follow generation (`follow_generation`) on an open connection."""
    value = (await conn.execute(_GENERATION)).scalar()
    return int(value) if value else 0


class FollowRepository(SubscriptionRepository):
    """The `follows` and `mutes` tables."""

    async def follows(
        self, platform: str, chat_id: str, thread_id: str = ""
    ) -> list[rec.FollowedTerm]:
        """The words a chat follows, in the order it added them."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.follows.c.text, t.follows.c.key)
                .select_from(
                    t.follows.join(
                        t.subscriptions, t.subscriptions.c.id == t.follows.c.subscription_id
                    )
                )
                .where(chat_where(platform, chat_id, thread_id))
                .order_by(t.follows.c.position)
            )
            return [rec.FollowedTerm(r.text, r.key) for r in rows]

    async def add_follows(
        self,
        platform: str,
        chat_id: str,
        terms: Sequence[rec.FollowedTerm],
        now: datetime,
        *,
        thread_id: str = "",
        guild_id: str | None = None,
    ) -> None:
        """Follow `terms` (already checked by core.follows). The chat's subscription is made
        if it has none, and active again if it was paused or unsubscribed (its labels kept)."""
        if not terms:
            return
        async with self._db.write() as conn:
            values: dict[str, Any] = {"active": True, "paused_reason": None, "updated_at": now}
            if guild_id is not None:
                values["guild_id"] = guild_id
            chat = (platform, chat_id, thread_id)
            exists = (
                await conn.execute(select(t.subscriptions.c.id).where(chat_where(*chat)))
            ).first()
            if exists is None:
                values["labels"] = []
            await upsert_subscription(conn, self._db.dialect, chat, values, now)
            sub_id = (
                await conn.execute(select(t.subscriptions.c.id).where(chat_where(*chat)))
            ).scalar_one()
            have = {
                r.key: r.position
                for r in await conn.execute(
                    select(t.follows.c.key, t.follows.c.position).where(
                        t.follows.c.subscription_id == sub_id
                    )
                )
            }
            new = [term for term in dict((term.key, term) for term in terms).values()]
            first = max(have.values(), default=0) + 1
            rows = [
                {
                    "subscription_id": sub_id,
                    "key": term.key,
                    "text": term.text,
                    "position": first + n,
                    "created_at": now,
                }
                for n, term in enumerate(t for t in new if t.key not in have)
            ]
            if rows:
                await conn.execute(insert(t.follows), rows)
            await self._bump_generation(conn)

    async def remove_follows(
        self, platform: str, chat_id: str, keys: Sequence[str], now: datetime, thread_id: str = ""
    ) -> list[rec.FollowedTerm]:
        """Stop following the words with these matching forms; returns those removed. A chat
        left with neither labels nor words is unsubscribed (its pending alerts cancelled)."""
        where = chat_where(platform, chat_id, thread_id)
        async with self._db.write() as conn:
            sub = (
                await conn.execute(
                    select(t.subscriptions.c.id, t.subscriptions.c.labels).where(where)
                )
            ).first()
            if sub is None or not keys:
                return []
            mine = and_(t.follows.c.subscription_id == sub.id, t.follows.c.key.in_(list(keys)))
            removed = [
                rec.FollowedTerm(r.text, r.key)
                for r in await conn.execute(
                    select(t.follows.c.text, t.follows.c.key)
                    .where(mine)
                    .order_by(t.follows.c.position)
                )
            ]
            if not removed:
                return []
            await conn.execute(delete(t.follows).where(mine))
            await self._bump_generation(conn)
            if not sub.labels and not await has_follows(conn, where):
                await conn.execute(
                    update(t.subscriptions)
                    .where(where)
                    .values(active=False, paused_reason="unsubscribed", updated_at=now)
                )
                await self._cancel_pending(conn, where, "unsubscribed", now)
            return removed

    async def clear_follows(
        self, platform: str, chat_id: str, now: datetime, thread_id: str = ""
    ) -> int:
        """Forget every word a chat follows (`/unsubscribe` with nothing after it)."""
        keys = [term.key for term in await self.follows(platform, chat_id, thread_id)]
        return len(await self.remove_follows(platform, chat_id, keys, now, thread_id))

    async def all_follows(self) -> list[tuple[int, str]]:
        """(subscription id, matching form) of every followed word, for the matcher."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.follows.c.subscription_id, t.follows.c.key).order_by(
                    t.follows.c.subscription_id, t.follows.c.key
                )
            )
            return [(r.subscription_id, r.key) for r in rows]

    async def follow_generation(self) -> int:
        """Changes to anyone's follows so far (0: none ever)."""
        async with self._db.read() as conn:
            return await read_generation(conn)

    async def _bump_generation(self, conn: AsyncConnection) -> None:
        # One atomic statement: two instances changing follows at once both count, so a
        # matcher that built from one generation never misses the other change.
        await conn.execute(
            upsert(self._db.dialect, t.meta)
            .values(key=GENERATION_KEY, value="1")
            .on_conflict_do_update(
                index_elements=[t.meta.c.key],
                set_={"value": cast(cast(t.meta.c.value, Integer) + 1, String)},
            )
        )

    # -- mutes --------------------------------------------------------------------------

    async def mutes(
        self, platform: str, chat_id: str, now: datetime, thread_id: str = ""
    ) -> list[rec.Mute]:
        """The labels a chat has silenced and not yet got back at `now`."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.mutes.c.label, t.mutes.c.until)
                .select_from(
                    t.mutes.join(t.subscriptions, t.subscriptions.c.id == t.mutes.c.subscription_id)
                )
                .where(
                    chat_where(platform, chat_id, thread_id),
                    or_(t.mutes.c.until.is_(None), t.mutes.c.until > now),
                )
                .order_by(t.mutes.c.label)
            )
            return [rec.Mute(r.label, r.until) for r in rows]

    async def set_mutes(
        self,
        platform: str,
        chat_id: str,
        labels: Sequence[str],
        until: datetime | None,
        now: datetime,
        thread_id: str = "",
    ) -> bool:
        """Silence `labels` for a chat until `until` (None: until `remove_mutes`), replacing
        an earlier mute of them. False if the chat has no subscription."""
        async with self._db.write() as conn:
            sub_id = (
                await conn.execute(
                    select(t.subscriptions.c.id).where(chat_where(platform, chat_id, thread_id))
                )
            ).scalar()
            if sub_id is None:
                return False
            mine = and_(t.mutes.c.subscription_id == sub_id, t.mutes.c.label.in_(list(labels)))
            await conn.execute(delete(t.mutes).where(mine))
            await conn.execute(
                insert(t.mutes),
                [
                    {"subscription_id": sub_id, "label": label, "until": until, "created_at": now}
                    for label in dict.fromkeys(labels)
                ],
            )
            return True

    async def remove_mutes(
        self, platform: str, chat_id: str, labels: Sequence[str], now: datetime, thread_id: str = ""
    ) -> list[str]:
        """Give `labels` back to a chat; returns those that were muted (and not yet over)."""
        sub_ids = (
            select(t.subscriptions.c.id)
            .where(chat_where(platform, chat_id, thread_id))
            .scalar_subquery()
        )
        mine = and_(t.mutes.c.subscription_id.in_(sub_ids), t.mutes.c.label.in_(list(labels)))
        async with self._db.write() as conn:
            active = [
                r.label
                for r in await conn.execute(
                    select(t.mutes.c.label).where(
                        mine, or_(t.mutes.c.until.is_(None), t.mutes.c.until > now)
                    )
                )
            ]
            await conn.execute(delete(t.mutes).where(mine))
            return [label for label in labels if label in active]


async def muted_labels(conn: AsyncConnection, now: datetime) -> dict[int, set[str]]:
    """subscription id -> its labels silenced at `now` (for queueing alerts)."""
    out: dict[int, set[str]] = {}
    rows = await conn.execute(_MUTED, {"now": now})
    for r in rows:
        out.setdefault(r.subscription_id, set()).add(r.label)
    return out


async def followed_keys(conn: AsyncConnection, sub_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(subscription, matching form) pairs still followed among `sub_ids`: the automaton may
    be one change behind, the table is not."""
    out: set[tuple[int, str]] = set()
    ids = sorted(set(sub_ids))
    for start in range(0, len(ids), 500):
        rows = await conn.execute(
            select(t.follows.c.subscription_id, t.follows.c.key).where(
                t.follows.c.subscription_id.in_(ids[start : start + 500])
            )
        )
        out.update((r.subscription_id, r.key) for r in rows)
    return out
