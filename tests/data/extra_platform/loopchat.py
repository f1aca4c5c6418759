"""A third platform, as a newcomer would add it: a settings model, a sender, a factory.
Used by tests/test_registry.py; it sends to a list instead of a network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from core.validation import StrictModel
from platforms.base import PlatformContext
from store import Subscription


class LoopchatConfig(StrictModel):
    enabled: bool | None = None
    room_prefix: str = "room-"


class LoopchatSender:
    platform = "loopchat"
    pacing = Pacing()

    def __init__(self, outbox: list[tuple[str, str]]) -> None:
        self.outbox = outbox

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        def digest(header: str, sections: Sequence[DigestSection]) -> tuple[str, ...]:
            return (header, *(view.story.title for part in sections for view in part.views))

        return render_with(payload, lang, {}, lambda view: view.story.title, digest)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        async def post(message: str) -> SendResult:
            self.outbox.append((target.chat_id, message))
            return Sent((str(len(self.outbox)),))

        async def edit(message_id: str, message: str) -> SendResult:
            return Sent((message_id,))

        return await send_with(rendered, post, edit)


BUILT: list[PlatformContext[Any]] = []  # the contexts it was built from


class LoopchatPlatform:
    name = "loopchat"

    def __init__(self, context: PlatformContext[LoopchatConfig]) -> None:
        self.sender = LoopchatSender([])
        BUILT.append(context)

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""


def create_platform(context: PlatformContext[LoopchatConfig]) -> LoopchatPlatform:
    return LoopchatPlatform(context)
