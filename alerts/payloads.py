"""What the outbox asks a platform to deliver, and what the platform answers.

Payloads (platform-neutral, produced by the outbox):

    NewAlert   one story, a new message
    EditAlert  the same story again, as an edit of a message already sent (its stored id)
    Digest     several stories, in as few messages as the platform's length limit allows

Each platform renders a payload into its own message shape `M` (Telegram: HTML + plain text;
Discord: embeds; the terminal: a text block), wrapped in the matching `Rendered*` kind, and its
Sender sends that. Rendering is pure and happens before sending, so a new payload kind needs a
renderer case per platform but no change to how any platform sends.

SendResult (a tagged union, STYLE.md habit 18): `Sent | Retry | Gone | Moved | Failed`. The
outbox handles each with `match` + `assert_never`, so a new kind cannot fall through, and
`Moved` cannot exist without the chat id it moved to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias, TypeVar, Union

from core.pause import PauseReason
from models import Match, Story

# --- payloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAlert:
    story: Story
    match: Match


@dataclass(frozen=True)
class EditAlert:
    """Replace the text of a message already sent for this story in this chat."""

    story: Story
    match: Match
    message_id: str  # the platform's id of the message to edit, as stored when it was sent


@dataclass(frozen=True)
class Digest:
    """Several stories at once; each platform splits them into messages within its limits."""

    items: tuple[tuple[Story, Match], ...]


Payload: TypeAlias = NewAlert | EditAlert | Digest

# --- rendered payloads (M: one platform message) ------------------------------------------------

M = TypeVar("M")


@dataclass(frozen=True)
class RenderedNew(Generic[M]):
    message: M


@dataclass(frozen=True)
class RenderedEdit(Generic[M]):
    message_id: str
    message: M


@dataclass(frozen=True)
class RenderedDigest(Generic[M]):
    messages: tuple[M, ...]  # in sending order; never empty


Rendered: TypeAlias = Union[RenderedNew[M], RenderedEdit[M], RenderedDigest[M]]  # noqa: UP007

# --- send results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """The platform took it. `message_ids`: one per message posted (an edit keeps its id)."""

    message_ids: tuple[str, ...] = ()
    status: Literal["sent"] = "sent"

    @property
    def message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None


@dataclass(frozen=True)
class Retry:
    """Try again later: after `retry_after` seconds if the platform said so, else backoff.
    `scope`: whether the wait holds this chat only or the whole platform."""

    reason: str
    retry_after: float | None = None
    scope: Literal["chat", "platform"] = "chat"
    status: Literal["retry"] = "retry"


@dataclass(frozen=True)
class Gone:
    """This chat (or only this forum topic: scope "subscription") will not take alerts any
    more: its subscriptions are paused with the reason."""

    reason: PauseReason
    scope: Literal["chat", "subscription"] = "chat"
    status: Literal["gone"] = "gone"


@dataclass(frozen=True)
class Moved:
    """The chat lives under a new id now (a Telegram group upgraded to a supergroup)."""

    new_chat_id: str
    reason: str = ""
    status: Literal["moved"] = "moved"

    def __post_init__(self) -> None:
        if not self.new_chat_id:
            raise ValueError("Moved needs the new chat id")


@dataclass(frozen=True)
class Failed:
    """Given up for this payload (the same request would fail again); the others go on."""

    reason: str
    status: Literal["failed"] = "failed"


SendResult: TypeAlias = Sent | Retry | Gone | Moved | Failed
