"""What a platform is to the rest of Mirsad, and the narrow context it is built from.

A platform package (Telegram, Discord, the terminal) implements `Platform`: a `Sender` for the
outbox plus `start`/`stop` for its own lifecycle. It is built by a factory that takes a
`PlatformContext`: the core services it uses, the clock and its own config section, never
the whole bag of parts (a platform never imports `runtime/`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Generic, Protocol, TextIO, TypeVar, runtime_checkable

from alerts.outbox import Sender
from core.stats import Stats
from core.subscriptions import Subscriptions
from models import LabelInfo
from store import MetaStore, SubscriptionStore

SectionT = TypeVar("SectionT")


class Platform(Protocol):
    """A chat platform run inside the process."""

    name: str
    sender: Sender[Any]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class PlatformStore(SubscriptionStore, MetaStore, Protocol):
    """What of the store a platform may use: chats' subscriptions and settings, and small
    keyed values of its own (Discord keeps its command-sync hash there). Never the outbox."""


@runtime_checkable
class Preparable(Protocol):
    """A platform with setup that must run before the first delivery, even when the platform
    is never started (`bot.py once`)."""

    async def prepare(self) -> None: ...


@dataclass(frozen=True)
class PlatformContext(Generic[SectionT]):
    """Everything a platform factory may use."""

    config: SectionT  # the platform's own config section (its model in the registry)
    token: str | None  # its secret from the environment, if it has one
    store: PlatformStore
    subscriptions: Subscriptions
    sources: Mapping[str, str]  # feed id -> name shown in alerts
    tz: tzinfo
    clock: Callable[[], datetime]
    stream: TextIO  # the terminal, for the console platform
    stats: Stats | None = None  # /stats: the chart decision (core/stats.py)
    language: str = "ar"  # config `language`: the terminal's (a chat has its own, /lang)

    @property
    def labels(self) -> dict[str, LabelInfo]:
        return {info.id: info for info in self.subscriptions.labels}


PlatformFactory = Callable[[PlatformContext[Any]], Platform]
