"""Shared pieces of the benchmarks: the machine, process figures, a feed farm, configs.

The feed farm is a loopback aiohttp server run in its OWN process (`python bench/common.py
farm SPEC`), so its CPU time never counts as the bot's. It serves N feeds spread over many
loopback addresses (127.1.x.y: Linux routes all of 127/8 to `lo`), because a real instance
polls many hosts and the fetcher limits concurrency per host. Feed kinds, chosen by a fixed
permutation of the feed index so they are spread evenly over the hosts:

- static   : 50 items, ETag + Last-Modified; a conditional request gets a bare 304;
- changing : the latest 50 items of a stream that gains one item every `period` seconds
             (each feed at its own phase); a poll after a change gets 200 and all 50 items;
- slow     : like static, but every answer waits `slow_delay` seconds first;
- failing  : half answer HTTP 500, half an HTML page with status 200 (a parse error).

Time is real seconds since the farm started, or, with `sim=True`, whatever the benchmark
last set with POST /_clock?t=SECONDS (the footprint benchmark's simulated day).

Control endpoints (on the first address): GET /_stats, POST /_clock?t=, POST /_publish?feed=&title=
(adds an item to a static feed now and returns the farm's monotonic time, which is the same
clock as `time.monotonic()` in any process of this machine: CLOCK_MONOTONIC),
GET /_fetches?feed= (monotonic times of that feed's recent requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The shared data folder sits beside the clone (or beside the worktrees' folder).
SHARED = next(
    (
        p
        for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "data",
)
PYTHON = sys.executable

# --- the machine and the process -----------------------------------------------------------


def machine() -> dict[str, str]:
    """nproc, CPU model, Python and SQLite versions: what every table is measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MB"
                break
    return {
        "nproc": str(os.cpu_count() or 0),
        "affinity": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }


def print_machine() -> None:
    m = machine()
    print(
        f"machine: {m['nproc']} CPUs ({m['affinity']} usable), {m['cpu']}, {m['memory']} RAM; "
        f"Python {m['python']}, SQLite {m['sqlite']}, Linux {m['kernel']}; "
        f"load average {os.getloadavg()[0]:.1f} (other jobs share the machine)"
    )


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a whole process (all its threads), from /proc."""
    path = Path(f"/proc/{pid or os.getpid()}/stat")
    fields = path.read_text().rsplit(")", 1)[1].split()
    # after the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5))
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def memory_mb(pid: int | None = None) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) in MB."""
    out = {"rss": 0.0, "peak": 0.0}
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            out["rss"] = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            out["peak"] = int(line.split()[1]) / 1024
    return out


# --- statistics ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def matcher_seconds(fn: Callable[[], object], runs: int) -> float:
    """Median wall seconds of `fn` over `runs`, the matcher's stem cache emptied before each
    run so that every run pays for it as a fresh process would."""
    from filters.arabic import inflected_stems

    times = []
    for _ in range(runs):
        inflected_stems.cache_clear()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): an observed value, never an interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (prints well in a terminal and pastes into BENCHMARKS.md)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# --- story texts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    title: str
    summary: str


def story_pool() -> list[Text]:
    """Real Arabic news texts: the dev set (472 stories, ~13% on a watchlist)."""
    pool: list[Text] = []
    source = SHARED / "dev" / "stories.jsonl"
    if not source.is_file():  # without ../shared: the copy in tests/data (both dev files)
        source = ROOT / "tests" / "data" / "matcher" / "stories.jsonl"
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "labels" not in row or str(row["id"]).startswith("n"):
                continue  # the copy also holds stories-2.jsonl (n...) and feed stories
            summary = (row.get("summary") or "").strip()
            title = (row.get("title") or "").strip() or " ".join(summary.split()[:12])
            if title:
                pool.append(Text(title, summary))
    return pool


# --- the feed farm -----------------------------------------------------------------------------


@dataclass
class FarmSpec:
    feeds: int = 1000
    hosts: int = 200
    items: int = 50
    period: float = 10.0  # seconds between two new items of a changing feed
    slow_delay: float = 3.0
    static: float = 0.80
    changing: float = 0.15
    slow: float = 0.025  # the rest fail
    sim: bool = False


def feed_kind(index: int, spec: FarmSpec) -> str:
    """Kinds by a fixed permutation of the index (37 is prime to 1000): evenly spread."""
    r = (index * 37) % 1000
    if r < round(spec.static * 1000):
        return "static"
    if r < round((spec.static + spec.changing) * 1000):
        return "changing"
    if r < round((spec.static + spec.changing + spec.slow) * 1000):
        return "slow"
    return "failing"


def host_of(index: int, spec: FarmSpec) -> str:
    h = index % spec.hosts
    return f"127.1.{h // 250}.{h % 250 + 1}"


def feed_url(index: int, spec: FarmSpec, port: int) -> str:
    return f"http://{host_of(index, spec)}:{port}/f/{index}.xml"


def rss(index: int, items: Sequence[tuple[int, Text, datetime]]) -> bytes:
    """An RSS 2.0 document; item n of feed `index` has a unique link."""
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n<rss version=\"2.0\"><channel>"
        f"<title>Bench feed {index}</title><link>https://news{index}.example.com/</link>"
        "<description>bench</description><language>ar</language>"
    ]
    for n, text, published in items:
        link = f"https://news{index}.example.com/story/{n}.html"
        parts.append(
            f"<item><title>{escape(text.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">b{index}-{n}</guid>'
            f"<description>{escape(text.summary)}</description>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class Farm:
    """The server side (runs inside the farm process)."""

    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        self.pool = story_pool()
        self.started = time.monotonic()
        self.base = datetime.now(UTC).replace(microsecond=0)  # item dates are around this
        self.sim_t = 0.0
        self.kinds = [feed_kind(i, spec) for i in range(spec.feeds)]
        self.phase = [(i * 0.6180339887) % 1 * spec.period for i in range(spec.feeds)]
        self.cache: dict[int, tuple[int, bytes]] = {}
        self.extra: dict[int, list[tuple[int, Text, datetime]]] = {}
        self.fetches: dict[int, deque[float]] = {}
        self.stats: Counter[str] = Counter()

    def now(self) -> float:
        return self.sim_t if self.spec.sim else time.monotonic() - self.started

    def text(self, index: int, n: int) -> Text:
        return self.pool[(index * 7919 + n * 104729) % len(self.pool)]

    def version(self, index: int) -> int:
        if self.kinds[index] == "changing":
            return int((self.now() + self.phase[index]) // self.spec.period)
        return len(self.extra.get(index, ()))

    def body(self, index: int, version: int) -> bytes:
        cached = self.cache.get(index)
        if cached and cached[0] == version:
            return cached[1]
        items: list[tuple[int, Text, datetime]]
        if self.kinds[index] == "changing":
            top = version + 1_000_000  # item numbers stay positive whatever the phase
            items = [
                (
                    n,
                    self.text(index, n),
                    self.base + timedelta(seconds=(n - 1_000_000) * self.spec.period),
                )
                for n in range(top, top - self.spec.items, -1)
            ]
        else:
            extra = list(reversed(self.extra.get(index, [])))
            items = extra + [
                (n, self.text(index, n), self.base - timedelta(hours=n + 1))
                for n in range(self.spec.items - len(extra))
            ]
        data = rss(index, items)
        self.cache[index] = (version, data)
        return data

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        index = int(request.match_info["n"])
        kind = self.kinds[index]
        self.stats["requests"] += 1
        self.stats[f"kind:{kind}"] += 1
        self.fetches.setdefault(index, deque(maxlen=512)).append(time.monotonic())
        if kind == "slow":
            await asyncio.sleep(self.spec.slow_delay)
        if kind == "failing":
            if index % 2:
                self.stats["status:500"] += 1
                return web.Response(status=500, text="Internal Server Error")
            self.stats["status:200-html"] += 1
            return web.Response(
                text="<html><body>Checking your browser...</body></html>",
                content_type="text/html",
            )
        version = self.version(index)
        etag = f'"{index}-{version}"'
        if request.headers.get("If-None-Match") == etag:
            self.stats["status:304"] += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.stats["status:200"] += 1
        return web.Response(
            body=self.body(index, version),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def control(self, request: Any) -> Any:
        from aiohttp import web

        what = request.match_info["what"]
        if what == "stats":
            return web.json_response(dict(self.stats))
        if what == "clock":
            self.sim_t = float(request.query["t"])
            return web.json_response({"t": self.sim_t})
        if what == "publish":
            index = int(request.query["feed"])
            items = self.extra.setdefault(index, [])
            n = 10_000 + len(items)
            title = request.query.get("title", "")
            items.append((n, Text(title, title), datetime.now(UTC).replace(microsecond=0)))
            return web.json_response(
                {"t": time.monotonic(), "link": f"https://news{index}.example.com/story/{n}.html"}
            )
        if what == "fetches":
            return web.json_response(list(self.fetches.get(int(request.query["feed"]), ())))
        return web.Response(status=404)


async def _serve(spec: FarmSpec) -> None:
    from aiohttp import web

    farm = Farm(spec)
    app = web.Application()
    app.router.add_get("/f/{n:\\d+}.xml", farm.handle)
    app.router.add_route("*", "/_{what}", farm.control)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    first = web.TCPSite(runner, host_of(0, spec), 0, backlog=1024)
    await first.start()
    port = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for h in range(1, min(spec.hosts, spec.feeds)):
        await web.TCPSite(runner, host_of(h, spec), port, backlog=1024).start()
    print(f"ready {port}", flush=True)
    await asyncio.Event().wait()


class FarmProcess:
    """Starts the farm in a child process; `url(i)`, `stats()`, `publish()`, `set_clock()`."""

    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> FarmProcess:
        self.proc = subprocess.Popen(
            [PYTHON, str(Path(__file__)), "farm", json.dumps(asdict(self.spec))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.proc.kill()
            raise RuntimeError(f"feed farm did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self, index: int) -> str:
        return feed_url(index, self.spec, self.port)

    def _control(self, what: str, method: str = "GET", **query: str) -> Any:
        import urllib.parse
        import urllib.request

        q = urllib.parse.urlencode(query)
        url = f"http://{host_of(0, self.spec)}:{self.port}/_{what}?{q}"
        req = urllib.request.Request(url, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, int]:
        data: dict[str, int] = self._control("stats")
        return data

    def set_clock(self, t: float) -> None:
        self._control("clock", "POST", t=str(t))

    def publish(self, feed: int, title: str) -> tuple[float, str]:
        data = self._control("publish", "POST", feed=str(feed), title=title)
        return float(data["t"]), str(data["link"])

    def fetches(self, feed: int) -> list[float]:
        return [float(t) for t in self._control("fetches", feed=str(feed))]


# --- configs ---------------------------------------------------------------------------------


def write_config(
    directory: Path,
    feeds: Sequence[tuple[str, str]],
    *,
    interval: int = 120,
    health_port: int | None = 0,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A config.yaml for `feeds` (id, url) with the repository's watchlists; the database
    lives in `directory`. Loopback feeds need `http.allow_private_addresses`."""
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config: dict[str, Any] = {
        "database": str(directory / "mirsad.db"),
        "poll_interval": interval,
        "timezone": base.get("timezone", "Africa/Casablanca"),
        "retention_days": 1,
        "feeds": [{"id": fid, "url": url, "language": "ar"} for fid, url in feeds],
        "http": {**base.get("http", {}), "allow_private_addresses": True},
        "health": {"enabled": health_port is not None, "port": health_port or 0},
        "watchlists": base["watchlists"],
    }
    config.update(extra or {})
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- a bot.py child process ----------------------------------------------------------------


@dataclass
class BotProcess:
    """`python bot.py run --config PATH` with stderr (the log) going to a file."""

    config: Path
    env: dict[str, str] = field(default_factory=dict)
    log: Path = field(init=False)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    def __post_init__(self) -> None:
        self.log = self.config.parent / "bot.log"

    def start(self) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
        env.update(self.env)
        self.started = time.monotonic()
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [PYTHON, str(ROOT / "bot.py"), "run", "--config", str(self.config)],
                cwd=str(self.config.parent),
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_for_log(self, pattern: str, timeout: float = 60.0) -> tuple[float, re.Match[str]]:
        """Seconds since start at which `pattern` first appeared in the log, and its match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = rx.search(self.log.read_text(errors="replace"))
            if m:
                return time.monotonic() - self.started, m
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"bot exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.005)
        raise TimeoutError(f"{pattern!r} not in the log after {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample `name{labels...}` in a /metrics page."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, raw_labels = head.partition("{")
        if sample != name:
            continue
        if all(f'{k}="{v}"' in raw_labels for k, v in labels.items()):
            total += float(value)
    return total


async def survive(awaitable: Awaitable[object]) -> str:
    """Await a poll cycle; if it raises, wait for the feeds still in flight (gather() does
    not cancel them) and return the error as text ("" when it went through)."""
    try:
        await awaitable
    except Exception as exc:  # the finding itself: reported, and the benchmark goes on
        others = asyncio.all_tasks() - {asyncio.current_task()}
        await asyncio.gather(*others, return_exceptions=True)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    return ""


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "farm":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(FarmSpec(**json.loads(sys.argv[2]))))
    else:
        print("usage: common.py farm SPEC_JSON", file=sys.stderr)
        sys.exit(2)
