"""The only feed HTTP caller: one polite, bounded GET per feed.

What a fetch guarantees (issue 2 "Feed intake", issue 7 "Feeds that attack or misbehave"):

- conditional GET: the stored ETag / Last-Modified go out as If-None-Match /
  If-Modified-Since; a 304 comes back as `not_modified=True` with an empty body;
- bounded time: connect and read timeouts per operation AND one deadline for the whole
  fetch (redirects and body included), so a server trickling a byte a second fails at
  `total_timeout`, not never;
- bounded memory: the body is streamed and cut at `max_bytes` of DECODED bytes; gzip and
  deflate are decoded here with zlib's `max_length`, so a gzip bomb never expands past the
  cap plus one byte (httpx's own decoder would inflate a whole network chunk first);
- redirects followed by hand, at most `max_redirects`, each target checked again: http(s)
  only, no loops, no private address;
- private addresses refused unless `allow_private_addresses`, BEFORE any connection: literal
  IPs and "localhost" here, host names by `feeds/addresses.py` (resolve first, check every
  address, including IPv4 carried inside IPv6) inside the transport, which then connects to
  a checked address only (`feeds/transport.py`); for the first request and every redirect.
  The refusal names the key that allows it. The environment's proxy (HTTP(S)_PROXY,
  ALL_PROXY minus NO_PROXY) is the operator's choice and may be private;
- connections kept alive between polls (`keepalive` seconds), so a poll of a known host
  costs no new TCP/TLS handshake;
- 429 / 503 and any other error status raise `FetchError`, with `retry_after` taken from
  Retry-After (seconds or HTTP date); `min_interval` carries Cache-Control max-age /
  Expires / Retry-After hints of successful answers to the poller;
- at most `per_host_concurrency` fetches at once per host (keyed on the URL asked for;
  a redirect to another host still counts against the first one).

Every httpx error is translated into `FetchError` (chained with `from e`); nothing else
escapes for a network reason.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType, TracebackType
from typing import Self

import httpx

from feeds.addresses import AddressPolicy, refusal
from feeds.errors import FetchError
from feeds.transport import AiohttpTransport, proxy_hosts

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_CHECKED_URLS = 10_000  # feed URLs whose parse Fetcher keeps (more than any feed list)
# Only what _Decoder can inflate with a bound; "br"/"zstd" would need extra packages.
_ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class FetchSettings:
    """Limits and identity of the fetcher. Times in seconds, sizes in bytes."""

    connect_timeout: float = 10
    read_timeout: float = 20
    total_timeout: float = 60
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    per_host_concurrency: int = 2
    user_agent: str = "Mirsad/0.1 (+https://github.com/mirsad-bot/mirsad; news alert bot)"
    allow_private_addresses: bool = False
    # Idle connections are kept this long: longer than the poll interval, so the next poll of
    # the host reuses one (servers that close earlier just cost a new connection).
    keepalive: float = 330


@dataclass(frozen=True)
class FetchResult:
    """A successful answer: new content (2xx) or "not modified" (304)."""

    url: str  # final URL after redirects
    status: int  # 2xx or 304
    not_modified: bool  # True for 304: body is b"" and nothing should be parsed
    body: bytes
    headers: Mapping[str, str]  # response headers, lower-case keys
    etag: str | None  # to store and send back next time
    last_modified: str | None
    min_interval: float | None  # seconds before the next poll, from cache hints; None if none
    elapsed_ms: int


class Fetcher:
    """Fetches feed URLs over one shared httpx transport (`feeds/transport.py`).

    Requests go to the transport itself, not through an `httpx.AsyncClient`: this fetcher
    already does all a client would (headers, timeouts, redirects by hand, no cookies, no
    auth), and the client's layer cost ~0.1 ms of CPU per request, a third of a 304 (issue 19,
    BENCHMARKS.md). Pass `transport` to share one (the fetcher then leaves closing it to the
    caller; host names are then checked only by that transport); `clock` (aware UTC) is only
    used to turn HTTP dates in Retry-After / Expires into seconds; `policy` decides which
    addresses may be connected to (default: from the settings, with the system's DNS; tests
    give it a resolver that makes names resolve to loopback).
    """

    def __init__(
        self,
        settings: FetchSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._own_transport = transport is None
        if transport is None:
            policy = policy or AddressPolicy(
                allow_private=settings.allow_private_addresses, trusted_hosts=proxy_hosts()
            )
            # the transport applies the environment's proxies itself, so proxied requests go
            # through the same address checks
            transport = AiohttpTransport(
                policy, keepalive=settings.keepalive, per_host=settings.per_host_concurrency
            )
        self._transport = transport
        self._clock = clock or (lambda: datetime.now(UTC))
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        self._timeouts = self._timeout.as_dict()  # the request extension transports read
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        # feed URL -> its checked httpx.URL: parsing one cost ~0.1 ms of CPU, on every poll of
        # the feed (issue 19). Only the parse and the literal-address check are kept (both
        # depend on the string alone); a host name is still resolved and checked per request.
        self._checked: dict[str, httpx.URL] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if this fetcher created it."""
        if self._own_transport:
            await self._transport.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` conditionally; return the body or "not modified". Raises FetchError."""
        target = self._checked_url(url)
        slot = self._host_slots.setdefault(
            target.host, asyncio.Semaphore(self._settings.per_host_concurrency)
        )
        total = self._settings.total_timeout
        async with slot:
            started = time.monotonic()
            try:
                async with asyncio.timeout(total):
                    return await self._fetch(target, etag, last_modified, started)
            except TimeoutError as e:
                raise FetchError(f"timeout after {total:g}s") from e
            except httpx.TimeoutException as e:
                raise FetchError(self._timeout_reason(e)) from e
            except httpx.HTTPError as e:
                raise FetchError(_error_reason(e)) from e
            except httpx.InvalidURL as e:
                # The URL asked for was checked already: a redirect's Location is the only
                # URL left to parse, and this one is unusable.
                raise FetchError(f"bad redirect Location: {e}") from e

    async def _fetch(
        self, url: httpx.URL, etag: str | None, last_modified: str | None, started: float
    ) -> FetchResult:
        headers = {
            "User-Agent": self._settings.user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": _ACCEPT_ENCODING,
        }
        # A validator the server wrote with bytes outside ASCII cannot go back in a header
        # (httpx refuses it, and the feed failed at every poll): not sent, a plain GET.
        if etag and etag.isascii():
            headers["If-None-Match"] = etag
        if last_modified and last_modified.isascii():
            headers["If-Modified-Since"] = last_modified
        seen = {str(url)}
        for _ in range(self._settings.max_redirects + 1):
            request = httpx.Request("GET", url, headers=headers)
            request.extensions["timeout"] = self._timeouts
            response = await self._transport.handle_async_request(request)
            response.request = request  # a transport may leave it unset (httpx's MockTransport)
            try:
                if response.status_code not in _REDIRECTS:
                    return await self._result(response, etag, last_modified, started)
                url = self._redirect_target(response, url, seen)
            finally:
                await response.aclose()
        raise FetchError(f"too many redirects (more than {self._settings.max_redirects})")

    async def _result(
        self,
        response: httpx.Response,
        etag: str | None,
        last_modified: str | None,
        started: float,
    ) -> FetchResult:
        status = response.status_code
        headers = MappingProxyType({k.lower(): v for k, v in response.headers.items()})
        now = self._clock()
        if status >= 400 or not (200 <= status < 300 or status == 304):
            retry_after = _retry_after(headers.get("retry-after"), now)
            raise FetchError(f"HTTP {status}", status=status, retry_after=retry_after)
        not_modified = status == 304
        body = b"" if not_modified else await _read_body(response, self._settings.max_bytes)
        return FetchResult(
            url=str(response.url),
            status=status,
            not_modified=not_modified,
            body=body,
            headers=headers,
            # A 304 may omit the validators (RFC 9110 15.4.5): keep the ones we sent.
            etag=headers.get("etag") or (etag if not_modified else None),
            last_modified=headers.get("last-modified") or (last_modified if not_modified else None),
            min_interval=_min_interval(headers, now),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )

    def _checked_url(self, url: str | httpx.URL) -> httpx.URL:
        if isinstance(url, str):
            known = self._checked.get(url)
            if known is not None:
                return known
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as e:
            raise FetchError(f"invalid URL: {e}") from e
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise FetchError(f"not an http(s) URL: {str(parsed)[:200]}")
        if not self._settings.allow_private_addresses:
            refused = refusal(parsed.host)
            if refused:
                raise FetchError(refused)
        if isinstance(url, str):
            if len(self._checked) >= _CHECKED_URLS:
                self._checked.clear()  # (a bound for URLs that keep changing)
            self._checked[url] = parsed
        return parsed

    def _redirect_target(
        self, response: httpx.Response, url: httpx.URL, seen: set[str]
    ) -> httpx.URL:
        location = response.headers.get("location", "").strip()
        if not location:
            raise FetchError(f"HTTP {response.status_code} without Location")
        try:
            target = url.join(location)
        except httpx.InvalidURL as e:
            raise FetchError(f"bad redirect Location: {location[:200]}") from e
        if target.scheme not in ("http", "https"):
            raise FetchError(f"redirect to non-http(s) URL: {str(target)[:200]}")
        if str(target) in seen:
            raise FetchError(f"redirect loop at {str(target)[:200]}")
        seen.add(str(target))
        return self._checked_url(target)

    def _timeout_reason(self, e: httpx.TimeoutException) -> str:
        s = self._settings
        if isinstance(e, httpx.ConnectTimeout | httpx.PoolTimeout):
            return f"connect timeout after {s.connect_timeout:g}s"
        return f"read timeout after {s.read_timeout:g}s"


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, decoding it here so the cap applies to decoded bytes."""
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if decoder.identity and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"body over {max_bytes} bytes (Content-Length {declared})")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.decode(chunk, max_bytes - len(body) + 1)
        if len(body) > max_bytes:
            raise FetchError(f"body over {max_bytes} bytes")
    body += decoder.flush()
    if len(body) > max_bytes:
        raise FetchError(f"body over {max_bytes} bytes")
    return bytes(body)


class _Decoder:
    """Content-Encoding decoder whose output per call is bounded (zlib `max_length`)."""

    def __init__(self, content_encoding: str) -> None:
        encoding = content_encoding.strip().lower()
        self.identity = encoding in ("", "identity")
        self._raw_deflate_tried = False
        if self.identity:
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise FetchError(f"unsupported Content-Encoding: {encoding[:50]}")
        self._deflate = encoding == "deflate"

    def decode(self, data: bytes, limit: int) -> bytes:
        """Return at most `limit` decoded bytes; returning `limit` means "there is more"."""
        if self._zlib is None:
            return data
        try:
            return self._zlib.decompress(data, limit)
        except zlib.error as e:
            # "deflate" is often sent raw, without the zlib header (httpx does the same).
            if self._deflate and not self._raw_deflate_tried:
                self._raw_deflate_tried = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(data, limit)
            raise FetchError(f"corrupt compressed body: {e}") from e

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush()
        except zlib.error as e:
            raise FetchError(f"corrupt compressed body: {e}") from e


def _error_reason(e: httpx.HTTPError) -> str:
    detail = " ".join(str(e).split())[:200]
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectError: "connection failed",
        httpx.RemoteProtocolError: "protocol error",
        httpx.ReadError: "read error",
        httpx.UnsupportedProtocol: "unsupported protocol",
    }
    kind = kinds.get(type(e), type(e).__name__)
    return f"{kind}: {detail}" if detail else kind


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After value: delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    return None if when is None else max(0.0, (when - now).total_seconds())


def _min_interval(headers: Mapping[str, str], now: datetime) -> float | None:
    """Longest wait the server hinted at: Cache-Control max-age (else Expires), Retry-After.

    Values are the server's word; the poller caps them to its own bounds.
    """
    hints: list[float] = []
    max_age = _max_age(headers.get("cache-control", ""))
    if max_age is not None:
        hints.append(max_age)
    elif "expires" in headers:
        expires = _http_date(headers["expires"])
        base = _http_date(headers.get("date", "")) or now
        if expires is not None:
            hints.append(max(0.0, (expires - base).total_seconds()))
    retry = _retry_after(headers.get("retry-after"), now)
    if retry is not None:
        hints.append(retry)
    return max(hints) if hints else None


def _max_age(cache_control: str) -> float | None:
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip() == "max-age":
            value = value.strip().strip('"')
            return float(value) if value.isdigit() else None
    return None
