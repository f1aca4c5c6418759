"""The database schema (SQLAlchemy Core). See ARCHITECTURE.md "Core records"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite has no time zones) and hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("language", String(16)),
    Column("interval", Integer, nullable=False),  # configured seconds between polls
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_new_at", UTCDateTime),  # last time a poll found a new story (adaptive polling)
    # last time the feed served its item list (a 200, not a 304): stories it did not list then
    # have left the feed and may be pruned after the retention
    Column("last_listed_at", UTCDateTime),
    Column("initialized", Boolean, nullable=False, default=False),  # first good poll done
    Column("error_count", Integer, nullable=False, default=0),  # consecutive failures
    Column("last_error", Text),
    Column("enabled", Boolean, nullable=False, default=True),
    # paused by the operator (dashboard): never due, whatever a poll in flight writes
    Column("paused", Boolean, nullable=False, default=False, server_default=false()),
    # Several instances on one database: the instance polling the feed now, and until when its
    # claim holds (a crashed instance's claim runs out and another polls the feed).
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    # issue 19: what the feed's last 200 held, packed (feeds/incremental.py ItemMemory.pack:
    # the body digest, a digest and story id per item; ~1-2 KB), so that a new process
    # (`bot.py once`) parses only the new items too. NULL: not known, parse the body whole.
    Column("item_memory", LargeBinary),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Text, primary_key=True),
    Column("feed_id", String(64), ForeignKey("feeds.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("image", Text),
    Column("language", String(16)),
    Column("seen_at", UTCDateTime, nullable=False),  # last time its feed listed it (for pruning)
    # issue 14: the story whose alert carries this one's event (NULL: its own), and when the
    # feed last corrected its title or summary
    Column("event_id", Text),
    Column("revised_at", UTCDateTime),
    Index("ix_stories_seen_at", "seen_at"),
    Index("ix_stories_event", "event_id"),
    Index("ix_stories_feed_title", "feed_id", "title"),  # a story that came back under a new link
    Index("ix_stories_feed_published", "feed_id", "published"),  # the dashboard's feeds page
)

matches = Table(
    "matches",
    metadata,
    Column("story_id", Text, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("labels", JSON, nullable=False),  # ["trump", "ai"]
    Column(
        "evidence", JSON, nullable=False
    ),  # [{"label", "term", "text", "field", "start", "end"}]
    Column("matched_at", UTCDateTime, nullable=False),
    Index("ix_matches_matched_at", "matched_at"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),  # "telegram" | "discord" | "console"
    Column("chat_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False, default=""),  # Telegram forum topic; "" = none
    Column("guild_id", String(64)),
    Column("labels", JSON, nullable=False),  # chosen figure and topic ids
    Column("active", Boolean, nullable=False, default=True),
    Column("paused_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "chat_id", "thread_id", name="uq_subscription_chat"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("story_id", Text, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("published", UTCDateTime, nullable=False),  # copy of the story's, for ordering
    Column(
        "status", String(16), nullable=False, default="pending"
    ),  # pending|sent|failed|cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("message_id", String(64)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # the instance sending this row now, and until when its claim holds (several instances)
    Column("claimed_by", String(64)),
    Column("claim_until", UTCDateTime),
    # 0: the alert itself; 1, 2...: edits of the message it became (issue 14)
    # server default as revision 0004 writes it (a number, not the string '0'): a new database
    # is made from this file (store.migrate.create_at_head)
    Column("revision", Integer, nullable=False, default=0, server_default=text("0")),
    # issue 13: the chat's own /follow words this story matched, as evidence dicts (NULL: none);
    # the alert shows them as #follow next to the watchlist labels
    Column("follows", JSON),
    # issue 13: the time this alert waits for, to go out in one digest with the others of its
    # subscription (the chat's digest time or the end of its quiet hours); NULL: sent alone
    Column("digest_at", UTCDateTime),
    UniqueConstraint(
        "subscription_id", "story_id", "revision", name="uq_outbox_subscription_story_revision"
    ),
    Index("ix_outbox_pending", "status", "subscription_id", "published"),
)

chat_settings = Table(
    # Per-chat preferences that outlive a subscription (reply language chosen with /lang).
    "chat_settings",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(64), primary_key=True),
    Column("lang", String(8), nullable=False),
)

leases = Table(
    # Named roles one instance holds at a time, e.g. "sender:telegram" (the instance sending
    # on that token, so N instances share one global rate budget). Taken over once expired.
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)

follows = Table(
    # issue 13: a chat's own words and phrases (/follow), per subscription (a forum topic has
    # its own). `key` is the matching form (core.follows.term_key), `text` as the user wrote it.
    "follows",
    metadata,
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(240), primary_key=True),
    Column("text", String(240), nullable=False),
    Column("position", Integer, nullable=False),  # the order the chat added them in
    Column("created_at", UTCDateTime, nullable=False),
)

mutes = Table(
    # issue 13: a label silenced for one subscription (/mute), until a time or (NULL) /unmute
    "mutes",
    metadata,
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("label", String(64), primary_key=True),
    Column("until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

chat_rhythms = Table(
    # issue 13: when a chat hears its alerts. No row: each alert at once, in the config's zone.
    "chat_rhythms",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(64), primary_key=True),
    Column("digest", String(32)),  # alerts.rhythm.Rhythm.describe(): "daily 07:30"; NULL: off
    Column("tz", String(64)),  # IANA zone name; NULL: the config's timezone
    Column("quiet", String(16)),  # "23:00-07:00"; NULL: none
    Column("updated_at", UTCDateTime, nullable=False),
)
