"""Persistence: the only package that talks to the database."""

from .store import Delivery, FeedState, FeedUpdate, IngestResult, Store, StoredAlert, Subscription

__all__ = [
    "Delivery",
    "FeedState",
    "FeedUpdate",
    "IngestResult",
    "Store",
    "StoredAlert",
    "Subscription",
]
