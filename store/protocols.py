"""The narrow views of the store that each consumer takes (ARCHITECTURE.md, habit 19).

A consumer names only what it uses, so it can be handed the real `Store`, a fake, or later a
store with other backing, and a reader sees at a glance what each part may touch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from models import Evidence, Match, Story

from .records import (
    ChatMigration,
    ChatRhythm,
    Delivery,
    FeedState,
    FeedUpdate,
    FollowedTerm,
    GroupedStory,
    IngestResult,
    Mute,
    PollLookups,
    StoredAlert,
    Subscription,
)


class PollStore(Protocol):
    """What the poller uses: due feeds in, poll outcomes out."""

    async def feeds(self) -> list[FeedState]: ...

    async def due_feeds(self, now: datetime) -> list[FeedState]: ...

    async def claim_due_feeds(
        self, now: datetime, owner: str, *, min_lease: timedelta, limit: int = 1000
    ) -> list[FeedState]: ...

    async def release_feed_claims(self, owner: str) -> None: ...

    async def known_story_ids(self, ids: Sequence[str]) -> set[str]: ...

    async def known_story_texts(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]: ...

    async def recent_alerted_stories(self, since: datetime) -> list[GroupedStory]: ...

    async def recent_titles(
        self, feed_id: str, titles: Sequence[str], since: datetime
    ) -> set[str]: ...

    async def poll_lookups(
        self, feed_id: str, ids: Sequence[str], titles: Sequence[str], since: datetime
    ) -> PollLookups: ...

    async def record_not_modified(
        self, feed_id: str, update_: FeedUpdate, now: datetime
    ) -> None: ...

    async def record_feed_failure(
        self, feed_id: str, update_: FeedUpdate, now: datetime
    ) -> None: ...

    async def ingest(
        self,
        feed_id: str,
        stories: Sequence[Story],
        matched: dict[str, Match],
        feed_update: FeedUpdate,
        now: datetime,
        *,
        alert: bool,
        groups: Mapping[str, str] | None = None,
        corrections: Mapping[str, Match] | None = None,
        listed: Sequence[str] = (),
        follows: Mapping[str, Mapping[int, Sequence[Evidence]]] | None = None,
    ) -> IngestResult: ...


class ChatLifecycleStore(Protocol):
    """Chats that went away or moved: shared by the outbox and the command handlers."""

    async def pause_chat(self, platform: str, chat_id: str, reason: str, now: datetime) -> int: ...

    async def migrate_chat(
        self, platform: str, old_chat_id: str, new_chat_id: str, now: datetime
    ) -> ChatMigration: ...


class LeaseStore(Protocol):
    """Roles one instance holds at a time (the sender of a platform token)."""

    async def acquire_lease(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool: ...

    async def release_lease(self, name: str, owner: str) -> None: ...


class DeliveryStore(ChatLifecycleStore, LeaseStore, Protocol):
    """What the outbox worker uses: due heads in, send outcomes out."""

    async def next_deliveries(
        self,
        platforms: Sequence[str],
        now: datetime,
        limit: int = 500,
        *,
        owner: str | None = None,
        claim: timedelta = ...,  # how long the rows returned stay ours
    ) -> list[Delivery]: ...

    async def next_delivery_at(self, platforms: Sequence[str]) -> datetime | None: ...

    async def mark_sent(self, outbox_id: int, message_id: str | None, now: datetime) -> None: ...

    async def mark_retry(
        self, outbox_id: int, error: str, next_attempt_at: datetime, *, count_attempt: bool = True
    ) -> None: ...

    async def mark_failed(self, outbox_id: int, error: str) -> None: ...

    async def mark_cancelled(self, outbox_id: int, reason: str) -> None: ...

    async def hold_for_digest(self, outbox_id: int, until: datetime) -> None: ...

    async def digest_deliveries(self, subscription_id: int, now: datetime) -> list[Delivery]: ...

    async def mark_digest_sent(self, sent: Sequence[int], now: datetime) -> None: ...

    async def pause_subscription(
        self, subscription_id: int, reason: str, now: datetime
    ) -> None: ...


class FollowStore(Protocol):
    """A chat's own words (/follow) and silenced labels (/mute), issue 13."""

    async def follows(
        self, platform: str, chat_id: str, thread_id: str = ""
    ) -> list[FollowedTerm]: ...

    async def add_follows(
        self,
        platform: str,
        chat_id: str,
        terms: Sequence[FollowedTerm],
        now: datetime,
        *,
        thread_id: str = "",
        guild_id: str | None = None,
    ) -> None: ...

    async def remove_follows(
        self, platform: str, chat_id: str, keys: Sequence[str], now: datetime, thread_id: str = ""
    ) -> list[FollowedTerm]: ...

    async def clear_follows(
        self, platform: str, chat_id: str, now: datetime, thread_id: str = ""
    ) -> int: ...

    async def mutes(
        self, platform: str, chat_id: str, now: datetime, thread_id: str = ""
    ) -> list[Mute]: ...

    async def set_mutes(
        self,
        platform: str,
        chat_id: str,
        labels: Sequence[str],
        until: datetime | None,
        now: datetime,
        thread_id: str = "",
    ) -> bool: ...

    async def remove_mutes(
        self, platform: str, chat_id: str, labels: Sequence[str], now: datetime, thread_id: str = ""
    ) -> list[str]: ...


class FollowIndexStore(Protocol):
    """What the follow matcher reads to build its automaton (feeds/follows.py)."""

    async def follow_generation(self) -> int: ...

    async def all_follows(self) -> list[tuple[int, str]]: ...


class SubscriptionStore(ChatLifecycleStore, FollowStore, Protocol):
    """What the command decisions use: a chat's subscription, settings and latest alerts."""

    async def subscription(
        self, platform: str, chat_id: str, thread_id: str = ""
    ) -> Subscription | None: ...

    async def subscriptions(
        self, platform: str | None = None, chat_id: str | None = None
    ) -> list[Subscription]: ...

    async def save_subscription(
        self,
        platform: str,
        chat_id: str,
        labels: Sequence[str],
        now: datetime,
        *,
        thread_id: str = "",
        guild_id: str | None = None,
    ) -> Subscription: ...

    async def chat_lang(self, platform: str, chat_id: str) -> str | None: ...

    async def set_chat_lang(self, platform: str, chat_id: str, lang: str) -> None: ...

    async def chat_rhythm(self, platform: str, chat_id: str) -> ChatRhythm: ...

    async def set_chat_rhythm(
        self,
        platform: str,
        chat_id: str,
        rhythm: ChatRhythm,
        now: datetime,
        *,
        release_at: datetime,
    ) -> int: ...

    async def latest_alerts(self, labels: Sequence[str], limit: int = 5) -> list[StoredAlert]: ...


class MetaStore(Protocol):
    """Small key-value state a platform keeps (the Discord command sync digests)."""

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...

    async def meta_keys(self, prefix: str) -> list[str]: ...

    async def delete_meta(self, key: str) -> None: ...


class HealthStore(Protocol):
    """What /healthz and /metrics read."""

    async def ping(self) -> bool: ...

    async def outbox_counts(self) -> dict[tuple[str, str], int]: ...
