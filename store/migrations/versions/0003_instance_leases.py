"""Schema 3: leases for several instances on one database (issue 16): feed poll claims,
outbox send claims, and named role leases (one sender per platform token).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("lease_owner", sa.String(64)))
    op.add_column("feeds", sa.Column("lease_until", sa.DateTime))
    op.add_column("outbox", sa.Column("claimed_by", sa.String(64)))
    op.add_column("outbox", sa.Column("claim_until", sa.DateTime))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("until", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("Mirsad migrates forward only: restore a backup to go back")
