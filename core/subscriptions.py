"""Platform-neutral subscription commands: what /subscribe, /unsubscribe, /list, /topics,
/latest and /lang do, whatever platform they came from.

Platform handlers parse their input into these calls and render the results with
`core.texts`; they never touch the store directly. Permission checks (admins, Manage
Channels) happen in the platform handlers, which know who is asking.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.rhythm import Timing, hold_until, read_timing
from core.pause import PauseReason
from models import LabelInfo
from store import ChatRhythm, FollowedTerm, Mute, StoredAlert, Subscription, SubscriptionStore

LANGS = ("ar", "en", "fr")  # the languages of replies and alerts (/lang, config `language`)


def visible(text: str) -> str:
    """`text` without invisible format and control characters (zero-width space, joiners,
    direction marks and isolates, BOM): what a user meant to type."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc"))


def resolve_labels(
    labels: Sequence[LabelInfo], words: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Split user words into known label ids (in config order) and unknown words.

    Accepts ids in any case and the Arabic, English or French names that /topics shows,
    also when a name has several words (`/subscribe Donald Trump`, or `Donald Trump` as
    one Discord option): the longest run of words that names a label wins. Invisible
    format characters (zero-width space, direction marks) are dropped first, so a pasted
    `tr\u200bump` is `trump`."""
    names: dict[str, str] = {}
    longest = 1
    for info in labels:
        for key in filter(None, (info.id, info.name_ar, info.name_en, info.name_fr)):
            parts = key.casefold().split()
            longest = max(longest, len(parts))
            names[" ".join(parts)] = info.id
            names["_".join(parts)] = info.id
    tokens = [
        token
        for raw in words
        for token in (
            piece.strip(",،").lstrip("#")
            for piece in visible(raw).replace(",", " ").replace("،", " ").split()
        )
        if token
    ]
    known: set[str] = set()
    unknown: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            found = names.get(" ".join(tokens[i : i + size]).casefold())
            if found:
                known.add(found)
                i += size
                break
        else:
            if tokens[i] not in unknown:
                unknown.append(tokens[i])
            i += 1
    return [info.id for info in labels if info.id in known], unknown


@dataclass(frozen=True)
class Chat:
    """Where a command came from and where its alerts go."""

    platform: str  # "telegram" | "discord"
    chat_id: str
    thread_id: str = ""  # Telegram forum topic
    guild_id: str | None = None


@dataclass(frozen=True)
class ChangeResult:
    subscription: Subscription | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # ids the user typed that are not watchlist ids

    @property
    def ok(self) -> bool:
        return not self.unknown


class Subscriptions:
    """Subscription logic shared by Telegram and Discord."""

    def __init__(
        self,
        store: SubscriptionStore,
        labels: Sequence[LabelInfo],
        clock: Callable[[], datetime],
        *,
        zone: ZoneInfo | None = None,
    ) -> None:
        self._store = store
        self.labels: tuple[LabelInfo, ...] = tuple(labels)
        self.by_id = {info.id: info for info in self.labels}
        self._clock = clock
        # the config's timezone: digest times and quiet hours of a chat without /tz
        self.zone = zone or ZoneInfo("UTC")

    @property
    def default_ids(self) -> tuple[str, ...]:
        return tuple(info.id for info in self.labels if info.default)

    def resolve(self, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """Split user words into known label ids (in config order) and unknown words
        (`resolve_labels`)."""
        return resolve_labels(self.labels, words)

    async def current(self, chat: Chat) -> Subscription | None:
        return await self._store.subscription(chat.platform, chat.chat_id, chat.thread_id)

    def _active_labels(self, sub: Subscription | None) -> list[str]:
        if sub is None or not sub.active:
            return []
        return [i for i in sub.labels if i in self.by_id]

    async def subscribe(self, chat: Chat, words: Sequence[str] = ()) -> ChangeResult:
        """Add labels (the defaults when `words` is empty). Unknown words change nothing."""
        ids, unknown = self.resolve(words) if words else (list(self.default_ids), [])
        if unknown or not ids:
            return ChangeResult(await self.current(chat), unknown=tuple(unknown) or tuple(words))
        before = self._active_labels(await self.current(chat))
        wanted = [i for i in self.by_id if i in set(before) | set(ids)]
        sub = await self._store.save_subscription(
            chat.platform,
            chat.chat_id,
            wanted,
            self._clock(),
            thread_id=chat.thread_id,
            guild_id=chat.guild_id,
        )
        return ChangeResult(sub, added=tuple(i for i in ids if i not in before))

    async def unsubscribe(self, chat: Chat, words: Sequence[str] = ()) -> ChangeResult:
        """Remove some labels, or all of them when `words` is empty."""
        ids, unknown = self.resolve(words) if words else (list(self.by_id), [])
        if unknown:
            return ChangeResult(await self.current(chat), unknown=tuple(unknown))
        if not words:  # everything: the chat's own /follow words too (issue 13)
            await self._store.clear_follows(
                chat.platform, chat.chat_id, self._clock(), chat.thread_id
            )
        before = self._active_labels(await self.current(chat))
        wanted = [i for i in before if i not in ids]
        if not before:
            return ChangeResult(await self.current(chat))
        sub = await self._store.save_subscription(
            chat.platform,
            chat.chat_id,
            wanted,
            self._clock(),
            thread_id=chat.thread_id,
            guild_id=chat.guild_id,
        )
        return ChangeResult(sub, removed=tuple(i for i in before if i in ids))

    async def toggle(self, chat: Chat, label_id: str) -> ChangeResult:
        """Flip one label (inline buttons)."""
        if label_id not in self.by_id:
            return ChangeResult(await self.current(chat), unknown=(label_id,))
        before = self._active_labels(await self.current(chat))
        if label_id in before:
            return await self.unsubscribe(chat, [label_id])
        return await self.subscribe(chat, [label_id])

    async def latest(self, chat: Chat, limit: int = 5) -> list[StoredAlert]:
        """The last matching stories for this chat's labels (or all labels if none)."""
        labels = self._active_labels(await self.current(chat)) or list(self.by_id)
        return await self._store.latest_alerts(labels, limit)

    # -- issue 13: the chat's own words and silenced labels ------------------------------

    async def follows(self, chat: Chat) -> list[FollowedTerm]:
        return await self._store.follows(chat.platform, chat.chat_id, chat.thread_id)

    async def follow(self, chat: Chat, terms: Sequence[FollowedTerm]) -> None:
        await self._store.add_follows(
            chat.platform,
            chat.chat_id,
            terms,
            self._clock(),
            thread_id=chat.thread_id,
            guild_id=chat.guild_id,
        )

    async def unfollow(self, chat: Chat, keys: Sequence[str]) -> list[FollowedTerm]:
        return await self._store.remove_follows(
            chat.platform, chat.chat_id, keys, self._clock(), chat.thread_id
        )

    async def mutes(self, chat: Chat) -> list[Mute]:
        """The labels this chat has silenced, not yet over."""
        return await self._store.mutes(chat.platform, chat.chat_id, self._clock(), chat.thread_id)

    def now(self) -> datetime:
        return self._clock()

    async def mute(self, chat: Chat, labels: Sequence[str], until: datetime | None) -> bool:
        return await self._store.set_mutes(
            chat.platform, chat.chat_id, labels, until, self._clock(), chat.thread_id
        )

    async def unmute(self, chat: Chat, labels: Sequence[str]) -> list[str]:
        return await self._store.remove_mutes(
            chat.platform, chat.chat_id, labels, self._clock(), chat.thread_id
        )

    # -- issue 13: when the chat hears its alerts ------------------------------------------

    async def rhythm(self, chat: Chat) -> ChatRhythm:
        return await self._store.chat_rhythm(chat.platform, chat.chat_id)

    def timing(self, rhythm: ChatRhythm) -> Timing:
        return read_timing(rhythm.digest, rhythm.tz, rhythm.quiet, self.zone)

    async def set_rhythm(self, chat: Chat, rhythm: ChatRhythm) -> datetime | None:
        """Store the chat's rhythm; the alerts already waiting for its digest move to when the
        new rhythm would send them (now, when it no longer holds them: they go out together).
        Returns when an alert arriving now would go out (None: at once)."""
        now = self._clock()
        hold = hold_until(self.timing(rhythm), now)
        await self._store.set_chat_rhythm(
            chat.platform, chat.chat_id, rhythm, now, release_at=hold or now
        )
        return hold

    async def lang(self, chat: Chat) -> str | None:
        return await self._store.chat_lang(chat.platform, chat.chat_id)

    async def set_lang(self, chat: Chat, lang: str) -> bool:
        if lang not in LANGS:
            return False
        await self._store.set_chat_lang(chat.platform, chat.chat_id, lang)
        return True

    async def pause(self, chat: Chat, reason: PauseReason) -> int:
        """The bot lost the chat (removed, blocked): pause every subscription there."""
        return await self._store.pause_chat(
            chat.platform, chat.chat_id, reason.stored(), self._clock()
        )

    async def migrate(self, platform: str, old_chat_id: str, new_chat_id: str) -> None:
        """A Telegram group became a supergroup: its subscriptions follow the new id."""
        await self._store.migrate_chat(platform, old_chat_id, new_chat_id, self._clock())
