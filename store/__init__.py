"""Persistence: the only package that talks to the database."""

from .store import (
    ChatMigration,
    Delivery,
    FeedState,
    FeedUpdate,
    IngestResult,
    Store,
    StoredAlert,
    Subscription,
)

__all__ = [
    "ChatMigration",
    "Delivery",
    "FeedState",
    "FeedUpdate",
    "IngestResult",
    "Store",
    "StoredAlert",
    "Subscription",
]
