"""Schema 1: feeds, stories, matches, subscriptions, outbox, chat settings, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

The schema the first release created with `metadata.create_all`; a database of that era has
no `alembic_version` table and is stamped at this revision (store.migrate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "feeds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("interval", sa.Integer, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("next_poll_at", sa.DateTime, nullable=False),
        sa.Column("last_polled_at", sa.DateTime),
        sa.Column("last_success_at", sa.DateTime),
        sa.Column("last_new_at", sa.DateTime),
        sa.Column("initialized", sa.Boolean, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "stories",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("feed_id", sa.String(64), sa.ForeignKey("feeds.id"), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("published", sa.DateTime, nullable=False),
        sa.Column("image", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_stories_seen_at", "stories", ["seen_at"])
    op.create_table(
        "matches",
        sa.Column(
            "story_id",
            sa.Text,
            sa.ForeignKey("stories.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("matched_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_matches_matched_at", "matches", ["matched_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("guild_id", sa.String(64)),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "thread_id", name="uq_subscription_chat"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "story_id", sa.Text, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("published", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.UniqueConstraint("subscription_id", "story_id", name="uq_outbox_subscription_story"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["status", "subscription_id", "published"])
    op.create_table(
        "chat_settings",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(64), primary_key=True),
        sa.Column("lang", sa.String(8), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
