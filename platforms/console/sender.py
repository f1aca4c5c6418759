"""The terminal "platform": prints each alert as a block of text (no bot tokens needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    send_with,
)
from models import LabelInfo, Match, Story
from platforms.console.render import PLAIN, Style, render_console, render_digest_header
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

    def _block(
        self,
        story: Story,
        match: Match,
        lang: str,
        update: bool = False,
        also: tuple[Story, ...] = (),
        updated: bool = False,
    ) -> str:
        source = self._feed_names.get(story.feed_id, story.feed_id)
        others = [(self._feed_names.get(s.feed_id, s.feed_id), s.link) for s in also]
        return render_console(
            story,
            match,
            self._labels,
            self._tz,
            source,
            lang=lang,
            style=self._style,
            update=update,
            also=others,
            updated=updated,
        )

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        """The terminal has no message ids: an edit prints the story again as an UPDATE."""
        match payload:
            case NewAlert(story, found, also, updated):
                return RenderedNew(self._block(story, found, lang, False, also, updated))
            case EditAlert(story, found, message_id, also, updated):
                block = self._block(story, found, lang, True, also, updated)
                return RenderedEdit(message_id, block)
            case Digest(items):
                blocks = [self._block(story, found, lang) for story, found in items]
                header = render_digest_header(len(items), lang, self._style)
                return RenderedDigest((header + "".join(blocks),))
            case _:
                assert_never(payload)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        return await send_with(rendered, self._print, self._reprint)

    async def _print(self, texts: Sequence[str]) -> SendResult:
        self._stream.write("".join(texts))
        self._stream.flush()
        # the terminal keeps no messages; an id is recorded anyway so that an edit (another
        # source, a correction: issue 14) is printed as an UPDATE block
        return Sent((PRINTED,))

    async def _reprint(self, message_id: str, text: str) -> SendResult:
        return await self._print((text,))
