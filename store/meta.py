"""Key-value settings the bot keeps for itself (e.g. the Discord command sync digest)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from . import tables as t
from .engine import Repository


class MetaRepository(Repository):
    """The `meta` table."""

    async def get_meta(self, key: str) -> str | None:
        async with self._db.read() as conn:
            return (await conn.execute(select(t.meta.c.value).where(t.meta.c.key == key))).scalar()

    async def set_meta(self, key: str, value: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(t.meta).where(t.meta.c.key == key))
            await conn.execute(insert(t.meta).values(key=key, value=value))

    async def meta_keys(self, prefix: str) -> list[str]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(t.meta.c.key).where(t.meta.c.key.startswith(prefix, autoescape=True))
            )
            return sorted(r.key for r in rows)

    async def delete_meta(self, key: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(t.meta).where(t.meta.c.key == key))
