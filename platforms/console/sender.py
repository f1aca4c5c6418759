"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import TextIO, assert_never

from alerts.outbox import Pacing
from alerts.payloads import (
    Digest,
    EditAlert,
    NewAlert,
    Payload,
    Rendered,
    RenderedDigest,
    RenderedEdit,
    RenderedNew,
    SendResult,
    Sent,
)
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
        match payload:
            case NewAlert(story, found):
                return RenderedNew(self._block(story, found))
            case EditAlert(story, found, message_id):
                return RenderedEdit(message_id, self._block(story, found, "UPDATE"))
            case Digest(items):
                blocks = [self._block(story, found) for story, found in items]
                return RenderedDigest((render_digest_header(len(items)) + "".join(blocks),))
            case _:
                assert_never(payload)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        match rendered:
            case RenderedNew(text) | RenderedEdit(_, text):
                self._stream.write(text)
            case RenderedDigest(texts):
                self._stream.write("".join(texts))
            case _:
                assert_never(rendered)
        self._stream.flush()
        return Sent()
