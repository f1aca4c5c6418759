"""Schema 4 (issue 14): same-event grouping and corrections.

- stories.event_id: the story whose alert carries this story's event (NULL: its own); a
  grouped story is not sent again, its source is added to that alert;
- stories.revised_at: when its feed last changed its title or summary (alerts say "updated");
- outbox.revision: 0 for the alert itself, 1, 2... for edits of the message it became; the
  outbox stays unique on (subscription, story, revision), so an alert is still never queued
  twice, and an edit is a row with the same guarantees.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("event_id", sa.Text))
        batch.add_column(sa.Column("revised_at", sa.DateTime))
    op.create_index("ix_stories_event", "stories", ["event_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("0"))
        )
        batch.drop_constraint("uq_outbox_subscription_story", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_subscription_story_revision", ["subscription_id", "story_id", "revision"]
        )


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
