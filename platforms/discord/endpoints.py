"""Points discord.py at a Discord-compatible server (or the tests' fake) and back."""

from __future__ import annotations

import re

import discord
import yarl

DEFAULT_API_VERSION = "v10"


def rest_base(url: str) -> str:
    """The REST base discord.py should use: `https://host/api/v10` from `https://host`,
    `https://host/api` or the full base."""
    url = url.rstrip("/")
    if re.search(r"/api/v\d+$", url):
        return url
    if url.endswith("/api"):
        return f"{url}/{DEFAULT_API_VERSION}"
    return f"{url}/api/{DEFAULT_API_VERSION}"


class Endpoints:
    """Points discord.py at another REST base / gateway, and puts the defaults back."""

    def __init__(self, api_base_url: str | None, gateway_url: str | None) -> None:
        self.rest = rest_base(api_base_url) if api_base_url else None
        self.gateway = yarl.URL(gateway_url) if gateway_url else None
        self._saved: tuple[str, yarl.URL] | None = None

    def apply(self) -> None:
        if self._saved is None:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        if self.rest:
            discord.http.Route.BASE = self.rest
        if self.gateway:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.gateway

    def use_gateway(self, url: str) -> None:
        """Use a gateway found at run time (`GET /gateway/bot` of a compatible server)."""
        self.gateway = yarl.URL(url)
        self.apply()

    def restore(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    @property
    def key(self) -> str:
        """Which server the commands were synced to (part of the sync hash)."""
        return self.rest or "discord.com"
