"""Schema 7 (issue 13): when a chat hears its alerts, and which alerts wait for a digest.

- chat_rhythms: one row per chat that chose a digest mode (/digest), a time zone (/tz) or
  quiet hours (/quiet); a chat without a row hears every alert at once in the config's zone;
- outbox.digest_at: set when an alert waits for a digest (the chat's digest time, or the end
  of its quiet hours); the alert is then sent with the others of that subscription in one
  digest message. NULL: not decided yet, or an alert sent on its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_rhythms",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(32)),  # "hourly", "daily 07:30", "weekly mon 08:00"
        sa.Column("tz", sa.String(64)),  # an IANA zone name
        sa.Column("quiet", sa.String(16)),  # "23:00-07:00"
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("digest_at", sa.DateTime))


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
