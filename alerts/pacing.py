"""Pacing: an even-spaced rate gate (the outbox and the Telegram request limiter) and a
window counted from the answers (the Telegram limiter's hard cap on the overall rate)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


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


class AnswerWindow:
    """At most `limit` requests counted by the server within any `window` seconds, whatever
    the network did to their timing.

    Evenly spaced starts are not enough against a strict window: a request delayed on its way
    (a loop stall, a slow connection) arrives late and bunches with the next ones, and a 31st
    arrival within one second gets a 429. What the sender knows for sure is that a request
    reaches the server after it starts and before its answer comes back. So a new request may
    start only while fewer than `limit` requests are in flight or were answered less than
    `window` ago: any request the server could count in the same window as the new one is
    among them. Cost: with a round trip of L seconds the rate is at most limit / (window + L).
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._answered: deque[float] = deque()  # answer times within the last window
        self._finished = asyncio.Event()  # a request in flight got its answer
        self._turn = asyncio.Lock()  # FIFO

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait until a request may start, then hold its place until its answer."""
        async with self._turn:
            while True:
                now = self._clock()
                while self._answered and self._answered[0] + self._window <= now:
                    self._answered.popleft()
                if self._in_flight + len(self._answered) < self._limit:
                    break
                if self._answered:  # the oldest answer leaves the window first
                    await self._sleep(self._answered[0] + self._window - now)
                else:  # all in flight: the first answer starts the count down
                    self._finished.clear()
                    await self._finished.wait()
            self._in_flight += 1
        try:
            yield
        finally:
            # an error is no proof that the request did not arrive: counted all the same
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._finished.set()
