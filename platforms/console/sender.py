"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import TextIO

from alerts.outbox import Pacing
from alerts.payloads import EditAlert, Payload, Rendered, SendResult, Sent, render_with, send_with
from models import LabelInfo, Match, Story
from platforms.console.render import render_console, render_digest_header
from store import Subscription

CONSOLE_CHAT = "stdout"


class ConsoleSender:
    platform = "console"
    pacing = Pacing()

    def __init__(
        self,
        stream: TextIO,
        labels: Mapping[str, LabelInfo],
        tz: tzinfo,
        feed_names: Mapping[str, str] | None = None,
    ) -> None:
        self._stream = stream
        self._labels = labels
        self._tz = tz
        self._feed_names = feed_names or {}

    def is_group(self, chat_id: str) -> bool:
        return False

    def _block(self, story: Story, match: Match, heading: str = "ALERT") -> str:
        source = self._feed_names.get(story.feed_id, story.feed_id)
        return render_console(story, match, self._labels, self._tz, source, heading=heading)

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        """The terminal has no message ids: an edit prints the story again as an UPDATE."""
        heading = "UPDATE" if isinstance(payload, EditAlert) else "ALERT"

        def digest(items: Sequence[tuple[Story, Match]]) -> tuple[str, ...]:
            blocks = [self._block(story, found) for story, found in items]
            return (render_digest_header(len(items)) + "".join(blocks),)

        return render_with(payload, lambda story, found: self._block(story, found, heading), digest)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        return await send_with(rendered, self._print, self._reprint)

    async def _print(self, texts: Sequence[str]) -> SendResult:
        self._stream.write("".join(texts))
        self._stream.flush()
        return Sent()

    async def _reprint(self, message_id: str, text: str) -> SendResult:
        return await self._print((text,))
