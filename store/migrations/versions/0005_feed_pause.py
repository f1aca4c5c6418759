"""Schema 5: a feed paused by the operator is a flag of its own (issue 15), and stories are
indexed by (feed, publication time) for the dashboard's feeds page.

Before, pausing parked the feed's next poll in the year 9999, which a poll already in
flight overwrote with its own next poll time, so the feed resumed by itself. Feeds parked
that way are marked paused here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PARKED = datetime(9999, 1, 1)  # the old pause: next poll parked here (naive UTC, as stored)


def upgrade() -> None:
    op.add_column(
        "feeds", sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false())
    )
    feeds = sa.table(
        "feeds", sa.column("paused", sa.Boolean), sa.column("next_poll_at", sa.DateTime)
    )
    op.execute(feeds.update().where(feeds.c.next_poll_at >= PARKED).values(paused=True))
    op.create_index("ix_stories_feed_published", "stories", ["feed_id", "published"])


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
