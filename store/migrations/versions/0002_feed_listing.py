"""Schema 2: feeds.last_listed_at (pruning waits until a feed stops listing a story) and
ix_stories_feed_title (a story that comes back under a new link).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("last_listed_at", sa.DateTime))
    # the closest known time the feed served its list; pruning waits a bit longer
    op.execute("UPDATE feeds SET last_listed_at = last_new_at")
    op.create_index("ix_stories_feed_title", "stories", ["feed_id", "title"])


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
