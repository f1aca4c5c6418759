"""Who gets what: subscriptions per chat (and topic), pauses, chat migrations, chat settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from . import records as rec
from . import tables as t
from .engine import Repository

log = logging.getLogger("mirsad.store")


def chat_where(platform: str, chat_id: str, thread_id: str) -> Any:
    """The subscription of one chat (and forum topic)."""
    return and_(
        t.subscriptions.c.platform == platform,
        t.subscriptions.c.chat_id == chat_id,
        t.subscriptions.c.thread_id == thread_id,
    )


async def has_follows(conn: AsyncConnection, where: Any) -> bool:
    """Whether the subscription(s) selected by `where` follow words of their own (/follow)."""
    sub_ids = select(t.subscriptions.c.id).where(where).scalar_subquery()
    found = await conn.execute(
        select(t.follows.c.key).where(t.follows.c.subscription_id.in_(sub_ids)).limit(1)
    )
    return found.first() is not None


async def _move_chat_row(
    conn: AsyncConnection, table: Table, platform: str, old_chat_id: str, new_chat_id: str
) -> None:
    """A per-chat row (`table` keyed by platform and chat_id) moved to the chat's new id; when
    the new chat has its own row already, the new chat's own choice wins."""
    there = (
        await conn.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.platform == platform, table.c.chat_id == new_chat_id)
        )
    ).scalar()
    old = and_(table.c.platform == platform, table.c.chat_id == old_chat_id)
    if there:
        await conn.execute(delete(table).where(old))
    else:
        await conn.execute(update(table).where(old).values(chat_id=new_chat_id))


async def upsert_subscription(
    conn: AsyncConnection,
    dialect: str,
    chat: tuple[str, str, str],
    values: dict[str, Any],
    now: datetime,
) -> None:
    """Update the subscription of `chat` (platform, chat id, thread id) with `values`, or
    create it. `values` must hold every column a new row needs besides its chat."""
    where = chat_where(*chat)
    result = await conn.execute(update(t.subscriptions).where(where).values(**values))
    if result.rowcount:
        return
    platform, chat_id, thread_id = chat
    # PostgreSQL aborts the whole transaction on an error: isolate the insert
    savepoint: AbstractAsyncContextManager[Any] = (
        conn.begin_nested() if dialect == "postgresql" else nullcontext()
    )
    try:
        async with savepoint:
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


class SubscriptionRepository(Repository):
    """The `subscriptions` and `chat_settings` tables."""

    async def subscription(
        self, platform: str, chat_id: str, thread_id: str = ""
    ) -> rec.Subscription | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(*rec.SUBSCRIPTION_COLUMNS)
                    .select_from(t.subscriptions.outerjoin(t.chat_settings, rec.SETTINGS_JOIN))
                    .where(
                        t.subscriptions.c.platform == platform,
                        t.subscriptions.c.chat_id == chat_id,
                        t.subscriptions.c.thread_id == thread_id,
                    )
                )
            ).first()
            return None if row is None else rec.subscription_from_row(row)

    async def subscriptions(
        self, platform: str | None = None, chat_id: str | None = None
    ) -> list[rec.Subscription]:
        query = select(*rec.SUBSCRIPTION_COLUMNS).select_from(
            t.subscriptions.outerjoin(t.chat_settings, rec.SETTINGS_JOIN)
        )
        if platform is not None:
            query = query.where(t.subscriptions.c.platform == platform)
        if chat_id is not None:
            query = query.where(t.subscriptions.c.chat_id == chat_id)
        async with self._db.read() as conn:
            return [
                rec.subscription_from_row(r)
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
    ) -> rec.Subscription:
        """Create or replace a chat's labels. Non-empty labels make it active again;
        empty labels deactivate it (unsubscribed), keeping the row for its history."""
        async with self._db.write() as conn:
            where = chat_where(platform, chat_id, thread_id)
            # issue 13: a chat that follows its own words stays subscribed without labels
            active = bool(labels) or await has_follows(conn, where)
            values: dict[str, Any] = {
                "labels": list(labels),
                "active": active,
                "paused_reason": None if active else "unsubscribed",
                "updated_at": now,
            }
            if guild_id is not None:
                values["guild_id"] = guild_id
            await upsert_subscription(
                conn, self._db.dialect, (platform, chat_id, thread_id), values, now
            )
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
        async with self._db.write() as conn:
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
        async with self._db.write() as conn:
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
    ) -> rec.ChatMigration:
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
        async with self._db.write() as conn:
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
            # its language, and its digest mode, zone and quiet hours (issue 13), follow it
            for table in (t.chat_settings, t.chat_rhythms):
                await _move_chat_row(conn, table, platform, old_chat_id, new_chat_id)
        result = rec.ChatMigration(moved=moved, cancelled=cancelled)
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
        async with self._db.read() as conn:
            return (
                await conn.execute(
                    select(t.chat_settings.c.lang).where(
                        t.chat_settings.c.platform == platform, t.chat_settings.c.chat_id == chat_id
                    )
                )
            ).scalar()

    async def set_chat_lang(self, platform: str, chat_id: str, lang: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                delete(t.chat_settings).where(
                    t.chat_settings.c.platform == platform, t.chat_settings.c.chat_id == chat_id
                )
            )
            await conn.execute(
                insert(t.chat_settings).values(platform=platform, chat_id=chat_id, lang=lang)
            )
