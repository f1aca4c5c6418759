"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import TextIO

from alerts.outbox import Pacing
from alerts.payloads import Payload, Rendered, SendResult, Sent, render_with, send_with
from alerts.render import AlertView
from models import LabelInfo
from platforms.console.render import render_console, render_digest_header
from store import Subscription

CONSOLE_CHAT = "stdout"
PRINTED = "printed"


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

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        """The terminal has no message ids: an edit prints the story again as an UPDATE."""

        def digest(header: str, views: Sequence[AlertView]) -> tuple[str]:
            blocks = [render_console(view, self._labels, self._tz) for view in views]
            return (render_digest_header(len(views)) + "".join(blocks),)

        return render_with(
            payload,
            lang,
            self._feed_names,
            lambda view: render_console(view, self._labels, self._tz),
            digest,
        )

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        return await send_with(rendered, self._print, self._reprint)

    async def _print(self, text: str) -> SendResult:
        self._stream.write(text)
        self._stream.flush()
        # the terminal keeps no messages; an id is recorded anyway so that an edit (another
        # source, a correction: issue 14) is printed as an UPDATE block
        return Sent((PRINTED,))

    async def _reprint(self, message_id: str, text: str) -> SendResult:
        return await self._print(text)
