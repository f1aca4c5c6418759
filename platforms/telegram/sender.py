"""The outbox's Sender for Telegram.

`TelegramSender.send` renders one alert (platforms/telegram/render.py) and translates every
Bot API answer into a SendResult, so the outbox decides what happens next:

    RetryAfter (429)                      -> retry, after exactly `retry_after` seconds
    ChatMigrated (400 migrate_to_chat_id) -> moved: the chat id is rewritten, the alert re-sent
    Forbidden (403 blocked / kicked)      -> gone: the chat's subscriptions are paused
    BadRequest "chat not found", no rights-> gone
    BadRequest "can't parse entities"     -> sent again at once as plain text; failed if refused
    other BadRequest                      -> failed (the same request would fail again)
    TimedOut / NetworkError / 5xx         -> retry with backoff (a timed-out send may have
                                             arrived: at worst one repeat, never a loss)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import tzinfo

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from alerts.outbox import Pacing, SendResult
from models import LabelInfo
from platforms.telegram.limiter import (
    TelegramRateLimiter,
    chat_id_param,
    is_group_id,
    retry_after_seconds,
)
from platforms.telegram.render import render_alert
from store import Delivery

log = logging.getLogger("mirsad.telegram")

# The outbox's pacing for Telegram (notes/platform-limits.md): 1 message/s per chat,
# 20/min per group (one every 3 s), and 28/s overall: under the limiter's 29/s, so command
# replies still get through during a burst of alerts, and above 90% of Telegram's 30/s.
TELEGRAM_PACING = Pacing(overall_per_second=28.0, chat_gap=1.0, group_gap=3.0)

# BadRequest texts meaning "this chat cannot receive from us any more": pause, do not retry.
_GONE_BAD_REQUESTS = (
    "chat not found",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
    "need administrator rights",
    "bot is not a member",
    "peer_id_invalid",
    "group chat was deactivated",
)



class TelegramSender:
    """The outbox's Sender for Telegram (alerts/outbox.py `Sender` protocol)."""

    platform = "telegram"

    def __init__(
        self,
        bot: Bot,
        labels: Mapping[str, LabelInfo],
        tz: tzinfo,
        *,
        sources: Mapping[str, str] | None = None,
        pacing: Pacing = TELEGRAM_PACING,
        limiter: TelegramRateLimiter | None = None,
    ) -> None:
        self.pacing = pacing
        self._bot = bot
        self._labels = labels
        self._tz = tz
        self._sources = dict(sources or {})
        self._limiter = limiter
        self._ready = False
        self._ready_lock = asyncio.Lock()

    def is_group(self, chat_id: str) -> bool:
        return is_group_id(chat_id)

    @property
    def initialized_bot(self) -> bool:
        """True when `send` had to initialize the bot itself (no polling, e.g. `bot.py once`)."""
        return self._ready

    async def _ensure_ready(self) -> None:
        # `bot.py once` sends without starting the Telegram application; the bot still needs
        # its HTTP clients (and getMe) before the first request. Idempotent in PTB.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True

    async def send(self, delivery: Delivery) -> SendResult:
        """Send one alert; never raises for a Bot API answer (see the module docstring)."""
        sub = delivery.subscription
        story = delivery.story
        text = render_alert(
            story,
            delivery.match,
            self._labels,
            lang=sub.lang,
            tz=self._tz,
            source=self._sources.get(story.feed_id, story.feed_id),
        )
        try:
            await self._ensure_ready()
            message = await self._send(sub.chat_id, sub.thread_id, text.html, ParseMode.HTML)
        except BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                return self._result(exc)
            # Our HTML was refused: better the alert as plain text than no alert (issue 7).
            log.warning(
                "telegram_html_refused chat=%s story=%s reason=%r: sending as plain text",
                sub.chat_id,
                story.id,
                exc.message,
            )
            try:
                message = await self._send(sub.chat_id, sub.thread_id, text.plain, None)
            except BadRequest as again:
                return SendResult(
                    "failed", reason=f"refused as HTML and as plain text: {again.message}"
                )
            except TelegramError as again:
                return self._result(again)
        except TelegramError as exc:
            return self._result(exc)
        return SendResult.sent(str(message.message_id))

    async def _send(
        self, chat_id: str, thread_id: str, text: str, parse_mode: str | None
    ) -> Message:
        return await self._bot.send_message(
            chat_id=chat_id_param(chat_id),
            text=text,
            parse_mode=parse_mode,
            message_thread_id=int(thread_id) if thread_id else None,
        )

    def _result(self, exc: TelegramError) -> SendResult:
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return SendResult(
                "retry",
                reason=f"rate limited: retry after {seconds:g} s",
                retry_after=seconds,
                retry_scope="chat",
            )
        if isinstance(exc, ChatMigrated):
            return SendResult(
                "moved",
                reason=f"group upgraded to supergroup {exc.new_chat_id}",
                new_chat_id=str(exc.new_chat_id),
            )
        if isinstance(exc, Forbidden):
            return SendResult("gone", reason=exc.message)
        if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is a subclass of it
            lowered = exc.message.lower()
            if "thread not found" in lowered:  # a deleted forum topic: pause that topic only
                return SendResult("gone", reason=exc.message, gone_scope="subscription")
            if any(text in lowered for text in _GONE_BAD_REQUESTS):
                return SendResult("gone", reason=exc.message)
            return SendResult("failed", reason=exc.message)
        if isinstance(exc, InvalidToken):
            log.error("telegram_invalid_token: check TELEGRAM_BOT_TOKEN")
            return SendResult("retry", reason="invalid bot token")
        if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
            return SendResult("retry", reason=f"{type(exc).__name__}: {exc.message}")
        return SendResult("retry", reason=f"{type(exc).__name__}: {exc.message}")
