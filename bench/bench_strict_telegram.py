"""Telegram's overall limit against a fake that forgives nothing (issue 17, case 7).

    .venv/bin/python bench/bench_strict_telegram.py                 # 3,000 sends, both limiters
    .venv/bin/python bench/bench_strict_telegram.py --sends 6000 --runs 2

The real Telegram limiter (platforms/telegram/limiter.py) under python-telegram-bot's ExtBot
sends to 300 private chats from 32 concurrent senders (as the outbox does) against
tests/fake_telegram.py with `Limits.strict()`: zero tolerance, a 31st message in any second
is a 429. One message in eight is held up 50-400 ms on its way to the fake (network jitter;
it then bunches with the next ones at the server), and the bot's event loop is made busy now
and then (20-80 ms every 100-300 ms, like a parse or a big query).

Each run is made twice: with the limiter as shipped, and with its AnswerWindow disabled (the
spacing gate alone, as before issue 17). Figures: messages accepted, overall 429s, the busiest
1-second window the fake saw, and the sustained rate.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, print_machine, table

sys.path.insert(0, str(ROOT))

from platforms.telegram.limiter import TelegramRateLimiter
from tests.fake_telegram import FakeTelegram, Limits

CHATS = 300


def busiest(times: list[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def one_run(sends: int, with_window: bool, seed: int) -> list[object]:
    from telegram.error import RetryAfter
    from telegram.ext import ExtBot

    async with FakeTelegram(limits=Limits.strict()) as fake:
        chats = [7000 + i for i in range(CHATS)]
        for chat in chats:
            fake.private_chat(chat)
        # without the window: a cap no burst reaches, so only the spacing gate paces
        limiter = TelegramRateLimiter(overall_max=30 if with_window else 10**9)
        bot: ExtBot[int] = ExtBot(
            fake.token, base_url=f"{fake.api_base_url}/bot", rate_limiter=limiter
        )
        rng = random.Random(seed)
        # one message in eight is held up 50-400 ms on its way to the server
        fake.delay_on_the_way = lambda: rng.uniform(0.05, 0.4) if rng.random() < 1 / 8 else 0.0
        todo = [chat for _ in range(sends // CHATS + 1) for chat in chats][:sends]
        todo.reverse()
        retried = 0

        async def busy_loop() -> None:
            while todo:
                await asyncio.sleep(rng.uniform(0.1, 0.3))
                time.sleep(rng.uniform(0.02, 0.08))  # noqa: ASYNC251 (the loop busy, on purpose)

        async def sender() -> None:
            nonlocal retried
            while todo:
                chat = todo.pop()
                try:
                    await bot.send_message(chat, f"خبر رقم {len(todo)}")
                except RetryAfter:
                    retried += 1  # the outbox would send it again later

        async with bot:
            busy = asyncio.ensure_future(busy_loop())
            await asyncio.gather(*(sender() for _ in range(32)))
            await busy
        times = [m.time for m in fake.sent]
        span = max(times) - min(times)
        return [
            "shipped (window + gate)" if with_window else "gate only (before)",
            sends,
            len(fake.sent),
            len(fake.overall_limited),
            len(fake.rate_limited) - len(fake.overall_limited),
            busiest(times),
            f"{(len(times) - 1) / span:.1f}/s",
        ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sends", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args(argv)
    print_machine()
    rows = []
    for run in range(args.runs):
        for with_window in (False, True):
            row = asyncio.run(one_run(args.sends, with_window, seed=run))
            print(row, flush=True)
            rows.append(row)
    print()
    print(
        table(
            ["limiter", "sends", "accepted", "overall 429s", "other 429s", "busiest 1 s", "rate"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
