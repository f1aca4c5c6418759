"""The Telegram bot's rate limiter, under every request the bot makes.

`TelegramRateLimiter` sits under every request the bot makes (alerts and command replies
share one bot, so they share the limits). PTB's AIORateLimiter was the starting point but
does not fit: it has no per-chat limit, its token buckets let 30 messages out at once (a strict
30/s window sees twice that), a 429 stops *all* requests, and with `max_retries=0` it logs
every 429 as an error with a traceback. This one spaces requests evenly: one message per chat
per `chat_gap`, at most `group_max` per `group_window` to a group or channel, and
`overall_per_second` overall, with never more than `overall_max` messages in flight or
answered within `overall_window` (alerts.pacing.AnswerWindow); it retries a 429 only for
callers that ask (command replies, `rate_limit_args=N`) and holds just that chat meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import (
    RetryAfter,
)
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from alerts.pacing import AnswerWindow, RateGate

log = logging.getLogger("mirsad.telegram")

_MESSAGE_ENDPOINTS = {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}


def retry_after_seconds(exc: RetryAfter) -> float:
    """`exc.retry_after` in seconds, without PTB's int/timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_id_param(chat_id: str) -> int | str:
    """Telegram ids are integers; `@channelname` stays a string."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def is_group_id(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username)."""
    return chat_id.startswith(("-", "@"))


@dataclass
class _ChatState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0  # monotonic time the next message may go
    recent: deque[float] = field(default_factory=deque)  # send times within the group window


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Per-chat, per-group and overall pacing for every request of one bot (see module doc).

    `rate_limit_args` is how many times a 429 is retried inside the request (default 0: the
    RetryAfter reaches the caller, e.g. the outbox, which reschedules the alert).
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 29.0,
        chat_gap: float = 1.0,
        group_max: int = 20,
        group_window: float = 60.0,
        overall_max: int = 30,
        overall_window: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._sleep = sleep
        self._chat_gap = chat_gap
        self._group_max = group_max
        self._group_window = group_window
        self._overall = RateGate(overall_per_second, self._clock, sleep)
        self._window = AnswerWindow(overall_max, overall_window, self._clock, sleep)
        self._chats: dict[str, _ChatState] = {}

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def hold(self, chat_id: str, seconds: float) -> None:
        """Telegram told this chat to wait: no message to it before `seconds` from now."""
        state = self._state(chat_id)
        state.next_at = max(state.next_at, self._clock() + seconds)

    def _state(self, chat_id: str) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            if len(self._chats) > 10_000:
                self._forget_idle()
            state = self._chats[chat_id] = _ChatState()
        return state

    def _forget_idle(self) -> None:
        now = self._clock()
        for key, state in list(self._chats.items()):
            idle = not state.recent or state.recent[-1] < now - self._group_window
            if not state.lock.locked() and state.next_at < now and idle:
                del self._chats[key]

    async def _paced(self, chat: str, is_message: bool, call: Callable[[], Awaitable[Any]]) -> Any:
        if not is_message:
            await self._overall.wait()
            return await call()
        state = self._state(chat)
        group = bool(self._group_max) and is_group_id(chat)
        # One message at a time per chat, from pacing to Telegram's answer.
        async with state.lock:
            while (wait := state.next_at - self._clock()) > 0:
                await self._sleep(wait)
            if group:
                while True:
                    now = self._clock()
                    while state.recent and state.recent[0] <= now - self._group_window:
                        state.recent.popleft()
                    if len(state.recent) < self._group_max:
                        break
                    await self._sleep(state.recent[0] + self._group_window - now)
            # the window is the hard cap on the overall rate (jitter cannot push a 31st
            # message into one second); the gate spaces the messages within it
            async with self._window.slot():
                await self._overall.wait()
                try:
                    return await call()
                finally:
                    # Pace from the answer, not from the request: Telegram has counted this
                    # message by the time it answers, so the next one cannot reach it within
                    # the gap even when this request was slow on its way there (seen as 429s
                    # in CI).
                    now = self._clock()
                    state.next_at = max(state.next_at, now + self._chat_gap)  # keep a hold()
                    if group:
                        state.recent.append(now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for this request's turn, send it, retry a 429 `rate_limit_args` times."""
        chat_id = data.get("chat_id")
        if chat_id is None:  # getMe, answerCallbackQuery...: not counted by Telegram's limits
            return await callback(*args, **kwargs)
        chat = str(chat_id)
        is_message = (
            endpoint.startswith("send") and endpoint != "sendChatAction"
        ) or endpoint in _MESSAGE_ENDPOINTS
        retries = rate_limit_args or 0
        attempt = 0
        while True:
            try:
                result: bool | dict[str, Any] | list[dict[str, Any]] = await self._paced(
                    chat, is_message, lambda: callback(*args, **kwargs)
                )
                return result
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.hold(chat, seconds)
                if attempt >= retries:
                    raise
                attempt += 1
                log.info(
                    "telegram_rate_limited chat=%s endpoint=%s retry_after=%s",
                    chat,
                    endpoint,
                    seconds,
                )
