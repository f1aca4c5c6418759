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
- issue 13: a chat's own words (/follow) count as a subscription too: a chat that follows
  words but no label is subscribed, `/unsubscribe` with nothing after it forgets the words as
  well; `/mute` silences a label the chat receives without unsubscribing it.
- `/topics` marks what the chat follows; `/latest` shows at most `LATEST` stories of the
  chat's labels (every label when it follows none), both only to the asker.

A platform may word a text its own way (`help@discord` in `core.texts`: slash-command options
instead of typed words); the decision, and so the key, stays the same.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from alerts.rhythm import RhythmError, Timing, parse_quiet, parse_rhythm
from core import pause
from core.follows import MAX_FOLLOWS, Term, check_terms, read_terms, term_key
from core.subscriptions import LANGS, Chat, Subscriptions, visible
from store import ChatRhythm, FollowedTerm, StoredAlert, Subscription

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
    "follow",
    "unfollow",
    "mute",
    "unmute",
    "digest",
    "tz",
    "quiet",
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
class Terms:
    """A field holding the words a chat follows (/follow), each shown whole, in quotes."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class When:
    """A field holding a time (UTC), e.g. the end of a mute."""

    at: datetime


@dataclass(frozen=True)
class Mutes:
    """A field holding muted labels with the end of each mute (None: until /unmute)."""

    items: tuple[tuple[str, datetime | None], ...]


@dataclass(frozen=True)
class Catalogue:
    """A field listing every label of one kind ("figure", "topic") with its id and name, the
    ones in `followed` marked."""

    kind: str
    followed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Local:
    """A field holding a time shown in a chat's own zone: `2026-02-17 07:30 (Africa/Casablanca)`."""

    at: datetime
    zone: str


Field = Labels | Words | Reason | LangName | Catalogue | Terms | When | Mutes | Local | str


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
    more: tuple[Reply, ...] = ()  # further lines of the same answer, each its own text
    pick: str = ""  # offer the choices of this setting ("digest": Telegram's buttons)


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


def unknown_command(offered: Sequence[str] = COMMANDS) -> Reply:
    """A command this bot does not have: the ones it offers (/stats only where stats are on)."""
    return Reply("unknown_command", fields={"commands": " ".join("/" + c for c in offered)})


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
    """/unsubscribe [labels]: remove them (none: everything, the chat's own words too)."""
    before = await subs.current(chat)
    following = followed(before, subs)
    own = await _own_words(subs, chat, before)
    result = await subs.unsubscribe(chat, words)
    if result.unknown:
        return _unknown(result.unknown, subs)
    if not following and not own:
        return Reply("not_subscribed")
    if not words and not following:  # only words were followed: they are gone now
        return Reply("unsubscribed_all", public=True, changed=True)
    if not result.removed:
        asked = tuple(subs.resolve(words)[0])
        return Reply(
            "not_following", fields={"labels": Labels(asked), "remaining": Labels(following)}
        )
    remaining = followed(result.subscription, subs)
    if not remaining and not (own and words):
        return Reply("unsubscribed_all", public=True, changed=True)
    return Reply(
        "unsubscribed",
        public=True,
        fields={"labels": Labels(result.removed), "remaining": Labels(remaining)},
        changed=True,
        more=(Reply("list_follows", fields={"terms": Terms(own)}),) if own and words else (),
    )


async def show_list(subs: Subscriptions, chat: Chat) -> Reply:
    """/list: what this chat receives (labels, its own words, what is muted and until
    when), or why it is paused."""
    sub = await subs.current(chat)
    now = followed(sub, subs)
    own = await _own_words(subs, chat, sub)
    if now or own:
        more = [Reply("list_follows", fields={"terms": Terms(own)})] if own else []
        muted = [m for m in await subs.mutes(chat) if m.label in now]
        if muted:
            items = tuple((m.label, m.until) for m in muted)
            more.append(Reply("list_mutes", fields={"mutes": Mutes(items)}))
        rhythm = await subs.rhythm(chat)
        if rhythm != ChatRhythm():
            more.append(Reply("list_rhythm", fields=_rhythm_fields(subs.timing(rhythm))))
        return Reply("list", fields={"labels": Labels(now)}, more=tuple(more))
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


# -- issue 13: /follow, /unfollow, /mute, /unmute ----------------------------------------------


async def _own_words(subs: Subscriptions, chat: Chat, sub: Subscription | None) -> tuple[str, ...]:
    """The words an active subscription follows, as the chat wrote them."""
    if sub is None or not sub.active:
        return ()
    return tuple(f.text for f in await subs.follows(chat))


_REFUSAL_ORDER = ("too_common", "too_short", "too_long", "no_letters", "limit")


def _answer(parts: Sequence[Reply], *, changed: bool) -> Reply:
    """Several lines as one Reply: public when something changed (everyone sees the change)."""
    first, *rest = parts
    return Reply(first.key, public=changed, fields=first.fields, changed=changed, more=tuple(rest))


async def follow(subs: Subscriptions, chat: Chat, text: str) -> Reply:
    """/follow <words>: follow the chat's own words and phrases (a phrase in quotes), within
    the limits of core.follows (20 per chat, 2-60 characters, not too common)."""
    current = [Term(f.text, f.key) for f in await subs.follows(chat)]
    wanted = read_terms(visible(text))
    if not wanted:
        return Reply("follow_usage", fields={"terms": Terms(tuple(t.text for t in current))})
    check = check_terms(wanted, current)
    if check.added:
        await subs.follow(chat, [FollowedTerm(t.text, t.key) for t in check.added])
    parts: list[Reply] = []
    if check.added:
        count = str(len(current) + len(check.added))
        fields: dict[str, Field] = {
            "terms": Terms(tuple(t.text for t in check.added)),
            "count": count,
            "max": str(MAX_FOLLOWS),
        }
        parts.append(Reply("followed", fields=fields))
    if check.already:
        parts.append(
            Reply("follow_already", fields={"terms": Terms(tuple(t.text for t in check.already))})
        )
    for reason in _REFUSAL_ORDER:
        refused = tuple(r.text for r in check.refused if r.reason == reason)
        if refused:
            fields = {"words": Words(refused), "max": str(MAX_FOLLOWS)}
            parts.append(Reply(f"follow_refused_{reason}", fields=fields))
    return _answer(parts, changed=bool(check.added))


async def unfollow(subs: Subscriptions, chat: Chat, text: str) -> Reply:
    """/unfollow <words>: stop following some of the chat's own words."""
    current = await subs.follows(chat)
    wanted = read_terms(visible(text))
    if not wanted:
        return Reply("unfollow_usage", fields={"terms": Terms(tuple(f.text for f in current))})
    keys = [term_key(w) for w in wanted]
    removed = await subs.unfollow(chat, [k for k in keys if k])
    gone = {f.key for f in removed}
    remaining = tuple(f.text for f in current if f.key not in gone)
    parts: list[Reply] = []
    if removed:
        fields: dict[str, Field] = {
            "terms": Terms(tuple(f.text for f in removed)),
            "remaining": Terms(remaining),
        }
        parts.append(Reply("unfollowed", fields=fields))
    missing = tuple(w for w, k in zip(wanted, keys, strict=True) if k not in gone)
    if missing:
        fields = {"words": Words(missing), "terms": Terms(remaining)}
        parts.append(Reply("not_followed_words", fields=fields))
    return _answer(parts, changed=bool(removed))


MAX_MUTE = timedelta(days=365)
_DURATION = re.compile(r"(\d{1,6})\s*(m|min|mins|h|d|w)", re.IGNORECASE)
_UNITS = {"m": 60, "min": 60, "mins": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta | None:
    """`30m`, `24h`, `7d`, `2w` -> the time span (None if not a duration or beyond a year)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        return None
    span = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2).lower()])
    return span if timedelta(0) < span <= MAX_MUTE else None


def _looks_like_duration(word: str) -> bool:
    return bool(word) and word[0].isdigit()


async def mute(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/mute <id> [duration]: silence labels the chat receives, for a time (`24h`) or until
    /unmute. The subscription keeps them; stories that match only muted labels are not sent
    (a story with another label of the chat, or one of its /follow words, still is)."""
    tokens = [w for raw in words for w in visible(raw).split()]
    until: datetime | None = None
    if tokens and _looks_like_duration(tokens[-1]):
        span = parse_duration(tokens[-1])
        if span is None:
            return Reply("mute_bad_duration", fields={"words": Words((tokens[-1],))})
        until = subs.now() + span
        tokens = tokens[:-1]
    if not tokens:
        return Reply("mute_usage")
    ids, unknown = subs.resolve(tokens)
    if unknown:
        return _unknown(unknown, subs)
    now = followed(await subs.current(chat), subs)
    outside = tuple(i for i in ids if i not in now)
    if outside:
        return Reply(
            "mute_not_followed", fields={"labels": Labels(outside), "remaining": Labels(now)}
        )
    await subs.mute(chat, ids, until)
    fields: dict[str, Field] = {"labels": Labels(tuple(ids)), "id": ids[0]}
    if until is None:
        return Reply("muted", public=True, fields=fields, changed=True)
    fields["until"] = When(until)
    return Reply("muted_until", public=True, fields=fields, changed=True)


async def unmute(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/unmute <id>: a muted label's alerts come back now."""
    muted = tuple((m.label, m.until) for m in await subs.mutes(chat))
    if not words:
        return Reply("unmute_usage", fields={"mutes": Mutes(muted)})
    ids, unknown = subs.resolve(words)
    if unknown:
        return _unknown(unknown, subs)
    back = await subs.unmute(chat, ids)
    if not back:
        return Reply("not_muted", fields={"labels": Labels(tuple(ids)), "mutes": Mutes(muted)})
    return Reply("unmuted", public=True, fields={"labels": Labels(tuple(back))}, changed=True)


# -- issue 13: /digest, /tz, /quiet: when the chat hears its alerts ---------------------------

# The modes Telegram's buttons offer under /digest (any other time can be typed).
DIGEST_CHOICES = ("off", "hourly", "daily 08:00", "weekly mon 08:00")


def _rhythm_fields(timing: Timing) -> dict[str, Field]:
    quiet = timing.quiet.describe() if timing.quiet is not None else ""
    return {
        "mode": timing.rhythm.describe(),
        "zone": timing.zone.key,
        "window": quiet or "-",
    }


async def _set_rhythm(subs: Subscriptions, chat: Chat, rhythm: ChatRhythm) -> Field | None:
    """Store it; when an alert arriving now would go out, as a field (None: at once)."""
    hold = await subs.set_rhythm(chat, rhythm)
    return None if hold is None else Local(hold, subs.timing(rhythm).zone.key)


async def digest(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/digest off | hourly | daily HH:MM | weekly <day> HH:MM: one digest message at that
    time in the chat's zone instead of one message per story (none: the current mode, and
    the modes to pick from)."""
    current = await subs.rhythm(chat)
    text = " ".join(visible(w) for w in words).strip()
    if not text:
        return Reply("digest_usage", fields=_rhythm_fields(subs.timing(current)), pick="digest")
    try:
        mode = parse_rhythm(text)
    except RhythmError:
        return Reply("digest_bad", fields={"words": Words((text,))}, pick="digest")
    wanted = ChatRhythm(
        digest=None if mode.kind == "instant" else mode.describe(),
        tz=current.tz,
        quiet=current.quiet,
    )
    following = await _set_rhythm(subs, chat, wanted)
    fields = _rhythm_fields(subs.timing(wanted))
    if mode.kind == "instant":
        return Reply("digest_off", public=True, fields=fields, changed=True)
    assert following is not None
    fields["next"] = following
    return Reply("digest_set", public=True, fields=fields, changed=True)


def _zone_named(text: str) -> str | None:
    """The IANA zone `text` names (any letter case), or None."""
    wanted = text.strip().casefold()
    return next((z for z in _zones() if z.casefold() == wanted), None)


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zones_like(text: str) -> list[str]:
    """Time zone names holding `text` (any case), those starting with it first: what a
    platform offers while the user types (Discord's autocomplete)."""
    wanted = text.strip().casefold()
    found = [z for z in _zones() if wanted in z.casefold()]
    return sorted(found, key=lambda z: not z.casefold().startswith(wanted))


async def set_tz(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/tz <zone>: the zone the chat's digest times and quiet hours are read in (none: which
    it is now)."""
    current = await subs.rhythm(chat)
    text = " ".join(visible(w) for w in words).strip()
    if not text:
        return Reply("tz_usage", fields=_rhythm_fields(subs.timing(current)))
    zone = _zone_named(text)
    if zone is None:
        return Reply("tz_unknown", fields={"words": Words((text,))})
    wanted = ChatRhythm(digest=current.digest, tz=zone, quiet=current.quiet)
    await _set_rhythm(subs, chat, wanted)
    return Reply("tz_set", public=True, fields=_rhythm_fields(subs.timing(wanted)), changed=True)


async def quiet(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> Reply:
    """/quiet HH:MM-HH:MM | off: alerts that fall inside the window wait and arrive as one
    digest when it ends (none: the current window)."""
    current = await subs.rhythm(chat)
    text = " ".join(visible(w) for w in words).strip()
    if not text:
        return Reply("quiet_usage", fields=_rhythm_fields(subs.timing(current)))
    try:
        window = parse_quiet(text)
    except RhythmError:
        return Reply("quiet_bad", fields={"words": Words((text,))})
    wanted = ChatRhythm(
        digest=current.digest,
        tz=current.tz,
        quiet=None if window is None else window.describe(),
    )
    await _set_rhythm(subs, chat, wanted)
    fields = _rhythm_fields(subs.timing(wanted))
    key = "quiet_off" if window is None else "quiet_set"
    return Reply(key, public=True, fields=fields, changed=True)
