"""Command decisions, once for every platform (STYLE.md habit 17: decide once, render many).

Each function takes what the user asked and answers a `Reply`: which text (a key of
`core.texts`), with which fields, shown to everyone in the chat or only to the asker. A
platform only checks who is asking (admins, Manage Channels), calls one of these, and
renders the Reply (`core.texts.render`) in its own way (a Telegram message, a Discord
ephemeral or public answer). The rules that used to be coded once per platform, and drifted:

- subscribed means active with at least one label this bot still knows (an empty label set,
  or only labels since removed from the config, is "not subscribed");
- `/subscribe` with no words after the platform paused the chat (bot blocked, permission
  lost...) restores the labels it followed, not the defaults;
- a pause reason is shown from its code, translated, never as the platform's raw words;
- `/topics` marks what the chat follows; `/latest` shows at most `LATEST` stories of the
  chat's labels (every label when it follows none), both only to the asker.

A platform may word a text its own way (`help@discord` in `core.texts`: slash-command options
instead of typed words); the decision, and so the key, stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core import pause
from core.subscriptions import LANGS, Chat, Subscriptions
from store import StoredAlert, Subscription

# Every command, in the order menus and the usage line show them.
COMMANDS = (
    "start",
    "help",
    "subscribe",
    "unsubscribe",
    "list",
    "topics",
    "latest",
    "lang",
    "stats",
)
LATEST = 5  # stories shown by /latest
KINDS = ("figure", "topic")


@dataclass(frozen=True)
class Labels:
    """A field holding label ids, shown as their names in the reader's language."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class Words:
    """A field holding words the user typed, echoed back safely (cut, quoted)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Reason:
    """A field holding a stored pause reason, shown as its translated code."""

    stored: str | None


@dataclass(frozen=True)
class LangName:
    """A field holding a language code, shown as the language's name."""

    code: str


@dataclass(frozen=True)
class Catalogue:
    """A field listing every label of one kind ("figure", "topic") with its id and name, the
    ones in `followed` marked."""

    kind: str
    followed: tuple[str, ...] = ()


Field = Labels | Words | Reason | LangName | Catalogue | str


@dataclass(frozen=True)
class Reply:
    key: str  # a text of core.texts
    public: bool = False  # everyone in the chat sees it (Discord: not ephemeral)
    fields: dict[str, Field] = field(default_factory=dict)
    lang: str | None = None  # answer in this language instead of the asker's (/lang)
    changed: bool = False  # the subscription or setting changed (for logs and buttons)
    # What the chat receives after the command, for a platform that shows the labels as
    # toggles (Telegram's buttons); None when the command does not say.
    followed: tuple[str, ...] | None = None
    choose: bool = False  # offer the labels to pick from (/subscribe with no words)
    stories: tuple[StoredAlert, ...] = ()  # /latest: shown under the text, newest first


def followed(sub: Subscription | None, subs: Subscriptions) -> tuple[str, ...]:
    """The labels a subscription receives now: active, and known to this bot's config."""
    if sub is None or not sub.active:
        return ()
    return tuple(i for i in sub.labels if i in subs.by_id)


def paused_by_platform(sub: Subscription | None, subs: Subscriptions) -> bool:
    """Paused because the platform refused us (not by /unsubscribe), with labels to restore."""
    if sub is None or sub.active:
        return False
    reason = pause.parse(sub.paused_reason)
    known = [i for i in sub.labels if i in subs.by_id]
    return reason is not None and reason.code in pause.PLATFORM_PAUSES and bool(known)


def _unknown(words: Sequence[str], subs: Subscriptions) -> Reply:
    return Reply(
        "unknown_ids", fields={"words": Words(tuple(words)), "valid": ", ".join(subs.by_id)}
    )


def start() -> Reply:
    """/start: the welcome, with how to begin."""
    return Reply("welcome")


def show_help() -> Reply:
    """/help: every command."""
    return Reply("help")


def unknown_command() -> Reply:
    """A command this bot does not have: the valid ones."""
    return Reply("unknown_command", fields={"commands": " ".join("/" + c for c in COMMANDS)})


async def subscribe(
    subs: Subscriptions, chat: Chat, words: Sequence[str], *, remember_lang: str | None = None
) -> Reply:
    """/subscribe [labels]: add them (none: the defaults, or what a paused chat followed).
    `remember_lang`: the asker's language, kept as the chat's own when it has none yet (a
    private chat's alerts then come in its user's language)."""
    before = await subs.current(chat)
    choose = not words
    if not words and paused_by_platform(before, subs):
        assert before is not None
        words = [i for i in before.labels if i in subs.by_id]  # "/subscribe to resume"
    result = await subs.subscribe(chat, words)
    if result.unknown:
        return _unknown(result.unknown, subs)
    if remember_lang is not None and await subs.lang(chat) is None:
        await subs.set_lang(chat, remember_lang)
    now = followed(result.subscription, subs)
    if not result.added and followed(before, subs):
        return Reply(
            "already_subscribed", fields={"labels": Labels(now)}, followed=now, choose=choose
        )
    return Reply(
        "subscribed",
        public=True,
        fields={"labels": Labels(now)},
        changed=True,
        followed=now,
        choose=choose,
    )


async def toggle(subs: Subscriptions, chat: Chat, label: str) -> Reply:
    """A label's toggle (Telegram's buttons under /subscribe): follow it, or stop."""
    result = await subs.toggle(chat, label)
    if not result.ok:
        return Reply("button_expired")  # a label since removed from the config
    now = followed(result.subscription, subs)
    key = "toggled_on" if label in now else "toggled_off"
    return Reply(key, fields={"label": Labels((label,))}, changed=True, followed=now)


async def unsubscribe(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/unsubscribe [labels]: remove them (none: everything)."""
    following = followed(await subs.current(chat), subs)
    result = await subs.unsubscribe(chat, words)
    if result.unknown:
        return _unknown(result.unknown, subs)
    if not following:
        return Reply("not_subscribed")
    if not result.removed:
        asked = tuple(subs.resolve(words)[0])
        return Reply(
            "not_following", fields={"labels": Labels(asked), "remaining": Labels(following)}
        )
    remaining = followed(result.subscription, subs)
    if not remaining:
        return Reply("unsubscribed_all", public=True, changed=True)
    return Reply(
        "unsubscribed",
        public=True,
        fields={"labels": Labels(result.removed), "remaining": Labels(remaining)},
        changed=True,
    )


async def show_list(subs: Subscriptions, chat: Chat) -> Reply:
    """/list: what this chat receives, or why it is paused."""
    sub = await subs.current(chat)
    now = followed(sub, subs)
    if now:
        return Reply("list", fields={"labels": Labels(now)})
    if paused_by_platform(sub, subs):
        assert sub is not None
        return Reply("list_paused", fields={"reason": Reason(sub.paused_reason)})
    return Reply("not_subscribed")


async def topics(subs: Subscriptions, chat: Chat | None) -> Reply:
    """/topics: every figure and topic, the ones this chat follows marked (`chat` None:
    asked where nothing can be followed, such as a Discord DM)."""
    now = followed(await subs.current(chat), subs) if chat is not None else ()
    first = {kind: next((i.id for i in subs.labels if i.kind == kind), "…") for kind in KINDS}
    return Reply(
        "topics",
        fields={
            "figures": Catalogue("figure", now),
            "topics": Catalogue("topic", now),
            "figure": first["figure"],
            "topic": first["topic"],
        },
        followed=now,
    )


async def latest(subs: Subscriptions, chat: Chat) -> Reply:
    """/latest: the last matching stories of the chat's labels (of every label if none)."""
    found = tuple(await subs.latest(chat, LATEST))
    if not found:
        return Reply("latest_empty")
    return Reply("latest", stories=found)


async def set_lang(subs: Subscriptions, chat: Chat, wanted: str | None, current: str) -> Reply:
    """/lang [code]: set the chat's language, or say which it is and how to change it.
    A value outside the known languages (typed, or sent by a crafted Discord client) is
    named back with the valid ones; nothing changes."""
    if wanted is None:
        return Reply("lang_usage", fields={"current": LangName(current)})
    if not await subs.set_lang(chat, wanted):
        return Reply("lang_unknown", fields={"words": Words((wanted,)), "valid": ", ".join(LANGS)})
    return Reply("lang_set", public=True, lang=wanted, changed=True)
