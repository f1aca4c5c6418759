"""The poller's view of every chat's /follow words: one FollowIndex, rebuilt when they change.

Every change to anyone's follows bumps a generation in the store (store/follows.py), in the
same transaction as the change. Before matching a feed's new stories the poller asks `current()`:
one small read when nothing changed; otherwise the follows are read and a new automaton is built
in a worker thread (a few seconds at 200,000 follows, BENCHMARKS.md) while the event loop goes
on, then swapped in. Polls that need it meanwhile wait for it, so a word followed before a poll
is always matched by it. Several instances on one database each see the generation move.

The index may still hold a word unfollowed a moment ago: the queue checks each (chat, word)
against the follows table in the transaction that queues the alert (store/ingest.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from filters.follow_index import FollowIndex
from store import FollowIndexStore

log = logging.getLogger("mirsad.follows")


class FollowWatch:
    """Keeps a FollowIndex at the store's follow generation."""

    def __init__(self, store: FollowIndexStore) -> None:
        self._store = store
        self._index = FollowIndex((), generation=-1)  # built on the first call
        self._lock = asyncio.Lock()

    async def current(self, generation: int | None = None) -> FollowIndex:
        """The index of every followed word as of now (rebuilt if the follows changed).

        `generation`: the follow generation the caller read from the store just now (the
        poller reads it with a feed's other look-ups, issue 19), saving a read of its own."""
        if generation is None:
            generation = await self._store.follow_generation()
        if generation == self._index.generation:
            return self._index
        async with self._lock:
            generation = await self._store.follow_generation()
            if generation != self._index.generation:
                started = time.perf_counter()
                # read after the generation: a change in between makes the next call rebuild
                follows = await self._store.all_follows()
                self._index = await asyncio.to_thread(FollowIndex, follows, generation)
                log.info(
                    "follow_index_built generation=%d follows=%d terms=%d ms=%d",
                    generation,
                    len(follows),
                    len(self._index),
                    (time.perf_counter() - started) * 1000,
                )
        return self._index
