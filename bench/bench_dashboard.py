"""How long does a dashboard page take with 1,000 feeds and 100,000 stories? (target < 100 ms)

    .venv/bin/python bench/bench_dashboard.py              # 20 requests per page, medians
    .venv/bin/python bench/bench_dashboard.py --requests 50 --stories 100000 --feeds 1000

Builds a SQLite database the size of a busy instance (feeds with polling state, 1 in 20
failing; stories spread over 30 days, 1 in 8 matched with labels and evidence; 500 chats),
serves the real Dashboard on 127.0.0.1 and times each page over HTTP from request to last
byte (aiohttp client in the same process: what a browser on the same host waits for, less
its rendering), with the process's CPU time per request beside it (the wall time grows with
the machine's load; the CPU time does not). /trends.png is timed twice: the first render, then the cached one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from filters.watchlist import Matcher  # noqa: E402
from store import Store  # noqa: E402
from store import tables as t  # noqa: E402
from store.reports import Reports  # noqa: E402
from web import Dashboard  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LABELS = ["altman", "musk", "trump", "ai", "ai_policy"]
TITLES = [
    "ترامب يعلن خطة جديدة لتنظيم الذكاء الاصطناعي",
    "إيلون ماسك يطلق نموذجا جديدا",
    "الحكومة تناقش ميزانية القطاع الفلاحي",
    "Trump et l'IA: ce qu'il faut savoir",
]


async def build(url: str, feeds: int, stories: int, chats: int) -> None:
    store = await Store.open(url)  # creates the schema as the bot does
    await store.close()
    rng = random.Random(15)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.feeds),
            [
                {
                    "id": f"feed_{i:04d}",
                    "url": f"https://news{i}.example/feed",
                    "language": "ar",
                    "interval": 120,
                    "next_poll_at": NOW + timedelta(seconds=rng.randint(0, 120)),
                    "last_polled_at": NOW - timedelta(seconds=rng.randint(0, 120)),
                    "last_success_at": NOW - timedelta(seconds=rng.randint(0, 600)),
                    "last_new_at": NOW - timedelta(minutes=rng.randint(0, 600)),
                    "initialized": True,
                    "error_count": rng.randint(1, 9) if i % 20 == 0 else 0,
                    "last_error": "HTTP 503" if i % 20 == 0 else None,
                    "enabled": True,
                }
                for i in range(feeds)
            ],
        )
        batch: list[dict[str, object]] = []
        matched: list[dict[str, object]] = []
        for n in range(stories):
            published = NOW - timedelta(seconds=rng.randint(0, 30 * 86400))
            sid = f"https://news.example/{n}"
            batch.append(
                {
                    "id": sid,
                    "feed_id": f"feed_{n % feeds:04d}",
                    "title": f"{TITLES[n % len(TITLES)]} {n}",
                    "summary": "",
                    "link": sid,
                    "published": published,
                    "language": "ar",
                    "seen_at": published,
                }
            )
            if n % 8 == 0:
                labels = rng.sample(LABELS, rng.randint(1, 2))
                matched.append(
                    {
                        "story_id": sid,
                        "labels": labels,
                        "evidence": [
                            {
                                "label": x,
                                "term": x,
                                "text": x,
                                "field": "title",
                                "start": 0,
                                "end": 3,
                            }
                            for x in labels
                        ],
                        "matched_at": published,
                    }
                )
            if len(batch) == 5000:
                await conn.execute(insert(t.stories), batch)
                batch = []
        if batch:
            await conn.execute(insert(t.stories), batch)
        await conn.execute(insert(t.matches), matched)
        await conn.execute(
            insert(t.subscriptions),
            [
                {
                    "platform": "telegram" if c % 2 else "discord",
                    "chat_id": str(-100_000 - c),
                    "thread_id": "",
                    "labels": rng.sample(LABELS, 2),
                    "active": c % 10 != 0,
                    "paused_reason": None if c % 10 else "blocked",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for c in range(chats)
            ],
        )
        # issue 13: a third of the chats take a digest, a fifth keep quiet hours
        await conn.execute(
            insert(t.chat_rhythms),
            [
                {
                    "platform": "telegram" if c % 2 else "discord",
                    "chat_id": str(-100_000 - c),
                    "digest": "daily 07:30" if c % 3 == 0 else None,
                    "tz": "Asia/Riyadh" if c % 3 == 0 else None,
                    "quiet": "23:00-07:00" if c % 5 == 0 else None,
                    "updated_at": NOW,
                }
                for c in range(chats)
                if c % 3 == 0 or c % 5 == 0
            ],
        )
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    url = f"sqlite+aiosqlite:///{folder / 'mirsad.db'}"
    started = time.perf_counter()
    await build(url, args.feeds, args.stories, args.chats)
    print(f"database built in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    settings = load_settings(ROOT / "config.yaml", env={})
    reports = Reports.open(url)
    dashboard = Dashboard(
        reports,
        feed_names={f"feed_{i:04d}": f"مصدر {i}" for i in range(args.feeds)},
        labels=Matcher(settings.config.watchlists).labels,
        clock=lambda: NOW,
        zone=ZoneInfo("Africa/Casablanca"),
        host="127.0.0.1",
        port=0,
        token=None,
    )
    await dashboard.start()
    base = f"http://127.0.0.1:{dashboard.port}"
    pages = [
        "/",
        "/?sort=errors&dir=desc",
        "/stories",
        "/stories?label=trump",
        "/stories?source=feed_0007",
        "/subscriptions",
        "/trends",
    ]
    results: dict[str, dict[str, float]] = {}
    async with ClientSession() as session:
        cpu: list[float] = []

        async def timed(path: str) -> tuple[float, int]:
            t0, c0 = time.perf_counter(), time.process_time()
            async with session.get(base + path) as response:
                body = await response.read()
                assert response.status == 200, (path, response.status)
            cpu.append((time.process_time() - c0) * 1000)
            return (time.perf_counter() - t0) * 1000, len(body)

        for path in pages:
            await timed(path)  # warm: templates compiled, SQLite pages cached
            times = []
            cpu.clear()
            size = 0
            for _ in range(args.requests):
                ms, size = await timed(path)
                times.append(ms)
            times.sort()
            results[path] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                "max_ms": round(times[-1], 1),
                # CPU of this process (server and client) per request: what the machine's
                # load does not inflate, unlike the wall times
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "kb": round(size / 1024, 1),
            }
        first, _ = await timed("/trends.png")
        cached = sorted([(await timed("/trends.png"))[0] for _ in range(args.requests)])
        results["/trends.png"] = {
            "first_ms": round(first, 1),
            "median_ms": round(statistics.median(cached), 1),
            "max_ms": round(cached[-1], 1),
        }
    await dashboard.stop()
    await reports.close()
    print(
        json.dumps(
            {
                "feeds": args.feeds,
                "stories": args.stories,
                "matched": args.stories // 8,
                "chats": args.chats,
                "pages": results,
            },
            indent=1,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
