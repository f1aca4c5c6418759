"""The rate gate: even spacing, no catch-up burst after a stall, holds."""

from __future__ import annotations

import asyncio

from alerts.pacing import RateGate


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def starts(gate: RateGate, clock: ManualClock, n: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        await gate.wait()
        times.append(round(clock.now, 6))

    await asyncio.gather(*(one() for _ in range(n)))
    return times


async def test_starts_are_evenly_spaced() -> None:
    clock = ManualClock()
    gate = RateGate(10, clock, clock.sleep)
    assert await starts(gate, clock, 4) == [100.0, 100.1, 100.2, 100.3]


async def test_a_stall_does_not_become_a_burst() -> None:
    """Waiters queued before a 1-second stall of the loop go out at the rate afterwards, not
    all at once (which is what a per-second window counts as too many)."""
    clock = ManualClock()
    gate = RateGate(10, clock, clock.sleep)
    await starts(gate, clock, 1)  # next start allowed at 100.1
    clock.now += 1.0  # the loop was busy for a second
    after = await starts(gate, clock, 5)
    assert after == [101.0, 101.1, 101.2, 101.3, 101.4]


async def test_hold_delays_even_a_waiter_already_sleeping() -> None:
    clock = ManualClock()
    gate = RateGate(10, clock, clock.sleep)
    await starts(gate, clock, 1)
    gate.hold(5.0)
    assert await starts(gate, clock, 2) == [105.0, 105.1]


async def test_sleep_overshoot_does_not_lower_the_rate() -> None:
    clock = ManualClock()

    async def late_sleep(seconds: float) -> None:
        await clock.sleep(seconds + 0.01)  # every wake-up 10 ms late

    gate = RateGate(10, clock, late_sleep)
    times = await starts(gate, clock, 11)
    assert times[-1] - times[0] < 1.0 + 0.011  # 10 intervals, not 10 x 110 ms
