"""The composition root's workhorse: builds every part from Settings and runs them.

`bot.py` parses the command line and calls into here; no other module builds clients,
opens the database or reads the clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from alerts.console import CONSOLE_CHAT, ConsoleSender
from alerts.outbox import OutboxWorker, Sender
from config import Settings
from feeds.fetch import Fetcher, FetchSettings
from feeds.poll import PollOutcome, Poller
from filters.watchlist import Matcher
from handlers.subscriptions import Subscriptions
from store import Store

log = logging.getLogger("mirsad")

TICK_SECONDS = 5.0  # how often the scheduler asks the store which feeds are due


def utcnow() -> datetime:
    """The real clock. Only the composition root reads it; everything else is given it."""
    return datetime.now(UTC)


class Platform(Protocol):
    """A chat platform run inside the process (Telegram, Discord)."""

    name: str
    sender: Sender

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Parts:
    settings: Settings
    store: Store
    matcher: Matcher
    fetcher: Fetcher
    poller: Poller
    subscriptions: Subscriptions
    outbox: OutboxWorker
    platforms: list[Platform]


def fetch_settings(settings: Settings) -> FetchSettings:
    http = settings.config.http
    extra = {"user_agent": http.user_agent} if http.user_agent else {}
    return FetchSettings(
        connect_timeout=http.connect_timeout, read_timeout=http.read_timeout,
        total_timeout=http.total_timeout, max_bytes=http.max_bytes, max_redirects=http.max_redirects,
        per_host_concurrency=http.per_host_concurrency,
        allow_private_addresses=http.allow_private_addresses, **extra,
    )


PlatformFactory = Callable[["Parts"], Platform]


@dataclass
class AppOptions:
    clock: Callable[[], datetime] = utcnow
    stream: TextIO = sys.stdout
    platform_factories: tuple[tuple[str, PlatformFactory], ...] = ()
    on_poll: Callable[[PollOutcome], None] | None = None


async def build(settings: Settings, stack: AsyncExitStack, options: AppOptions) -> Parts:
    """Open the store, build fetcher, matcher, poller, outbox and the enabled platforms."""
    config = settings.config
    clock = options.clock
    store = await Store.open(settings.database_url)
    stack.push_async_callback(store.close)
    now = clock()
    await store.sync_feeds(
        [(f.id, f.url, f.language, f.interval or config.poll_interval) for f in config.feeds if f.enabled], now
    )
    matcher = Matcher(config.watchlists)
    fetcher = Fetcher(fetch_settings(settings), clock=clock)
    stack.push_async_callback(fetcher.aclose)
    subscriptions = Subscriptions(store, matcher.labels, clock)
    parts = Parts(settings, store, matcher, fetcher, Poller(store, fetcher, matcher, clock, on_outcome=options.on_poll),
                  subscriptions, OutboxWorker(store, {}, clock), [])

    for name, factory in options.platform_factories:
        parts.platforms.append(factory(parts))
        log.info("platform_enabled name=%s", name)

    senders: dict[str, Sender] = {p.name: p.sender for p in parts.platforms}
    labels = {info.id: info for info in matcher.labels}
    if not parts.platforms:
        # No bot token: alerts go to the terminal, through the same outbox as real platforms.
        console = ConsoleSender(options.stream, labels, ZoneInfo(config.timezone), {f.id: f.id for f in config.feeds})
        senders["console"] = console
        await store.save_subscription("console", CONSOLE_CHAT, [i.id for i in matcher.labels], now)
    elif await store.subscription("console", CONSOLE_CHAT):
        await store.pause_chat("console", CONSOLE_CHAT, "a chat platform is configured", now)
    parts.outbox = OutboxWorker(store, senders, clock)
    return parts


async def run_once(settings: Settings, options: AppOptions) -> list[PollOutcome]:
    """One poll cycle over every feed, then deliver what it queued."""
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        outcomes = await parts.poller.poll_all()
        await parts.outbox.deliver_due()
        await parts.store.prune(options.clock(), timedelta(days=settings.config.retention_days))
        return outcomes


async def run_forever(settings: Settings, options: AppOptions, stop: asyncio.Event) -> None:
    """Poll on schedule and deliver until `stop` is set."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        scheduler = AsyncIOScheduler(timezone=UTC)

        async def tick() -> None:
            outcomes = await parts.poller.poll_due()
            if any(o.queued for o in outcomes):
                parts.outbox.wake()

        async def prune() -> None:
            await parts.store.prune(options.clock(), timedelta(days=settings.config.retention_days))

        # One job; per-feed timing lives in the store. max_instances=1 + coalesce: a slow cycle
        # is never run twice at once, missed ticks collapse into one.
        scheduler.add_job(tick, "interval", seconds=TICK_SECONDS, max_instances=1, coalesce=True,
                          next_run_time=datetime.now(UTC), id="poll")
        scheduler.add_job(prune, "interval", hours=6, max_instances=1, coalesce=True,
                          jitter=random.randint(0, 600), id="prune")
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        for platform in parts.platforms:
            await platform.start()
            stack.push_async_callback(platform.stop)
        log.info("mirsad_ready feeds=%d platforms=%s", len(settings.config.feeds),
                 ",".join(parts.outbox.platforms))
        await parts.outbox.run(stop)
        scheduler.pause()
