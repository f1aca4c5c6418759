"""A fake Discord on 127.0.0.1: REST and the gateway websocket, for the real discord.py client.

It follows the team notes on running discord.py offline and tries to stay honest: it refuses what
Discord refuses (a bad token, embeds over a limit, content over 2000, malformed
`allowed_mentions`, unknown localisation locales, invalid command names, a second answer to
one interaction), keeps a per-channel rate-limit bucket with real `X-RateLimit-*` headers, and
replays the events a client missed when it RESUMEs.

    fake = FakeDiscord(); await fake.start()        # or the `fake_discord` fixture
    fake.api_url, fake.gateway_url                  # for config `discord.api_base_url` / `gateway_url`
    await fake.ready.wait()                         # the client identified and got READY
    reply = await fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
    reply.content, reply.ephemeral, reply.data      # the interaction answer (Answer)
    fake.messages, fake.posted_to(CHANNEL_A)        # messages the bot posted (Posted, with pings)
    fake.script(CHANNEL_A, rate_limited(2.0))       # the next POST to CHANNEL_A gets a 429
    fake.deny(CHANNEL_B, 50013)                     # every POST to CHANNEL_B: 403 Missing Permissions
    await fake.request_reconnect()                  # op 7: the client must RESUME
    fake.add_guild(GUILD_0, "Second", CHANNEL_0)    # another server (own shard when sharded)
    fake.attempts, fake.command_puts, fake.identifies, fake.resumes   # what happened

Each IDENTIFY opens a session for the shard it names (`[id, count]`, none = shard 0 of 1); a
server's events go to the session of its shard, `(guild_id >> 22) % count`, as Discord routes
them, and an event for a shard no client connected is kept in `fake.undelivered`.

`running_mirsad(fake, mirsad_config(tmp_path, fake), clock)` (bottom of this file) builds
Mirsad with runtime.app and starts its Discord platform against the fake.

Lengths are counted in UTF-16 code units (what a JavaScript server counts), which is the
stricter reading of Discord's "characters".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import discord
import pytest
from aiohttp import WSMsgType, web

from config import load_settings
from platforms.base import PlatformContext
from platforms.discord.platform import DiscordPlatform, create_platform
from runtime.app import AppOptions, Parts, build
from tests.helpers import write_config

TOKEN = "fake.bot-token.for-tests"
APP_ID = 1300000000000000001
BOT_ID = 1300000000000000002
GUILD_ID = 1300000000000000010
CHANNEL_A = 1300000000000000011  # text channel
CHANNEL_B = 1300000000000000012  # text channel
THREAD_A = 1300000000000000013  # public thread under CHANNEL_A
ADMIN_ID = 1300000000000000021  # has Manage Channels
MEMBER_ID = 1300000000000000022  # ordinary member
ROLE_ID = 1300000000000000031
# Two more servers for sharding tests: with shard_count 3, GUILD_0 is on shard 0, GUILD_1 on
# shard 1 and GUILD_ID on shard 2 ((id >> 22) % 3).
GUILD_0 = 1300000000004194314
GUILD_1 = 1300000000008388618
CHANNEL_0 = 1300000000004194315  # text channel in GUILD_0
CHANNEL_1 = 1300000000008388619  # text channel in GUILD_1

EPHEMERAL = 1 << 6

# Permission bits (docs.discord.com "Permissions")
P_ADMINISTRATOR = 1 << 3
P_MANAGE_CHANNELS = 1 << 4
P_VIEW_CHANNEL = 1 << 10
P_SEND_MESSAGES = 1 << 11
P_EMBED_LINKS = 1 << 14
P_READ_HISTORY = 1 << 16
P_USE_APP_COMMANDS = 1 << 31
P_SEND_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = P_VIEW_CHANNEL | P_SEND_MESSAGES | P_READ_HISTORY | P_USE_APP_COMMANDS
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | P_MANAGE_CHANNELS
BOT_PERMISSIONS = (
    P_VIEW_CHANNEL | P_SEND_MESSAGES | P_EMBED_LINKS | P_READ_HISTORY | P_SEND_IN_THREADS
)

DISCORD_LOCALES = frozenset(locale.value for locale in discord.Locale)
_NAME = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?$")


def dlen(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the string (aiohttp adds a charset).
    return web.Response(
        status=status,
        body=json.dumps(data).encode("utf-8"),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return _json(body, status)


@dataclass
class Scripted:
    """One canned answer for the next POST to a channel."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without an answer (a reset)


def rate_limited(retry_after: float, *, is_global: bool = False, via: bool = True) -> Scripted:
    """A 429 as Discord sends it (with `Via`, or without: Cloudflare's edge)."""
    headers = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "fake-channel-messages",
        "X-RateLimit-Scope": "global" if is_global else "user",
        "Retry-After": str(max(1, round(retry_after))),
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    if via:
        headers["Via"] = "1.1 google"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    return Scripted(429, body, headers)


def missing_permissions() -> Scripted:
    return Scripted(403, {"message": "Missing Permissions", "code": 50013})


def missing_access() -> Scripted:
    return Scripted(403, {"message": "Missing Access", "code": 50001})


def unknown_channel() -> Scripted:
    return Scripted(404, {"message": "Unknown Channel", "code": 10003})


def connection_reset() -> Scripted:
    return Scripted(0, {}, drop=True)


def slow(seconds: float) -> Scripted:
    """Answer 200-like only after `seconds` (the message is NOT recorded: a timed-out send)."""
    return Scripted(504, {"message": "too slow"}, delay=seconds)


def server_error(status: int = 503) -> Scripted:
    return Scripted(status, {"message": "upstream connect error", "code": 0})


@dataclass
class Posted:
    """A message the bot posted to a channel."""

    channel_id: int
    message_id: int
    payload: dict[str, Any]
    pings: list[str]  # who Discord would notify: "everyone", "user:<id>", "role:<id>"

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])


@dataclass
class Answer:
    """The bot's answer to an interaction (callback, then any follow-ups)."""

    interaction_id: int
    type: int
    data: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, bytes) uploaded

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


async def _message_body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """A message as JSON, or as multipart (payload_json + files[n]) when it uploads files;
    an embed may show an upload as `attachment://<filename>`."""
    if not request.content_type.startswith("multipart/"):
        return await request.json(), []
    form = await request.post()
    raw = form.get("payload_json")
    data: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else {}
    files = [
        (value.filename, value.file.read())
        for key, value in form.items()
        if key.startswith("files[") and isinstance(value, web.FileField)
    ]
    return data, files


# --- validation: what Discord refuses ------------------------------------------------------


def _check_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "attachment") or not parts.netloc or " " in value:
        return "Not a well formed URL."
    if len(value) > 2048:
        return "Must be 2048 or fewer in length."
    return None


def check_embeds(embeds: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(embeds, list):
        return {"embeds": "must be a list"}
    if len(embeds) > 10:
        errors["embeds"] = "Must be 10 or fewer in length."
    total = 0
    for i, embed in enumerate(embeds):
        at = f"embeds.{i}"
        if not isinstance(embed, dict):
            errors[at] = "must be an object"
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                errors[f"{at}.{key}"] = "must be a string"
            elif dlen(value) > limit:
                errors[f"{at}.{key}"] = f"Must be {limit} or fewer in length."
            else:
                total += dlen(value)
        for key in ("url",):
            if key in embed and (problem := _check_url(embed[key])):
                errors[f"{at}.{key}"] = problem
        for key in ("thumbnail", "image"):
            if key in embed and (problem := _check_url((embed[key] or {}).get("url"))):
                errors[f"{at}.{key}.url"] = problem
        if "color" in embed and not (
            isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
        ):
            errors[f"{at}.color"] = "Int value should be between 0 and 16777215."
        if "timestamp" in embed and not (
            isinstance(embed["timestamp"], str) and _ISO.match(embed["timestamp"])
        ):
            errors[f"{at}.timestamp"] = "Could not parse timestamp."
        author = embed.get("author")
        if author is not None:
            name = author.get("name") if isinstance(author, dict) else None
            if not isinstance(name, str) or not name or dlen(name) > 256:
                errors[f"{at}.author.name"] = "Must be between 1 and 256 in length."
            else:
                total += dlen(name)
        footer = embed.get("footer")
        if footer is not None:
            text = footer.get("text") if isinstance(footer, dict) else None
            if not isinstance(text, str) or not text or dlen(text) > 2048:
                errors[f"{at}.footer.text"] = "Must be between 1 and 2048 in length."
            else:
                total += dlen(text)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors[f"{at}.fields"] = "Must be 25 or fewer in length."
        for j, fld in enumerate(fields):
            name, value = fld.get("name"), fld.get("value")
            if not isinstance(name, str) or not name.strip() or dlen(name) > 256:
                errors[f"{at}.fields.{j}.name"] = "Must be between 1 and 256 in length."
            if not isinstance(value, str) or not value.strip() or dlen(value) > 1024:
                errors[f"{at}.fields.{j}.value"] = "Must be between 1 and 1024 in length."
            if isinstance(name, str) and isinstance(value, str):
                total += dlen(name) + dlen(value)
    if total > 6000:
        errors["embeds"] = "Embed size exceeds maximum size of 6000"
    return errors


def check_allowed_mentions(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"allowed_mentions": "must be an object"}
    errors: dict[str, str] = {}
    unknown = set(value) - {"parse", "roles", "users", "replied_user"}
    if unknown:
        errors["allowed_mentions"] = f"unknown keys {sorted(unknown)}"
    parse = value.get("parse", [])
    if not isinstance(parse, list) or not set(parse) <= {"roles", "users", "everyone"}:
        errors["allowed_mentions.parse"] = "Value must be one of ('roles', 'users', 'everyone')."
    for kind in ("roles", "users"):
        ids = value.get(kind)
        if ids is None:
            continue
        if isinstance(parse, list) and kind in parse:
            errors["allowed_mentions"] = (
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.'
            )
        if not isinstance(ids, list) or len(ids) > 100:
            errors[f"allowed_mentions.{kind}"] = "Must be 100 or fewer in length."
    return errors


def check_message(payload: Any) -> dict[str, str]:
    if not isinstance(payload, dict):
        return {"_": "not an object"}
    errors: dict[str, str] = {}
    content = payload.get("content")
    if content is not None:
        if not isinstance(content, str):
            errors["content"] = "must be a string"
        elif dlen(content) > 2000:
            errors["content"] = "Must be 2000 or fewer in length."
    if "embeds" in payload and payload["embeds"] is not None:
        errors.update(check_embeds(payload["embeds"]))
    errors.update(check_allowed_mentions(payload.get("allowed_mentions")))
    return errors


def is_empty_message(payload: dict[str, Any]) -> bool:
    return not (payload.get("content") or payload.get("embeds") or payload.get("components"))


def pings(payload: dict[str, Any]) -> list[str]:
    """Who Discord would notify for this message. Only content mentions ping (never embeds);
    `allowed_mentions` filters them, and its absence allows everything."""
    content = str(payload.get("content") or "")
    allowed = payload.get("allowed_mentions")
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse", []))
    users = set(map(str, (allowed or {}).get("users", [])))
    roles = set(map(str, (allowed or {}).get("roles", [])))
    found: list[str] = []
    if re.search(r"@(everyone|here)", content) and "everyone" in parse:
        found.append("everyone")
    for uid in re.findall(r"<@!?(\d+)>", content):
        if "users" in parse or uid in users:
            found.append(f"user:{uid}")
    for rid in re.findall(r"<@&(\d+)>", content):
        if "roles" in parse or rid in roles:
            found.append(f"role:{rid}")
    return found


def check_commands(payload: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(payload, list):
        return {"_": "must be a list"}
    if len(payload) > 100:
        errors["_"] = "Must be 100 or fewer in length."
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(payload):
        at = str(i)
        kind = int(cmd.get("type", 1))
        name = cmd.get("name")
        if (
            not isinstance(name, str)
            or not _NAME.match(name)
            or (kind == 1 and name != name.lower())
        ):
            errors[f"{at}.name"] = "Command name is invalid"
        if (kind, str(name)) in seen:
            errors[f"{at}.name"] = "Application command names must be unique"
        seen.add((kind, str(name)))
        description = cmd.get("description", "")
        if kind == 1 and not (isinstance(description, str) and 1 <= len(description) <= 100):
            errors[f"{at}.description"] = "Must be between 1 and 100 in length."
        errors.update(_check_localisations(cmd, at))
        dmp = cmd.get("default_member_permissions")
        if dmp is not None and not str(dmp).isdigit():
            errors[f"{at}.default_member_permissions"] = "invalid"
        options = cmd.get("options") or []
        if len(options) > 25:
            errors[f"{at}.options"] = "Must be 25 or fewer in length."
        optional_seen = False
        for j, opt in enumerate(options):
            where = f"{at}.options.{j}"
            oname = opt.get("name")
            if not isinstance(oname, str) or not _NAME.match(oname) or oname != oname.lower():
                errors[f"{where}.name"] = "Option name is invalid"
            odesc = opt.get("description", "")
            if not (isinstance(odesc, str) and 1 <= len(odesc) <= 100):
                errors[f"{where}.description"] = "Must be between 1 and 100 in length."
            errors.update(_check_localisations(opt, where))
            if opt.get("required"):
                if optional_seen:
                    errors[f"{where}.required"] = (
                        "Required options must be placed before non-required options"
                    )
            else:
                optional_seen = True
            choices = opt.get("choices") or []
            if choices and opt.get("autocomplete"):
                errors[f"{where}.autocomplete"] = "Autocomplete cannot be set with choices"
            if len(choices) > 25:
                errors[f"{where}.choices"] = "Must be 25 or fewer in length."
            for k, choice in enumerate(choices):
                cname = choice.get("name")
                if not isinstance(cname, str) or not 1 <= len(cname) <= 100:
                    errors[f"{where}.choices.{k}.name"] = "Must be between 1 and 100 in length."
                errors.update(_check_localisations(choice, f"{where}.choices.{k}"))
    return errors


def _check_localisations(obj: dict[str, Any], at: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key in ("name_localizations", "description_localizations"):
        values = obj.get(key) or {}
        for locale in values:
            if locale not in DISCORD_LOCALES:
                errors[f"{at}.{key}.{locale}"] = "Invalid Form Body: invalid locale"
    return errors


# --- the fake -------------------------------------------------------------------------------


@dataclass
class GatewaySession:
    """One IDENTIFY: the shard it named, its socket (None while away) and what it was sent."""

    shard: int
    count: int
    session_id: str
    ws: web.WebSocketResponse | None
    seq: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


class FakeDiscord:
    """REST + gateway on one loopback port. See the module docstring."""

    def __init__(self, *, token: str = TOKEN, channel_limit: int = 5, window: float = 5.0) -> None:
        self.token = token
        self.channel_limit = channel_limit
        self.window = window
        self.port = 0
        self._ids = itertools.count(1400000000000000000)
        self._runner: web.AppRunner | None = None
        # REST state
        self.messages: list[Posted] = []  # as they are now (an edit changes its message here)
        self.edits: list[Posted] = []  # every accepted edit (PATCH), with the fields it sent
        self.attempts: list[tuple[int, int]] = []  # (channel, status) of every message POST
        self.command_puts: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.answers: dict[int, list[Answer]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST request
        self._scripts: dict[int, deque[Scripted]] = {}
        self._denied: dict[int, Scripted] = {}
        self._buckets: dict[int, deque[float]] = {}
        self._tokens: dict[int, str] = {}  # interaction id -> token
        self._answered: dict[int, asyncio.Event] = {}
        self._interaction_channels: dict[int, int] = {}
        # gateway state
        self.identifies = 0
        self.resumes = 0
        self.reject_identify = 0  # close the next N IDENTIFYs with 4004
        self.identified_shards: list[Any] = []  # the `shard` of each IDENTIFY ([id, count])
        self.gateway_paths: list[str] = []
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self.sessions: dict[int, GatewaySession] = {}  # by shard id
        self.undelivered: list[tuple[int, str]] = []  # (shard, event) nobody was connected for
        self._lock = asyncio.Lock()
        self.guild_locale = "en-US"
        self.guilds: dict[int, str] = {GUILD_ID: "Newsroom"}
        self.channels: dict[int, dict[str, Any]] = {
            CHANNEL_A: self._text_channel(CHANNEL_A, "news"),
            CHANNEL_B: self._text_channel(CHANNEL_B, "general"),
            THREAD_A: self._thread(THREAD_A, CHANNEL_A, "trump-watch"),
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- scripting ---------------------------------------------------------------------------

    def script(self, channel_id: int, *answers: Scripted) -> None:
        """The next POSTs to `channel_id` get these answers, in order."""
        self._scripts.setdefault(channel_id, deque()).extend(answers)

    def deny(self, channel_id: int, code: int = 50013) -> None:
        """From now on every POST to the channel is refused (403 50013/50001, 404 10003)."""
        self._denied[channel_id] = {
            50013: missing_permissions(),
            50001: missing_access(),
            10003: unknown_channel(),
        }[code]

    def allow(self, channel_id: int) -> None:
        self._denied.pop(channel_id, None)

    def posted_to(self, channel_id: int) -> list[Posted]:
        return [m for m in self.messages if m.channel_id == channel_id]

    # --- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        self.requests.append((method, path))
        parts = path.strip("/").split("/")
        # Interaction callbacks and webhooks authenticate with their token, not the bot's.
        if parts[0] == "interactions" and len(parts) == 4 and method == "POST":
            return await self._interaction_callback(request, int(parts[1]), parts[2])
        if parts[0] == "webhooks" and len(parts) >= 3:
            return await self._webhook(request, parts)
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        if path == "/users/@me" and method == "GET":
            return _json(self._bot_user())
        if path == "/gateway/bot" and method == "GET":
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 14400000,
                        "max_concurrency": 1,
                    },
                }
            )
        if path == "/oauth2/applications/@me" and method == "GET":
            return _json(self._application())
        if parts[0] == "applications" and parts[-1] == "commands":
            guild = int(parts[3]) if len(parts) == 5 else None
            if method == "PUT":
                return await self._put_commands(request, guild)
            if method == "GET":
                return _json(self.commands.get(guild, []))
        if (
            parts[0] == "channels"
            and len(parts) == 3
            and parts[2] == "messages"
            and method == "POST"
        ):
            return await self._post_message(request, int(parts[1]))
        if (
            parts[0] == "channels"
            and len(parts) == 4
            and parts[2] == "messages"
            and method == "PATCH"
        ):
            return await self._edit_message(request, int(parts[1]), int(parts[3]))
        return _error(404, 0, "404: Not Found")

    async def _put_commands(self, request: web.Request, guild: int | None) -> web.Response:
        payload = await request.json()
        errors = check_commands(payload)
        if errors:
            return _error(400, 50035, "Invalid Form Body", errors)
        echoed = []
        previous = {c["name"]: c for c in self.commands.get(guild, [])}
        for cmd in payload:
            same = previous.get(cmd["name"])
            out = {
                "id": same["id"] if same else str(next(self._ids)),
                "application_id": str(APP_ID),
                "version": str(next(self._ids)),
                "default_member_permissions": None,
                "type": 1,
                "nsfw": False,
                "options": [],
                **cmd,
            }
            if out["default_member_permissions"] is not None:
                out["default_member_permissions"] = str(out["default_member_permissions"])
            if guild is not None:
                out["guild_id"] = str(guild)
            echoed.append(out)
        self.commands[guild] = echoed
        self.command_puts.append((guild, payload))
        return _json(echoed)

    def _bucket_headers(self, channel_id: int) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        used = self._buckets.setdefault(channel_id, deque())
        while used and now - used[0] >= self.window:
            used.popleft()
        over = len(used) >= self.channel_limit
        if not over:
            used.append(now)
        reset_after = self.window - (now - used[0]) if used else self.window
        headers = {
            "X-RateLimit-Limit": str(self.channel_limit),
            "X-RateLimit-Remaining": str(max(self.channel_limit - len(used), 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fake-channel-{channel_id}",
        }
        return over, headers

    async def _post_message(self, request: web.Request, channel_id: int) -> web.Response:
        scripted = self._scripts.get(channel_id)
        if scripted:
            answer = scripted.popleft()
            self.attempts.append((channel_id, answer.status))
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if answer.drop and request.transport is not None:
                request.transport.abort()
            return _json(answer.body, answer.status, answer.headers)
        if channel_id in self._denied:
            answer = self._denied[channel_id]
            self.attempts.append((channel_id, answer.status))
            return _json(answer.body, answer.status)
        if channel_id not in self.channels:
            self.attempts.append((channel_id, 404))
            return _error(404, 10003, "Unknown Channel")
        over, headers = self._bucket_headers(channel_id)
        if over:
            self.attempts.append((channel_id, 429))
            retry = float(headers["X-RateLimit-Reset-After"])
            answer = rate_limited(retry)
            return _json(answer.body, 429, {**headers, **answer.headers})
        if request.content_type != "application/json":
            self.attempts.append((channel_id, 400))
            return _error(400, 50035, "Invalid Form Body", {"_": "expected JSON"})
        payload = await request.json()
        errors = check_message(payload)
        if errors:
            self.attempts.append((channel_id, 400))
            return _error(400, 50035, "Invalid Form Body", errors)
        if is_empty_message(payload):
            self.attempts.append((channel_id, 400))
            return _error(400, 50006, "Cannot send an empty message")
        self.attempts.append((channel_id, 200))
        message_id = next(self._ids)
        self.messages.append(Posted(channel_id, message_id, payload, pings(payload)))
        return _json(self._message(message_id, channel_id, payload), 200, headers)

    async def _edit_message(
        self, request: web.Request, channel_id: int, message_id: int
    ) -> web.Response:
        """PATCH /channels/{channel}/messages/{message}: only the bot's own messages."""
        if channel_id in self._denied:
            answer = self._denied[channel_id]
            return _json(answer.body, answer.status)
        found = next(
            (m for m in self.messages if (m.channel_id, m.message_id) == (channel_id, message_id)),
            None,
        )
        if found is None:
            return _error(404, 10008, "Unknown Message")
        payload = await request.json()
        errors = check_message(payload)
        if errors:
            return _error(400, 50035, "Invalid Form Body", errors)
        found.payload = {**found.payload, **payload}
        found.pings = pings(found.payload)
        self.edits.append(Posted(channel_id, message_id, payload, pings(payload)))
        return _json(self._message(message_id, channel_id, found.payload))

    async def _interaction_callback(
        self, request: web.Request, interaction_id: int, token: str
    ) -> web.Response:
        if self._tokens.get(interaction_id) != token:
            return _error(404, 10062, "Unknown interaction")
        if interaction_id in self.answers:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = await request.json()
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind in (4, 7):
            errors = check_message(data)
            if errors:
                return _error(400, 50035, "Invalid Form Body", errors)
            if is_empty_message(data):
                return _error(400, 50006, "Cannot send an empty message")
        if kind == 8:
            choices = data.get("choices")
            if (
                not isinstance(choices, list)
                or len(choices) > 25
                or any(not 1 <= len(str(c.get("name", ""))) <= 100 for c in choices)
            ):
                return _error(400, 50035, "Invalid Form Body", {"data.choices": "invalid"})
        self.answers[interaction_id] = [Answer(interaction_id, kind, data)]
        self._answered.setdefault(interaction_id, asyncio.Event()).set()
        message_id = next(self._ids)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_id": str(message_id),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if kind in (4, 5):
            channel = self._interaction_channels.get(interaction_id, CHANNEL_A)
            result["resource"] = {"type": kind, "message": self._message(message_id, channel, data)}
        return _json(result)

    async def _webhook(self, request: web.Request, parts: list[str]) -> web.Response:
        token = parts[2]
        interaction_id = next((i for i, tok in self._tokens.items() if tok == token), None)
        if interaction_id is None or int(parts[1]) != APP_ID:
            return _error(404, 10015, "Unknown Webhook")
        if request.method == "POST" and len(parts) == 3:
            data, files = await _message_body(request)
            errors = check_message(data)
            if errors:
                return _error(400, 50035, "Invalid Form Body", errors)
            self.answers.setdefault(interaction_id, []).append(
                Answer(interaction_id, 4, data, files)
            )
            self._answered.setdefault(interaction_id, asyncio.Event()).set()
            message_id = next(self._ids)
            channel = self._interaction_channels.get(interaction_id, CHANNEL_A)
            return _json(self._message(message_id, channel, data))
        return _error(404, 0, "404: Not Found")

    # --- gateway -------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_paths.append(request.path)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await ws.send_json({"op": 11})
                elif op == 2:
                    await self._identify(ws, data)
                elif op == 6:
                    await self._resume(ws, data)
        finally:
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token or self.reject_identify > 0:
            self.reject_identify = max(self.reject_identify - 1, 0)
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard, count = data.get("shard") or (0, 1)
        async with self._lock:
            self.identifies += 1
            self.identified_shards.append(data.get("shard"))
            session = GatewaySession(shard, count, f"session-{next(self._ids)}", ws)
            self.sessions[shard] = session
            mine = [g for g in self.guilds if (g >> 22) % count == shard]
            await self._send_dispatch(
                session,
                "READY",
                {
                    "v": 10,
                    "user": self._bot_user(),
                    "guilds": [{"id": str(g), "unavailable": True} for g in mine],
                    "session_id": session.session_id,
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway-resume",
                    "application": {"id": str(APP_ID), "flags": 0},
                    "private_channels": [],
                    "shard": [shard, count],
                },
            )
            for guild in mine:
                await self._send_dispatch(session, "GUILD_CREATE", self._guild(guild))
        self.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        session = next(
            (s for s in self.sessions.values() if s.session_id == data.get("session_id")), None
        )
        if data.get("token") != self.token or session is None:
            await ws.send_json({"op": 9, "d": False})
            return
        async with self._lock:
            self.resumes += 1
            session.ws = ws
            seq = int(data.get("seq") or 0)
            for frame in session.history:
                if frame["s"] > seq:  # what the client missed while it was away
                    await ws.send_json(frame)
            await self._send_dispatch(session, "RESUMED", {})
        self.resumed.set()

    async def _send_dispatch(
        self, session: GatewaySession, event: str, data: dict[str, Any]
    ) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.history.append(frame)
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_json(frame)

    def shard_of(self, guild_id: int) -> int:
        """The shard Discord routes the server's events to, for the shard count identified."""
        count = next((s.count for s in self.sessions.values()), 1)
        return (guild_id >> 22) % count

    async def dispatch(self, event: str, data: dict[str, Any], *, guild: int = GUILD_ID) -> None:
        """Send an event now on the session of the server's shard, or keep it for the client's
        RESUME if it is reconnecting."""
        async with self._lock:
            shard = self.shard_of(guild)
            session = self.sessions.get(shard)
            if session is None:
                self.undelivered.append((shard, event))
                return
            await self._send_dispatch(session, event, data)

    async def request_reconnect(self) -> None:
        """op 7 RECONNECT: the client closes and RESUMEs on `resume_gateway_url`."""
        async with self._lock:
            self.resumed.clear()
            for session in self.sessions.values():
                ws, session.ws = session.ws, None
                if ws is not None:
                    await ws.send_json({"op": 7, "d": None})

    def add_guild(self, guild_id: int, name: str, channel_id: int) -> None:
        """Another server the bot is in, with one text channel; call before the client
        connects (its GUILD_CREATE goes out at IDENTIFY)."""
        self.guilds[guild_id] = name
        self.channels[channel_id] = self._text_channel(channel_id, "news", guild_id)

    # --- interactions --------------------------------------------------------------------------

    async def interact(
        self,
        name: str,
        options: Mapping[str, str] | None = None,
        *,
        user: int = ADMIN_ID,
        channel: int = CHANNEL_A,
        locale: str = "en-US",
        guild_locale: str | None = None,
        autocomplete: str | None = None,
        app_permissions: int = BOT_PERMISSIONS,
        in_guild: bool = True,
        guild: int = GUILD_ID,
    ) -> int:
        """Dispatch an INTERACTION_CREATE for slash command `name` (type 2), or for its
        autocomplete (type 4) when `autocomplete` names the focused option."""
        guild_key = guild if guild in self.commands else None
        command = next((c for c in self.commands.get(guild_key, []) if c["name"] == name), None)
        if command is None:
            raise AssertionError(f"/{name} was never synced (synced: {list(self.commands)})")
        contexts = command.get("contexts")
        if not in_guild and contexts is not None and 1 not in contexts:
            raise AssertionError(f"Discord does not offer /{name} in DMs (contexts {contexts})")
        interaction_id = next(self._ids)
        token = f"interaction-token-{interaction_id}"
        self._tokens[interaction_id] = token
        self._interaction_channels[interaction_id] = channel
        self._answered[interaction_id] = asyncio.Event()
        opts = []
        synced = {o.get("name"): o.get("type", 3) for o in command.get("options") or []}
        for key, value in (options or {}).items():
            # an integer option (type 4) arrives as a number, as Discord sends it
            kind = synced.get(key, 3)
            sent_value: Any = int(value) if kind == 4 and key != autocomplete else value
            opt: dict[str, Any] = {"name": key, "type": kind, "value": sent_value}
            if key == autocomplete:
                opt["focused"] = True
            opts.append(opt)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if guild_key is not None:
            data["guild_id"] = str(guild)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": 4 if autocomplete else 2,
            "token": token,
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "locale": locale,
            "data": data,
            "entitlements": [],
            "app_permissions": str(app_permissions),
        }
        if in_guild:
            perms = ADMIN_PERMISSIONS if user == ADMIN_ID else MEMBER_PERMISSIONS
            payload.update(
                guild_id=str(guild),
                guild_locale=guild_locale or self.guild_locale,
                channel_id=str(channel),
                channel=self.channels.get(channel, self._text_channel(channel, "gone", guild)),
                member={**self._member(user), "permissions": str(perms)},
                authorizing_integration_owners={"0": str(guild)},
                context=0,
            )
        else:
            payload.update(
                channel_id=str(channel),
                channel={"id": str(channel), "type": 1, "recipients": [self._user(user)]},
                user=self._user(user),
                authorizing_integration_owners={"0": str(guild)},
                context=1,
            )
        await self.dispatch("INTERACTION_CREATE", payload, guild=guild)
        return interaction_id

    async def answer(self, interaction_id: int) -> Answer:
        """The bot's first answer to an interaction (waits up to 5 s for it)."""
        await asyncio.wait_for(self._answered[interaction_id].wait(), 5.0)
        return self.answers[interaction_id][0]

    async def command(
        self, name: str, options: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Answer:
        """Run slash command `name` and return the bot's answer."""
        return await self.answer(await self.interact(name, options, **kwargs))

    # --- payloads --------------------------------------------------------------------------

    @staticmethod
    def _user(user_id: int, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": "mirsad" if bot else f"user{str(user_id)[-2:]}",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def _bot_user(self) -> dict[str, Any]:
        return {**self._user(BOT_ID, bot=True), "verified": True, "mfa_enabled": False, "flags": 0}

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "Mirsad",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self._user(ADMIN_ID),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    def _member(self, user_id: int) -> dict[str, Any]:
        return {
            "user": self._user(user_id, bot=user_id == BOT_ID),
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
        }

    @staticmethod
    def _text_channel(channel_id: int, name: str, guild: int = GUILD_ID) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    @staticmethod
    def _thread(thread_id: int, parent_id: int, name: str) -> dict[str, Any]:
        return {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(ADMIN_ID),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                "locked": False,
            },
        }

    def _guild(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        editors = {**everyone, "id": str(ROLE_ID), "name": "editors", "position": 1}
        channels = [c for c in self.channels.values() if c.get("guild_id") == str(guild_id)]
        return {
            "id": str(guild_id),
            "name": self.guilds[guild_id],
            "icon": None,
            "owner_id": str(ADMIN_ID),
            "roles": [everyone, editors] if guild_id == GUILD_ID else [everyone],
            "channels": [c for c in channels if c["type"] in (0, 2, 4, 5)],
            "threads": [c for c in channels if c["type"] in (10, 11, 12)],
            "members": [self._member(BOT_ID)],
            "member_count": 3,
            "preferred_locale": self.guild_locale,
            "features": [],
            "emojis": [],
            "stickers": [],
            "large": False,
            "unavailable": False,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "nsfw_level": 0,
            "afk_timeout": 300,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message(self, message_id: int, channel_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self._user(BOT_ID, bot=True),
            "content": payload.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "everyone" in pings(payload),
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": int(payload.get("flags") or 0),
            "components": [],
        }


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake; discord.py's patched endpoints are put back afterwards."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = await FakeDiscord().start()
    try:
        yield fake
    finally:
        await fake.close()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


# --- running Mirsad against the fake ----------------------------------------------------------


def mirsad_config(
    tmp_path: Path,
    fake: FakeDiscord,
    *,
    feeds: str = "feeds: []",
    guild_ids: str = f"[{GUILD_ID}]",
    extra: str = "",
    gateway: bool = True,
    database: str | None = None,
) -> Path:
    """A config file for Mirsad talking to `fake` (default watchlists from config.yaml);
    `gateway=False` leaves `gateway_url` out (Mirsad must ask the REST server)."""
    gateway_line = f"  gateway_url: {fake.gateway_url}\n" if gateway else ""
    body = (
        f"database: {database or tmp_path / 'mirsad.db'}\n"
        f"{feeds}\n"
        "http:\n  allow_private_addresses: true\n  total_timeout: 5\n"
        "discord:\n"
        f"  guild_ids: {guild_ids}\n"
        f"  api_base_url: {fake.api_url}\n"
        f"{gateway_line}"
        f"{extra}"
    )
    return write_config(tmp_path, body)


def discord_factory(
    made: list[DiscordPlatform] | None = None, **options: Any
) -> Callable[[PlatformContext[Any]], DiscordPlatform]:
    """`create_platform` with a short guild_ready_timeout (discord.py otherwise waits
    2 s for more GUILD_CREATEs); every platform made is appended to `made`."""

    def make(context: PlatformContext[Any]) -> DiscordPlatform:
        platform = create_platform(context, guild_ready_timeout=0.05, **options)
        if made is not None:
            made.append(platform)
        return platform

    return make


@dataclass
class Mirsad:
    """Mirsad as runtime.app builds it, with its Discord platform."""

    parts: Parts
    platform: DiscordPlatform
    fake: FakeDiscord

    async def sub(self, channel: int = CHANNEL_A) -> tuple[tuple[str, ...], bool] | None:
        """(labels, active) of the channel's subscription, or None."""
        found = await self.parts.store.subscription("discord", str(channel), "")
        return None if found is None else (found.labels, found.active)


@asynccontextmanager
async def running_mirsad(
    fake: FakeDiscord,
    config: Path,
    clock: Callable[[], datetime],
    *,
    start: bool = True,
    token: str | None = None,
    **options: Any,
) -> AsyncIterator[Mirsad]:
    """build() the app from `config` with the Discord token set (the fake's unless `token`
    is given), and start the platform."""
    settings = load_settings(config, env={"DISCORD_BOT_TOKEN": token or fake.token})
    options = AppOptions(clock=clock, platform_factories=(("discord", discord_factory(**options)),))
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        platform = parts.platforms[0]
        assert isinstance(platform, DiscordPlatform)
        stack.push_async_callback(platform.stop)
        if start:
            await platform.start()
        yield Mirsad(parts, platform, fake)
