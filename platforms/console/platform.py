"""The terminal as a platform: used when no chat platform is enabled (no bot token set).

It has one "chat", the terminal, subscribed to every label, so alerts reach it through the
same outbox (order, retries, deduplication) as Telegram and Discord.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from alerts.outbox import Sender
from core.pause import PauseReason
from platforms.base import PlatformContext
from platforms.console.render import Style
from platforms.console.sender import CONSOLE_CHAT, ConsoleSender
from store import SubscriptionStore

PLATFORM = "console"


class ConsolePlatform:
    name = PLATFORM

    def __init__(self, context: PlatformContext[Any]) -> None:
        self._context = context
        # colours only for a terminal, never when piped or with NO_COLOR set
        style = Style.for_stream(context.stream, os.environ)
        self.sender: Sender[Any] = ConsoleSender(
            context.stream, context.labels, context.tz, context.sources, style
        )

    async def prepare(self) -> None:
        """Subscribe the terminal to every label (also for `bot.py once`, which never starts)."""
        ctx = self._context
        ids = [info.id for info in ctx.subscriptions.labels]
        await ctx.store.save_subscription(PLATFORM, CONSOLE_CHAT, ids, ctx.clock())
        await ctx.store.set_chat_lang(PLATFORM, CONSOLE_CHAT, ctx.language)  # config `language`

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""


def create_platform(context: PlatformContext[Any]) -> ConsolePlatform:
    return ConsolePlatform(context)


async def retire(store: SubscriptionStore, now: datetime) -> None:
    """A chat platform is configured now: the terminal stops receiving alerts."""
    if await store.subscription(PLATFORM, CONSOLE_CHAT):
        reason = PauseReason("replaced", "a chat platform is configured")
        await store.pause_chat(PLATFORM, CONSOLE_CHAT, reason.stored(), now)
