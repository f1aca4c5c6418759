"""Discord: the slash commands (one Cog). The package's other modules: `sync` (the
discord.py Bot and command sync), `endpoints`, `platform` (lifecycle and the registry's
factory), `sender` and `render`; its texts are in `core.texts` (Discord's wording as
`key@discord`). The platform owns one `commands.Bot` (discord.py 2.7, only the `guilds`
intent: no privileged intents are needed for slash commands) and the Sender the outbox uses.

- Commands: /subscribe, /unsubscribe, /list, /topics, /latest, /lang, /help, and (issue 13)
  /follow, /unfollow, /mute, /unmute. A subscription
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

import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str
from discord.ext import commands

from core import commands as decide
from core import texts
from core.stats import MAX_DAYS, Stats, StatsReply
from core.subscriptions import Chat, Subscriptions
from core.texts import pick_lang
from models import LabelInfo
from platforms.discord.render import latest_embed, neutralise_mentions, truncate

log = logging.getLogger("mirsad.discord")

PLATFORM = "discord"
CONTENT_LIMIT = 2000  # Discord: message content
AUTOCOMPLETE_LIMIT = 25  # Discord: choices per autocomplete answer
STATS_FILE = "mirsad-stats.png"
DESCRIPTION_LIMIT = 100  # Discord: command and option descriptions are 1-100 characters

# core.commands.subscribe / unsubscribe: the decision on the labels a user chose
LabelDecision = Callable[[Subscriptions, Chat, Sequence[str]], Awaitable[decide.Reply]]


async def _follow(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> decide.Reply:
    return await decide.follow(subs, chat, " ".join(words))  # one option: the words as typed


async def _unfollow(subs: Subscriptions, chat: Chat, words: Sequence[str]) -> decide.Reply:
    return await decide.unfollow(subs, chat, " ".join(words))


# --- texts for the command menus --------------------------------------------------------
#
# Discord's locale list (docs.discord.com "Locales", `discord.Locale` in discord.py 2.7) has
# no Arabic, and Discord refuses a command whose `name_localizations` or
# `description_localizations` use a locale it does not know. So the Arabic reaches users in
# two ways that work today: every default description is bilingual ("English · عربي", within
# Discord's 100-character limit), and replies are in Arabic when the channel's /lang (or a
# locale starting with "ar") says so. `MirsadTranslator` serves the Arabic for any Arabic
# locale discord.py may learn. French is one of Discord's locales (`fr`): every description
# goes with its French `description_localizations`, and replies are in French when the
# channel's /lang (or a French user or server locale) says so.


def bilingual(en: str, ar: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`English · عربي` when it fits Discord's limit, else the English alone."""
    both = f"{en} · {ar}"
    return both if len(both) <= limit else en[:limit]


def _menu_text(key: str) -> locale_str:
    """A command's (`subscribe`) or option's (`subscribe.figure`) description: bilingual
    default, French for Discord's French locale (and pure Arabic for an Arabic one, the day
    Discord has it)."""
    en, ar = texts.description(key, "en"), texts.description(key, "ar")
    return locale_str(bilingual(en, ar), ar=ar, fr=texts.description(key, "fr"))


class MirsadTranslator(app_commands.Translator):
    """Serves a `locale_str`'s text in the locale's language: its `fr` extra to Discord's
    French locale (`fr`), its `ar` extra to an Arabic one.

    discord.py 2.7 asks only for the locales in `discord.Locale`: French is one, so every
    command and option description reaches French users in French (the payload's
    `description_localizations`). Arabic is in neither list, so it adds nothing today, and
    Discord, which refuses unknown locale keys, accepts it; it is ready for the day both
    offer Arabic."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        lang = _locale_code(locale)[:2]
        text = string.extras.get(lang) if lang in ("ar", "fr") else None
        return text if isinstance(text, str) else None


def _locale_code(locale: discord.Locale | None) -> str:
    # An unknown locale (one newer than discord.py) is still an object with a `.value`.
    return str(getattr(locale, "value", "") or "").lower()


# --- the Cog ------------------------------------------------------------------------------

LANG_CHOICES = [
    Choice(name="العربية · Arabic", value="ar"),
    Choice(name="English · الإنجليزية", value="en"),
    Choice(name="Français · French", value="fr"),
]


# /digest's options (issue 13): the mode, and for weekly the day (Monday = mon)
DIGEST_MODES = [
    Choice(name="off · فورًا", value="off"),
    Choice(name="hourly · كل ساعة", value="hourly"),
    Choice(name="daily · يوميًا", value="daily"),
    Choice(name="weekly · أسبوعيًا", value="weekly"),
]
WEEKDAY_CHOICES = [
    Choice(name=f"{en} · {ar}", value=en[:3].lower())
    for en, ar in (
        ("Monday", "الاثنين"),
        ("Tuesday", "الثلاثاء"),
        ("Wednesday", "الأربعاء"),
        ("Thursday", "الخميس"),
        ("Friday", "الجمعة"),
        ("Saturday", "السبت"),
        ("Sunday", "الأحد"),
    )
]


class SubscriptionCog(commands.Cog):
    """The slash commands. Each handler checks, calls `Subscriptions`, and replies."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        sources: Mapping[str, str],
        *,
        require_manage_channels: bool = True,
        stats: Stats | None = None,
    ) -> None:
        self._subs = subscriptions
        self._stats = stats
        self._labels: dict[str, LabelInfo] = {info.id: info for info in subscriptions.labels}
        self._sources = sources
        self._require_manage = require_manage_channels
        needed = discord.Permissions(manage_channels=True) if require_manage_channels else None
        # Per-instance copies (discord.py copies Cog commands): only this bot's tree changes.
        for command in (
            self.subscribe,
            self.unsubscribe,
            self.lang,
            self.follow,
            self.unfollow,
            self.mute,
            self.unmute,
            self.digest,
            self.tz,
            self.quiet,
        ):
            command.default_permissions = needed

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _chat(interaction: discord.Interaction[Any]) -> Chat:
        guild = str(interaction.guild_id) if interaction.guild_id else None
        return Chat(PLATFORM, str(interaction.channel_id), "", guild)

    async def _lang(self, interaction: discord.Interaction[Any], chat: Chat | None) -> str:
        """The channel's /lang, else Arabic or French for a user (else server) locale in one
        of them, else English."""
        chat_lang = await self._subs.lang(chat) if chat is not None else None
        locales = [_locale_code(interaction.locale), _locale_code(interaction.guild_locale)]
        hint = next((code for code in locales if code[:2] in ("ar", "fr")), "en")
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
            await self._answer(interaction, decide.Reply("admins_only"), lang)
            return True
        return False

    def _complete(self, kinds: Sequence[str], current: str) -> list[Choice[str]]:
        """The labels of these kinds (in that order) whose id or a name holds what the user
        has typed so far."""
        wanted = current.strip().casefold()
        choices = [
            Choice(name=bilingual(info.name_en, info.name_ar), value=info.id)
            for kind in kinds
            for info in self._subs.labels
            if info.kind == kind
            and (
                not wanted
                or any(
                    key and wanted in key.casefold()
                    for key in (info.id, info.name_en, info.name_ar, info.name_fr)
                )
            )
        ]
        return choices[:AUTOCOMPLETE_LIMIT]

    async def _answer(
        self, interaction: discord.Interaction[Any], reply: decide.Reply, lang: str
    ) -> None:
        """Render a command's Reply in Discord's wording: public ones for the channel, the
        rest only for the asker; the stories of /latest as one embed under its title."""
        text = texts.render(reply, lang, self._labels, dialect=PLATFORM)
        if reply.stories:
            items = [(a.story, a.match) for a in reply.stories]
            embed = latest_embed(items, self._labels, lang, text, self._sources)
            await self._reply(
                interaction, "", ephemeral=not reply.public, embed=discord.Embed.from_dict(embed)
            )
            return
        await self._reply(interaction, text, ephemeral=not reply.public)

    @staticmethod
    def _log(chat: Chat, command: str, reply: decide.Reply) -> None:
        if reply.changed:
            log.info(
                "discord_command guild=%s channel=%s command=%s outcome=%s",
                chat.guild_id,
                chat.chat_id,
                command,
                reply.key,
            )

    # --- commands -----------------------------------------------------------------------

    # Autocomplete for the label options, shared by the commands (discord.py binds them to
    # the cog because they are defined in it).
    async def _figures(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete(("figure",), current)

    async def _topics(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete(("topic",), current)

    async def _any_label(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return self._complete(decide.KINDS, current)

    async def _change_labels(
        self,
        interaction: discord.Interaction[Any],
        decision: LabelDecision,
        options: Sequence[str | None],
        *,
        must_post: bool,
    ) -> None:
        """/subscribe, /unsubscribe, /follow, /unfollow, /mute, /unmute: who may, then the
        decision on the chosen options."""
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        if await self._refuse_change(interaction, lang):
            return
        if must_post and not self._bot_can_post(interaction):
            await self._answer(interaction, decide.Reply("bot_cannot_post"), lang)
            return
        words = [w for w in options if w and w.strip()]
        reply = await decision(self._subs, chat, words)
        self._log(chat, interaction.command.name if interaction.command else "?", reply)
        await self._answer(interaction, reply, lang)

    @app_commands.command(name="subscribe", description=_menu_text("subscribe"))
    @app_commands.describe(
        figure=_menu_text("subscribe.figure"), topic=_menu_text("subscribe.topic")
    )
    @app_commands.autocomplete(figure=_figures, topic=_topics)
    @app_commands.guild_only()
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        figure: str | None = None,
        topic: str | None = None,
    ) -> None:
        await self._change_labels(interaction, decide.subscribe, (figure, topic), must_post=True)

    @app_commands.command(name="unsubscribe", description=_menu_text("unsubscribe"))
    @app_commands.describe(
        figure=_menu_text("unsubscribe.figure"), topic=_menu_text("unsubscribe.topic")
    )
    @app_commands.autocomplete(figure=_figures, topic=_topics)
    @app_commands.guild_only()
    async def unsubscribe(
        self,
        interaction: discord.Interaction[Any],
        figure: str | None = None,
        topic: str | None = None,
    ) -> None:
        await self._change_labels(interaction, decide.unsubscribe, (figure, topic), must_post=False)

    @app_commands.command(name="list", description=_menu_text("list"))
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        await self._answer(interaction, await decide.show_list(self._subs, chat), lang)

    @app_commands.command(name="topics", description=_menu_text("topics"))
    async def topics(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction) if interaction.guild_id else None
        lang = await self._lang(interaction, chat)
        await self._answer(interaction, await decide.topics(self._subs, chat), lang)

    @app_commands.command(name="latest", description=_menu_text("latest"))
    async def latest(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat if interaction.guild_id else None)
        await self._answer(interaction, await decide.latest(self._subs, chat), lang)

    @app_commands.command(name="lang", description=_menu_text("lang"))
    @app_commands.describe(language=_menu_text("lang.language"))
    @app_commands.choices(language=LANG_CHOICES)
    @app_commands.guild_only()
    async def lang(
        self, interaction: discord.Interaction[Any], language: str | None = None
    ) -> None:
        # `str`, not `Choice[str]`: Discord's client offers only the choices, but a crafted
        # client may send any value, which discord.py would turn into an error before this
        # handler runs (issue 17 item 8); core.commands answers it with the usage instead.
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat)
        if language is not None and await self._refuse_change(interaction, lang):
            return
        reply = await decide.set_lang(self._subs, chat, language, lang)
        self._log(chat, "lang", reply)
        await self._answer(interaction, reply, lang)

    @app_commands.command(name="stats", description=_menu_text("stats"))
    @app_commands.describe(label=_menu_text("stats.label"), days=_menu_text("stats.days"))
    @app_commands.autocomplete(label=_any_label)
    async def stats(
        self,
        interaction: discord.Interaction[Any],
        label: str | None = None,
        days: app_commands.Range[int, 1, MAX_DAYS] | None = None,
    ) -> None:
        """A chart of matching stories per day (core/stats.py decides), as an embed with the
        PNG attached; a bad label is answered to the asker alone."""
        chat = self._chat(interaction)
        lang = await self._lang(interaction, chat if interaction.guild_id else None)
        if self._stats is None:
            await self._answer(interaction, decide.Reply("error"), lang)
            return
        words = [w for w in (label, None if days is None else str(days)) if w and w.strip()]
        planned = await self._stats.plan(chat, words, lang)
        if isinstance(planned, StatsReply):
            await self._reply(interaction, planned.text, ephemeral=True)
            return
        # Drawing may take longer than the 3 s Discord gives an answer: acknowledge first.
        await interaction.response.defer(thinking=True)
        reply = await self._stats.draw(planned)
        assert reply.png is not None
        embed = discord.Embed(
            title=truncate(planned.chart.title, 256),
            description=truncate(neutralise_mentions(reply.text), 4096),
            colour=0x0072B2,
        )
        embed.set_image(url=f"attachment://{STATS_FILE}")
        await interaction.followup.send(
            embed=embed,
            file=discord.File(io.BytesIO(reply.png), filename=STATS_FILE),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        log.info(
            "discord_command guild=%s channel=%s command=stats labels=%s days=%d",
            chat.guild_id,
            chat.chat_id,
            ",".join(reply.labels),
            reply.days,
        )

    # --- issue 13: the channel's own words, silenced labels ---------------------------

    @app_commands.command(name="follow", description=_menu_text("follow"))
    @app_commands.describe(words=_menu_text("follow.words"))
    @app_commands.guild_only()
    async def follow(self, interaction: discord.Interaction[Any], words: str) -> None:
        await self._change_labels(interaction, _follow, (words,), must_post=True)

    @app_commands.command(name="unfollow", description=_menu_text("unfollow"))
    @app_commands.describe(words=_menu_text("unfollow.words"))
    @app_commands.guild_only()
    async def unfollow(self, interaction: discord.Interaction[Any], words: str) -> None:
        await self._change_labels(interaction, _unfollow, (words,), must_post=False)

    @unfollow.autocomplete("words")
    async def _unfollow_words(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        wanted = current.strip().casefold()
        found = [
            f.text
            for f in await self._subs.follows(self._chat(interaction))
            if wanted in f.text.casefold()
        ]
        # a phrase goes back in quotes, so /unfollow reads it as one phrase
        return [
            Choice(name=text[:100], value=f'"{text}"' if " " in text else text)
            for text in found[:AUTOCOMPLETE_LIMIT]
        ]

    @app_commands.command(name="mute", description=_menu_text("mute"))
    @app_commands.describe(label=_menu_text("mute.label"), duration=_menu_text("mute.duration"))
    @app_commands.autocomplete(label=_any_label)
    @app_commands.guild_only()
    async def mute(
        self, interaction: discord.Interaction[Any], label: str, duration: str | None = None
    ) -> None:
        await self._change_labels(interaction, decide.mute, (label, duration), must_post=False)

    @app_commands.command(name="unmute", description=_menu_text("unmute"))
    @app_commands.describe(label=_menu_text("unmute.label"))
    @app_commands.guild_only()
    async def unmute(self, interaction: discord.Interaction[Any], label: str) -> None:
        await self._change_labels(interaction, decide.unmute, (label,), must_post=False)

    @unmute.autocomplete("label")
    async def _unmute_label(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        muted = {m.label for m in await self._subs.mutes(self._chat(interaction))}
        return [c for c in self._complete(decide.KINDS, current) if c.value in muted]

    # issue 13: when the channel hears its alerts

    @app_commands.command(name="digest", description=_menu_text("digest"))
    @app_commands.describe(
        mode=_menu_text("digest.mode"), time=_menu_text("digest.time"), day=_menu_text("digest.day")
    )
    @app_commands.choices(mode=DIGEST_MODES, day=WEEKDAY_CHOICES)
    @app_commands.guild_only()
    async def digest(
        self,
        interaction: discord.Interaction[Any],
        mode: str,
        time: str | None = None,
        day: str | None = None,
    ) -> None:
        # the options in the order /digest reads typed words: `weekly mon 08:00`
        words: list[str | None] = [mode]
        if mode in ("daily", "weekly"):
            if mode == "weekly":
                words.append(day or "mon")
            words.append(time or "08:00")
        await self._change_labels(interaction, decide.digest, words, must_post=False)

    @app_commands.command(name="tz", description=_menu_text("tz"))
    @app_commands.describe(zone=_menu_text("tz.zone"))
    @app_commands.guild_only()
    async def tz(self, interaction: discord.Interaction[Any], zone: str) -> None:
        await self._change_labels(interaction, decide.set_tz, (zone,), must_post=False)

    @tz.autocomplete("zone")
    async def _zone(self, interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
        return [Choice(name=z, value=z) for z in decide.zones_like(current)[:AUTOCOMPLETE_LIMIT]]

    @app_commands.command(name="quiet", description=_menu_text("quiet"))
    @app_commands.describe(window=_menu_text("quiet.window"))
    @app_commands.guild_only()
    async def quiet(self, interaction: discord.Interaction[Any], window: str) -> None:
        await self._change_labels(interaction, decide.quiet, (window,), must_post=False)

    @app_commands.command(name="help", description=_menu_text("help"))
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        chat = self._chat(interaction) if interaction.guild_id else None
        lang = await self._lang(interaction, chat)
        await self._answer(interaction, decide.show_help(), lang)

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
            key = "guild_only"
        elif isinstance(error, app_commands.CheckFailure):
            key = "admins_only"
        else:
            log.error(
                "discord_command_error command=%s guild=%s channel=%s",
                interaction.command.name if interaction.command else "?",
                interaction.guild_id,
                interaction.channel_id,
                exc_info=error,
            )
            key = "error"
        try:
            await self._answer(interaction, decide.Reply(key), lang)
        except discord.HTTPException:  # the interaction expired (3 s) or was already answered
            log.warning("discord_error_reply_failed interaction=%s", interaction.id)
