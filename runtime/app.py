"""The composition root's workhorse: builds every part from Settings and runs them.

`bot.py` parses the command line and calls into here; no other module builds clients,
opens the database or reads the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from alerts.outbox import OutboxWorker, Sender
from config import Settings
from core.stats import Stats
from core.subscriptions import Subscriptions
from events.fingerprint import Fingerprinter
from events.grouper import EventGrouper
from feeds.fetch import Fetcher, FetchSettings
from feeds.follows import FollowWatch
from feeds.health import FeedHealth
from feeds.poll import Poller, PollOutcome
from filters.schema import FigureSpec
from filters.watchlist import Matcher, compiled_matcher
from platforms import registry
from platforms.base import Platform, PlatformContext, PlatformFactory, Preparable
from runtime.health import HealthServer, Liveness, Metrics
from runtime.memory import limit_malloc_arenas
from store import PollStore, Store
from store.dbfile import DatabaseLost, DatabaseWatch
from store.reports import Reports, TrendCounts

log = logging.getLogger("mirsad")

KEEPALIVE_MAX = 900.0  # seconds an idle feed connection is kept at most

ALL_ROLES = frozenset({"poll", "deliver", "commands"})
DATABASE_CHECK_SECONDS = 5.0
TICK_SECONDS = 1.0  # how often the scheduler asks the store which feeds are due (one query)
PRUNE_SECONDS = 6 * 3600.0  # how often old stories are trimmed (retention_days)
PRUNE_JITTER_SECONDS = 600  # instances sharing a database do not prune together


def utcnow() -> datetime:
    """The real clock. Only the composition root reads it; everything else is given it."""
    return datetime.now(UTC)


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
    metrics: Metrics
    clock: Callable[[], datetime]
    sources: dict[str, str]  # feed id -> name shown in alerts
    feed_health: FeedHealth  # per-feed state in words; /healthz asks it
    health_port: int | None = None
    dashboard_port: int | None = None
    reports: Reports | None = None  # the dashboard's and /stats' read side (store/reports.py)
    trends: TrendCounts | None = None  # matched stories per label per day, shared by both


def fetch_settings(settings: Settings) -> FetchSettings:
    config = settings.config
    http = config.http
    longest = max([f.interval or config.poll_interval for f in config.feeds] or [0])
    extra = {"user_agent": http.user_agent} if http.user_agent else {}
    return FetchSettings(
        connect_timeout=http.connect_timeout,
        read_timeout=http.read_timeout,
        total_timeout=http.total_timeout,
        max_bytes=http.max_bytes,
        max_redirects=http.max_redirects,
        per_host_concurrency=http.per_host_concurrency,
        allow_private_addresses=http.allow_private_addresses,
        # a connection outlives the longest poll interval, so every poll can reuse one
        keepalive=min(max(longest, config.poll_interval) + 30.0, KEEPALIVE_MAX),
        **extra,
    )


class HealthPortBusy(Exception):
    """The /healthz port cannot be listened on and the endpoint is required."""


def health_port_problem(host: str, port: int, exc: OSError) -> str:
    """One line naming the keys that fix a health endpoint that cannot listen."""
    reason = exc.strerror or str(exc)
    return (
        f"cannot listen on {host}:{port} for /healthz and /metrics ({reason}): set "
        "health.port to a free port in config.yaml, or health.enabled: false to run without them"
    )


@dataclass
class AppOptions:
    # True where something depends on /healthz (the Docker image sets MIRSAD_HEALTH_REQUIRED=1):
    # a busy health.port then stops the bot; otherwise it runs on without the endpoint
    health_required: bool = False
    clock: Callable[[], datetime] = utcnow
    stream: TextIO = sys.stdout
    # (name, factory) per platform to run, usually `registry.factories(settings)`; none: the
    # registry's fallback (the terminal)
    platform_factories: tuple[tuple[str, PlatformFactory], ...] = ()
    on_poll: Callable[[PollOutcome], None] | None = None
    on_ready: Callable[[Parts], None] | None = None
    # What this instance does (`bot.py run --roles`): poll feeds, deliver alerts, answer
    # commands; all three by default. Several instances on one PostgreSQL database can split them.
    roles: frozenset[str] = ALL_ROLES
    # This instance's name on the feeds and alerts it claims (several instances on PostgreSQL);
    # None: made from the host name and process id when the database is PostgreSQL.
    instance: str | None = None
    # start on an empty database even though its marker says one existed (--new-database)
    new_database: bool = False
    # how often `run` checks that the SQLite file is still the one it opened
    database_check_seconds: float = DATABASE_CHECK_SECONDS


async def event_grouper(
    store: PollStore, hours: float, now: datetime, figures: Iterable[FigureSpec] = ()
) -> EventGrouper | None:
    """Same-event grouping (issue 14), its window refilled from the stories matched within
    it before a restart; None when `events.window_hours` is 0. `figures`: the watchlist's
    people (keys of their own kind, their Latin names not bridged to Arabic script)."""
    if hours <= 0:
        return None
    grouper = EventGrouper(timedelta(hours=hours), Fingerprinter.for_watchlists(figures))
    recent = await store.recent_alerted_stories(now - grouper.window)
    grouper.warm(((g.story, g.labels, g.event_id, g.at) for g in recent), now)
    return grouper


async def prune_logged(store: Store, now: datetime, retention: timedelta) -> bool:
    """The scheduler's trim of old stories (every 6 h): the store's refusal (locked past its
    busy timeout, a full disk) logged in one line and False, not raised into the scheduler,
    which printed a job traceback; the next prune tries again and nothing is lost meanwhile."""
    try:
        await store.prune(now, retention)
    except Exception as exc:
        log.warning("prune_failed error=%r (the next prune tries again)", exc)
        return False
    return True


def new_instance_id() -> str:
    """A name for this process among the instances sharing a database (logged, stored)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


async def build(settings: Settings, stack: AsyncExitStack, options: AppOptions) -> Parts:
    """Open the store, build fetcher, matcher, poller, outbox and the enabled platforms."""
    # before the store starts its connection threads: one malloc arena for all of them
    limit_malloc_arenas()
    config = settings.config
    clock = options.clock
    store = await Store.open(settings.database_url, new_database=options.new_database)
    stack.push_async_callback(store.close)
    now = clock()
    await store.sync_feeds(
        [
            (f.id, f.url, f.language, f.interval or config.poll_interval)
            for f in config.feeds
            if f.enabled
        ],
        now,
    )
    matcher = compiled_matcher(config.watchlists)
    fetcher = Fetcher(fetch_settings(settings), clock=clock)
    stack.push_async_callback(fetcher.aclose)
    subscriptions = Subscriptions(store, matcher.labels, clock, zone=ZoneInfo(config.timezone))
    metrics = Metrics(clock)
    # The read side for /stats and the dashboard: its own connections, one set of trend counts.
    reports = Reports.open(settings.database_url)
    stack.push_async_callback(reports.close)
    trends = TrendCounts(reports, ZoneInfo(config.timezone))
    stats = Stats(subscriptions, trends, clock)

    feed_health = FeedHealth(
        [f.id for f in config.feeds if f.enabled], timedelta(seconds=config.poll_interval), clock
    )

    def on_poll(outcome: PollOutcome) -> None:
        metrics.observe_poll(outcome)
        feed_health.observe(outcome)
        if outcome.queued:
            parts.outbox.wake()  # deliver now, not after the slowest feed of the round
        if options.on_poll is not None:
            options.on_poll(outcome)

    grouper = await event_grouper(store, config.events.window_hours, now, config.watchlists.figures)
    # Claims and sender leases only matter with several instances, which need PostgreSQL; the
    # SQLite default (one process) skips the writes they cost.
    instance = options.instance
    if instance is None and store.dialect == "postgresql":
        instance = new_instance_id()
    if instance is None:
        # the only instance: claims left by a crash of this one are ours to drop, so the
        # feeds it was polling are due again now instead of after their interval
        await store.release_feed_claims("local")
    poller = Poller(
        store,
        fetcher,
        matcher,
        clock,
        on_outcome=on_poll,
        max_items=config.max_items_per_feed,
        grouper=grouper,
        instance=instance or "local",
        follows=FollowWatch(store),
    )
    parts = Parts(
        settings,
        store,
        matcher,
        fetcher,
        poller,
        subscriptions,
        OutboxWorker(store, {}, clock),
        [],
        metrics,
        clock,
        {f.id: f.name or f.id for f in config.feeds},
        feed_health=feed_health,
        reports=reports,
        trends=trends,
    )

    tz = ZoneInfo(config.timezone)
    chosen = options.platform_factories or ((registry.FALLBACK.name, registry.FALLBACK.factory()),)
    for name, factory in chosen:
        entry = registry.entry(name)
        context: PlatformContext[object] = PlatformContext(
            config=entry.section(config) if entry is not None else None,
            token=settings.secrets.token(name),
            store=store,
            subscriptions=subscriptions,
            sources=parts.sources,
            tz=tz,
            clock=clock,
            stream=options.stream,
            stats=stats,
            language=config.language,
        )
        platform = factory(context)
        parts.platforms.append(platform)
        # stop() is safe whether or not start() ran or finished (`once` sends without start)
        stack.push_async_callback(_stop_quietly, platform)
        if isinstance(platform, Preparable):
            await platform.prepare()
        metrics.platform_up.labels(name).set(0)
        log.info("platform_enabled name=%s", name)

    senders: dict[str, Sender[Any]] = {p.name: p.sender for p in parts.platforms}
    if registry.FALLBACK.name not in senders:
        await registry.retire_fallback(store, now)
    parts.outbox = OutboxWorker(
        store,
        senders,
        clock,
        on_result=metrics.observe_delivery,
        store_outage_limit=config.delivery.store_outage_limit,
        instance=instance,
        zone=tz,
    )
    if instance is not None:
        log.info("instance name=%s", instance)
    return parts


async def run_once(settings: Settings, options: AppOptions) -> list[PollOutcome]:
    """One poll cycle over every feed, then deliver what it queued."""
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        outcomes = await parts.poller.poll_all()
        await parts.outbox.deliver_due()
        # on PostgreSQL the sender leases are handed back at once: a lease left to run out
        # made the next `once` (cron, the next minute, a test) wait 10 s for it
        await parts.outbox.release()
        await parts.store.prune(options.clock(), timedelta(days=settings.config.retention_days))
        return outcomes


async def run_forever(settings: Settings, options: AppOptions, stop: asyncio.Event) -> None:
    """Poll on schedule, deliver, serve /healthz and /metrics, until `stop` is set.

    Shutdown runs in reverse: no new ticks, the poll in flight finishes (bounded), the outbox
    finishes the sends in flight, then the platforms, the health server, the fetcher and the
    database close.
    """
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    config = settings.config
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        liveness = Liveness(started_at=options.clock())

        roles = options.roles

        # Held while a tick picks the due feeds or a prune trims the store, so that stopping
        # waits for them before the scheduler and the store close (a job cut off logged a
        # traceback).
        ticking = asyncio.Lock()
        pruning = asyncio.Lock()

        async def tick() -> None:
            if stop.is_set() or "poll" not in roles:
                return
            async with ticking:
                # the polls run on; their outcomes wake the outbox
                if not await parts.poller.tick():
                    return  # the store refused the claim (logged): not a cycle
            liveness.last_cycle_at = options.clock()

        async def prune() -> None:
            if "poll" not in roles:  # the instances that poll keep the store trimmed
                return
            async with pruning:
                await prune_logged(
                    parts.store, options.clock(), timedelta(days=config.retention_days)
                )

        if config.health.enabled:
            # A cycle is "recent" if it finished within a few ticks plus one slow fetch.
            stale = timedelta(seconds=max(60.0, 3 * TICK_SECONDS + config.http.total_timeout * 2))
            health = HealthServer(
                parts.store,
                parts.metrics,
                liveness,
                options.clock,
                stale_after=stale,
                host=config.health.host,
                port=config.health.port,
                checks=(parts.outbox.problem, parts.feed_health.problem),
            )
            try:
                await health.start()
            except OSError as exc:  # the port is taken (or the address is not this machine's)
                await health.stop()
                message = health_port_problem(config.health.host, config.health.port, exc)
                if options.health_required:
                    raise HealthPortBusy(message) from None
                log.error("health_endpoint_off %s", message)
            else:
                stack.push_async_callback(health.stop)
                parts.health_port = health.port

        if config.dashboard.enabled:
            parts.dashboard_port = await _start_dashboard(settings, parts, stack)

        scheduler = AsyncIOScheduler(timezone=UTC)
        # One polling job; per-feed timing lives in the store. max_instances=1 + coalesce: a
        # slow cycle never runs twice at once and missed ticks collapse into one.
        scheduler.add_job(
            tick,
            "interval",
            seconds=TICK_SECONDS,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id="poll",
        )
        scheduler.add_job(
            prune,
            "interval",
            seconds=PRUNE_SECONDS,
            max_instances=1,
            coalesce=True,
            jitter=PRUNE_JITTER_SECONDS,
            id="prune",
        )
        scheduler.start()

        started: list[Platform] = []
        supervisors = [
            asyncio.create_task(
                _keep_starting(p, stop, started, parts.metrics), name=f"start-{p.name}"
            )
            for p in parts.platforms
            # without the commands role a platform is not started: no updates, no gateway;
            # its sender still delivers (as in `bot.py once`)
            if "commands" in roles
        ]

        async def stop_starting() -> None:
            # the platforms themselves are stopped by build()'s exit callbacks, after this
            for task in supervisors:
                task.cancel()
            await asyncio.gather(*supervisors, return_exceptions=True)

        stack.push_async_callback(stop_starting)
        log.info(
            "mirsad_ready feeds=%d platforms=%s roles=%s",
            len(config.feeds),
            ",".join(parts.outbox.platforms),
            ",".join(sorted(roles)),
        )
        if options.on_ready is not None:
            options.on_ready(parts)

        lost: list[str] = []  # why the database file is no longer the one opened
        if parts.store.watch is not None:
            watcher = asyncio.create_task(
                _watch_database(parts.store.watch, options.database_check_seconds, stop, lost)
            )
            stack.callback(watcher.cancel)
        try:
            # returns after stop once the sends in flight are done; raises StoreOutage when
            # the database refused writes for too long (the process exits for a restart)
            if "deliver" in roles:
                await parts.outbox.run(stop)
            else:
                await stop.wait()
        except Exception as exc:
            # a read failing because the file is gone: say that, not "unable to open"
            problem = parts.store.watch.problem() if parts.store.watch else None
            if problem is None:
                raise
            log.critical("database_lost %s", problem)
            raise DatabaseLost(problem) from exc
        finally:
            # No new jobs, and the tick or prune in flight finishes before the scheduler
            # shuts down: its asyncio executor cancels the jobs still running, which cut a
            # tick inside its claim and logged a CancelledError traceback.
            scheduler.pause()
            for job, running in (("tick", ticking), ("prune", pruning)):
                try:
                    await asyncio.wait_for(running.acquire(), timeout=5)
                    running.release()
                except TimeoutError:
                    log.warning("shutdown_%s_cut_short", job)
            scheduler.shutdown(wait=False)
        if not await parts.poller.finish_running(grace=5):  # let the polls in flight finish
            log.warning("shutdown_poll_cut_short")
        log.info("mirsad_stopping")
        if lost:
            raise DatabaseLost(lost[0])


async def _watch_database(
    watch: DatabaseWatch, every: float, stop: asyncio.Event, lost: list[str]
) -> None:
    """Every `every` seconds, check that the database file is still the one opened; if it was
    deleted or replaced, say why in `lost` and stop the bot (what it writes now is lost)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        problem = watch.problem()
        if problem is not None and not stop.is_set():
            log.critical("database_lost %s", problem)
            lost.append(problem)
            stop.set()


async def _start_dashboard(settings: Settings, parts: Parts, stack: AsyncExitStack) -> int:
    """Serve the web dashboard (web/) on its own host and port; returns the port."""
    from web import Dashboard

    config = settings.config
    assert parts.reports is not None and parts.trends is not None
    dashboard = Dashboard(
        parts.reports,
        trends=parts.trends,
        feed_names=parts.sources,
        labels=parts.matcher.labels,
        clock=parts.clock,
        zone=ZoneInfo(config.timezone),
        host=config.dashboard.host,
        port=config.dashboard.port,
        token=settings.secrets.dashboard_token,
    )
    await dashboard.start()
    stack.push_async_callback(dashboard.stop)
    return dashboard.port


async def _stop_quietly(platform: Platform) -> None:
    try:
        await platform.stop()
    except Exception:
        log.exception("platform_stop_failed name=%s", platform.name)


PLATFORM_RETRY_FIRST = 5.0
PLATFORM_RETRY_MAX = 300.0


async def _keep_starting(
    platform: Platform, stop: asyncio.Event, started: list[Platform], metrics: Metrics
) -> None:
    """Start one platform, retrying with backoff; a failing platform (bad token, unreachable)
    is reported while polling, the other platform and the outbox keep running."""
    delay = PLATFORM_RETRY_FIRST
    while not stop.is_set():
        try:
            await platform.start()
        except Exception as exc:
            log.error(
                "platform_start_failed name=%s error=%r retry_in=%ds",
                platform.name,
                f"{type(exc).__name__}: {exc}",
                int(delay),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, PLATFORM_RETRY_MAX)
            continue
        started.append(platform)
        metrics.platform_up.labels(platform.name).set(1)
        log.info("platform_started name=%s", platform.name)
        return
