"""The Store: every repository on one database, opened and migrated in one call.

The repositories are split by concern (feeds, stories/ingest, subscriptions, outbox, retention,
meta: one module each) and each consumer is typed with the narrow Protocol it uses
(store.protocols). `Store` combines them so the composition root opens one object and hands
each part the view it needs.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import Database, create_engine
from .feeds import FeedRepository
from .ingest import StoryRepository
from .meta import MetaRepository
from .migrate import upgrade
from .outbox import OutboxRepository
from .retention import RetentionRepository
from .subscriptions import SubscriptionRepository


class Store(
    FeedRepository,
    StoryRepository,
    SubscriptionRepository,
    OutboxRepository,
    RetentionRepository,
    MetaRepository,
):
    """Feed state, stories, matches, subscriptions, the outbox and retention on one database."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect, create or migrate the schema, and return a ready store."""
        engine = create_engine(url)
        try:
            await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(Database(engine))

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for read-only queries outside the repositories (diagnostics, tests)."""
        return self._db.engine

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._db.dialect

    async def ping(self) -> bool:
        return await self._db.ping()

    async def close(self) -> None:
        await self.drain()  # a batch of 304s being written is finished, not cut off
        await self._db.dispose()
