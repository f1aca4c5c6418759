"""The Telegram platform: the PTB application, its lifecycle, and the factory the registry names."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder

from alerts.outbox import Sender
from core import texts
from core.stats import Stats
from core.subscriptions import Subscriptions
from platforms.base import PlatformContext
from platforms.telegram.commands import ALLOWED_UPDATES, PLATFORM, TelegramApp, TelegramHandlers
from platforms.telegram.limiter import TelegramRateLimiter
from platforms.telegram.sender import TelegramSender
from platforms.telegram.settings import TelegramConfig
from store import SubscriptionStore

log = logging.getLogger("mirsad.telegram")


def build_application(
    token: str, api_base_url: str, limiter: TelegramRateLimiter, *, poll_timeout: float = 10.0
) -> TelegramApp:
    """A PTB Application pointed at `api_base_url` (Telegram's or a self-hosted Bot API)."""
    base = api_base_url.rstrip("/")
    app: TelegramApp = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot{{token}}")
        .base_file_url(f"{base}/file/bot{{token}}")
        .rate_limiter(limiter)
        .job_queue(None)  # one scheduler in the process: ours (STYLE.md habit 3)
        .get_updates_read_timeout(poll_timeout + 10)
        .build()
    )
    return app


class TelegramPlatform:
    """The Telegram platform (`platforms.base.Platform`): `.sender` for the outbox, start/stop."""

    name = PLATFORM

    def __init__(
        self,
        *,
        token: str,
        api_base_url: str,
        subscriptions: Subscriptions,
        store: SubscriptionStore,
        tz: tzinfo,
        clock: Callable[[], datetime],
        sources: Mapping[str, str] | None = None,
        limiter: TelegramRateLimiter | None = None,
        poll_timeout: float = 10.0,
        stats: Stats | None = None,
    ) -> None:
        self.limiter = limiter or TelegramRateLimiter()
        self.application = build_application(
            token, api_base_url, self.limiter, poll_timeout=poll_timeout
        )
        labels = {info.id: info for info in subscriptions.labels}
        self.sender: Sender[Any] = TelegramSender(
            self.application.bot, labels, tz, sources=sources, limiter=self.limiter
        )
        self.handlers = TelegramHandlers(
            subscriptions, store, tz, clock, sources=sources, stats=stats
        )
        self.handlers.register(self.application)
        self._poll_timeout = poll_timeout

    async def start(self) -> None:
        """getMe, the command menus, then long polling (never `run_polling`: it owns the loop).

        The runtime retries a failed start with backoff, so a failure undoes what it began."""
        app = self.application
        try:
            await app.initialize()
            await self._set_commands()
            if not app.running:
                await app.start()
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=timedelta(seconds=self._poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        except BaseException:
            await self._halt()
            raise
        log.info("telegram_started bot=@%s", app.bot.username)

    async def _set_commands(self) -> None:
        bot = self.application.bot
        try:
            for lang in texts.LANGS:
                await bot.set_my_commands(
                    [BotCommand(c, texts.description(c, lang)) for c in self.handlers.offered],
                    language_code=lang,
                )
            # clients in other languages get the English menu, like the replies
            await bot.set_my_commands(
                [BotCommand(c, texts.description(c, "en")) for c in self.handlers.offered]
            )
        except TelegramError as exc:  # a missing menu is no reason not to deliver alerts
            log.warning("telegram_set_commands_failed reason=%r", exc.message)

    async def _halt(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, close the HTTP clients. Safe to repeat,
        and to call when `start` never ran (`bot.py once`: the sender opened the bot itself)."""
        await self._halt()
        await self.application.shutdown()
        await self.application.bot.shutdown()  # no-op when already closed
        log.info("telegram_stopped")


def create_platform(context: PlatformContext[TelegramConfig]) -> TelegramPlatform:
    """The registry's factory for Telegram."""
    if not context.token:
        raise ValueError("Telegram is enabled but TELEGRAM_BOT_TOKEN is not set")
    return TelegramPlatform(
        token=context.token,
        api_base_url=context.config.api_base_url,
        subscriptions=context.subscriptions,
        store=context.store,
        tz=context.tz,
        clock=context.clock,
        sources=context.sources,
        stats=context.stats,
    )
