"""Named leases: a role that one instance holds at a time, taken over when it runs out.

Used for "sender:<platform>": with several instances on one database, one of them sends on
each platform token, so together they never exceed the platform's global rate (issue 16).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from . import tables as t
from .engine import Repository, upsert


class LeaseRepository(Repository):
    """The `leases` table."""

    async def acquire_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew `name` for `owner` until now + ttl; False while another holds it.

        One statement (an upsert that only overwrites a lease of the same owner or one that
        ran out), so two instances asking at once cannot both get it.
        """
        values = upsert(self._db.dialect, t.leases).values(name=name, owner=owner, until=now + ttl)
        statement = values.on_conflict_do_update(
            index_elements=[t.leases.c.name],
            set_={"owner": values.excluded.owner, "until": values.excluded.until},
            where=or_(t.leases.c.owner == owner, t.leases.c.until <= now),
        ).returning(t.leases.c.owner)
        async with self._db.write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def release_lease(self, name: str, owner: str) -> None:
        """Give `name` up at once (a clean shutdown), if `owner` holds it."""
        async with self._db.write() as conn:
            await conn.execute(
                delete(t.leases).where(t.leases.c.name == name, t.leases.c.owner == owner)
            )
