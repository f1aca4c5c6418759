"""Schema 8 (issue 19): each feed's item memory survives the process.

- feeds.item_memory: what the feed's last 200 answer held, packed by feeds/incremental.py
  (ItemMemory.pack: the body digest, one digest and story id per item, ~1-2 KB), written in
  the transaction that stores the poll. A new process (`bot.py once`, one per cron cycle)
  then parses only a changed feed's new items, as the long-running bot does. NULL (every
  feed after this migration, until its next 200): the next changed body is parsed whole.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("item_memory", sa.LargeBinary))


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
