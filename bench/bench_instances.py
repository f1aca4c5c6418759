"""Several instances: poll cycle and delivery rate with 1, 2 and 3 `bot.py run` processes on
PostgreSQL, next to one on SQLite (issue 16).

    .venv/bin/python bench/bench_instances.py            # 300 feeds, 1,000 alerts; ~4 min
    .venv/bin/python bench/bench_instances.py --feeds 100 --chats 50

Each configuration starts the instances on an empty database (PostgreSQL: a fresh database
on the server MIRSAD_TEST_POSTGRES_URL names, default postgresql+asyncpg://postgres@127.0.0.1:
5432/postgres) with F feeds served by the loopback feed server and C private chats subscribed
on the fake Telegram (tests/fake_telegram.py, enforcing 30 messages/s overall and 1/s per
chat; it runs in this process, the instances in their own). All feeds are on one loopback
host, so the instances fetch up to 32 at once from it (http.per_host_concurrency; the default
2 is for real sites, which a real feed list spreads over many hosts).

Figures:
- poll cycle: seconds from the first feed request until every feed's first poll is recorded
  (all feeds are due at once; claims split them between the instances, and the table says
  how many each one polled, from their logs);
- steady cycle: every feed made due again; seconds from the first request until each one's
  new poll is recorded, each answering 304 Not Modified (what a running instance does most
  of the time);
- delivery: one feed then lists 10 new matching stories -> 10 x C alerts; messages per second
  from the first to the last accepted by the fake, 429s, lost and repeated alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, print_machine, table

sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from store import Store
from store import tables as t
from store.engine import create_engine
from tests.conftest import write_config
from tests.fake_telegram import FakeTelegram
from tests.feedserver import FeedServer
from tests.pg import fresh_database

PG = os.environ.get(
    "MIRSAD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
STORIES = 10


def rss(feed: int, stories: int) -> bytes:
    items = [
        f"<item><title>دونالد ترامب يعلن القرار رقم {n}</title>"
        f"<link>https://news.test/{feed}/{n}</link><description>خبر</description>"
        f"<pubDate>Tue, 01 Dec 2026 08:{n:02d}:00 +0000</pubDate></item>"
        for n in range(stories, 0, -1)
    ] + [
        f"<item><title>خبر {feed}-{k}</title><link>https://news.test/{feed}/old{k}</link>"
        f"<description>قديم</description><pubDate>Mon, 30 Nov 2026 0{k}:00:00 +0000</pubDate></item>"
        for k in range(5)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://news.test/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


async def count_polled(engine: AsyncEngine, since: datetime | None = None) -> int:
    """Feeds whose first poll is recorded, or (`since`) whose poll since then is recorded."""
    query = select(func.count()).select_from(t.feeds).where(t.feeds.c.initialized)
    if since is not None:
        query = query.where(t.feeds.c.last_polled_at >= since)
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


async def make_due(engine: AsyncEngine, feed_ids: list[str] | None = None) -> None:
    """Make feeds due now (all, or `feed_ids`): a feed is polled again only after its interval."""
    async with engine.begin() as conn:
        query = t.feeds.update().values(next_poll_at=datetime.now(UTC))
        if feed_ids is not None:
            query = query.where(t.feeds.c.id.in_(feed_ids))
        await conn.execute(query)


def polls_by_instance(work: Path, instances: int) -> list[int]:
    """How many polls each instance has logged so far."""
    return [
        (work / f"instance{k}.log").read_text(encoding="utf-8").count(" feed_polled id=")
        for k in range(instances)
    ]


def check_alive(procs: list[asyncio.subprocess.Process], work: Path) -> None:
    """Stop the run, with the instance's last words, as soon as one instance has exited."""
    for k, proc in enumerate(procs):
        if proc.returncode is not None:
            log = (work / f"instance{k}.log").read_text(encoding="utf-8")[-2000:]
            raise RuntimeError(f"instance {k} exited with {proc.returncode}:\n{log}")


async def wait_polled(
    engine: AsyncEngine,
    feeds: int,
    since: datetime | None,
    procs: list[asyncio.subprocess.Process],
    work: Path,
) -> float:
    """Wait until every feed's poll is recorded; returns when that was seen (monotonic)."""
    started = time.monotonic()
    while await count_polled(engine, since) < feeds:
        check_alive(procs, work)
        await asyncio.sleep(0.05)
        if time.monotonic() - started > 300:
            raise RuntimeError(f"not every feed was polled within 300 s (since {since})")
    return time.monotonic()


async def run_config(
    url: str, instances: int, feeds: int, chats: int, work: Path
) -> dict[str, str]:
    fake = await FakeTelegram().start()
    server = FeedServer().start()
    procs: list[asyncio.subprocess.Process] = []
    engine: AsyncEngine | None = None
    try:
        for f in range(feeds):
            server.set(f"/f{f}.xml", rss(f, 0), etag='"0"')
        chat_ids = [9000 + i for i in range(chats)]
        store = await Store.open(url)
        try:
            for chat in chat_ids:
                fake.private_chat(chat)
                await store.save_subscription("telegram", str(chat), ["trump"], datetime.now(UTC))
        finally:
            await store.close()
        lines = "\n".join(
            f"  - id: f{f}\n    url: {server.url(f'/f{f}.xml')}\n    language: ar\n    interval: 600"
            for f in range(feeds)
        )
        config = write_config(
            work,
            # per_host_concurrency: every feed here is on one loopback host, where the default
            # (2 fetches at a time per host, for real sites) would be all the cycle measured
            f"database: {url}\nfeeds:\n{lines}\nhttp:\n  allow_private_addresses: true\n"
            f"  total_timeout: 10\n  per_host_concurrency: 32\ntelegram:\n  api_base_url: {fake.api_base_url}\n"
            # INFO: each instance logs its polls (feed_polled), which tells how they shared them
            "health:\n  enabled: false\nlogging:\n  level: INFO\n",
        )
        # the harness reads and writes the live database beside the instances, as the bot's own
        # engine does (on SQLite: WAL, busy timeout, never creating the file)
        engine = create_engine(url)
        for k in range(instances):
            roles = "poll,deliver,commands" if k == 0 else "poll,deliver"
            procs.append(
                await asyncio.create_subprocess_exec(
                    PYTHON,
                    str(ROOT / "bot.py"),
                    "run",
                    "--config",
                    str(config),
                    "--roles",
                    roles,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=(work / f"instance{k}.log").open("w"),
                    env={
                        "PATH": os.environ.get("PATH", ""),
                        "NO_PROXY": "127.0.0.1,localhost",
                        "TELEGRAM_BOT_TOKEN": fake.token,
                    },
                )
            )
        # both cycles: from the first feed request to every feed's answer recorded (a
        # cycle's last polls are written in one batch, so the request times alone end early)
        done = await wait_polled(engine, feeds, None, procs, work)
        cycle = done - min(server.requests(f"/f{f}.xml")[0].at for f in range(feeds))

        # steady state: every feed due again, each answers 304 to its conditional GET
        await asyncio.sleep(2)  # the first cycle's stragglers, if any, are done
        # (a 304 is logged at DEBUG: the steady cycle's share is not counted)
        first_share = polls_by_instance(work, instances)
        before = {f: len(server.requests(f"/f{f}.xml")) for f in range(feeds)}
        due_at = datetime.now(UTC)
        await make_due(engine)
        done = await wait_polled(engine, feeds, due_at, procs, work)
        steady = done - min(server.requests(f"/f{f}.xml")[before[f]].at for f in range(feeds))
        not_modified = all(
            r.headers.get("if-none-match") == '"0"'
            for f in range(feeds)
            for r in server.requests(f"/f{f}.xml")[before[f] :]
        )

        server.set("/f0.xml", rss(0, STORIES), etag='"1"')
        await make_due(engine, ["f0"])
        expected = chats * STORIES
        deadline = time.monotonic() + 600
        while len(fake.messages()) < expected and time.monotonic() < deadline:
            check_alive(procs, work)
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # late repeats, if any
        sent = fake.messages()
        seen = Counter((m.chat_id, m.visible.split("\n")[0]) for m in sent)
        span = sent[-1].time - sent[0].time if len(sent) > 1 else float("nan")
        return {
            "poll cycle": f"{cycle:.2f} s",
            "feeds/s": f"{feeds / cycle:.0f}",
            "steady cycle (304s)": f"{steady:.2f} s" + ("" if not_modified else " (not 304)"),
            "steady feeds/s": f"{feeds / steady:.0f}",
            "first polls per instance": "/".join(map(str, first_share)),
            "alerts": f"{len(seen)}/{expected}",
            "msgs/s": f"{(len(sent) - 1) / span:.1f}",
            "429s": str(len(fake.rate_limited)),
            "repeats": str(sum(n - 1 for n in seen.values())),
        }
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        if engine is not None:
            await engine.dispose()
        server.close()
        await fake.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--chats", type=int, default=100)
    args = parser.parse_args()
    print_machine()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("SQLite, 1 instance ...", flush=True)
        try:
            result = await run_config(
                f"sqlite+aiosqlite:///{work / 'm.db'}", 1, args.feeds, args.chats, work
            )
            rows.append(["SQLite", "1", *result.values()])
        except Exception as exc:  # the PostgreSQL rows are still worth having
            print(f"SQLite failed: {str(exc)[-600:]}", flush=True)
        for n in (1, 2, 3):
            print(f"PostgreSQL, {n} instance(s) ...", flush=True)
            async with fresh_database(PG) as url:
                result = await run_config(url, n, args.feeds, args.chats, work)
            rows.append(["PostgreSQL", str(n), *result.values()])
    print(f"{args.feeds} feeds (first poll of each), {args.chats} chats x {STORIES} alerts:")
    print(table(["database", "instances", *result.keys()], rows))


if __name__ == "__main__":
    asyncio.run(main())
