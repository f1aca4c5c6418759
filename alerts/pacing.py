"""An even-spaced rate gate, shared by the outbox and the Telegram request limiter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


class RateGate:
    """At most `rate` starts per second, evenly spaced: no burst to trip a flood limit."""

    def __init__(
        self, rate: float, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._clock = clock
        self._sleep = sleep

    async def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self._interval  # the slot is reserved before sleeping: no lock needed
        if start > now:
            await self._sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Nobody starts for `seconds` (a platform-wide 429)."""
        self._next = max(self._next, self._clock() + seconds)
