"""The outbox's Sender for Telegram: renders a payload, sends it, reads the answer.

`TelegramSender.render` turns a payload (alerts/payloads.py) into Telegram messages
(platforms/telegram/render.py: HTML plus a plain-text fallback); `send` posts them
(sendMessage), or edits the message already sent (editMessageText), and translates every Bot
API answer into a SendResult, so the outbox decides what happens next:

    RetryAfter (429)                      -> retry, after exactly `retry_after` seconds
    ChatMigrated (400 migrate_to_chat_id) -> moved: the chat id is rewritten, the alert re-sent
    Forbidden (403 blocked / kicked)      -> gone: the chat's subscriptions are paused
    BadRequest "chat not found", no rights-> gone (the reason's code: chat_gone, no_permission…)
    BadRequest "can't parse entities"     -> sent again at once as plain text; failed if refused
    other BadRequest                      -> failed (the same request would fail again)
    TimedOut / NetworkError / 5xx         -> retry with backoff (a timed-out send may have
                                             arrived: at worst one repeat, never a loss)

A digest that needs several messages is sent in order; if a later part is refused, the
outcome of that part is returned and the whole digest is tried again (at least once: its
earlier parts may repeat, none is lost). An edit of a message Telegram no longer has fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import tzinfo

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from alerts import payloads
from alerts.outbox import Pacing
from alerts.payloads import DigestSection, Failed, Gone, Moved, Retry, SendResult, Sent
from alerts.render import AlertView
from core.pause import PauseReason, classify
from models import LabelInfo
from platforms.telegram.limiter import (
    TelegramRateLimiter,
    chat_id_param,
    is_group_id,
    retry_after_seconds,
)
from platforms.telegram.render import (
    MAX_TEXT,
    AlertText,
    render_alert,
    render_digest,
)
from store import Subscription

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

    # --- rendering (pure) ---------------------------------------------------------------------

    def render(self, payload: payloads.Payload, lang: str) -> payloads.Rendered[AlertText]:
        def digest(header: str, sections: Sequence[DigestSection]) -> tuple[AlertText, ...]:
            return render_digest(header, sections, self._labels, lang=lang)

        return payloads.render_with(
            payload, lang, self._sources, lambda view: self._alert(view, lang), digest
        )

    def _alert(self, view: AlertView, lang: str, limit: int = MAX_TEXT) -> AlertText:
        return render_alert(view, self._labels, lang=lang, tz=self._tz, limit=limit)

    # --- sending -------------------------------------------------------------------------------

    async def _ensure_ready(self) -> None:
        # `bot.py once` sends without starting the Telegram application; the bot still needs
        # its HTTP clients (and getMe) before the first request. Idempotent in PTB.
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True

    async def send(
        self, target: Subscription, rendered: payloads.Rendered[AlertText]
    ) -> SendResult:
        """Send or edit; never raises for a Bot API answer (see the module docstring)."""
        try:
            await self._ensure_ready()
        except TelegramError as exc:
            return self._result(exc)
        return await payloads.send_with(
            rendered,
            lambda message: self._html_or_plain(
                target, message, lambda text, mode: self._post(target, text, mode)
            ),
            lambda message_id, message: self._edit(target, message_id, message),
        )

    async def _edit(self, target: Subscription, message_id: str, message: AlertText) -> SendResult:
        async def edit(text: str, mode: str | None) -> str:
            await self._bot.edit_message_text(
                text,
                chat_id=chat_id_param(target.chat_id),
                message_id=int(message_id),
                parse_mode=mode,
            )
            return message_id

        result = await self._html_or_plain(target, message, edit)
        if isinstance(result, Failed) and "not modified" in result.reason.lower():
            return Sent((message_id,))  # the message already says exactly this
        return result

    async def _html_or_plain(
        self,
        target: Subscription,
        message: AlertText,
        call: Callable[[str, str | None], Awaitable[str]],
    ) -> SendResult:
        """`call` with the HTML; refused HTML is sent again at once as plain text."""
        try:
            return Sent((await call(message.html, ParseMode.HTML),))
        except BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                return self._result(exc)
            # Our HTML was refused: better the alert as plain text than no alert (issue 7).
            log.warning(
                "telegram_html_refused chat=%s reason=%r: sending as plain text",
                target.chat_id,
                exc.message,
            )
            try:
                return Sent((await call(message.plain, None),))
            except BadRequest as again:
                return Failed(f"refused as HTML and as plain text: {again.message}")
            except TelegramError as again:
                return self._result(again)
        except TelegramError as exc:
            return self._result(exc)

    async def _post(self, target: Subscription, text: str, parse_mode: str | None) -> str:
        message: Message = await self._bot.send_message(
            chat_id=chat_id_param(target.chat_id),
            text=text,
            parse_mode=parse_mode,
            message_thread_id=int(target.thread_id) if target.thread_id else None,
        )
        return str(message.message_id)

    def _result(self, exc: TelegramError) -> SendResult:
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return Retry(f"rate limited: retry after {seconds:g} s", retry_after=seconds)
        if isinstance(exc, ChatMigrated):
            return Moved(
                str(exc.new_chat_id), reason=f"group upgraded to supergroup {exc.new_chat_id}"
            )
        if isinstance(exc, Forbidden):
            return Gone(classify(exc.message, "refused"))
        if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is a subclass of it
            lowered = exc.message.lower()
            if "thread not found" in lowered:  # a deleted forum topic: pause that topic only
                return Gone(PauseReason("topic_gone", exc.message), scope="subscription")
            if any(text in lowered for text in _GONE_BAD_REQUESTS):
                return Gone(classify(exc.message, "refused"))
            return Failed(exc.message)
        if isinstance(exc, InvalidToken):
            log.error("telegram_invalid_token: check TELEGRAM_BOT_TOKEN")
            return Retry("invalid bot token")
        # NetworkError (TimedOut, 5xx answers) and anything else from PTB: try again later
        return Retry(f"{type(exc).__name__}: {exc.message}")
