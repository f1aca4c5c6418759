"""Which network addresses a feed may be fetched from, decided before any connection.

A feed URL comes from a config file, a redirect, or (later) a user: none of them may make the
bot talk to itself, the local network or a cloud metadata service (issue 17 item 5, "blind
SSRF"). So a host name is resolved FIRST, every address it resolves to is checked, and the
connection goes to a checked address (`feeds/transport.py` hands the checked list to the HTTP
client as its DNS answer, so the Host header and TLS SNI keep the name). A name that resolves
to one public and one private address is refused whole: the client could pick either.

IPv6 forms that carry an IPv4 address inside are decoded and the IPv4 address is checked too:
IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`), NAT64 (`64:ff9b::7f00:1`,
RFC 6052; `64:ff9b:1::/48`, RFC 8215), 6to4 (`2002:7f00:1::`, RFC 3056), Teredo (server and
client, RFC 4380) and ISATAP interface ids (RFC 5214).

Pure apart from `system_resolver`, which asks the operating system (the seam tests replace).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

from feeds.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host name, port -> the addresses it resolves to (as text, in the resolver's order)
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOW_KEY = "http.allow_private_addresses"
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for `host` (getaddrinfo, in a thread by asyncio)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries inside it (empty if none)."""
    found: list[ipaddress.IPv4Address] = []
    value = int(ip)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    elif value >> 32 == 0 and value > 1:  # ::a.b.c.d (deprecated "IPv4-compatible")
        found.append(low32)
    if any(ip in net for net in _NAT64):
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if (value >> 32) & 0xFFFFFFFF in _ISATAP_IDS:
        found.append(low32)
    return found


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is a globally routed unicast address, IPv4 inside IPv6 included."""
    if ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global
    inner = embedded_ipv4(ip)
    if any(not is_public(v4) for v4 in inner):
        return False
    if ip.ipv4_mapped is not None or any(ip in net for net in _NAT64):
        return bool(inner)  # judged by the IPv4 address they stand for (DNS64 networks)
    return ip.is_global and not ip.is_reserved


def literal_address(host: str) -> IPAddress | None:
    """`host` as written in a URL if it is an IP literal, including the legacy IPv4
    spellings resolvers accept ("127.1", "0x7f.0.0.1", "2130706433"); else None."""
    name = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if not name or any(c not in "0123456789abcdefx." for c in name.lower()):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def refusal(host: str) -> str | None:
    """Why `host` (as written in a URL) is refused without asking DNS, else None:
    "localhost" names and private literal addresses."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return refused_reason(name)
    ip = literal_address(name)
    if ip is not None and not is_public(ip):
        return refused_reason(str(ip))
    return None


def refused_reason(what: str) -> str:
    """The one line a refused address gets: what was refused and the key that allows it."""
    return f"refused private address: {what} (allow with {ALLOW_KEY}: true)"


class AddressPolicy:
    """Resolves a host and returns only addresses it may connect to, or raises FetchError.

    `trusted_hosts` (the operator's proxy, from the environment) may be private.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver | None = None,
        trusted_hosts: Iterable[str] = (),
    ) -> None:
        self.allow_private = allow_private
        self._resolver = resolver or system_resolver
        self._trusted = {h.lower().rstrip(".") for h in trusted_hosts if h}

    async def addresses(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, each checked; raises FetchError if any is private."""
        try:
            answers = await self._resolver(host, port)
        except OSError as e:
            raise FetchError(f"connection failed: cannot resolve {host[:100]}: {e}") from e
        if not answers:
            raise FetchError(f"connection failed: {host[:100]} has no address")
        if self.allow_private or host.lower().rstrip(".") in self._trusted:
            return answers
        for answer in answers:
            ip = literal_address(answer)
            if ip is None or not is_public(ip):
                raise FetchError(refused_reason(f"{host[:100]} resolves to {answer}"))
        return answers
