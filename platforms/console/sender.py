"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import TextIO

from alerts.outbox import Pacing
from alerts.payloads import (
    DigestSection,
    Payload,
    Rendered,
    SendResult,
    Sent,
    render_with,
    send_with,
)
from alerts.render import AlertView
from models import LabelInfo
from platforms.console.render import PLAIN, Style, render_console, render_digest
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
        style: Style = PLAIN,
    ) -> None:
        self._stream = stream
        self._labels = labels
        self._tz = tz
        self._feed_names = feed_names or {}
        self._style = style

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        """The terminal has no message ids: an edit prints the story again as an update."""

        def block(view: AlertView) -> str:
            return render_console(view, self._labels, self._tz, lang=lang, style=self._style)

        def digest(header: str, sections: Sequence[DigestSection]) -> tuple[str]:
            return (render_digest(header, sections, self._labels, lang=lang, style=self._style),)

        return render_with(payload, lang, self._feed_names, block, digest)

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
