"""Feed state: which feeds exist, which are due, what each poll learned."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, and_, bindparam, func, or_, select, update

from . import records as rec
from . import tables as t
from .engine import Batcher, Database, Repository, upsert

NOT_MODIFIED_WINDOW = 0.02  # seconds: 304 answers this close together share a transaction


@functools.cache
def feed_polled(*, listed: bool, new: bool, memory: bool) -> Update:
    """The feed's row after a successful poll (a 304 too), one statement per shape, built
    once: building it took longer than running it (SQLAlchemy's coercions and cache key)."""
    now = bindparam("b_now", type_=t.feeds.c.last_polled_at.type)
    optional = {
        **({"last_listed_at": now} if listed else {}),
        **({"last_new_at": now} if new else {}),
        **({"item_memory": bindparam("b_item_memory")} if memory else {}),
    }
    return (
        update(t.feeds)
        .where(t.feeds.c.id == bindparam("b_feed_id"))
        .values(
            etag=bindparam("b_etag"),
            last_modified=bindparam("b_last_modified"),
            next_poll_at=bindparam("b_next_poll_at"),
            last_polled_at=now,
            last_success_at=now,
            initialized=True,
            lease_owner=None,  # the poll's claim ends with its outcome
            lease_until=None,
            error_count=0,
            last_error=None,
            **optional,
        )
    )


# A batch of 304 answers, one row each.
_NOT_MODIFIED = feed_polled(listed=False, new=False, memory=False)

# A feed the scheduler may poll: in the config, and not paused by the operator. A poll in
# flight when the operator pauses writes the feed's next poll time but never this flag, so
# the feed stays paused until resumed.
_pollable = and_(t.feeds.c.enabled, ~t.feeds.c.paused)

# SQLite's claim of the due feeds that share one lease end (claim_due_feeds), built once.
# One statement for all of them, not one per feed: a claim takes ~140 feeds a second in the
# steady state, and each statement is a trip through SQLAlchemy and the connection's thread
# (~0.2 ms of CPU; issue 19). RETURNING says which ones this claim took: a feed that another
# process claimed since the SELECT matches nothing, exactly as the per-feed update did.
_CLAIM_SOME = (
    update(t.feeds)
    .where(
        t.feeds.c.id.in_(bindparam("b_ids", expanding=True)),
        or_(t.feeds.c.lease_until.is_(None), t.feeds.c.lease_until <= bindparam("b_now")),
    )
    .values(lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
    .returning(t.feeds.c.id)
)
_CLAIM_SLICE = 1000


class FeedRepository(Repository):
    """The `feeds` table; 304 answers arriving together are written in one transaction."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._not_modified: Batcher[tuple[str, rec.FeedUpdate, datetime]] = Batcher(
            self._store_not_modified, NOT_MODIFIED_WINDOW
        )

    async def drain(self) -> None:
        """Finish a batch of 304s being written (before closing)."""
        await self._not_modified.drain()

    async def sync_feeds(
        self, feeds: Iterable[tuple[str, str, str | None, int]], now: datetime
    ) -> None:
        """Make the feeds table match the config: (id, url, language, interval) each.

        New feeds are due at once; feeds gone from the config are disabled, not deleted, so
        their stories keep their history. A changed URL drops the old validators and item
        memory.
        """
        wanted = {fid: (url, lang, interval) for fid, url, lang, interval in feeds}
        # the dialect's INSERT: engine.upsert imports PostgreSQL's only on PostgreSQL (memory)
        insert_feeds = upsert(self._db.dialect, t.feeds)
        async with self._db.write() as conn:
            rows = {r.id: r for r in await conn.execute(select(t.feeds))}
            new: list[dict[str, Any]] = []
            for fid, (url, lang, interval) in wanted.items():
                row = rows.get(fid)
                if row is None:
                    new.append(
                        {
                            "id": fid,
                            "url": url,
                            "language": lang,
                            "interval": interval,
                            "next_poll_at": now,
                            "initialized": False,
                            "error_count": 0,
                            "enabled": True,
                        }
                    )
                    continue
                stored = (row.url, row.language, row.interval, bool(row.enabled))
                if stored == (url, lang, interval, True):
                    # as configured already: no statement (every start, `bot.py once` each
                    # minute, wrote all 1,000 rows of the benchmark's config again; issue 19)
                    continue
                values: dict[str, Any] = {"language": lang, "interval": interval, "enabled": True}
                if not row.enabled:
                    # Back after being removed: its stories may have been pruned meanwhile, so
                    # the first poll records what it holds again instead of alerting on it.
                    values.update(initialized=False, next_poll_at=now)
                if row.url != url:
                    values.update(
                        url=url,
                        etag=None,
                        last_modified=None,
                        next_poll_at=now,
                        error_count=0,
                        # ids of relative links depend on the feed's URL
                        item_memory=None,
                    )
                await conn.execute(update(t.feeds).where(t.feeds.c.id == fid).values(**values))
            if new:
                # Instances starting together on one database sync the same config at once: a
                # feed another one inserted since the look above is left as it is (a plain
                # insert failed there with a duplicate key and stopped the instance). One
                # statement for all of them.
                await conn.execute(
                    insert_feeds.on_conflict_do_nothing(index_elements=[t.feeds.c.id]), new
                )
            gone = set(rows) - set(wanted)
            if gone:
                await conn.execute(
                    update(t.feeds).where(t.feeds.c.id.in_(gone)).values(enabled=False)
                )

    async def feeds(self) -> list[rec.FeedState]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.feeds).where(t.feeds.c.enabled).order_by(t.feeds.c.id)
            )
            return [rec.feed_from_row(r) for r in rows]

    async def due_feeds(self, now: datetime) -> list[rec.FeedState]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.feeds)
                .where(_pollable, t.feeds.c.next_poll_at <= now)
                .order_by(t.feeds.c.next_poll_at, t.feeds.c.id)
            )
            return [rec.feed_from_row(r) for r in rows]

    async def claim_due_feeds(
        self, now: datetime, owner: str, *, min_lease: timedelta, limit: int = 1000
    ) -> list[rec.FeedState]:
        """The due feeds nobody is polling, each now claimed by `owner` (issue 16).

        Several instances on one PostgreSQL database each poll a due feed exactly once: the
        candidates are locked with FOR UPDATE SKIP LOCKED, so a feed another instance is
        claiming at the same moment is skipped, not waited for. The claim lasts the feed's
        interval (at least `min_lease`), so a crashed instance's feeds are polled again one
        interval later by another, never twice within one interval. Recording the outcome
        releases the claim. (On SQLite, this process's writers take turns.)
        """
        query = (
            select(t.feeds)
            .where(
                _pollable,
                t.feeds.c.next_poll_at <= now,
                or_(t.feeds.c.lease_until.is_(None), t.feeds.c.lease_until <= now),
            )
            .order_by(t.feeds.c.next_poll_at, t.feeds.c.id)
            .limit(limit)
        )

        def until(row: Any) -> datetime:
            return now + max(timedelta(seconds=row.interval), min_lease)

        claimed: list[Any] = []
        async with self._db.write() as conn:
            if self._db.dialect == "postgresql":
                claimed = list((await conn.execute(query.with_for_update(skip_locked=True))).all())
                if claimed:
                    await conn.execute(
                        update(t.feeds)
                        .where(t.feeds.c.id == bindparam("b_id"))
                        .values(lease_owner=owner, lease_until=bindparam("b_until")),
                        [{"b_id": r.id, "b_until": until(r)} for r in claimed],
                    )
            else:
                # SQLite has no row locks: the claim is a conditional update that another
                # process's claim of the same feed makes match nothing. One update per lease
                # end (feeds of one interval share it: usually one update in all).
                rows = (await conn.execute(query)).all()
                by_until: dict[datetime, list[str]] = {}
                for r in rows:
                    by_until.setdefault(until(r), []).append(r.id)
                taken: set[str] = set()
                for lease_until, ids in by_until.items():
                    # in slices: SQLite bounds the parameters of one statement (32,766)
                    for start in range(0, len(ids), _CLAIM_SLICE):
                        result = await conn.execute(
                            _CLAIM_SOME,
                            {
                                "b_ids": ids[start : start + _CLAIM_SLICE],
                                "b_now": now,
                                "b_owner": owner,
                                "b_until": lease_until,
                            },
                        )
                        taken.update(result.scalars())
                claimed = [r for r in rows if r.id in taken]
        return [rec.feed_from_row(r) for r in claimed]

    async def release_feed_claims(self, owner: str) -> None:
        """Give up `owner`'s claims (a shutdown that cut polls short): others may poll them."""
        async with self._db.write() as conn:
            await conn.execute(
                update(t.feeds)
                .where(t.feeds.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def next_poll_at(self) -> datetime | None:
        async with self._db.read() as conn:
            value: datetime | None = (
                await conn.execute(select(func.min(t.feeds.c.next_poll_at)).where(_pollable))
            ).scalar()
            return value

    async def record_not_modified(
        self, feed_id: str, update_: rec.FeedUpdate, now: datetime
    ) -> None:
        """Store a 304 answer: the feed's validators and next poll time, nothing else.

        Most polls of a healthy bot are 304s, so the ones that arrive within
        NOT_MODIFIED_WINDOW of each other share one transaction (a fraction of the cost of
        one each: BENCHMARKS.md, Polling). The caller still returns only once its own answer
        is stored, so the feed is never seen as due again before its new poll time is written.
        """
        await self._not_modified.add((feed_id, update_, now))

    async def _store_not_modified(
        self, updates: Sequence[tuple[str, rec.FeedUpdate, datetime]]
    ) -> None:
        """One transaction for a batch of 304 answers: (feed id, its update, poll time) each."""
        async with self._db.write() as conn:
            await conn.execute(
                _NOT_MODIFIED,
                [
                    {
                        "b_feed_id": feed_id,
                        "b_etag": u.etag,
                        "b_last_modified": u.last_modified,
                        "b_next_poll_at": u.next_poll_at,
                        "b_now": polled_at,
                    }
                    for feed_id, u, polled_at in updates
                ],
            )

    async def record_feed_failure(
        self, feed_id: str, update_: rec.FeedUpdate, now: datetime
    ) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(t.feeds)
                .where(t.feeds.c.id == feed_id)
                .values(
                    error_count=t.feeds.c.error_count + 1,
                    lease_owner=None,
                    lease_until=None,
                    last_error=update_.error,
                    last_polled_at=now,
                    next_poll_at=update_.next_poll_at,
                )
            )
