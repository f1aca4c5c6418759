"""feeds/fetch.py against a real loopback server (tests/feedserver.py): no mocked httpx.

Each test asserts what the poller would get: a FetchResult or a FetchError with its reason.
httpx.MockTransport is used only where loopback cannot play the part (a public host that
redirects to a private address).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from feeds.addresses import AddressPolicy, Resolver, is_public
from feeds.errors import FeedError, FetchError
from feeds.fetch import Fetcher, FetchSettings
from tests.feedserver import FeedServer, feed_server  # noqa: F401

DATA = Path(__file__).parent / "data" / "feeds"
HESPRESS = DATA / "hespress-ar-2026-02-11.xml"
LOOPBACK = FetchSettings(allow_private_addresses=True)
NOW = datetime(2026, 2, 11, 7, 0, 0, tzinfo=UTC)


def fetcher(**changes: object) -> Fetcher:
    settings = FetchSettings(**{"allow_private_addresses": True, **changes})  # type: ignore[arg-type]
    return Fetcher(settings, clock=lambda: NOW)


async def fetch_error(f: Fetcher, url: str, **kwargs: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        await f.fetch(url, **kwargs)
    assert isinstance(info.value, FeedError)
    return info.value


# -- the ordinary path ---------------------------------------------------------------------


async def test_fetch_returns_body_validators_and_lowercase_headers(feed_server: FeedServer) -> None:
    feed_server.set(
        "/feed",
        HESPRESS,
        etag='"v1"',
        last_modified="Wed, 11 Feb 2026 07:19:22 GMT",
        headers={"X-Custom": "yes"},
    )
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.status == 200
    assert not result.not_modified
    assert result.body == HESPRESS.read_bytes()
    assert result.url == feed_server.url("/feed")
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 11 Feb 2026 07:19:22 GMT"
    assert result.headers["x-custom"] == "yes"
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.min_interval is None
    assert result.elapsed_ms >= 0
    sent = feed_server.requests("/feed")[0].headers
    assert sent["user-agent"] == FetchSettings().user_agent
    assert "if-none-match" not in sent and "if-modified-since" not in sent


async def test_conditional_get_by_etag_gives_304_without_body(feed_server: FeedServer) -> None:
    feed_server.set("/feed", HESPRESS, etag='"v1"')
    async with fetcher() as f:
        first = await f.fetch(feed_server.url("/feed"))
        second = await f.fetch(feed_server.url("/feed"), etag=first.etag)
    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.etag == '"v1"'
    assert feed_server.requests("/feed")[1].headers["if-none-match"] == '"v1"'
    assert feed_server.hits("/feed") == 2


async def test_conditional_get_by_last_modified(feed_server: FeedServer) -> None:
    stamp = "Wed, 11 Feb 2026 07:19:22 GMT"
    feed_server.set("/feed", HESPRESS, last_modified=stamp)
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"), last_modified=stamp)
    assert result.not_modified
    assert result.last_modified == stamp
    assert feed_server.requests("/feed")[0].headers["if-modified-since"] == stamp


async def test_304_without_validators_keeps_the_ones_sent(feed_server: FeedServer) -> None:
    feed_server.set("/feed", status=304, content_type=None)
    async with fetcher() as f:
        result = await f.fetch(
            feed_server.url("/feed"), etag='"old"', last_modified="Mon, 1 Jan 2024"
        )
    assert result.not_modified
    assert (result.etag, result.last_modified) == ('"old"', "Mon, 1 Jan 2024")


async def test_changed_feed_gives_new_body_and_etag(feed_server: FeedServer) -> None:
    feed_server.set("/feed", b"<rss>new</rss>", etag='"v2"')
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"), etag='"v1"')
    assert (result.status, result.body, result.etag) == (200, b"<rss>new</rss>", '"v2"')


async def test_a_validator_that_cannot_be_sent_back_is_not_sent_and_the_feed_still_polls(
    feed_server: FeedServer,
) -> None:
    """A server wrote its ETag and Last-Modified with bytes outside ASCII (here Latin-1's é).
    Sent back as they were read, httpx refused the request (UnicodeEncodeError), so the feed
    failed as an internal error at every poll from then on. Such a validator is not sent: the
    next poll is a plain GET, answered in full."""
    feed_server.set("/feed", HESPRESS, etag='"café"', last_modified="Wed, 11 Févr 2026")
    async with fetcher() as f:
        first = await f.fetch(feed_server.url("/feed"))
        second = await f.fetch(
            feed_server.url("/feed"), etag=first.etag, last_modified=first.last_modified
        )
    assert first.etag is not None and not first.etag.isascii()  # read, kept as the server wrote
    assert (second.status, second.body) == (200, HESPRESS.read_bytes())
    sent = feed_server.requests("/feed")[1].headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent


async def test_gzip_body_is_decoded(feed_server: FeedServer) -> None:
    feed_server.set("/feed", HESPRESS, gzip=True)
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.body == HESPRESS.read_bytes()
    assert feed_server.requests("/feed")[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_body_is_decoded_with_or_without_zlib_header(
    feed_server: FeedServer, wbits: int
) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = compressor.compress(HESPRESS.read_bytes()) + compressor.flush()
    feed_server.set("/feed", body, headers={"Content-Encoding": "deflate"})
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.body == HESPRESS.read_bytes()


async def test_unsupported_content_encoding_fails_clearly(feed_server: FeedServer) -> None:
    feed_server.set("/feed", b"\x1b\x00junk", headers={"Content-Encoding": "br"})
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert error.reason == "unsupported Content-Encoding: br"


async def test_corrupt_gzip_fails_clearly(feed_server: FeedServer) -> None:
    feed_server.set("/feed", b"this is not gzip at all", headers={"Content-Encoding": "gzip"})
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert error.reason.startswith("corrupt compressed body")


# -- size and time bounds ------------------------------------------------------------------


async def test_two_gigabyte_body_is_cut_at_the_cap_while_streaming(feed_server: FeedServer) -> None:
    feed_server.set("/huge", b"<item>", size=2_000_000_000, chunked=True)
    tracemalloc.start()
    try:
        async with fetcher(max_bytes=1_000_000) as f:
            error = await fetch_error(f, feed_server.url("/huge"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "body over 1000000 bytes"
    assert peak < 20_000_000  # the cap plus buffers, nowhere near 2 GB
    assert feed_server.requests("/huge")[0].bytes_sent < 100_000_000


async def test_declared_content_length_over_cap_is_refused_before_reading(
    feed_server: FeedServer,
) -> None:
    feed_server.set("/huge", size=2_000_000_000)
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/huge"))
    assert error.reason == "body over 10000000 bytes (Content-Length 2000000000)"


async def test_gzip_bomb_is_caught_by_the_cap_on_decoded_bytes(feed_server: FeedServer) -> None:
    feed_server.set("/bomb", b"\0", size=50_000_000, gzip=True)  # ~50 KB on the wire
    tracemalloc.start()
    try:
        async with fetcher(max_bytes=1_000_000) as f:
            error = await fetch_error(f, feed_server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "body over 1000000 bytes"
    assert peak < 10_000_000


async def test_body_exactly_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    feed_server.set("/feed", b"a", size=1000, gzip=True)
    async with fetcher(max_bytes=1000) as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.body == b"a" * 1000


async def test_trickling_server_fails_at_the_total_deadline(feed_server: FeedServer) -> None:
    # Each byte arrives well inside the read timeout: only the total deadline can stop it.
    feed_server.set("/slow", b"x" * 1000, trickle=0.05)
    started = time.monotonic()
    async with fetcher(read_timeout=5, total_timeout=1) as f:
        error = await fetch_error(f, feed_server.url("/slow"))
    assert error.reason == "timeout after 1s"
    assert 0.9 < time.monotonic() - started < 20  # the whole body would take 50 s


async def test_silent_server_fails_at_the_read_timeout(feed_server: FeedServer) -> None:
    feed_server.set("/silent", b"<rss/>", delay=3)
    async with fetcher(read_timeout=0.3) as f:
        error = await fetch_error(f, feed_server.url("/silent"))
    assert error.reason == "read timeout after 0.3s"  # the server would have answered at 3 s


async def test_refused_connection_is_a_fetch_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    async with fetcher() as f:
        error = await fetch_error(f, f"http://127.0.0.1:{port}/feed")
    assert error.reason.startswith("connection failed")
    assert isinstance(error.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"garbage\r\n\r\n", "protocol error"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten.", "protocol error"),
        (b"", "protocol error"),
    ],
    ids=["not-http", "short-body", "hang-up"],
)
async def test_broken_responses_are_fetch_errors(
    feed_server: FeedServer, raw: bytes, reason: str
) -> None:
    feed_server.set("/bad", raw=raw)
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/bad"))
    assert error.reason.startswith(reason)
    assert isinstance(error.__cause__, httpx.HTTPError)


# -- status codes --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 500, 502])
async def test_error_status_is_a_fetch_error_with_the_code(
    feed_server: FeedServer, status: int
) -> None:
    feed_server.set("/feed", b"nope", status=status)
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert error.reason == f"HTTP {status}"
    assert error.status == status
    assert error.retry_after is None


async def test_429_carries_retry_after_seconds(feed_server: FeedServer) -> None:
    feed_server.set("/feed", status=429, headers={"Retry-After": "120"})
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert (error.reason, error.status, error.retry_after) == ("HTTP 429", 429, 120.0)


async def test_503_carries_retry_after_http_date(feed_server: FeedServer) -> None:
    feed_server.set("/feed", status=503, headers={"Retry-After": "Wed, 11 Feb 2026 07:05:00 GMT"})
    async with fetcher() as f:  # the clock says 07:00:00
        error = await fetch_error(f, feed_server.url("/feed"))
    assert (error.status, error.retry_after) == (503, 300.0)


async def test_unreadable_retry_after_is_ignored(feed_server: FeedServer) -> None:
    feed_server.set("/feed", status=429, headers={"Retry-After": "soon-ish"})
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert (error.status, error.retry_after) == (429, None)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Cache-Control": "public, max-age=600"}, 600.0),
        (
            {"Expires": "Wed, 11 Feb 2026 08:00:00 GMT", "Date": "Wed, 11 Feb 2026 07:30:00 GMT"},
            1800.0,
        ),
        ({"Expires": "Wed, 11 Feb 2026 07:10:00 GMT"}, 600.0),  # no Date: the clock (07:00)
        ({"Cache-Control": "max-age=60", "Retry-After": "900"}, 900.0),
        ({"Cache-Control": "no-cache"}, None),
        ({"Expires": "0"}, None),
    ],
)
async def test_min_interval_from_cache_hints(
    feed_server: FeedServer, headers: dict[str, str], expected: float | None
) -> None:
    feed_server.set("/feed", b"<rss/>", headers=headers)
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/feed"))
    assert result.min_interval == expected


# -- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_is_followed_and_final_url_reported(
    feed_server: FeedServer, status: int
) -> None:
    feed_server.redirect("/old", "/new", status=status)
    feed_server.set("/new", HESPRESS)
    async with fetcher() as f:
        result = await f.fetch(feed_server.url("/old"))
    assert result.url == feed_server.url("/new")
    assert result.body == HESPRESS.read_bytes()
    assert (feed_server.hits("/old"), feed_server.hits("/new")) == (1, 1)


async def test_redirect_loop_fails_clearly(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", feed_server.url("/a"))
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/a"))
    assert error.reason == f"redirect loop at {feed_server.url('/a')}"
    assert feed_server.hits("/a") == 1


async def test_too_many_redirects_fail(feed_server: FeedServer) -> None:
    for i in range(7):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}")
    feed_server.set("/r7", b"<rss/>")
    async with fetcher(max_redirects=5) as f:
        error = await fetch_error(f, feed_server.url("/r0"))
    assert error.reason == "too many redirects (more than 5)"
    assert feed_server.hits("/r6") == 0


async def test_redirect_chain_within_the_limit_is_fine(feed_server: FeedServer) -> None:
    for i in range(5):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}")
    feed_server.set("/r5", b"<rss/>")
    async with fetcher(max_redirects=5) as f:
        result = await f.fetch(feed_server.url("/r0"))
    assert result.url == feed_server.url("/r5")


@pytest.mark.parametrize(
    "location", ["ftp://example.com/feed.xml", "file:///etc/passwd", "javascript:alert(1)"]
)
async def test_redirect_to_non_http_scheme_fails(feed_server: FeedServer, location: str) -> None:
    feed_server.redirect("/feed", location)
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    # httpx itself rejects "javascript:alert(1)" as a URL; either way the reason is clear.
    assert error.reason.startswith(("redirect to non-http(s) URL: ", "bad redirect Location: "))


async def test_redirect_without_location_fails(feed_server: FeedServer) -> None:
    feed_server.set("/feed", status=302)
    async with fetcher() as f:
        error = await fetch_error(f, feed_server.url("/feed"))
    assert error.reason == "HTTP 302 without Location"


# -- refused addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "feeds.localhost",
        "[::1]",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "[fd00::1]",
        "127.1",
        "0x7f.0.0.1",
        "2130706433",
        "224.0.0.1",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[::ffff:7f00:1]",
        "[::]",
    ],
)
async def test_private_and_loopback_hosts_are_refused_before_any_request(
    feed_server: FeedServer, host: str
) -> None:
    feed_server.set("/feed", b"<rss/>")
    async with Fetcher(FetchSettings()) as f:
        error = await fetch_error(f, f"http://{host}:{feed_server.port}/feed")
    assert error.reason.startswith("refused private address: ")
    assert error.reason.endswith("(allow with http.allow_private_addresses: true)")
    assert feed_server.hits("/feed") == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/feed",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "feed.xml",
        "http:///nohost",
        "http://[::1/feed",
    ],
)
async def test_non_http_urls_are_refused(url: str) -> None:
    async with Fetcher(FetchSettings()) as f:
        error = await fetch_error(f, url)
    assert error.reason.startswith(("not an http(s) URL", "invalid URL"))


async def test_redirect_from_public_host_to_private_address_is_refused() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    async with Fetcher(FetchSettings(), transport=httpx.MockTransport(handler)) as f:
        error = await fetch_error(f, "http://feeds.example.com/rss")
    assert error.reason == (
        "refused private address: 169.254.169.254 (allow with http.allow_private_addresses: true)"
    )
    assert asked == ["http://feeds.example.com/rss"]


def resolving(answers: dict[str, list[str]]) -> Resolver:
    """A DNS seam: each name resolves to the given addresses; any other name fails."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


@contextlib.contextmanager
def listener(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A bare listening socket: `no_connection(sock)` proves nothing ever connected."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def no_connection(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["::1"],
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["93.184.216.34", "127.0.0.1"],  # one private answer is enough to refuse the name
        ["::ffff:127.0.0.1"],
        ["::127.0.0.1"],
        ["64:ff9b::7f00:1"],
        ["2002:7f00:1::"],
        ["fd00::1"],
    ],
)
async def test_name_resolving_to_a_private_address_is_refused_before_any_connection(
    answers: list[str],
) -> None:
    with listener() as sock:
        port = sock.getsockname()[1]
        policy = AddressPolicy(
            allow_private=False, resolver=resolving({"feeds.example.test": answers})
        )
        async with Fetcher(FetchSettings(), policy=policy) as f:
            error = await fetch_error(f, f"http://feeds.example.test:{port}/feed")
        assert no_connection(sock)
    private = next(a for a in answers if a != "93.184.216.34")
    assert error.reason == (
        f"refused private address: feeds.example.test resolves to {private} "
        "(allow with http.allow_private_addresses: true)"
    )


async def test_redirect_to_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    feed_server: FeedServer,
) -> None:
    with listener("127.0.0.2") as inner:
        inner_port = inner.getsockname()[1]
        feed_server.redirect("/feed", f"http://metadata.example.test:{inner_port}/secrets")
        policy = AddressPolicy(
            allow_private=False,
            resolver=resolving(
                {"feeds.example.test": ["127.0.0.1"], "metadata.example.test": ["127.0.0.2"]}
            ),
            # stands in for a public server: the loopback feed server plays its part
            trusted_hosts=["feeds.example.test"],
        )
        async with Fetcher(FetchSettings(), policy=policy) as f:
            error = await fetch_error(f, f"http://feeds.example.test:{feed_server.port}/feed")
        assert no_connection(inner)
    assert error.reason.startswith(
        "refused private address: metadata.example.test resolves to 127.0.0.2"
    )
    assert feed_server.hits("/feed") == 1
    # the name, not the address, went out in the Host header of the allowed request
    assert feed_server.requests("/feed")[0].headers["host"] == (
        f"feeds.example.test:{feed_server.port}"
    )


async def test_allowed_private_name_connects_to_the_resolved_address(
    feed_server: FeedServer,
) -> None:
    feed_server.set("/feed", b"<rss/>")
    policy = AddressPolicy(
        allow_private=True, resolver=resolving({"feeds.example.test": ["127.0.0.1"]})
    )
    async with Fetcher(LOOPBACK, policy=policy) as f:
        result = await f.fetch(f"http://feeds.example.test:{feed_server.port}/feed")
    assert result.body == b"<rss/>"
    assert feed_server.requests("/feed")[0].headers["host"] == (
        f"feeds.example.test:{feed_server.port}"
    )


async def test_unknown_name_is_a_fetch_error() -> None:
    policy = AddressPolicy(allow_private=False, resolver=resolving({}))
    async with Fetcher(FetchSettings(), policy=policy) as f:
        error = await fetch_error(f, "http://nowhere.example.test/feed")
    assert error.reason.startswith("connection failed: cannot resolve nowhere.example.test")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:93.184.216.34", True),
        ("64:ff9b::5db8:d822", True),  # DNS64/NAT64 for a public address: allowed
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("64:ff9b::7f00:1", False),
        ("64:ff9b:1::a00:1", False),
        ("::127.0.0.1", False),
        ("::", False),
        ("2002:7f00:1::", False),
        ("2002:a9fe:a9fe::", False),  # 6to4 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo
        ("fe80::5efe:7f00:1", False),
        ("2606:2800:220:1:0:5efe:7f00:1", False),  # ISATAP id carrying 127.0.0.1
        ("ff02::1", False),
        ("224.0.0.1", False),
    ],
)
def test_address_policy_decodes_ipv4_inside_ipv6(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_connections_are_kept_alive_between_polls() -> None:
    from aiohttp import web

    peers: list[object] = []

    async def feed(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.Response(status=304, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with fetcher() as f:
            for _ in range(3):
                result = await f.fetch(f"http://127.0.0.1:{port}/feed", etag='"v1"')
                assert result.not_modified
    finally:
        await runner.cleanup()
    assert len(peers) == 3
    assert len(set(map(str, peers))) == 1  # one connection for the three polls


# -- concurrency and client ownership ------------------------------------------------------


async def test_per_host_concurrency_limit(feed_server: FeedServer) -> None:
    # counted by the server, not timed: a loaded machine cannot change the count
    async def four_at_once(limit: int) -> int:
        path = f"/feed-{limit}"
        feed_server.set(path, b"<rss/>", delay=0.3)
        async with fetcher(per_host_concurrency=limit) as f:
            await asyncio.gather(*(f.fetch(feed_server.url(path)) for _ in range(4)))
        assert feed_server.hits(path) == 4
        return feed_server.peak_in_flight(path)

    assert await four_at_once(2) == 2  # two waves of two
    assert await four_at_once(4) == 4  # one wave


class _Shared(httpx.MockTransport):
    """A transport that says whether it was closed."""

    closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_a_shared_transport_is_left_open() -> None:
    # a streamed body, as a network transport gives it (content= would come read already)
    shared = _Shared(lambda r: httpx.Response(200, stream=httpx.ByteStream(b"<rss/>")))
    async with Fetcher(FetchSettings(), transport=shared) as f:
        result = await f.fetch("http://feeds.example.com/rss")
    assert (result.status, result.body, result.url) == (
        200,
        b"<rss/>",
        "http://feeds.example.com/rss",
    )
    assert not shared.closed


async def test_own_client_is_closed() -> None:
    f = Fetcher(LOOPBACK)
    await f.aclose()
    with pytest.raises(RuntimeError, match="closed"):  # a bug in the caller, not a bad feed
        await f.fetch("http://127.0.0.1:9/feed")


async def test_the_environments_proxy_is_used_and_may_be_private(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The feed server plays the operator's proxy: it gets the absolute URL as its target.
    feed_server.set("http://feeds.example.test/feed", b"<rss>via proxy</rss>")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{feed_server.port}")
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with Fetcher(FetchSettings()) as f:  # private addresses not allowed
        result = await f.fetch("http://feeds.example.test/feed")
    assert result.body == b"<rss>via proxy</rss>"
    assert feed_server.hits("http://feeds.example.test/feed") == 1


async def test_each_fetch_of_a_feed_checks_its_addresses_again() -> None:
    """Fetcher keeps a feed URL's parse between polls (issue 19); what the name resolves to
    is still checked on every fetch (a name that turns private is refused the next time),
    and a refused literal address is refused each time."""
    answers: dict[str, list[str]] = {}  # at first the name does not resolve
    with listener() as sock:
        port = sock.getsockname()[1]
        policy = AddressPolicy(allow_private=False, resolver=resolving(answers))
        async with Fetcher(FetchSettings(), policy=policy) as f:
            url = f"http://feeds.example.test:{port}/feed"
            first = await fetch_error(f, url)
            answers["feeds.example.test"] = ["127.0.0.1"]
            second = await fetch_error(f, url)
            literal = [await fetch_error(f, f"http://127.0.0.1:{port}/feed") for _ in range(2)]
        assert no_connection(sock)
    assert not first.reason.startswith("refused private address")
    assert second.reason.startswith("refused private address: feeds.example.test resolves to")
    assert [e.reason for e in literal] == [literal[0].reason] * 2
    assert literal[0].reason.startswith("refused private address: 127.0.0.1")
