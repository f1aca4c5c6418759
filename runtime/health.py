"""`/healthz` and `/metrics` (Prometheus text format) on a small aiohttp server.

aiohttp is already here through discord.py; prometheus-client writes the text format.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from alerts.payloads import SendResult
from feeds.poll import PollOutcome
from store import Delivery, HealthStore

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("mirsad.health")


# A *_created series per counter doubles the series and no dashboard reads it (process-wide).
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every number Mirsad exposes, in its own registry (no global state)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.registry = CollectorRegistry()
        r = self.registry
        # Prometheus conventions: one prefix (mirsad_feed_* for per-feed numbers), no
        # *_created series (see disable_created_metrics above), process and Python collectors.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.feeds_polled = Counter(
            "mirsad_feed_polls", "Feed polls by outcome", ["status"], registry=r
        )
        self.feed_last_success = Gauge(
            "mirsad_feed_last_success_timestamp_seconds",
            "When each feed last answered with a feed or a 304 (Unix time)",
            ["feed"],
            registry=r,
        )
        self.feed_failures = Counter(
            "mirsad_feed_failures", "Failed polls by feed", ["feed"], registry=r
        )
        self.stories_new = Counter("mirsad_stories_new", "New stories stored", registry=r)
        self.matches = Counter(
            "mirsad_matches", "Matched new stories by label", ["label"], registry=r
        )
        self.alerts = Counter(
            "mirsad_alerts", "Delivery results by platform", ["platform", "result"], registry=r
        )
        self.pending = Gauge(
            "mirsad_alerts_pending", "Alerts waiting in the outbox", ["platform"], registry=r
        )
        self.platform_up = Gauge(
            "mirsad_platform_up",
            "1 once a chat platform has started (0: still starting or retrying)",
            ["platform"],
            registry=r,
        )
        self.poll_seconds = Histogram(
            "mirsad_poll_duration_seconds",
            "Time to fetch, parse and store one feed",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.delivery_seconds = Histogram(
            "mirsad_delivery_latency_seconds",
            "From a story queued (found new) to its alert accepted",
            ["platform"],
            registry=r,
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
        )

    def observe_poll(self, outcome: PollOutcome) -> None:
        self.feeds_polled.labels(outcome.status).inc()
        self.poll_seconds.observe(outcome.ms / 1000)
        if outcome.status == "error":
            self.feed_failures.labels(outcome.feed_id).inc()
        else:
            self.feed_last_success.labels(outcome.feed_id).set(self._clock().timestamp())
        self.stories_new.inc(outcome.new)
        for label in outcome.labels:
            self.matches.labels(label).inc()

    def observe_delivery(self, delivery: Delivery, result: SendResult) -> None:
        platform = delivery.subscription.platform
        self.alerts.labels(platform, result.status).inc()
        if result.status == "sent":
            waited = (self._clock() - delivery.queued_at).total_seconds()
            self.delivery_seconds.labels(platform).observe(max(waited, 0.0))


@dataclass
class Liveness:
    """What /healthz judges: set each time the poll tick has asked the store for due feeds
    and started their polls (each poll is bounded by the HTTP total timeout)."""

    started_at: datetime
    last_cycle_at: datetime | None = None


class HealthServer:
    def __init__(
        self,
        store: HealthStore,
        metrics: Metrics,
        liveness: Liveness,
        clock: Callable[[], datetime],
        *,
        stale_after: timedelta,
        host: str,
        port: int,
        checks: Sequence[Callable[[], str | None]] = (),
    ) -> None:
        self._store = store
        self._checks = tuple(checks)  # each returns a problem to report, or None
        self._metrics = metrics
        self._liveness = liveness
        self._clock = clock
        self._stale_after = stale_after
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> None:
        # imported here: aiohttp's server side is ~2 MB that `bot.py once` and a bot without
        # the endpoint never use (issue 19, memory)
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]  # port 0 = any free port (tests)
        log.info("health_listening host=%s port=%d", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def problems(self) -> list[str]:
        problems = []
        try:
            if not await asyncio.wait_for(self._store.ping(), 3):
                problems.append("database did not answer")
        except Exception as exc:  # any failure to answer is the finding itself
            problems.append(f"database error: {type(exc).__name__}")
        now = self._clock()
        last = self._liveness.last_cycle_at
        if last is None:
            if now - self._liveness.started_at > self._stale_after:
                problems.append("the poll scheduler has not run since start")
        elif now - last > self._stale_after:
            problems.append(
                f"the poll scheduler last ran {int((now - last).total_seconds())} s ago"
            )
        problems.extend(p for check in self._checks if (p := check()) is not None)
        return problems

    async def _healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web  # loaded by start()

        problems = await self.problems()
        if problems:
            return web.Response(status=503, text="unhealthy: " + "; ".join(problems) + "\n")
        return web.Response(text="ok\n")

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        from aiohttp import web  # loaded by start()

        counts = await self._store.outbox_counts()
        for (platform, status), n in counts.items():
            if status == "pending":
                self._metrics.pending.labels(platform).set(n)
        for platform in {p for p, _ in counts}:
            if (platform, "pending") not in counts:
                self._metrics.pending.labels(platform).set(0)
        body = generate_latest(self._metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
