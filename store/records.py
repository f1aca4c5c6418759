"""The records the store hands out and takes in, and how rows become records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func

from models import FOLLOW_LABEL, Evidence, Match, Story

from . import tables as t


@dataclass(frozen=True)
class FeedState:
    id: str
    url: str
    language: str | None
    interval: int
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    initialized: bool
    error_count: int
    last_error: str | None
    paused: bool = False  # by the operator (dashboard): not polled until resumed
    # issue 19: the packed item memory of its last stored 200 (feeds/incremental.py), as
    # stored: unpacked (and checked) by the poller only when it has none of its own
    item_memory: bytes | None = None


@dataclass(frozen=True)
class FeedUpdate:
    """What a poll learned about a feed, written together with its stories."""

    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # None = success
    not_modified: bool = False  # a 304: the feed's items are the ones it listed last time
    item_memory: bytes | None = None  # the packed item memory to store; None: keep the stored


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: str
    chat_id: str
    thread_id: str
    guild_id: str | None
    labels: tuple[str, ...]
    active: bool
    paused_reason: str | None
    lang: str


@dataclass(frozen=True)
class ChatRhythm:
    """When a chat hears its alerts (issue 13), as stored: the canonical forms that
    alerts.rhythm reads (`daily 07:30`, `23:00-07:00`, an IANA zone); None: not chosen."""

    digest: str | None = None  # None: each alert at once
    tz: str | None = None  # None: the config's timezone
    quiet: str | None = None  # None: no quiet hours


NO_RHYTHM = ChatRhythm()


@dataclass(frozen=True)
class Delivery:
    """One pending outbox row with everything a sender needs to render and send it."""

    outbox_id: int
    attempts: int
    queued_at: datetime
    subscription: Subscription
    story: Story
    match: Match
    # issue 14: > 0 for an edit of the message this subscription got for the story, whose
    # platform id is `edit_of` (None when that message is unknown: the edit cannot be made)
    revision: int = 0
    edit_of: str | None = None
    also: tuple[Story, ...] = ()  # other outlets' stories of the same event, oldest first
    updated: bool = False  # the feed corrected the story's title or summary since it came
    # issue 13: the chat's rhythm, and the time this alert waits for to go out in a digest
    # (None: not decided yet)
    rhythm: ChatRhythm = NO_RHYTHM
    digest_at: datetime | None = None


@dataclass(frozen=True)
class FollowedTerm:
    """A word or phrase a chat follows (/follow): as written, and its matching form."""

    text: str
    key: str


@dataclass(frozen=True)
class Mute:
    """A label a chat silenced (/mute) until `until` (None: until /unmute)."""

    label: str
    until: datetime | None


@dataclass(frozen=True)
class StoredAlert:
    story: Story
    match: Match


@dataclass(frozen=True)
class ChatMigration:
    """What moving a migrated chat did to the alerts pending for its old id."""

    moved: int  # pending alerts handed to the new chat's existing subscription
    cancelled: int  # pending alerts cancelled: already queued there, or paused there


@dataclass(frozen=True)
class IngestResult:
    new_stories: int
    matched: int
    queued: int
    grouped: int = 0  # new stories that joined an event already alerted (issue 14)
    edits: int = 0  # edits of sent alerts queued (another source, a corrected story)


@dataclass(frozen=True)
class PollLookups:
    """What a changed feed's poll reads before matching, in one statement (issue 19)."""

    known: dict[str, tuple[str, str]]  # id -> (title, summary) of the stories already stored
    titles: set[str]  # the asked titles a story of this feed seen since `since` has
    generation: int  # the follow generation (store/follows.py)


@dataclass(frozen=True)
class GroupedStory:
    """A matched story with its labels and event, as the same-event window needs it."""

    story: Story
    labels: tuple[str, ...]
    event_id: str | None
    at: datetime  # when it was matched


def evidence_to_json(match: Match) -> list[dict[str, str | int]]:
    return [e.as_dict() for e in match.evidence]


def match_from_row(labels: Sequence[str], evidence: Sequence[dict[str, Any]]) -> Match:
    return Match(
        labels=tuple(labels),
        evidence=tuple(
            Evidence(
                label=e["label"],
                term=e["term"],
                text=e["text"],
                field=e["field"],
                start=int(e.get("start", 0)),
                end=int(e.get("end", 0)),
            )
            for e in evidence
        ),
    )


def delivery_match(
    labels: Sequence[str] | None,
    evidence: Sequence[dict[str, Any]] | None,
    follows: Sequence[dict[str, Any]] | None,
) -> Match:
    """What one alert says about why it came: the story's labels, and (issue 13) the chat's
    own words it holds, as the label `#follow` with their evidence."""
    match = match_from_row(labels or (), evidence or ())
    if not follows:
        return match
    words = match_from_row((), follows).evidence
    return Match((*match.labels, FOLLOW_LABEL), match.evidence + words)


def story_from_row(row: Any) -> Story:
    return Story(
        id=row.id,
        feed_id=row.feed_id,
        title=row.title,
        summary=row.summary,
        link=row.link,
        published=row.published,
        image=row.image,
        language=row.language,
    )


def feed_from_row(row: Any) -> FeedState:
    return FeedState(
        id=row.id,
        url=row.url,
        language=row.language,
        interval=row.interval,
        etag=row.etag,
        last_modified=row.last_modified,
        next_poll_at=row.next_poll_at,
        last_polled_at=row.last_polled_at,
        last_success_at=row.last_success_at,
        last_new_at=row.last_new_at,
        initialized=bool(row.initialized),
        error_count=row.error_count,
        last_error=row.last_error,
        paused=bool(row.paused),
        item_memory=row.item_memory,
    )


SUBSCRIPTION_COLUMNS = (
    t.subscriptions.c.id.label("sub_id"),
    t.subscriptions.c.platform,
    t.subscriptions.c.chat_id,
    t.subscriptions.c.thread_id,
    t.subscriptions.c.guild_id,
    t.subscriptions.c.labels.label("sub_labels"),
    t.subscriptions.c.active,
    t.subscriptions.c.paused_reason,
    func.coalesce(t.chat_settings.c.lang, "ar").label("lang"),
)
SETTINGS_JOIN = and_(
    t.chat_settings.c.platform == t.subscriptions.c.platform,
    t.chat_settings.c.chat_id == t.subscriptions.c.chat_id,
)


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.sub_id,
        platform=row.platform,
        chat_id=row.chat_id,
        thread_id=row.thread_id,
        guild_id=row.guild_id,
        labels=tuple(row.sub_labels),
        active=bool(row.active),
        paused_reason=row.paused_reason,
        lang=row.lang,
    )
