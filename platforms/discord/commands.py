"""Discord: the slash commands (one Cog), command sync, and the platform's lifecycle.

`create_discord_platform(parts)` is the factory `runtime.app.build` calls. The platform owns
one `commands.Bot` (discord.py 2.7, only the `guilds` intent: no privileged intents are
needed for slash commands) and the Sender the outbox uses.

- Commands: /subscribe, /unsubscribe, /list, /topics, /latest, /lang, /help. A subscription
  belongs to the channel or thread where it was made (threads are channels to Discord).
  Changing one needs Manage Channels: `default_member_permissions` hides the commands from
  other members by default, and the handler checks the member's permissions in that channel
  again, because a server can override who sees a command (Server Settings > Integrations).
- Sync: to the configured `guild_ids` (instant, for development) or globally, and only when
  the command payload changed: its hash is kept in the store's meta table, so a restart does
  not spend one of Discord's daily command-update requests.
- Endpoints: `discord.api_base_url` / `discord.gateway_url` point discord.py at a
  Discord-compatible server (or the tests' fake); with only `api_base_url`, the gateway is
  asked from that server (`GET /gateway/bot`). discord.py reads both from class attributes,
  so they are set when the client logs in and restored by `stop()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.app_commands import Choice, locale_str
from discord.ext import commands

from alerts.discord_format import latest_embed, neutralise_mentions, truncate
from handlers import texts
from handlers.discord_sender import DISCORD_PACING, SEND_TIMEOUT, DiscordSender
from handlers.discord_texts import bilingual, dt, option_description, paused_reason
from handlers.subscriptions import Chat, Subscriptions
from handlers.texts import echo, names, pick_lang, t
from models import LabelInfo

if TYPE_CHECKING:
    from alerts.outbox import Pacing, Sender
    from runtime.app import Parts
    from store import Store, Subscription

log = logging.getLogger("mirsad.discord")

PLATFORM = "discord"
CONTENT_LIMIT = 2000  # Discord: message content
AUTOCOMPLETE_LIMIT = 25  # Discord: choices per autocomplete answer
DEFAULT_API_VERSION = "v10"
META_PREFIX = "discord_commands:"  # store meta key prefix for the synced payload's hash


class DiscordStartError(RuntimeError):
    """The Discord client could not start; the message says why and what to check."""


# --- texts for the command menus --------------------------------------------------------


def _command_text(command: str) -> locale_str:
    """A command description: bilingual default, pure Arabic for an Arabic locale."""
    en, ar = texts.description(command, "en"), texts.description(command, "ar")
    return locale_str(bilingual(en, ar), ar=ar)


def _option_text(key: str) -> locale_str:
    return locale_str(option_description(key), ar=option_description(key, "ar"))


class MirsadTranslator(app_commands.Translator):
    """Serves the Arabic of every `locale_str` (its `ar` extra) to an Arabic locale.

    discord.py 2.7 asks only for the locales in `discord.Locale`, which has no Arabic (nor
    has Discord's list), so today this adds nothing to the payload, and Discord, which
    refuses unknown locale keys, accepts it. It is ready for the day both offer Arabic."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if not _locale_code(locale).startswith("ar"):
            return None
        arabic = string.extras.get("ar")
        return arabic if isinstance(arabic, str) else None


def _locale_code(locale: discord.Locale | None) -> str:
    # An unknown locale (one newer than discord.py) is still an object with a `.value`.
    return str(getattr(locale, "value", "") or "").lower()


def _paused_by_platform(sub: Subscription) -> bool:
    """Paused by a delivery refusal (permissions, deleted channel), not by /unsubscribe."""
    return not sub.active and sub.paused_reason not in (None, "unsubscribed") and bool(sub.labels)


# --- the Cog ------------------------------------------------------------------------------

LANG_CHOICES = [
    Choice(name="العربية · Arabic", value="ar"),
    Choice(name="English · الإنجليزية", value="en"),
]


class SubscriptionCog(commands.Cog):
    """The slash commands. Each handler checks, calls `Subscriptions`, and replies."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        sources: Mapping[str, str],
        *,
        require_manage_channels: bool = True,
    ) -> None:
        self._subs = subscriptions
        self._labels: dict[str, LabelInfo] = {info.id: info for info in subscriptions.labels}
        self._sources = sources
        self._require_manage = require_manage_channels
        needed = discord.Permissions(manage_channels=True) if require_manage_channels else None
        # Per-instance copies (discord.py copies Cog commands): only this bot's tree changes.
        for command in (self.subscribe, self.unsubscribe, self.lang):
            command.default_permissions = needed

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _chat(interaction: discord.Interaction[Any]) -> Chat:
        guild = str(interaction.guild_id) if interaction.guild_id else None
        return Chat(PLATFORM, str(interaction.channel_id), "", guild)

    async def _lang(self, interaction: discord.Interaction[Any], chat: Chat | None) -> str:
        """The channel's /lang, else Arabic for an Arabic user or server locale, else English."""
        chat_lang = await self._subs.lang(chat) if chat is not None else None
        locales = [_locale_code(interaction.locale), _locale_code(interaction.guild_locale)]
        hint = "ar" if any(code.startswith("ar") for code in locales) else "en"
        return pick_lang(chat_lang, hint)

    def _may_change(self, interaction: discord.Interaction[Any]) -> bool:
        """Server-side check: the member's permissions in this channel (overwrites applied)."""
        if not self._require_manage:
            return True
        perms = interaction.permissions
        return perms.administrator or perms.manage_channels

    @staticmethod
    def _bot_can_post(interaction: discord.Interaction[Any]) -> bool:
        """Whether the bot itself may post embeds here, from the interaction's
        `app_permissions`. A server that does not report them (0) gets the benefit of the
        doubt: the first alert's answer will tell, and the sender pauses on a refusal."""
        perms = interaction.app_permissions
        if not perms.value or perms.administrator:
            return True
        in_thread = isinstance(interaction.channel, discord.Thread)
        can_send = perms.send_messages_in_threads if in_thread else perms.send_messages
        return perms.view_channel and can_send and perms.embed_links

    @staticmethod
    async def _reply(
        interaction: discord.Interaction[Any],
        text: str,
        *,
        ephemeral: bool,
        embed: discord.Embed | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "ephemeral": ephemeral,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        content = truncate(neutralise_mentions(text), CONTENT_LIMIT)
        if content:
            kwargs["content"] = content
        if embed is not None:
            kwargs["embed"] = embed
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)

    async def _refuse_change(self, interaction: discord.Interaction[Any], lang: str) -> bool:
        """Reply with a polite ephemeral refusal if this user may not change the channel."""
        if not self._may_change(interaction):
            log.info(
                "discord_change_refused guild=%s channel=%s user=%s command=%s",
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id,
                interaction.command.name if interaction.command else "?",
            )
            await self._reply(interaction, dt("needs_manage_channels", lang), ephemeral=True)
            return True
        return False

    def _complete(self, kind: str, current: str) -> list[Choice[str]]:
        wanted = current.strip().casefold()
        found = []
        for info in self._subs.labels:
            if info.kind != kind:
                continue
            keys = (info.id, info.name_en, info.name_ar)
            if not wanted or any(wanted in key.casefold() for key in keys):
                found.append(Choice(name=bilingual(info.name_en, info.name_ar), value=info.id))
        return found[:AUTOCOMPLETE_LIMIT]

    def _names(self, ids: Sequence[str], lang: str) -> str:
        return names(ids, self._labels, lang)

    # --- commands -----------------------------------------------------------------------

    @app_commands.command(name="subscribe", description=_command_text("subscribe"))
    @app_commands.describe(
        figure=_option_text("subscribe.figure"), topic=_option_text("subscribe.topic")
    )
    @app_commands.guild_only()
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        figure: str | None = None,
        topic: str | None = None,
    ) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        if await self._refuse_change(interaction, lang):
            return
        if not self._bot_can_post(interaction):
            await self._reply(interaction, dt("bot_cannot_post", lang), ephemeral=True)
            return
        words = [w for w in (figure, topic) if w and w.strip()]
        before = await self._subs.current(chat)
        if not words and before is not None and _paused_by_platform(before):
            # "/subscribe to resume" (the /list text): bring back what the channel followed
            # before Discord refused it, not the defaults.
            words = list(before.labels)
        result = await self._subs.subscribe(chat, words)
        if result.unknown:
            valid = ", ".join(self._labels)
            text = t("unknown_ids", lang, words=echo(result.unknown, lang), valid=valid)
            await self._reply(interaction, text, ephemeral=True)
            return
        sub = result.subscription
        labels = self._names(sub.labels if sub else (), lang)
        if not result.added and before is not None and before.active:
            await self._reply(
                interaction, t("already_subscribed", lang, labels=labels), ephemeral=True
            )
            return
        log.info(
            "discord_subscribed guild=%s channel=%s labels=%s",
            chat.guild_id,
            chat.chat_id,
            ",".join(sub.labels if sub else ()),
        )
        await self._reply(interaction, t("subscribed", lang, labels=labels), ephemeral=False)

    @subscribe.autocomplete("figure")
    async def _subscribe_figure(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete("figure", current)

    @subscribe.autocomplete("topic")
    async def _subscribe_topic(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete("topic", current)

    @app_commands.command(name="unsubscribe", description=_command_text("unsubscribe"))
    @app_commands.describe(
        figure=_option_text("unsubscribe.figure"), topic=_option_text("unsubscribe.topic")
    )
    @app_commands.guild_only()
    async def unsubscribe(
        self,
        interaction: discord.Interaction[Any],
        figure: str | None = None,
        topic: str | None = None,
    ) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        if await self._refuse_change(interaction, lang):
            return
        words = [w for w in (figure, topic) if w and w.strip()]
        before = await self._subs.current(chat)
        following = list(before.labels) if before is not None and before.active else []
        result = await self._subs.unsubscribe(chat, words)
        if result.unknown:
            valid = ", ".join(self._labels)
            text = t("unknown_ids", lang, words=echo(result.unknown, lang), valid=valid)
            await self._reply(interaction, text, ephemeral=True)
            return
        if not following:
            await self._reply(interaction, t("not_subscribed", lang), ephemeral=True)
            return
        if not result.removed:
            asked = self._subs.resolve(words)[0]
            text = t(
                "not_following",
                lang,
                labels=self._names(asked, lang),
                remaining=self._names(following, lang),
            )
            await self._reply(interaction, text, ephemeral=True)
            return
        sub = result.subscription
        log.info(
            "discord_unsubscribed guild=%s channel=%s removed=%s",
            chat.guild_id,
            chat.chat_id,
            ",".join(result.removed),
        )
        if sub is not None and sub.active:
            text = t(
                "unsubscribed",
                lang,
                labels=self._names(result.removed, lang),
                remaining=self._names(sub.labels, lang),
            )
        else:
            text = t("unsubscribed_all", lang)
        await self._reply(interaction, text, ephemeral=False)

    @unsubscribe.autocomplete("figure")
    async def _unsubscribe_figure(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete("figure", current)

    @unsubscribe.autocomplete("topic")
    async def _unsubscribe_topic(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete("topic", current)

    @app_commands.command(name="list", description=_command_text("list"))
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        sub = await self._subs.current(chat)
        if sub is None or (not sub.active and sub.paused_reason in (None, "unsubscribed")):
            text = t("not_subscribed", lang)
        elif not sub.active:
            text = t("list_paused", lang, reason=paused_reason(sub.paused_reason, lang))
        else:
            text = t("list", lang, labels=self._names(sub.labels, lang))
        await self._reply(interaction, text, ephemeral=True)

    @app_commands.command(name="topics", description=_command_text("topics"))
    async def topics(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction) if interaction.guild_id else None
        lang = await self._lang(interaction, chat)
        sub = await self._subs.current(chat) if chat is not None else None
        followed = set(sub.labels) if sub is not None and sub.active else set()

        def lines(kind: str) -> str:
            found = [
                f"{'✅' if info.id in followed else '•'} `{info.id}` — {info.name(lang)}"
                for info in self._subs.labels
                if info.kind == kind
            ]
            return "\n".join(found) or "• " + t("nothing", lang)

        first = next((i for i in self._subs.labels if i.kind == "figure"), None)
        example = f"figure:{first.id}" if first else ""
        text = t("topics", lang, figures=lines("figure"), topics=lines("topic"), example=example)
        await self._reply(interaction, text, ephemeral=True)

    @app_commands.command(name="latest", description=_command_text("latest"))
    async def latest(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat if interaction.guild_id else None)
        found = await self._subs.latest(chat)
        if not found:
            await self._reply(interaction, t("latest_empty", lang), ephemeral=True)
            return
        embed = latest_embed(
            [(a.story, a.match) for a in found],
            self._labels,
            lang,
            t("latest", lang),
            self._sources,
        )
        await self._reply(interaction, "", ephemeral=True, embed=discord.Embed.from_dict(embed))

    @app_commands.command(name="lang", description=_command_text("lang"))
    @app_commands.describe(language=_option_text("lang.language"))
    @app_commands.choices(language=LANG_CHOICES)
    @app_commands.guild_only()
    async def lang(
        self, interaction: discord.Interaction[Any], language: Choice[str] | None = None
    ) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        if language is None:
            current = texts.lang_name(lang, lang)
            await self._reply(
                interaction, dt("lang_current", lang, current=current), ephemeral=True
            )
            return
        if await self._refuse_change(interaction, lang):
            return
        if not await self._subs.set_lang(chat, language.value):
            # Discord enforces the choices; a compatible server might not.
            current = texts.lang_name(lang, lang)
            await self._reply(
                interaction, dt("lang_current", lang, current=current), ephemeral=True
            )
            return
        await self._reply(interaction, t("lang_set", language.value), ephemeral=False)

    @app_commands.command(name="help", description=_command_text("help"))
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction) if interaction.guild_id else None
        lang = await self._lang(interaction, chat)
        await self._reply(interaction, dt("help", lang), ephemeral=True)

    # --- errors -------------------------------------------------------------------------

    async def cog_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Never a traceback to the user: a short ephemeral reply; the log has the details."""
        try:
            lang = await self._lang(interaction, None)
        except Exception:  # the store itself may be what failed
            lang = texts.DEFAULT_LANG
        if isinstance(error, app_commands.NoPrivateMessage):
            text = dt("guild_only", lang)
        elif isinstance(error, app_commands.CheckFailure):
            text = dt("needs_manage_channels", lang)
        else:
            log.error(
                "discord_command_error command=%s guild=%s channel=%s",
                interaction.command.name if interaction.command else "?",
                interaction.guild_id,
                interaction.channel_id,
                exc_info=error,
            )
            text = t("error", lang)
        try:
            await self._reply(interaction, text, ephemeral=True)
        except discord.HTTPException:  # the interaction expired (3 s) or was already answered
            log.warning("discord_error_reply_failed interaction=%s", interaction.id)


# --- the bot and its command sync ----------------------------------------------------------


class MirsadBot(commands.Bot):
    """The discord.py client: adds the Cog and syncs commands in `setup_hook`."""

    def __init__(
        self,
        cog: SubscriptionCog,
        store: Store,
        *,
        guild_ids: Sequence[int],
        sync_key: str,
        **options: Any,
    ) -> None:
        # Mirsad never joins voice: skip discord.py's warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # no message commands; required argument
            intents=discord.Intents(guilds=True),  # slash commands need no privileged intent
            help_command=None,
            **options,
        )
        self._cog = cog
        self._store = store
        self._guild_ids = list(guild_ids)
        self._sync_key = sync_key
        self.synced: list[str] = []  # targets synced by the last setup_hook ("global" or ids)

    async def setup_hook(self) -> None:
        # Runs at every login; a start retried after a failure logs in again.
        await self.tree.set_translator(MirsadTranslator())
        if self.get_cog(self._cog.qualified_name) is None:
            await self.add_cog(self._cog)
        self.synced = await sync_commands(self, self._store, self._guild_ids, self._sync_key)


async def command_payload(bot: commands.Bot, guild: discord.abc.Snowflake | None) -> list[Any]:
    """The JSON discord.py would PUT for this target (translations included)."""
    translator = bot.tree.translator
    payload = []
    for command in bot.tree.get_commands(guild=guild):
        if translator is not None:
            payload.append(await command.get_translated_payload(bot.tree, translator))
        else:
            payload.append(command.to_dict(bot.tree))
    return payload


async def sync_commands(
    bot: commands.Bot, store: Store, guild_ids: Sequence[int], sync_key: str = ""
) -> list[str]:
    """Sync to each guild in `guild_ids`, or globally when there are none, but only targets
    whose payload hash differs from the one stored after the last successful sync.

    Returns the targets synced. A refused sync (no `applications.commands` scope in a guild,
    Discord down) is logged and retried at the next start; a 400 means our commands are
    invalid, which is a bug, and is raised."""
    targets: list[discord.abc.Snowflake | None] = (
        [discord.Object(id=g) for g in guild_ids] if guild_ids else [None]
    )
    synced: list[str] = []
    for guild in targets:
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        name = str(guild.id) if guild is not None else "global"
        payload = await command_payload(bot, guild)
        body = {"application": bot.application_id, "server": sync_key, "commands": payload}
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        key = f"{META_PREFIX}{name}"
        if await store.get_meta(key) == digest:
            log.info("discord_commands_unchanged target=%s", name)
            continue
        try:
            await bot.tree.sync(guild=guild)
        except app_commands.CommandSyncFailure:
            raise
        except discord.HTTPException as exc:
            log.error("discord_commands_sync_failed target=%s error=%r", name, str(exc))
            continue
        await store.set_meta(key, digest)
        synced.append(name)
        log.info("discord_commands_synced target=%s count=%d", name, len(payload))
    wanted = {str(g.id) if g is not None else "global" for g in targets}
    for key in await store.meta_keys(META_PREFIX):
        if key[len(META_PREFIX) :] not in wanted:
            await _remove_commands(bot, store, key)
    return synced


async def _remove_commands(bot: commands.Bot, store: Store, key: str) -> None:
    """Empty the commands of a target synced before but no longer configured (a switch
    between global and guild sync, a guild taken off the list): left there, every command
    would show twice in the client."""
    name = key[len(META_PREFIX) :]
    app_id = bot.application_id
    if app_id is None:
        return
    try:
        if name == "global":
            await bot.http.bulk_upsert_global_commands(app_id, [])
        else:
            await bot.http.bulk_upsert_guild_commands(app_id, int(name), [])
    except (discord.Forbidden, discord.NotFound) as exc:
        # the bot has left that guild: nothing of ours shows there any more
        log.info("discord_commands_gone target=%s reason=%r", name, str(exc))
    except discord.HTTPException as exc:
        log.error("discord_commands_remove_failed target=%s error=%r", name, str(exc))
        return  # tried again at the next start
    await store.delete_meta(key)
    log.info("discord_commands_removed target=%s", name)


# --- endpoints ----------------------------------------------------------------------------


def rest_base(url: str) -> str:
    """The REST base discord.py should use: `https://host/api/v10` from `https://host`,
    `https://host/api` or the full base."""
    url = url.rstrip("/")
    if re.search(r"/api/v\d+$", url):
        return url
    if url.endswith("/api"):
        return f"{url}/{DEFAULT_API_VERSION}"
    return f"{url}/api/{DEFAULT_API_VERSION}"


class Endpoints:
    """Points discord.py at another REST base / gateway, and puts the defaults back."""

    def __init__(self, api_base_url: str | None, gateway_url: str | None) -> None:
        self.rest = rest_base(api_base_url) if api_base_url else None
        self.gateway = yarl.URL(gateway_url) if gateway_url else None
        self._saved: tuple[str, yarl.URL] | None = None

    def apply(self) -> None:
        if self._saved is None:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        if self.rest:
            discord.http.Route.BASE = self.rest
        if self.gateway:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.gateway

    def use_gateway(self, url: str) -> None:
        """Use a gateway found at run time (`GET /gateway/bot` of a compatible server)."""
        self.gateway = yarl.URL(url)
        self.apply()

    def restore(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    @property
    def key(self) -> str:
        """Which server the commands were synced to (part of the sync hash)."""
        return self.rest or "discord.com"


# --- the platform -------------------------------------------------------------------------


class DiscordPlatform:
    """The Discord side of Mirsad, as `runtime.app` runs it (the `Platform` protocol)."""

    name = PLATFORM

    def __init__(
        self,
        token: str,
        store: Store,
        subscriptions: Subscriptions,
        sources: Mapping[str, str],
        *,
        guild_ids: Sequence[int] = (),
        api_base_url: str | None = None,
        gateway_url: str | None = None,
        require_manage_channels: bool = True,
        pacing: Pacing = DISCORD_PACING,
        send_timeout: float = SEND_TIMEOUT,
        ready_timeout: float = 60.0,
        **client_options: Any,
    ) -> None:
        if not token:
            raise DiscordStartError("DISCORD_BOT_TOKEN is not set")
        self._token = token
        self._endpoints = Endpoints(api_base_url, gateway_url)
        self._ready_timeout = ready_timeout
        client_options.setdefault("max_ratelimit_timeout", 30.0)  # longer 429s go to the outbox

        def new_bot() -> MirsadBot:
            cog = SubscriptionCog(
                subscriptions, sources, require_manage_channels=require_manage_channels
            )
            return MirsadBot(
                cog, store, guild_ids=guild_ids, sync_key=self._endpoints.key, **client_options
            )

        self._new_bot = new_bot
        self.bot = new_bot()
        labels = {info.id: info for info in subscriptions.labels}
        # Typed as the outbox's protocol so the platform is a runtime.app `Platform`.
        self.sender: Sender = DiscordSender(
            lambda: self.bot,
            self.ensure_login,
            labels,
            sources,
            pacing=pacing,
            send_timeout=send_timeout,
        )
        self._login_lock = asyncio.Lock()
        self._logged_in = False
        self._gateway: asyncio.Task[None] | None = None
        self._stopped = False

    async def ensure_login(self) -> None:
        """Log in over REST once (also syncs commands); `bot.py once` needs only this."""
        async with self._login_lock:  # concurrent first sends log in once
            if self._logged_in:
                return
            if self._stopped:
                raise DiscordStartError("the Discord platform was stopped")
            self._endpoints.apply()
            await self.bot.login(self._token)
            self._logged_in = True

    async def start(self) -> None:
        """Log in, then run the gateway as a background task and wait until the client is
        ready. A rejected token or an unreachable server raises DiscordStartError; a slow
        gateway only logs a warning (alerts go over REST and do not need it)."""
        try:
            await self.ensure_login()
        except discord.LoginFailure:
            await self._reset()
            raise DiscordStartError(
                "Discord rejected DISCORD_BOT_TOKEN (401 Unauthorized): check the token"
            ) from None
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._reset()
            where = self._endpoints.rest or "discord.com"
            raise DiscordStartError(f"Discord login failed at {where}: {exc}") from exc
        if self._endpoints.rest and self._endpoints.gateway is None:
            await self._discover_gateway()
        self._gateway = asyncio.create_task(
            self.bot.connect(reconnect=True), name="discord-gateway"
        )
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._gateway, ready}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if self._gateway in done:
            ready.cancel()
            error = self._gateway.exception()
            self._gateway = None
            await self._reset()
            raise DiscordStartError(f"the Discord gateway closed at start: {error!r}") from error
        self._gateway.add_done_callback(self._gateway_ended)
        if ready in done:
            user = self.bot.user
            log.info(
                "discord_ready user=%s guilds=%d synced=%s",
                user.id if user else "?",
                len(self.bot.guilds),
                ",".join(self.bot.synced) or "-",
            )
        else:
            ready.cancel()
            log.warning("discord_not_ready_yet after=%.0fs (still connecting)", self._ready_timeout)

    async def _discover_gateway(self) -> None:
        """Another REST server without `gateway_url`: ask it where its gateway is, as
        Discord's own API offers (`GET /gateway/bot`), instead of connecting to Discord's."""
        try:
            _shards, url, _limits = await self.bot.http.get_bot_gateway()
        except (discord.GatewayNotFound, aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._reset()
            raise DiscordStartError(
                f"{self._endpoints.rest} did not say where its gateway is (GET /gateway/bot): "
                "set discord.gateway_url"
            ) from exc
        self._endpoints.use_gateway(url)
        log.info("discord_gateway_discovered url=%s", url)

    async def _reset(self) -> None:
        """Close what a failed start left open; the next start() begins with a new client
        (a closed discord.py client keeps its closed connector and cannot log in again)."""
        await self.bot.close()
        self.bot = self._new_bot()
        self._logged_in = False

    def _gateway_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopped:
            return
        error = task.exception()
        if error is not None:
            log.critical("discord_gateway_stopped error=%r", error, exc_info=error)

    async def stop(self) -> None:
        """Close the client (gateway and HTTP session) and restore discord.py's endpoints.
        Safe to call more than once, and when `start()` was never called."""
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.bot.close()
            if self._gateway is not None:
                done, _ = await asyncio.wait({self._gateway}, timeout=10)
                if not done:
                    self._gateway.cancel()
                elif not self._gateway.cancelled() and self._gateway.exception() is not None:
                    log.warning("discord_gateway_error_on_stop error=%r", self._gateway.exception())
        finally:
            self._endpoints.restore()


def create_discord_platform(
    parts: Parts,
    *,
    pacing: Pacing = DISCORD_PACING,
    send_timeout: float = SEND_TIMEOUT,
    ready_timeout: float = 60.0,
    **client_options: Any,
) -> DiscordPlatform:
    """The factory for `AppOptions.platform_factories`: ("discord", create_discord_platform).

    Extra keyword arguments go to `discord.Client` (tests pass `guild_ready_timeout`)."""
    settings = parts.settings
    discord_config = settings.config.discord
    return DiscordPlatform(
        settings.secrets.discord_token or "",
        parts.store,
        parts.subscriptions,
        parts.sources,
        guild_ids=discord_config.guild_ids,
        api_base_url=discord_config.api_base_url,
        gateway_url=discord_config.gateway_url,
        require_manage_channels=discord_config.require_manage_channels,
        pacing=pacing,
        send_timeout=send_timeout,
        ready_timeout=ready_timeout,
        **client_options,
    )
