"""A third platform, as a newcomer would add it: a settings model, a sender, a factory.
Used by tests/test_registry.py; it sends to a list instead of a network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts.outbox import Pacing
from alerts.payloads import Payload, Rendered, SendResult, Sent, render_with, send_with
from core.validation import StrictModel
from models import Match, Story
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
        def digest(items: Sequence[tuple[Story, Match]]) -> tuple[str, ...]:
            return tuple(story.title for story, _ in items)

        return render_with(payload, lambda story, _match: story.title, digest)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        async def post(messages: Sequence[str]) -> SendResult:
            self.outbox.extend((target.chat_id, m) for m in messages)
            return Sent(tuple(str(len(self.outbox)) for _ in messages))

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
