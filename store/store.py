"""The Store: every repository on one database, opened and migrated in one call.

The repositories are split by concern (feeds, stories/ingest, subscriptions, outbox, retention,
meta: one module each) and each consumer is typed with the narrow Protocol it uses
(store.protocols). `Store` combines them so the composition root opens one object and hands
each part the view it needs.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from .dbfile import DatabaseFile, DatabaseWatch
from .engine import Database, create_engine
from .feeds import FeedRepository
from .follows import FollowRepository
from .ingest import StoryRepository
from .leases import LeaseRepository
from .meta import MetaRepository
from .migrate import opening, upgrade
from .outbox import OutboxRepository
from .retention import RetentionRepository
from .rhythms import RhythmRepository
from .subscriptions import SubscriptionRepository


class Store(
    FeedRepository,
    StoryRepository,
    FollowRepository,
    SubscriptionRepository,
    OutboxRepository,
    RhythmRepository,
    RetentionRepository,
    MetaRepository,
    LeaseRepository,
):
    """Feed state, stories, matches, subscriptions (with their follows and mutes), the outbox
    and retention on one database."""

    def __init__(self, db: Database, watch: DatabaseWatch | None = None) -> None:
        super().__init__(db)
        self.watch = watch  # the SQLite file's identity, to notice it deleted or replaced

    @classmethod
    async def open(cls, url: str, *, new_database: bool = False) -> Store:
        """Connect, create or migrate the schema, and return a ready store.

        A SQLite file that is missing or empty while its marker says a database lived there
        raises DatabaseMissing unless `new_database`; a file SQLite cannot read raises
        DatabaseDamaged naming it (store/dbfile.py).
        """
        file = DatabaseFile.from_url(url)
        if file is not None:
            file.refuse_unwritable()  # before the lock file beside it is created
        async with opening(url):  # instances starting together take turns
            return await cls._open(url, new_database)

    @classmethod
    async def _open(cls, url: str, new_database: bool) -> Store:
        file = DatabaseFile.from_url(url)
        created = file is not None and file.is_empty()
        if file is not None and created:
            if not new_database:
                file.refuse_lost()
            file.set_aside_leftovers()
        engine = create_engine(url)
        try:
            await upgrade(engine)
        except DBAPIError as exc:
            await engine.dispose()
            if file is None:
                raise
            raise file.unusable(exc) from exc
        except BaseException:
            await engine.dispose()
            raise
        if file is None:
            return cls(Database(engine))
        if created:
            file.record_created()
        elif not file.marker.exists():
            file.write_marker()  # a database made before markers existed
        return cls(Database(engine), DatabaseWatch(file))

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
