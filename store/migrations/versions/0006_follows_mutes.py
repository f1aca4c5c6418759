"""Schema 6 (issue 13): a chat's own /follow words and its /mute of a label.

- follows: one row per (subscription, matching form of a word or phrase), with the words as
  the user wrote them; the matcher builds one automaton from all of them;
- mutes: one row per (subscription, label) silenced until a time, or until /unmute (NULL);
- outbox.follows: the follow words an alert's story matched for that subscription (evidence
  dicts), shown as #follow in the alert.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(240), primary_key=True),
        sa.Column("text", sa.String(240), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),  # the order the chat added them in
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "mutes",
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("label", sa.String(64), primary_key=True),
        sa.Column("until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("follows", sa.JSON))


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
