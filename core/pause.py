"""Why a subscription is paused: a code from a closed set, plus the platform's own words.

The code is what Mirsad decides on and what users read, translated by `core.texts`
(`reason_<code>`); the detail keeps the platform's answer for the operator. Until the store
has its own column for the code, both are kept in `subscriptions.paused_reason` as
`code: detail` (or just `code`); `parse` also reads the free-text reasons earlier versions
stored, so a subscription paused before the upgrade still shows a translated reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

PauseCode = Literal[
    "blocked",  # a private chat blocked the bot
    "kicked",  # the bot was kicked (banned) from a group, channel or server
    "removed",  # the bot left or was removed from the chat
    "no_permission",  # the bot may not post there (restricted, not an admin, missing rights)
    "no_access",  # the bot can no longer see the channel
    "chat_gone",  # the chat or channel was deleted
    "topic_gone",  # the forum topic was deleted (only that topic is paused)
    "thread_locked",  # the thread is archived and locked
    "cannot_dm",  # the platform does not let the bot message this user
    "refused",  # any other refusal of this chat by the platform
    "unsubscribed",  # /unsubscribe removed every label
    "migrated",  # the chat moved to a new id (detail: the new id)
    "replaced",  # the terminal, once a chat platform is configured
    "other",  # a reason stored by an older version that we cannot classify (detail: its text)
]
PAUSE_CODES: tuple[str, ...] = get_args(PauseCode)

# Pauses that /subscribe undoes by restoring the labels the chat followed before.
PLATFORM_PAUSES: frozenset[str] = frozenset(PAUSE_CODES) - {"unsubscribed", "migrated"}


@dataclass(frozen=True)
class PauseReason:
    code: PauseCode
    detail: str = ""  # the platform's words, for logs and operators; never translated

    def stored(self) -> str:
        """The form kept in `subscriptions.paused_reason`."""
        return f"{self.code}: {self.detail}" if self.detail else self.code


# Free-text reasons written by earlier versions (and by the store), most specific first.
_LEGACY: tuple[tuple[str, PauseCode], ...] = (
    ("(discord 50013)", "no_permission"),
    ("(discord 50001)", "no_access"),
    ("(discord 50007)", "cannot_dm"),
    ("(discord 10003)", "chat_gone"),
    ("(discord 50083)", "thread_locked"),
    ("refused by discord", "refused"),
    ("blocked by the user", "blocked"),
    ("kicked", "kicked"),
    ("removed from the chat", "removed"),
    ("bot is not a member", "removed"),
    ("thread not found", "topic_gone"),
    ("chat not found", "chat_gone"),
    ("deactivated", "chat_gone"),
    ("peer_id_invalid", "chat_gone"),
    ("may not send messages", "no_permission"),
    ("no longer an administrator", "no_permission"),
    ("not enough rights", "no_permission"),
    ("have no rights", "no_permission"),
    ("chat_write_forbidden", "no_permission"),
    ("need administrator rights", "no_permission"),
    ("can't initiate conversation", "cannot_dm"),
    ("cannot send messages to this user", "cannot_dm"),
    ("migrated to ", "migrated"),
    ("a chat platform is configured", "replaced"),
)


def classify(text: str, default: PauseCode) -> PauseReason:
    """A platform's refusal in its own words -> the code for it (`default` if none fits)."""
    lowered = text.lower()
    code = next((code for needle, code in _LEGACY if needle in lowered), default)
    return PauseReason(code, text)


def parse(stored: str | None) -> PauseReason | None:
    """A stored `paused_reason` back as a PauseReason (None when there is none)."""
    if not stored:
        return None
    code, sep, detail = stored.partition(": ")
    if code in PAUSE_CODES:
        return PauseReason(cast(PauseCode, code), detail if sep else "")
    return classify(stored, "other")
