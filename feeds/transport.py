"""httpx's API over aiohttp's connection pool, connecting only to checked addresses.

Why not httpx's own transport (httpcore): on the 1,000-feed loopback farm a conditional GET
answered 304 cost 0.49 ms of CPU through httpcore, with or without kept-alive connections
(its pool checks every pooled connection for expiry on each request), and 0.22 ms through
this transport with kept-alive connections (0.33 ms opening a new one each time);
BENCHMARKS.md, "Polling", has the run. aiohttp is already installed for discord.py.

Why not the `httpx-aiohttp` package: its error mapping reports a server that hangs up as a
"connect timeout" and lets aiohttp's own response errors escape untranslated; a feed
fetcher's errors are what an operator reads, so this module maps them itself (50 lines).

What this transport guarantees (the rest is `feeds/fetch.py`'s):
- every host name goes through `AddressPolicy.addresses` (resolve, check every address,
  refuse the name if any is private) and aiohttp connects to those addresses only; the
  Host header and TLS SNI keep the name. IP literals skip DNS in aiohttp, so `Fetcher`
  checks them before a request is made. This holds for the first request and each redirect
  (`Fetcher` follows redirects itself, each one a new request here);
- the body comes back exactly as sent (`auto_decompress=False`): `Fetcher` decodes it with a
  bound on the decoded size;
- connections are kept alive for `keepalive` seconds so one survives the poll interval
  (a server that closed it meanwhile costs one transparent retry of the GET in aiohttp);
- the environment's HTTP(S)_PROXY / NO_PROXY are honoured per request, like httpx does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from functools import cache

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from feeds.addresses import AddressPolicy


class CheckedResolver(AbstractResolver):
    """aiohttp's DNS step, answered by the address policy (so only checked addresses)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in await self._policy.addresses(host, port)
        ]

    async def close(self) -> None:
        return None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp session (created on first use, inside the loop)."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        keepalive: float,
        per_host: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._keepalive = keepalive
        self._per_host = per_host
        self._ssl = ssl_context or _default_tls()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # read once: scanning the environment for proxies on every request cost 13% of the
        # CPU of a poll cycle (the environment does not change while the bot runs)
        self._proxies = urllib.request.getproxies()

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the transport is closed")  # a caller bug, not a feed problem
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=CheckedResolver(self._policy),
                limit=0,  # the poller bounds the polls in flight
                limit_per_host=self._per_host,
                keepalive_timeout=self._keepalive,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                cookie_jar=aiohttp.DummyCookieJar(),  # a feed's cookies go nowhere
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._client()
        timeout = request.extensions.get("timeout", {})
        url = str(request.url)
        # the raw pairs, decoded once: httpx.Headers re-detects its encoding on every access
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        with _mapped():
            response = await session.request(
                request.method,
                url,
                headers=headers,
                allow_redirects=False,
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
                proxy=_proxy_for(request.url, self._proxies) if self._proxies else None,
            )
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # back to the pool if read to the end, else closed


@cache
def _default_tls() -> ssl.SSLContext:
    """httpx's verifying TLS context, made once per process: it loads the system's CA store
    (~10-20 ms of CPU), and one context serves any number of connections."""
    return httpx.create_ssl_context()


def _proxy_for(url: httpx.URL, proxies: dict[str, str]) -> str | None:
    """The environment's proxy for `url` (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY)."""
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):
        return None
    return proxy


def proxy_hosts() -> list[str]:
    """Host names of the environment's proxies: the operator chose them, private or not."""
    hosts: list[str] = []
    for value in urllib.request.getproxies().values():
        with contextlib.suppress(ValueError):
            host = httpx.URL(value).host
            if host:
                hosts.append(host)
    return hosts


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    """aiohttp's errors as the httpx errors `Fetcher` translates (most specific first)."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as e:
        raise httpx.ConnectTimeout(_text(e)) from e
    except aiohttp.ServerTimeoutError as e:
        raise httpx.ReadTimeout(_text(e)) from e
    except aiohttp.ClientConnectorError as e:
        raise httpx.ConnectError(_text(e.os_error) or _text(e)) from e
    except aiohttp.ServerDisconnectedError as e:
        raise httpx.RemoteProtocolError("server disconnected without a complete answer") from e
    except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as e:
        raise httpx.RemoteProtocolError(_text(e)) from e
    except aiohttp.ClientOSError as e:
        raise httpx.ReadError(_text(e)) from e
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as e:
        raise httpx.UnsupportedProtocol(_text(e)) from e
    except aiohttp.ClientError as e:
        raise httpx.TransportError(_text(e) or type(e).__name__) from e


def _text(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]
