"""The Discord Sender: renders a payload as embeds (a new alert, an edit of a message already
posted, a digest packed into as few messages as Discord takes), posts or edits it through
discord.py and turns Discord's answer into a SendResult for the outbox (alerts/outbox.py).

Rate limits stay discord.py's job: it keeps a bucket per route (per channel for messages)
from the X-RateLimit-* headers, waits before a bucket runs dry and sleeps through short 429s.
A 429 longer than the client's `max_ratelimit_timeout` comes back as `discord.RateLimited`
and is handed to the outbox, which holds the channel for exactly `retry_after`.

Answers that mean "this channel will not take alerts" pause the channel's subscriptions with
the reason (ARCHITECTURE.md "Lifecycle"): posting on into a channel we lost counts towards
Discord's invalid-request limit (10,000 per 10 minutes, then a ban of the whole bot).

    403 50013 Missing Permissions, 50001 Missing Access, 50007 cannot message user -> gone
    404 (10003 Unknown Channel)                                                -> gone
    400 50083 thread archived and locked                                       -> gone
    400 other (an embed Discord refuses)                                       -> failed
    429 / RateLimited, 5xx, network errors, timeouts                            -> retry
    edit of a deleted message (404 10008)                                       -> failed
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import discord

from alerts import payloads
from alerts.outbox import Pacing
from alerts.payloads import Failed, Gone, Retry, SendResult, Sent
from alerts.render import AlertView
from core.pause import PauseCode, PauseReason
from models import LabelInfo
from platforms.discord.render import DiscordMessage, digest_messages, story_embed
from store import Subscription

log = logging.getLogger("mirsad.discord")

# Discord allows 50 requests per second per bot across everything; 45 leaves room for
# interaction replies and command sync. The per-channel message bucket (5 per 5 s) is
# discord.py's to keep, so the per-channel gap only smooths bursts.
DISCORD_PACING = Pacing(overall_per_second=45.0, chat_gap=0.25)

# A send that takes longer is abandoned and retried later (it may have been posted: at
# least once). Longer than discord.py's longest in-process rate-limit wait (30 s).
SEND_TIMEOUT = 60.0

# A 429 from Discord's edge without `Via` (Cloudflare) or a rejected token blocks every
# channel, not one: the whole platform waits this long before trying again.
PLATFORM_WAIT = 300.0

# Discord error codes that mean the channel cannot take alerts any more.
_GONE_CODES: dict[int, tuple[PauseCode, str]] = {
    50013: ("no_permission", "missing permissions (Discord 50013)"),
    50001: ("no_access", "missing access (Discord 50001)"),
    50007: ("cannot_dm", "cannot send messages to this user (Discord 50007)"),
    10003: ("chat_gone", "unknown channel (Discord 10003)"),
    50083: ("thread_locked", "thread archived and locked (Discord 50083)"),
}
UNKNOWN_MESSAGE = 10008  # an edit of a message that was deleted


class DiscordSender:
    """Renders payloads as embeds and posts or edits them with `allowed_mentions` none; see
    the module docstring."""

    platform = "discord"

    def __init__(
        self,
        client: Callable[[], discord.Client],
        ready: Callable[[], Awaitable[None]],
        labels: Mapping[str, LabelInfo],
        sources: Mapping[str, str],
        *,
        pacing: Pacing = DISCORD_PACING,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        """`client` gives the current discord.py client (a failed start replaces it);
        `ready` logs it in if needed (`bot.py once` sends without the gateway)."""
        self._client = client
        self._ready = ready
        self._labels = labels
        self._sources = sources
        self.pacing = pacing
        self._timeout = send_timeout

    def is_group(self, chat_id: str) -> bool:
        # Discord has no Telegram-style group limit; per-channel buckets are discord.py's.
        return False

    # --- rendering (pure) ---------------------------------------------------------------------

    def render(self, payload: payloads.Payload, lang: str) -> payloads.Rendered[DiscordMessage]:
        def embed(view: AlertView) -> dict[str, Any]:
            return story_embed(view, self._labels, lang)

        return payloads.render_with(
            payload,
            lang,
            self._sources,
            lambda view: DiscordMessage((embed(view),)),
            lambda header, sections: digest_messages(header, sections, self._labels, lang),
        )

    # --- sending -------------------------------------------------------------------------------

    async def send(
        self, target: Subscription, rendered: payloads.Rendered[DiscordMessage]
    ) -> SendResult:
        if not target.chat_id.isdigit():
            return Gone(
                PauseReason("chat_gone", f"not a Discord channel id: {target.chat_id[:40]!r}")
            )
        try:
            async with asyncio.timeout(self._timeout):
                await self._ready()
                channel = self._client().get_partial_messageable(int(target.chat_id))
                return await payloads.send_with(
                    rendered,
                    lambda message: self._post(channel, message),
                    lambda message_id, message: self._edit(channel, message_id, message),
                )
        except discord.LoginFailure:
            log.error("discord_login_failed: the bot token was rejected")
            return Retry(
                "Discord rejected the bot token", retry_after=PLATFORM_WAIT, scope="platform"
            )
        except discord.RateLimited as exc:
            return Retry(f"rate limited for {exc.retry_after:.1f}s", retry_after=exc.retry_after)
        except discord.HTTPException as exc:
            return translate_http_error(exc)
        except TimeoutError:
            return Retry(f"no answer from Discord within {self._timeout:g}s")
        except (aiohttp.ClientError, OSError) as exc:
            return Retry(f"network: {type(exc).__name__}: {exc}"[:300])

    @staticmethod
    async def _post(channel: discord.PartialMessageable, message: DiscordMessage) -> SendResult:
        posted = await channel.send(
            content=message.content,
            embeds=[discord.Embed.from_dict(e) for e in message.embeds],
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return Sent((str(posted.id),))

    @staticmethod
    async def _edit(
        channel: discord.PartialMessageable, message_id: str, message: DiscordMessage
    ) -> SendResult:
        try:
            await channel.get_partial_message(int(message_id)).edit(
                content=message.content,
                embeds=[discord.Embed.from_dict(e) for e in message.embeds],
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MESSAGE:  # the message was deleted, not the channel
                return Failed(f"the message to edit is gone (Discord {exc.code})")
            raise
        return Sent((message_id,))


def translate_http_error(exc: discord.HTTPException) -> SendResult:
    """Discord's error answer -> what the outbox should do with the alert."""
    status, code = exc.status, exc.code
    detail = f"Discord {status} {code}: {exc.text}"[:300]
    if code in _GONE_CODES:
        pause_code, text = _GONE_CODES[code]
        return Gone(PauseReason(pause_code, text))
    if status in (403, 404):
        # Any other refusal of this channel: pausing is cheaper than a ban for hammering it.
        return Gone(
            PauseReason("refused", f"refused by Discord ({status} {code}): {exc.text}"[:300])
        )
    if status == 429:
        # Only reaches here without `Via`: Cloudflare's edge, which limits the whole bot.
        retry_after = _header_seconds(exc, "Retry-After") or PLATFORM_WAIT
        return Retry(detail, retry_after=retry_after, scope="platform")
    if status == 401:
        log.error("discord_unauthorized: the bot token is no longer valid")
        return Retry(detail, retry_after=PLATFORM_WAIT, scope="platform")
    if status >= 500:
        return Retry(detail)
    return Failed(f"Discord refused the alert: {detail}"[:300])


def _header_seconds(exc: discord.HTTPException, name: str) -> float | None:
    headers = getattr(exc.response, "headers", None)
    raw = headers.get(name) if headers is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
