"""Telegram's 30 messages/s overall against a server that forgives nothing (issue 17, case 7).

Evenly spaced starts (RateGate) kept the rate under 30/s, but a message delayed on its way
arrives late and bunches with the next ones: a strict server counted a 31st message in one
second now and then (9 x 429 per 2,000-4,400 sends). AnswerWindow caps what the server can
count in any second, whatever the delays. Checked in virtual time (every delay chosen, nothing
waits) with the composition the Telegram limiter uses, then against the strict fake.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from collections.abc import Awaitable

import pytest

from alerts.pacing import AnswerWindow, RateGate
from platforms.telegram.limiter import TelegramRateLimiter
from tests.fake_telegram import FakeTelegram, Limits


class VirtualTime:
    """A clock that jumps to the next sleeper once every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        when = self.now + max(seconds, 0.0)
        if seconds > 0:  # a real clock moves on: never wake at the same float after sleeping
            when = max(when, math.nextafter(self.now, math.inf))
        heapq.heappush(self._sleepers, (when, next(self._order), future))
        await future

    async def run(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next wait
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                when, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                future.set_result(None)
        await task


def busiest(arrivals: list[float], window: float = 1.0) -> int:
    """Most arrivals a strict server counts in one window (t - window, t]."""
    ordered = sorted(arrivals)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def burst(use_window: bool, seed: int) -> list[float]:
    """600 messages, 32 at a time, paced at 29/s; each travels 5 ms to the server, except one
    in eight that is held up 50-400 ms on its way (a stalled loop, a slow connection)."""
    time = VirtualTime()
    rng = random.Random(seed)
    gate = RateGate(29.0, time.clock, time.sleep)
    window = AnswerWindow(30, 1.0, time.clock, time.sleep)
    arrivals: list[float] = []
    queue = list(range(600))

    async def send() -> None:
        to_server = rng.uniform(0.05, 0.4) if rng.random() < 1 / 8 else 0.005
        await time.sleep(to_server)
        arrivals.append(time.now)
        await time.sleep(0.005)  # the answer's way back

    async def worker() -> None:
        while queue:
            queue.pop()
            if use_window:
                async with window.slot():
                    await gate.wait()
                    await send()
            else:
                await gate.wait()
                await send()

    async def everything() -> None:
        await asyncio.gather(*(worker() for _ in range(32)))

    await time.run(everything())
    assert len(arrivals) == 600
    return arrivals


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_delays_on_the_way_never_put_a_31st_message_in_one_second(seed: int) -> None:
    spaced_only = await burst(use_window=False, seed=seed)
    assert busiest(spaced_only) > 30  # what the strict fake answered with 429s
    capped = await burst(use_window=True, seed=seed)
    assert busiest(capped) <= 30
    span = max(capped) - min(capped)
    assert 599 / span > 24  # the cap costs little: still more than 80% of the limit


async def test_all_in_flight_waits_for_an_answer_then_its_second() -> None:
    time = VirtualTime()
    window = AnswerWindow(2, 1.0, time.clock, time.sleep)
    started: list[float] = []
    answer = asyncio.Event()

    async def request(hold: bool) -> None:
        async with window.slot():
            started.append(time.now)
            if hold:
                await answer.wait()

    async def scenario() -> None:
        first = asyncio.ensure_future(request(True))
        second = asyncio.ensure_future(request(True))
        third = asyncio.ensure_future(request(False))
        await time.sleep(5.0)  # both in flight for 5 s: the third waits
        assert started == [0.0, 0.0]
        answer.set()
        await asyncio.gather(first, second, third)

    await time.run(scenario())
    assert started == [0.0, 0.0, 6.0]  # one second after the first answer


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_the_limiter_against_a_strict_fake_gets_no_overall_429() -> None:
    """Real HTTP to the fake with zero tolerance; requests go through PTB's request layer as
    the outbox sends them (many chats at once, 29/s), some held up on their way to the server
    and the event loop stalled now and then as a busy bot's is."""
    from telegram.ext import ExtBot

    async with FakeTelegram(limits=Limits.strict()) as fake:
        chats = [5000 + i for i in range(60)]
        for chat in chats:
            fake.private_chat(chat)
        limiter = TelegramRateLimiter()
        bot: ExtBot[int] = ExtBot(
            fake.token, base_url=f"{fake.api_base_url}/bot", rate_limiter=limiter
        )
        async with bot:
            rng = random.Random(5)
            # one message in eight is held up 50-400 ms on its way to the server
            fake.delay_on_the_way = lambda: rng.uniform(0.05, 0.4) if rng.random() < 1 / 8 else 0
            todo = [chat for _ in range(8) for chat in chats]  # 480 messages

            async def stall() -> None:
                while todo:
                    await asyncio.sleep(rng.uniform(0.1, 0.3))
                    time.sleep(rng.uniform(0.02, 0.08))  # noqa: ASYNC251 (a busy loop, on purpose)

            async def worker() -> None:
                while todo:
                    chat = todo.pop()
                    await bot.send_message(chat, f"خبر رقم {len(todo)}")

            stalls = asyncio.ensure_future(stall())
            await asyncio.gather(*(worker() for _ in range(32)))
            await stalls
        assert len(fake.sent) == 480
        assert fake.overall_limited == []
        assert busiest([m.time for m in fake.sent]) <= 30
