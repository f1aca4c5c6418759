"""An even-spaced rate gate, shared by the outbox and the Telegram request limiter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class RateGate:
    """At most `rate` starts per second, evenly spaced: no burst to trip a flood limit.

    Each start is spaced from the previous *actual* start, not from a slot reserved in
    advance: when the event loop stalls (a big query, a slow parse), the waiters do not all
    fire together afterwards to catch up, which a strict per-second window (Discord's global
    limit) counts as a burst. Lateness under one interval (sleep overshoot) keeps the phase, so
    the rate does not sag below `rate` either.
    """

    def __init__(
        self, rate: float, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._clock = clock
        self._sleep = sleep
        self._turn = asyncio.Lock()  # FIFO: the waiters start in the order they came

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._turn:
            while (wait := self._next - self._clock()) > 0:  # re-read: hold() may move it
                await self._sleep(wait)
            late = self._clock() - self._next
            # late by less than an interval: sleep overshoot, keep the phase; more: the gate
            # was idle or the loop stalled, start a new phase from now
            self._next = (self._next if late < self._interval else self._clock()) + self._interval

    def hold(self, seconds: float) -> None:
        """Nobody starts for `seconds` (a platform-wide 429)."""
        self._next = max(self._next, self._clock() + seconds)
