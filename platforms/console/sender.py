"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import TextIO

from alerts.outbox import Pacing, SendResult
from models import LabelInfo
from platforms.console.render import render_console
from store import Delivery

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

    async def send(self, delivery: Delivery) -> SendResult:
        story = delivery.story
        source = self._feed_names.get(story.feed_id, story.feed_id)
        self._stream.write(render_console(story, delivery.match, self._labels, self._tz, source))
        self._stream.flush()
        return SendResult.sent(None)
