"""Alembic environment: run by store.migrate on the connection it hands over (never on its own
URL), so SQLite and PostgreSQL run the same revisions inside the caller's transaction and lock."""

from __future__ import annotations

from alembic import context

from store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
