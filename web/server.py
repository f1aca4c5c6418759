"""The dashboard's aiohttp app: four read-only pages and two feed controls.

Security, in one place (issue 15):
- Access: when a token is configured every request needs it (HTTP Basic password, any user
  name, or `Authorization: Bearer`); listening off loopback without one is refused at start.
- Output: Jinja2 autoescapes every value (feed titles and names are untrusted); links are
  rendered only for http(s) URLs.
- Headers on every answer, errors included: a CSP with no script source at all (the pages
  have no JavaScript), frame-ancestors 'none', nosniff, no referrer leaking the URL.
- Writes (poll now, pause/resume) are POSTs that must carry the page's CSRF token and come
  from this origin (Origin, or Referer when a browser sends no Origin).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web

from charts import TrendChart, TrendSeries, render_trend_png
from config import is_loopback
from core import texts
from core.pause import parse as parse_pause
from models import LabelInfo
from store.reports import FeedReport, Reports, TrendCounts

from . import present

log = logging.getLogger("mirsad.web")

_HERE = Path(__file__).resolve().parent
TREND_DAYS = 30
STORIES_PER_PAGE = 100

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

FEED_SORTS: dict[str, Callable[[FeedReport], Any]] = {
    "id": lambda f: f.id,
    "errors": lambda f: (f.error_count, f.id),
    "last_poll": lambda f: f.last_polled_at or datetime.min.replace(tzinfo=f.next_poll_at.tzinfo),
    "last_new": lambda f: f.last_new_at or datetime.min.replace(tzinfo=f.next_poll_at.tzinfo),
    "next_poll": lambda f: (f.paused, f.next_poll_at),  # paused feeds last
    "stories": lambda f: (f.stories_24h, f.id),
}


class DashboardError(Exception):
    """The dashboard cannot start as configured; the message says what to fix."""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Dashboard:
    def __init__(
        self,
        reports: Reports,
        *,
        trends: TrendCounts | None = None,
        feed_names: Mapping[str, str],
        labels: Sequence[LabelInfo],
        clock: Callable[[], datetime],
        zone: tzinfo,
        host: str,
        port: int,
        token: str | None,
    ) -> None:
        if not token and not is_loopback(host):
            raise DashboardError(
                f"dashboard.host {host!r} is not loopback: set MIRSAD_DASHBOARD_TOKEN (or "
                "MIRSAD_DASHBOARD_TOKEN_FILE), or listen on 127.0.0.1"
            )
        self._reports = reports
        self._trends = trends or TrendCounts(reports, zone)
        self._names = dict(feed_names)
        self._labels = {info.id: info for info in labels}
        self._clock = clock
        self._zone = zone
        self._host, self.port = host, port
        self._token = token
        # Same for every page of this process; a cross-site page cannot read it (no CORS, no
        # framing), so a form that carries it was served by us.
        self._csrf = secrets.token_urlsafe(32)
        self._runner: web.AppRunner | None = None
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            direction=present.direction,
            safe_url=present.safe_url,
        )
        self._static = {  # name -> (bytes, content type); read once, served from memory
            "style.css": ((_HERE / "static" / "style.css").read_bytes(), "text/css"),
            "icon.svg": ((_HERE / "static" / "icon.svg").read_bytes(), "image/svg+xml"),
        }

    # --- lifecycle ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.on_response_prepare.append(_add_security_headers)
        app.router.add_get("/", self._feeds_page)
        app.router.add_get("/stories", self._stories_page)
        app.router.add_get("/subscriptions", self._subscriptions_page)
        app.router.add_get("/trends", self._trends_page)
        app.router.add_get("/trends.png", self._trends_png)
        app.router.add_get("/static/{name}", self._static_file)
        app.router.add_post("/feeds/{feed_id}/{action}", self._feed_action)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]  # port 0 = any free port (tests)
        log.info(
            "dashboard_listening host=%s port=%d token=%s",
            self._host,
            self.port,
            "required" if self._token else "none",
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- access and cross-site checks -----------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._token and not self._authorised(request):
            return web.Response(
                status=401,
                text="401: this dashboard needs its token (MIRSAD_DASHBOARD_TOKEN) as the password\n",
                headers={"WWW-Authenticate": 'Basic realm="Mirsad dashboard", charset="UTF-8"'},
            )
        if request.method == "POST":
            problem = await self._cross_site_problem(request)
            if problem:
                log.warning("dashboard_post_refused path=%s reason=%s", request.path, problem)
                return web.Response(status=403, text=f"403: refused: {problem}\n")
        return await handler(request)

    def _authorised(self, request: web.Request) -> bool:
        assert self._token
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        given = ""
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return False
        return hmac.compare_digest(given.encode(), self._token.encode())

    async def _cross_site_problem(self, request: web.Request) -> str | None:
        """Why a POST may come from another site, or None. Browsers send Origin with every
        form POST; Referer stands in for it where a privacy setting strips Origin."""
        source = request.headers.get("Origin") or request.headers.get("Referer")
        if not source or source == "null":
            return "no Origin or Referer header"
        if urlsplit(source).netloc.lower() != request.host.lower():
            return "the form was sent from another site"
        form = await request.post()
        given = form.get("csrf")
        if not isinstance(given, str) or not hmac.compare_digest(given, self._csrf):
            return "missing or wrong CSRF token (reload the page and try again)"
        return None

    # --- pages ----------------------------------------------------------------------------

    def _render(self, name: str, request: web.Request, **values: Any) -> web.Response:
        now = self._clock()
        page = self._env.get_template(name).render(
            path=request.path,
            csrf=self._csrf,
            when=lambda dt, due=False: present.when(dt, now, self._zone, due=due),
            label_name=self._label_name,
            feed_name=lambda fid: self._names.get(fid, fid),
            pause_reason=_pause_reason,
            **values,
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    def _label_name(self, label: str) -> str:
        info = self._labels.get(label)
        return info.name_ar if info else label

    async def _feeds_page(self, request: web.Request) -> web.Response:
        sort = request.query.get("sort", "id")
        key = FEED_SORTS.get(sort, FEED_SORTS["id"])
        descending = request.query.get("dir") == "desc"
        feeds = sorted(await self._reports.feeds(self._clock()), key=key, reverse=descending)
        failing = [f for f in feeds if f.error_count > 0]
        return self._render(
            "feeds.html",
            request,
            feeds=feeds,
            failing=len(failing),
            paused=sum(1 for f in feeds if f.paused),
            sort=sort if sort in FEED_SORTS else "id",
            descending=descending,
            notice=request.query.get("done", ""),
        )

    async def _stories_page(self, request: web.Request) -> web.Response:
        label = request.query.get("label") or None
        source = request.query.get("source") or None
        stories = await self._reports.matched_stories(
            label=label, feed_id=source, limit=STORIES_PER_PAGE
        )
        return self._render(
            "stories.html",
            request,
            stories=stories,
            label=label or "",
            source=source or "",
            labels=list(self._labels.values()),
            sources=sorted(self._names.items(), key=lambda kv: kv[0]),
        )

    async def _subscriptions_page(self, request: web.Request) -> web.Response:
        subs = await self._reports.subscriptions()
        by_platform: dict[str, list[Any]] = {}
        for sub in subs:
            by_platform.setdefault(sub.platform, []).append(sub)
        return self._render("subscriptions.html", request, by_platform=by_platform)

    async def _trend_chart(self) -> TrendChart:
        days, counts = await self._trends.daily(self._labels, TREND_DAYS, self._clock())
        return TrendChart(
            title=f"قصص مطابقة في اليوم — آخر {TREND_DAYS} يومًا",
            days=days,
            series=tuple(
                TrendSeries(self._label_name(label), values) for label, values in counts.items()
            ),
        )

    async def _trends_page(self, request: web.Request) -> web.Response:
        chart = await self._trend_chart()
        totals = [(s.name, sum(s.counts), max(s.counts, default=0)) for s in chart.series]
        return self._render(
            "trends.html",
            request,
            days=TREND_DAYS,
            totals=totals,
            image=f"/trends.png?{urlencode({'d': chart.days[-1].isoformat()})}",
        )

    async def _trends_png(self, _request: web.Request) -> web.Response:
        chart = await self._trend_chart()
        png = await asyncio.to_thread(render_trend_png, chart)
        return web.Response(body=png, content_type="image/png")

    async def _static_file(self, request: web.Request) -> web.Response:
        found = self._static.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(text="404: no such file\n")
        body, content_type = found
        return web.Response(body=body, content_type=content_type)

    # --- controls -------------------------------------------------------------------------

    async def _feed_action(self, request: web.Request) -> web.Response:
        feed_id = request.match_info["feed_id"]
        action = request.match_info["action"]
        now = self._clock()
        if action == "poll":
            done = await self._reports.poll_now(feed_id, now)
        elif action in ("pause", "resume"):
            done = await self._reports.set_paused(feed_id, action == "pause", now)
        else:
            raise web.HTTPNotFound(text="404: unknown action (poll, pause or resume)\n")
        if not done:
            raise web.HTTPConflict(
                text=f"409: feed {feed_id!r} is not an active feed (unknown, removed, or paused)\n"
            )
        log.info("dashboard_feed_action feed=%s action=%s", feed_id, action)
        raise web.HTTPSeeOther(location="/?" + urlencode({"done": f"{action}:{feed_id}"}))


def _pause_reason(stored: str | None) -> tuple[str, str]:
    """A stored pause reason as the operator reads it: the translated code, and the
    platform's own words when they add something."""
    reason = parse_pause(stored)
    if reason is None:
        return "", ""
    return texts.pause_reason(stored, "en"), reason.detail if reason.code != "other" else ""


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
