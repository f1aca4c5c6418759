"""Persistence: the only package that talks to the database.

`Store.open(url)` gives every repository on one migrated database; consumers are typed with
the narrow Protocols in `store.protocols`.
"""

from .protocols import (
    ChatLifecycleStore,
    DeliveryStore,
    HealthStore,
    LeaseStore,
    MetaStore,
    PollStore,
    SubscriptionStore,
)
from .records import (
    ChatMigration,
    Delivery,
    FeedState,
    FeedUpdate,
    IngestResult,
    StoredAlert,
    Subscription,
)
from .store import Store

__all__ = [
    "ChatLifecycleStore",
    "ChatMigration",
    "Delivery",
    "DeliveryStore",
    "FeedState",
    "FeedUpdate",
    "HealthStore",
    "IngestResult",
    "LeaseStore",
    "MetaStore",
    "PollStore",
    "Store",
    "StoredAlert",
    "Subscription",
    "SubscriptionStore",
]
