"""The Discord platform: the client's lifecycle and the factory the registry names."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import discord

from alerts.outbox import Pacing, Sender
from core.stats import Stats
from core.subscriptions import Subscriptions
from platforms.base import PlatformContext
from platforms.discord.commands import PLATFORM, SubscriptionCog
from platforms.discord.endpoints import Endpoints
from platforms.discord.sender import DISCORD_PACING, SEND_TIMEOUT, DiscordSender
from platforms.discord.settings import DiscordConfig
from platforms.discord.sync import MirsadBot, ShardedMirsadBot
from store import MetaStore

log = logging.getLogger("mirsad.discord")


class DiscordStartError(RuntimeError):
    """The Discord client could not start; the message says why and what to check."""


class DiscordPlatform:
    """The Discord side of Mirsad, (the `platforms.base.Platform` protocol)."""

    name = PLATFORM

    def __init__(
        self,
        token: str,
        store: MetaStore,
        subscriptions: Subscriptions,
        sources: Mapping[str, str],
        *,
        guild_ids: Sequence[int] = (),
        api_base_url: str | None = None,
        gateway_url: str | None = None,
        require_manage_channels: bool = True,
        pacing: Pacing = DISCORD_PACING,
        send_timeout: float = SEND_TIMEOUT,
        ready_timeout: float = 60.0,
        stats: Stats | None = None,
        **client_options: Any,
    ) -> None:
        if not token:
            raise DiscordStartError("DISCORD_BOT_TOKEN is not set")
        self._token = token
        self._endpoints = Endpoints(api_base_url, gateway_url)
        self._ready_timeout = ready_timeout
        client_options.setdefault("max_ratelimit_timeout", 30.0)  # longer 429s go to the outbox

        def new_bot() -> MirsadBot:
            cog = SubscriptionCog(
                subscriptions,
                sources,
                require_manage_channels=require_manage_channels,
                stats=stats,
            )
            # several shards in this process: one client connects them all
            sharded = len(client_options.get("shard_ids") or ()) > 1
            kind = ShardedMirsadBot if sharded else MirsadBot
            return kind(
                cog, store, guild_ids=guild_ids, sync_key=self._endpoints.key, **client_options
            )

        self._new_bot = new_bot
        self.bot = new_bot()
        labels = {info.id: info for info in subscriptions.labels}
        # Typed as the outbox's protocol so the platform is a `platforms.base.Platform`.
        self.sender: Sender[Any] = DiscordSender(
            lambda: self.bot,
            self.ensure_login,
            labels,
            sources,
            pacing=pacing,
            send_timeout=send_timeout,
        )
        self._login_lock = asyncio.Lock()
        self._logged_in = False
        self._gateway: asyncio.Task[None] | None = None
        self._stopped = False

    async def ensure_login(self) -> None:
        """Log in over REST once (also syncs commands); `bot.py once` needs only this."""
        async with self._login_lock:  # concurrent first sends log in once
            if self._logged_in:
                return
            if self._stopped:
                raise DiscordStartError("the Discord platform was stopped")
            self._endpoints.apply()
            await self.bot.login(self._token)
            self._logged_in = True

    async def start(self) -> None:
        """Log in, then run the gateway as a background task and wait until the client is
        ready. A rejected token or an unreachable server raises DiscordStartError; a slow
        gateway only logs a warning (alerts go over REST and do not need it)."""
        try:
            await self.ensure_login()
        except discord.LoginFailure:
            await self._reset()
            raise DiscordStartError(
                "Discord rejected DISCORD_BOT_TOKEN (401 Unauthorized): check the token"
            ) from None
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._reset()
            where = self._endpoints.rest or "discord.com"
            raise DiscordStartError(f"Discord login failed at {where}: {exc}") from exc
        if self._endpoints.rest and self._endpoints.gateway is None:
            await self._discover_gateway()
        self._gateway = asyncio.create_task(
            self.bot.connect(reconnect=True), name="discord-gateway"
        )
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._gateway, ready}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if self._gateway in done:
            ready.cancel()
            error = self._gateway.exception()
            self._gateway = None
            await self._reset()
            raise DiscordStartError(f"the Discord gateway closed at start: {error!r}") from error
        self._gateway.add_done_callback(self._gateway_ended)
        if ready in done:
            user = self.bot.user
            log.info(
                "discord_ready user=%s guilds=%d synced=%s",
                user.id if user else "?",
                len(self.bot.guilds),
                ",".join(self.bot.synced) or "-",
            )
        else:
            ready.cancel()
            log.warning("discord_not_ready_yet after=%.0fs (still connecting)", self._ready_timeout)

    async def _discover_gateway(self) -> None:
        """Another REST server without `gateway_url`: ask it where its gateway is, as
        Discord's own API offers (`GET /gateway/bot`), instead of connecting to Discord's."""
        try:
            _shards, url, _limits = await self.bot.http.get_bot_gateway()
        except (discord.GatewayNotFound, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._reset()
            raise DiscordStartError(
                f"{self._endpoints.rest} did not say where its gateway is (GET /gateway/bot): "
                "set discord.gateway_url"
            ) from exc
        self._endpoints.use_gateway(url)
        log.info("discord_gateway_discovered url=%s", url)

    async def _reset(self) -> None:
        """Close what a failed start left open; the next start() begins with a new client
        (a closed discord.py client keeps its closed connector and cannot log in again)."""
        await self.bot.close()
        self.bot = self._new_bot()
        self._logged_in = False

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopped:
            return
        error = task.exception()
        if error is not None:
            log.critical("discord_gateway_stopped error=%r", error, exc_info=error)

    async def stop(self) -> None:
        """Close the client (gateway and HTTP session) and restore discord.py's endpoints.
        Safe to call more than once, and when `start()` was never called."""
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.bot.close()
            if self._gateway is not None:
                done, _ = await asyncio.wait({self._gateway}, timeout=10)
                if not done:
                    self._gateway.cancel()
                elif not self._gateway.cancelled() and self._gateway.exception() is not None:
                    log.warning("discord_gateway_error_on_stop error=%r", self._gateway.exception())
        finally:
            self._endpoints.restore()


def create_platform(
    context: PlatformContext[DiscordConfig],
    *,
    pacing: Pacing = DISCORD_PACING,
    send_timeout: float = SEND_TIMEOUT,
    ready_timeout: float = 60.0,
    **client_options: Any,
) -> DiscordPlatform:
    """The registry's factory for Discord.

    Extra keyword arguments go to `discord.Client` (tests pass `guild_ready_timeout`)."""
    config = context.config
    if config.shard_ids is not None and config.shard_count is not None:
        # this instance's gateway shards; discord.py sends each in its IDENTIFY
        client_options.setdefault("shard_count", config.shard_count)
        if len(config.shard_ids) == 1:
            client_options.setdefault("shard_id", config.shard_ids[0])
        else:
            client_options.setdefault("shard_ids", list(config.shard_ids))
    return DiscordPlatform(
        context.token or "",
        context.store,
        context.subscriptions,
        context.sources,
        guild_ids=config.guild_ids,
        api_base_url=config.api_base_url,
        gateway_url=config.gateway_url,
        require_manage_channels=config.require_manage_channels,
        pacing=pacing,
        send_timeout=send_timeout,
        ready_timeout=ready_timeout,
        stats=context.stats,
        **client_options,
    )
