"""A loopback HTTP server for tests: serves feeds (and misbehaves on request).

It runs its own event loop in a background thread, so it answers while a test awaits
(async tests), blocks (sync tests) or waits on a subprocess (`bot.py once`). It speaks just
enough HTTP/1.1 by hand (one request per connection, `Connection: close`) to control every
byte: no header is added that the test did not ask for, except Content-Length.

Usage (the `feed_server` fixture gives a started server and sets NO_PROXY for loopback)::

    server.set("/hespress.xml", body=Path("tests/data/feeds/hespress-ar-2026-02-11.xml"),
               etag='"v1"', last_modified="Wed, 11 Feb 2026 07:19:22 GMT")
    server.url("/hespress.xml")            # "http://127.0.0.1:PORT/hespress.xml"
    server.hits("/hespress.xml")           # requests received for that path (query ignored)
    server.requests("/hespress.xml")[-1].headers["if-none-match"]   # lower-case keys

`set(path, body=b"", **options)` options, all keyword-only:

- `status=200`, `headers={...}` (sent as given, e.g. {"Retry-After": "120"}),
  `content_type="application/rss+xml"` (None sends no Content-Type at all);
- `etag=`, `last_modified=`: sent, and a request whose If-None-Match matches (or, without
  If-None-Match, whose If-Modified-Since is not older) gets a bare 304;
- `gzip=True`: body gzip-compressed, with Content-Encoding: gzip;
- `size=N`: body of N bytes made by repeating `body` (default b"x"), streamed lazily so
  2 GB cost no memory; with `gzip=True` it is a gzip bomb (compressed once, cached);
- `chunked=True`: Transfer-Encoding: chunked instead of Content-Length;
- `delay=s`: wait before the status line; `trickle=s`: send the body one byte every s;
- `raw=b"..."`: send these bytes as the whole response, nothing else.

`redirect(path, location, status=302)` answers with Location; `clear()` forgets routes and
counts. Paths not set answer 404. `Request.bytes_sent` counts body bytes the server wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip as gzip_module
import http
import os
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType

import pytest

_DEFAULT_TYPE = "application/rss+xml"
_CHUNK = 64 * 1024


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case keys
    bytes_sent: int = 0
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = _DEFAULT_TYPE
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    size: int | None = None
    chunked: bool = False
    delay: float = 0.0
    trickle: float | None = None
    raw: bytes | None = None


class FeedServer:
    """Loopback HTTP server in a thread; see the module docstring for the API."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._requests: dict[str, list[Request]] = {}
        self._in_flight: dict[str, int] = {}  # requests being answered, by path
        self._peak: dict[str, int] = {}  # the most ever answered at once, by path
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.port = 0

    # -- configuration (call from any thread) --------------------------------------------

    def set(self, path: str, body: bytes | str | Path = b"", **options: object) -> None:
        """Serve `body` (bytes, text as UTF-8, or a file's bytes) at `path`."""
        if isinstance(body, Path):
            data = body.read_bytes()
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body
        route = Route(body=data, **options)  # type: ignore[arg-type]
        with self._lock:
            self._routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer `path` with a redirect to `location` (a path here, or any URL)."""
        self.set(path, status=status, headers={"Location": location}, content_type=None)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return len(self._requests.get(path, []))

    def requests(self, path: str) -> list[Request]:
        with self._lock:
            return list(self._requests.get(path, []))

    def peak_in_flight(self, path: str) -> int:
        """The most requests for `path` this server was answering at the same time."""
        with self._lock:
            return self._peak.get(path, 0)

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()
            self._requests.clear()
            self._peak.clear()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self._run, name="feedserver", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("feed server did not start")
        return self

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._handle(reader, writer)
            finally:
                tasks.discard(task)

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    # -- one request ----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
        path, _, query = target.partition("?")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        request = Request(method, path, query, headers)
        with self._lock:
            self._requests.setdefault(path, []).append(request)
            route = self._routes.get(path)
            self._in_flight[path] = self._in_flight.get(path, 0) + 1
            self._peak[path] = max(self._peak.get(path, 0), self._in_flight[path])
        try:
            await self._respond(route, request, writer)
        except (ConnectionError, OSError):
            pass  # the client hung up, e.g. after hitting its size cap: that is the point
        finally:
            with self._lock:
                self._in_flight[path] -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _respond(
        self, route: Route | None, request: Request, writer: asyncio.StreamWriter
    ) -> None:
        if route is None:
            route = Route(body=b"not found", status=404, content_type="text/plain")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.raw is not None:
            writer.write(route.raw)
            await writer.drain()
            return
        headers = dict(route.headers)
        if route.content_type is not None:
            headers["Content-Type"] = route.content_type
        if route.etag is not None:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = route.last_modified
        if _not_modified(route, request.headers):
            writer.write(_head(304, headers))
            await writer.drain()
            return
        body_size, chunks = self._body(route)
        if route.gzip:
            headers["Content-Encoding"] = "gzip"
        if route.chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(body_size)
        writer.write(_head(route.status, headers))
        for chunk in chunks:
            pieces = [chunk[i : i + 1] for i in range(len(chunk))] if route.trickle else [chunk]
            for piece in pieces:
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if route.chunked else piece)
                await writer.drain()
                request.bytes_sent += len(piece)
                if route.trickle:
                    await asyncio.sleep(route.trickle)
        if route.chunked:
            writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _body(self, route: Route) -> tuple[int, Iterator[bytes]]:
        if route.size is None:
            data = gzip_module.compress(route.body) if route.gzip else route.body
            return len(data), iter([data] if data else [])
        filler = route.body or b"x"
        if route.gzip:
            bomb = _gzip_of_repeated(filler, route.size)
            return len(bomb), (bomb[i : i + _CHUNK] for i in range(0, len(bomb), _CHUNK))
        return route.size, _repeated(filler, route.size)


def _repeated(filler: bytes, size: int) -> Iterator[bytes]:
    block = (filler * (_CHUNK // len(filler) + 1))[:_CHUNK]
    sent = 0
    while sent < size:
        piece = block[: size - sent]
        sent += len(piece)
        yield piece


@functools.lru_cache(maxsize=4)
def _gzip_of_repeated(filler: bytes, size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(piece) for piece in _repeated(filler, size)]
    parts.append(compressor.flush())
    return b"".join(parts)


def _not_modified(route: Route, headers: Mapping[str, str]) -> bool:
    if route.status != 200:
        return False
    if route.etag is not None and "if-none-match" in headers:
        tags = {t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")}
        return "*" in tags or route.etag.removeprefix("W/") in tags
    if route.last_modified is not None and "if-modified-since" in headers:
        try:
            since = parsedate_to_datetime(headers["if-modified-since"])
            modified = parsedate_to_datetime(route.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """A started FeedServer; loopback is exempted from any HTTP(S)_PROXY in the env."""
    for name in ("NO_PROXY", "no_proxy"):
        existing = os.environ.get(name, "")
        monkeypatch.setenv(name, ",".join(filter(None, [existing, "127.0.0.1", "localhost"])))
    with FeedServer() as server:
        yield server
