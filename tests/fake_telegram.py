"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp), for the real python-telegram-bot.

Point the bot at it with `base_url=f"{fake.api_base_url}/bot{{token}}"` (config
`telegram.api_base_url`). It answers like Telegram over HTTP — long polling, error shapes,
HTML validation, flood limits — and records what the bot did, so tests assert what a user
would see.

    fake = FakeTelegram(token="123:ABC")
    await fake.start()
    alice = fake.private_chat(1001, language_code="en")
    fake.push(fake.command(alice, "/subscribe musk"))      # the bot receives it via getUpdates
    msg = await fake.wait_for_message(alice.id)            # what reached the chat
    msg.visible                                            # text after entity parsing

Telegram behaviour it reproduces (notes/telegram-offline.md, platform-limits.md):
- `getUpdates` long polling honouring `offset`, `timeout`, `limit` and `allowed_updates`
  (remembered between calls, default: everything except chat_member and reactions);
- `sendMessage` HTML parse mode validated like Telegram: only the allowed tags, balanced,
  only &lt; &gt; &amp; &quot; and numeric entities; 4096 UTF-16 units after parsing; else
  400 "Bad Request: can't parse entities: ..." / "message is too long" / "text is empty";
- flood limits (`Limits`): ~1 message/s per chat, 20/min per group, 30/s overall; exceeding
  any gets 429 with `parameters.retry_after`, and a chat told to wait is refused (429 again)
  until that time has passed; every refusal is recorded in `rate_limited`;
- scripted failures per chat: `fail(chat_id, status, description, parameters, times)` for
  one-off errors (429 retry_after, 400 migrate_to_chat_id, 400 chat not found, 5xx...),
  `block(chat_id, description)` for a permanent 403 (blocked by the user, kicked);
- unknown chat ids answer 400 "Bad Request: chat not found".
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

JSON = dict[str, Any]

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
}
DEFAULT_ALLOWED_UPDATES = {
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
}
MAX_TEXT = 4096
ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(text: str, where: int) -> str:
    out = []
    i = 0
    while i < len(text):
        amp = text.find("&", i)
        if amp < 0:
            out.append(text[i:])
            break
        out.append(text[i:amp])
        m = _ENTITY.match(text, amp)
        if m is None:
            raise HtmlError(f"Unsupported HTML entity starting at byte offset {where + amp}")
        if m.group(1):
            out.append(_NAMED[m.group(1)])
        else:
            code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
            try:
                out.append(chr(code))
            except (ValueError, OverflowError):
                raise HtmlError(f"Invalid HTML entity at byte offset {where + amp}") from None
        i = m.end()
    return "".join(out)


def parse_html(text: str) -> str:
    """The visible text of a Telegram HTML message, or HtmlError like Telegram's refusal."""
    visible: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        lt = text.find("<", i)
        chunk = text[i:] if lt < 0 else text[i:lt]
        visible.append(_decode_entities(chunk, i))
        if lt < 0:
            break
        m = _TAG.match(text, lt)
        if m is None:
            raise HtmlError(f"Unsupported start tag at byte offset {lt}")
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in ALLOWED_TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {lt}')
        if closing:
            if not stack or stack[-1] != name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {lt}, expected "</{stack[-1] if stack else ""}>", found "</{name}>"'
                )
            stack.pop()
        else:
            found = {
                a.group(1).lower(): _decode_entities(
                    a.group(2) or a.group(3) or a.group(4) or "", lt
                )
                for a in _ATTR.finditer(attrs)
            }
            if name == "a" and not found.get("href"):
                raise HtmlError(f"Can't find href in <a> at byte offset {lt}")
            if name == "span" and found.get("class") != "tg-spoiler":
                raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {lt}')
            if name == "tg-emoji" and "emoji-id" not in found:
                raise HtmlError(f"Can't find emoji-id in <tg-emoji> at byte offset {lt}")
            stack.append(name)
        i = m.end()
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


@dataclass
class Limits:
    """Telegram's flood limits as the fake enforces them (0 disables one)."""

    chat_gap: float = 1.0  # seconds between two messages to one chat
    group_max: int = 20  # messages per group_window to one group/supergroup/channel
    group_window: float = 60.0
    overall_max: int = 30  # messages per overall_window, all chats together
    overall_window: float = 1.0
    tolerance: float = 0.05  # clock jitter forgiven (requests travel over loopback)

    @classmethod
    def strict(cls) -> Limits:
        """Zero tolerance: a 31st message within any second is refused, however it got there."""
        return cls(tolerance=0.0)


@dataclass
class Sent:
    """One message the bot sent (or edited), as it reached the fake."""

    chat_id: int
    message_id: int
    text: str  # as sent (HTML source when parse_mode is HTML)
    visible: str  # what the user reads, after entity parsing
    parse_mode: str | None
    message_thread_id: int | None
    reply_markup: JSON | None
    time: float  # loop time when accepted
    method: str = "sendMessage"
    params: JSON = field(default_factory=dict)

    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "member"
    language_code: str | None = None  # private chats: the user's client language

    def as_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.title or f"User{self.id}"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.is_forum:
            data["is_forum"] = True
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class _Scripted:
    status: int
    description: str
    parameters: JSON | None
    times: int | None  # None = forever
    only_html: bool


def user(uid: int, language_code: str | None = "ar", first_name: str = "User") -> JSON:
    data: JSON = {"id": uid, "is_bot": False, "first_name": f"{first_name}{uid}"}
    if language_code:
        data["language_code"] = language_code
    return data


def member(user_data: JSON, status: str) -> JSON:
    """A ChatMember object with every field PTB requires for `status`."""
    data: JSON = {"user": user_data, "status": status}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_post_messages=True,
            can_edit_messages=True,
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


class FakeTelegram:
    """The fake Bot API; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdefghijklmnop",
        *,
        limits: Limits | None = None,
        bot_id: int = 777000,
        username: str = "mirsad_bot",
    ) -> None:
        self.token = token
        self.limits = limits or Limits()
        self.bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Mirsad",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats: dict[int, Chat] = {}
        self.sent: list[Sent] = []  # accepted sendMessage calls, in order
        self.edits: list[Sent] = []  # accepted editMessageText / editMessageReplyMarkup
        self.callback_answers: list[JSON] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope type, language) -> commands
        self.calls: list[tuple[str, JSON]] = []  # every API call, in order
        self.rate_limited: list[
            tuple[int, float, float]
        ] = []  # (chat, time, retry_after) of flood 429s
        self.overall_limited: list[float] = []  # times of the 429s for the overall limit alone
        self.errors_given: list[tuple[int, int, str]] = []  # (chat, status, description) scripted
        self.port = 0
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], Sent] = {}
        self._allowed: set[str] = set(DEFAULT_ALLOWED_UPDATES)
        self._confirmed = 0  # highest update id the bot confirmed with offset
        self._new_update = asyncio.Event()
        self._scripted: dict[int, list[_Scripted]] = {}
        self._hold: dict[int, float] = {}  # chat -> loop time before which it gets 429
        self._chat_last: dict[int, float] = {}
        self._group_times: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.clock: Callable[[], float] = time.monotonic
        # seconds a sendMessage spends on its way before Telegram counts it (network jitter):
        # a late one bunches with the next ones at the server
        self.delay_on_the_way: Callable[[], float] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def api_base_url(self) -> str:
        """What goes in config `telegram.api_base_url`."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeTelegram:
        self.clock = asyncio.get_running_loop().time
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- chats, updates and scripted failures ----------------------------------------------

    def private_chat(self, uid: int, language_code: str | None = "ar") -> Chat:
        chat = Chat(uid, "private", title=f"User{uid}", language_code=language_code)
        self.chats[uid] = chat
        return chat

    def group(
        self,
        chat_id: int,
        *,
        supergroup: bool = True,
        forum: bool = False,
        admins: dict[int, str] | None = None,
        bot_status: str = "member",
    ) -> Chat:
        chat = Chat(
            chat_id,
            "supergroup" if supergroup else "group",
            is_forum=forum,
            members=dict(admins or {}),
            bot_status=bot_status,
        )
        self.chats[chat_id] = chat
        return chat

    def channel(self, chat_id: int, *, bot_status: str = "administrator") -> Chat:
        chat = Chat(chat_id, "channel", title=f"Channel {chat_id}", bot_status=bot_status)
        self.chats[chat_id] = chat
        return chat

    def push(self, update: JSON) -> int:
        """Queue an update for the bot's next getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def command(
        self,
        chat: Chat,
        text: str,
        *,
        from_user: JSON | None = None,
        thread_id: int | None = None,
        anonymous_admin: bool = False,
    ) -> JSON:
        """A `message` (or `channel_post` for channels) carrying a command."""
        message: JSON = {
            "message_id": next(self._ids(chat.id)),
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "text": text,
        }
        word = text.split(maxsplit=1)[0] if text.strip() else ""
        if word.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if chat.type == "channel":
            message["sender_chat"] = chat.as_dict()
            return {"channel_post": message}
        if anonymous_admin:
            message["from"] = ANONYMOUS_ADMIN
            message["sender_chat"] = chat.as_dict()
        else:
            message["from"] = from_user or user(chat.id, chat.language_code)
        return {"message": message}

    def press(self, sent: Sent, data: str, *, from_user: JSON) -> JSON:
        """A callback_query: `from_user` pressed the button with `data` under `sent`."""
        chat = self.chats[sent.chat_id]
        message: JSON = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "from": self.bot,
            "text": sent.visible,
        }
        current = self._messages.get((sent.chat_id, sent.message_id), sent)
        if current.reply_markup:
            message["reply_markup"] = current.reply_markup
        if sent.message_thread_id is not None:
            message["message_thread_id"] = sent.message_thread_id
            message["is_topic_message"] = True
        return {
            "callback_query": {
                "id": str(next(self._update_ids) * 1000),
                "from": from_user,
                "chat_instance": f"ci{chat.id}",
                "data": data,
                "message": message,
            }
        }

    def my_chat_member(self, chat: Chat, old: str, new: str, *, by: JSON | None = None) -> JSON:
        """The bot's own membership changed in `chat` (added, removed, blocked)."""
        chat.bot_status = new
        return {
            "my_chat_member": {
                "chat": chat.as_dict(),
                "from": by or user(chat.id if chat.id > 0 else 1),
                "date": int(time.time()),
                "old_chat_member": member(self.bot, old),
                "new_chat_member": member(self.bot, new),
            }
        }

    def fail(
        self,
        chat_id: int,
        status: int,
        description: str,
        *,
        parameters: JSON | None = None,
        times: int | None = 1,
        only_html: bool = False,
    ) -> None:
        """Answer the next `times` sendMessage calls to `chat_id` with this error (None: always)."""
        self._scripted.setdefault(chat_id, []).append(
            _Scripted(status, description, parameters, times, only_html)
        )

    def block(
        self, chat_id: int, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        self.fail(chat_id, 403, description, times=None)

    # -- reading what happened ------------------------------------------------------------

    def messages(self, chat_id: int | None = None) -> list[Sent]:
        return [s for s in self.sent if chat_id is None or s.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> Sent:
        """The current state of a message (after edits)."""
        return self._messages[(chat_id, message_id)]

    @property
    def confirmed(self) -> int:
        return self._confirmed

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        deadline = self.clock() + within
        while not predicate():
            if self.clock() > deadline:
                raise AssertionError(f"condition not met within {within} s")
            await asyncio.sleep(0.01)

    async def wait_for_message(self, chat_id: int, count: int = 1, within: float = 10.0) -> Sent:
        """Wait until `chat_id` has received `count` messages in all; return the last one."""
        await self.wait_until(lambda: len(self.messages(chat_id)) >= count, within)
        return self.messages(chat_id)[count - 1]

    # -- HTTP -------------------------------------------------------------------------------

    def _ids(self, chat_id: int) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            return _error(exc.status, exc.description, exc.parameters)
        return web.json_response({"ok": True, "result": result})

    def _chat(self, params: JSON) -> Chat:
        raw = params.get("chat_id")
        try:
            chat_id = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    async def _m_getme(self, params: JSON) -> JSON:
        return self.bot

    async def _m_deletewebhook(self, params: JSON) -> bool:
        return True

    async def _m_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands") or []
        for c in commands:
            if (
                not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", ""))
                or not 1 <= len(c.get("description", "")) <= 256
            ):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, params.get("language_code") or "")] = commands
        return True

    async def _m_getupdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self._allowed = set(allowed) if allowed else set(DEFAULT_ALLOWED_UPDATES)
        if offset:
            self._confirmed = max(self._confirmed, offset - 1)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = self.clock() + timeout
        while True:
            # Telegram drops updates of types the bot did not ask for
            self._updates = [u for u in self._updates if (set(u) - {"update_id"}) & self._allowed]
            if self._updates or self._closing:
                return self._updates[:limit]
            remaining = deadline - self.clock()
            if remaining <= 0:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                return []

    async def _m_getchatmember(self, params: JSON) -> JSON:
        chat = self._chat(params)
        uid = int(params["user_id"])
        if uid == self.bot["id"]:
            return member(self.bot, chat.bot_status)
        if chat.type == "private":
            return member(user(uid), "member" if uid == chat.id else "left")
        return member(user(uid), chat.members.get(uid, "member"))

    async def _m_getchatadministrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params)
        admins = [
            member(user(uid), s)
            for uid, s in chat.members.items()
            if s in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(member(self.bot, "administrator"))
        return admins

    async def _m_getchat(self, params: JSON) -> JSON:
        chat = self._chat(params)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
            },
        }

    async def _m_answercallbackquery(self, params: JSON) -> bool:
        self.callback_answers.append(params)
        return True

    def _flood_check(self, chat: Chat, now: float) -> None:
        lim = self.limits
        tol = lim.tolerance
        hold = self._hold.get(chat.id, 0.0)
        if now < hold - tol:
            self._refuse(chat, now, hold - now)
        last = self._chat_last.get(chat.id)
        if lim.chat_gap and last is not None and now - last < lim.chat_gap - tol:
            self._refuse(chat, now, lim.chat_gap)
        if lim.group_max and chat.id < 0:
            times = self._group_times.get(chat.id, deque())
            while times and times[0] <= now - lim.group_window + tol:
                times.popleft()
            if len(times) >= lim.group_max:
                self._refuse(chat, now, times[0] + lim.group_window - now)
        if lim.overall_max:
            while self._overall and self._overall[0] <= now - lim.overall_window + tol:
                self._overall.popleft()
            if len(self._overall) >= lim.overall_max:
                self._refuse(chat, now, lim.overall_window, hold_chat=False)

    def _refuse(self, chat: Chat, now: float, wait: float, *, hold_chat: bool = True) -> None:
        retry_after = max(1, math.ceil(wait))
        self.rate_limited.append((chat.id, now, retry_after))
        if hold_chat:
            self._hold[chat.id] = max(self._hold.get(chat.id, 0.0), now + retry_after)
        else:
            self.overall_limited.append(now)
        raise _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _scripted_error(self, chat: Chat, html: bool, now: float) -> None:
        queue = self._scripted.get(chat.id, [])
        for item in queue:
            if item.only_html and not html:
                continue
            if item.times is not None:
                item.times -= 1
                if item.times <= 0:
                    queue.remove(item)
            self.errors_given.append((chat.id, item.status, item.description))
            retry_after = (item.parameters or {}).get("retry_after")
            if retry_after:
                self._hold[chat.id] = now + float(retry_after)
            raise _ApiError(item.status, item.description, item.parameters)

    def _visible(self, text: str, parse_mode: str | None) -> str:
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                visible = parse_html(text)
            except HtmlError as exc:
                raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif parse_mode:
            raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake")
        else:
            visible = text
        if not visible.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        return visible

    async def _m_sendmessage(self, params: JSON) -> JSON:
        if self.delay_on_the_way is not None:
            await asyncio.sleep(self.delay_on_the_way())
        chat = self._chat(params)
        now = self.clock()
        text = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        self._scripted_error(chat, bool(parse_mode), now)
        self._flood_check(chat, now)
        thread = params.get("message_thread_id")
        thread_id = int(thread) if thread not in (None, "") else None
        if thread_id is not None and not chat.is_forum:
            raise _ApiError(400, "Bad Request: message thread not found")
        visible = self._visible(text, parse_mode)
        markup = params.get("reply_markup")
        sent = Sent(
            chat.id,
            next(self._ids(chat.id)),
            text,
            visible,
            parse_mode,
            thread_id,
            markup,
            now,
            params=params,
        )
        self.sent.append(sent)
        self._messages[(chat.id, sent.message_id)] = sent
        self._chat_last[chat.id] = now
        if chat.id < 0:
            self._group_times.setdefault(chat.id, deque()).append(now)
        self._overall.append(now)
        return self._message_json(chat, sent)

    async def _m_sendphoto(self, params: JSON) -> JSON:
        """A photo upload (multipart): recorded as a Sent with method "sendPhoto", the caption
        as its text and the uploaded bytes in params["photo"]."""
        chat = self._chat(params)
        now = self.clock()
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo:
            raise _ApiError(400, "Bad Request: there is no photo in the request")
        if len(photo) > 10 * 1024 * 1024:
            raise _ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption = str(params.get("caption") or "")
        if len(caption) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        self._flood_check(chat, now)
        thread = params.get("message_thread_id")
        thread_id = int(thread) if thread not in (None, "") else None
        sent = Sent(
            chat.id,
            next(self._ids(chat.id)),
            caption,
            caption,
            None,
            thread_id,
            None,
            now,
            method="sendPhoto",
            params=params,
        )
        self.sent.append(sent)
        self._messages[(chat.id, sent.message_id)] = sent
        self._chat_last[chat.id] = now
        if chat.id < 0:
            self._group_times.setdefault(chat.id, deque()).append(now)
        self._overall.append(now)
        width, height = (int.from_bytes(photo[16:20], "big"), int.from_bytes(photo[20:24], "big"))
        data = self._message_json(chat, sent)
        del data["text"]
        data["caption"] = caption
        data["photo"] = [
            {
                "file_id": f"photo-{chat.id}-{sent.message_id}",
                "file_unique_id": f"u{sent.message_id}",
                "width": width,
                "height": height,
                "file_size": len(photo),
            }
        ]
        return data

    def _message_json(self, chat: Chat, sent: Sent) -> JSON:
        data: JSON = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": chat.as_dict(),
            "from": self.bot,
            "text": sent.visible,
        }
        if sent.message_thread_id is not None:
            data.update(message_thread_id=sent.message_thread_id, is_topic_message=True)
        if sent.reply_markup:
            data["reply_markup"] = sent.reply_markup
        return data

    async def _edit(self, params: JSON, method: str) -> JSON:
        chat = self._chat(params)
        key = (chat.id, int(params.get("message_id") or 0))
        old = self._messages.get(key)
        if old is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if method == "editMessageText":
            text = str(params.get("text") or "")
            parse_mode = params.get("parse_mode")
            visible = self._visible(text, parse_mode)
        else:
            text, parse_mode, visible = old.text, old.parse_mode, old.visible
        markup = params.get("reply_markup")
        if visible == old.visible and markup == old.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of the message",
            )
        new = Sent(
            chat.id,
            old.message_id,
            text,
            visible,
            parse_mode,
            old.message_thread_id,
            markup,
            self.clock(),
            method=method,
            params=params,
        )
        self._messages[key] = new
        self.edits.append(new)
        return self._message_json(chat, new)

    async def _m_editmessagetext(self, params: JSON) -> JSON:
        return await self._edit(params, "editMessageText")

    async def _m_editmessagereplymarkup(self, params: JSON) -> JSON:
        return await self._edit(params, "editMessageReplyMarkup")


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _error(status: int, description: str, parameters: JSON | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "entities",
}


async def _params(request: web.Request) -> JSON:
    """PTB posts form fields (JSON-encoded when not strings); accept JSON bodies too."""
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    params: JSON = {**request.query}
    for key, value in form.items():
        if isinstance(value, web.FileField):  # an upload (sendPhoto): keep its bytes
            params[key] = value.file.read()
            continue
        if not isinstance(value, str):
            continue
        if key in _JSON_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


# -- fixtures and helpers for the Telegram tests ------------------------------------------------


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@functools.lru_cache(maxsize=1)
def real_labels() -> tuple[Any, ...]:
    """The figures and topics of the shipped config.yaml (LabelInfo records)."""
    from config import DEFAULT_CONFIG, load_settings
    from filters.watchlist import Matcher

    return Matcher(load_settings(DEFAULT_CONFIG, env={}).config.watchlists).labels


def scaled(fake: FakeTelegram, factor: float) -> Any:
    """Run Telegram's clock `factor` times faster on both sides (fake limits and the bot's
    limiter), so command tests keep every rule without waiting a real second per reply."""
    from platforms.telegram.limiter import TelegramRateLimiter

    fake.limits = Limits(
        chat_gap=1.0 * factor,
        group_max=20,
        group_window=60.0 * factor,
        overall_max=30,
        overall_window=1.0,
        tolerance=0.05 * max(factor, 0.2),
    )
    return TelegramRateLimiter(chat_gap=1.0 * factor, group_window=60.0 * factor)
