"""Persistence: the only package that talks to the database.

`Store.open(url)` gives every repository on one migrated database; consumers are typed with
the narrow Protocols in `store.protocols`.
"""

from .protocols import (
    ChatLifecycleStore,
    DeliveryStore,
    FollowIndexStore,
    FollowStore,
    HealthStore,
    LeaseStore,
    MetaStore,
    PollStore,
    SubscriptionStore,
)
from .records import (
    ChatMigration,
    ChatRhythm,
    Delivery,
    FeedState,
    FeedUpdate,
    FollowedTerm,
    GroupedStory,
    IngestResult,
    Mute,
    PollLookups,
    StoredAlert,
    Subscription,
)
from .store import Store

__all__ = [
    "ChatLifecycleStore",
    "ChatMigration",
    "ChatRhythm",
    "Delivery",
    "DeliveryStore",
    "FeedState",
    "FeedUpdate",
    "FollowIndexStore",
    "FollowStore",
    "FollowedTerm",
    "GroupedStory",
    "HealthStore",
    "IngestResult",
    "LeaseStore",
    "MetaStore",
    "Mute",
    "PollLookups",
    "PollStore",
    "Store",
    "StoredAlert",
    "Subscription",
    "SubscriptionStore",
]
