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

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias, TypeVar, Union, assert_never

from alerts.render import AlertView, alert_view
from core import texts
from core.pause import PauseReason
from models import FOLLOW_LABEL, Match, Story

# --- payloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAlert:
    story: Story
    match: Match
    # issue 14: other outlets' stories of the same event ("also reported by", linked), and
    # whether the feed corrected this story since it came ("updated")
    also: tuple[Story, ...] = ()
    updated: bool = False


@dataclass(frozen=True)
class EditAlert:
    """Replace the text of a message already sent for this story in this chat."""

    story: Story
    match: Match
    message_id: str  # the platform's id of the message to edit, as stored when it was sent
    also: tuple[Story, ...] = ()
    updated: bool = False


@dataclass(frozen=True)
class Digest:
    """Several stories at once (issue 13: a chat's digest, or what its quiet hours held),
    grouped by label: each story under the first of its labels in `order` (the chat's labels,
    then its own words), newest first. Each platform splits them into messages within its
    limits, nothing left out."""

    items: tuple[NewAlert, ...]  # each story with why it matched and its event's other sources
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestSection:
    """One label's stories in a digest, newest first."""

    label: str  # a label id, or models.FOLLOW_LABEL for the chat's own words
    views: tuple[AlertView, ...]


def digest_sections(
    items: Sequence[NewAlert], order: Sequence[str]
) -> list[tuple[str, list[NewAlert]]]:
    """`items` grouped under the first of their labels in `order` (a label outside it comes
    after, in the order first seen), newest first within a group. A story is shown once."""
    rank = {label: i for i, label in enumerate(order)}
    groups: dict[str, list[NewAlert]] = {}
    for item in items:
        labels = item.match.labels or (FOLLOW_LABEL,)
        first = min(labels, key=lambda label: rank.get(label, len(rank)))
        groups.setdefault(first, []).append(item)
    ordered = sorted(groups, key=lambda label: rank.get(label, len(rank)))  # stable
    return [
        (label, sorted(groups[label], key=lambda item: item.story.published, reverse=True))
        for label in ordered
    ]


Payload: TypeAlias = NewAlert | EditAlert | Digest

# --- rendered payloads (M: one platform message) ------------------------------------------------

M = TypeVar("M")
T = TypeVar("T")


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


# --- the two dispatches every platform shares -------------------------------------------------


def render_with(
    payload: Payload,
    lang: str,
    sources: Mapping[str, str],
    alert: Callable[[AlertView], M],
    digest: Callable[[str, Sequence[DigestSection]], tuple[M, ...]],
) -> Rendered[M]:
    """A payload rendered by a platform's two renderers: one story -> one message (a new
    alert, or the edit of one: `view.edit`), several stories -> messages within its limits,
    under the digest's heading, in sections by label. Every story reaches them as an
    `AlertView` in `lang`."""
    match payload:
        case NewAlert(story, found, also, updated):
            return RenderedNew(
                alert(alert_view(story, found, lang, sources, also=also, updated=updated))
            )
        case EditAlert(story, found, message_id, also, updated):
            view = alert_view(story, found, lang, sources, also=also, updated=updated, edit=True)
            return RenderedEdit(message_id, alert(view))
        case Digest(items, order):
            header = texts.t("digest", lang, count=len(items))
            sections = [
                DigestSection(
                    label,
                    tuple(
                        alert_view(a.story, a.match, lang, sources, also=a.also, updated=a.updated)
                        for a in group
                    ),
                )
                for label, group in digest_sections(items, order)
            ]
            return RenderedDigest(digest(header, sections))
        case _:
            assert_never(payload)


async def send_with(
    rendered: Rendered[M],
    post: Callable[[M], Awaitable[SendResult]],
    edit: Callable[[str, M], Awaitable[SendResult]],
) -> SendResult:
    """A rendered payload sent by a platform's two operations: post one message (an alert,
    or each message of a digest in order) or edit the message already sent. A digest stops
    at the first message not accepted and answers that message's result (the outbox tries
    the whole digest again: its earlier parts may repeat, none is lost); else `Sent` with
    every message id."""
    match rendered:
        case RenderedNew(message):
            return await post(message)
        case RenderedDigest(messages):
            ids: list[str] = []
            for message in messages:
                result = await post(message)
                if not isinstance(result, Sent):
                    return result
                ids.extend(result.message_ids)
            return Sent(tuple(ids))
        case RenderedEdit(message_id, message):
            return await edit(message_id, message)
        case _:
            assert_never(rendered)


def pack(items: Sequence[T], size: Callable[[T], int], room: int, most: int = 0) -> list[list[T]]:
    """`items` in order, in as few groups as keep each group's total `size` within `room` (and
    at most `most` items, if set). An item bigger than `room` stands alone; callers render
    each item to fit."""
    groups: list[list[T]] = []
    used = 0
    for item in items:
        cost = size(item)
        if groups and used + cost <= room and not (most and len(groups[-1]) >= most):
            groups[-1].append(item)
            used += cost
        else:
            groups.append([item])
            used = cost
    return groups


def part_title(header: str, number: int, count: int) -> str:
    """A digest message's heading: `header`, with `number/count` when it takes several."""
    return header if count == 1 else f"{header} · {number}/{count}"
