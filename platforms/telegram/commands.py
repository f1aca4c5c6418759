"""Telegram: python-telegram-bot handlers and the platform wiring (issue 4).

Commands flow: PTB update -> a thin handler here (who is asking, where, may they change
things?) -> one call to `core.subscriptions.Subscriptions` -> a reply from
`core.texts`. Alerts flow the other way, through the outbox and `TelegramSender`.

- Private chats, groups, supergroups (a forum topic is its own subscription: the alert goes
  to the topic where /subscribe was sent) and channels (commands arrive as channel posts).
- In groups only administrators (creator/administrator, or an anonymous admin posting as the
  group) may change the subscription or the language; in channels only when the bot is an
  administrator there. Everyone else gets a polite refusal and nothing changes.
- Replies in the chat's /lang, else the user's client language (ar -> Arabic, any other ->
  English), else Arabic. A private chat's first /subscribe remembers the user's language so
  the alerts use it too.
- `my_chat_member`: bot removed, kicked or blocked -> the chat's subscriptions are paused with
  the reason; added back + /subscribe -> active again. A group that becomes a supergroup
  (service message with `migrate_to_chat_id`) moves its subscriptions.

The application is run by hand (initialize, start, start_polling) because Discord and the
scheduler share the event loop (ARCHITECTURE.md). The token is never logged; the Bot API
server is configurable (`telegram.api_base_url`) for self-hosted Bot API servers and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from telegram import (
    CallbackQuery,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from core import commands, texts
from core.pause import PauseCode, PauseReason
from core.stats import Stats
from core.subscriptions import Chat, Subscriptions
from models import LabelInfo
from platforms.telegram.render import render_latest
from store import SubscriptionStore

log = logging.getLogger("mirsad.telegram")

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "channel_post", "callback_query", "my_chat_member"]
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
BUTTON_PREFIX = "t:"
DIGEST_BUTTON_PREFIX = "d:"  # a mode button under /digest
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit
REPLY_RETRIES = (
    2  # a command reply refused with 429 is retried this often (the outbox handles alerts)
)

Context = ContextTypes.DEFAULT_TYPE
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class _Asker:
    """Where a command or a button press came from, and in which language to answer."""

    chat: Chat
    kind: str  # private | group | supergroup | channel
    lang: str
    user_lang: str | None


class TelegramHandlers:
    """The command, button and membership handlers. Register them with `register(app)`."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        store: SubscriptionStore,
        tz: tzinfo,
        clock: Callable[[], datetime],
        *,
        sources: Mapping[str, str] | None = None,
        stats: Stats | None = None,
    ) -> None:
        self._subs = subscriptions
        self._stats = stats
        self._store = store
        self._tz = tz
        self._clock = clock
        self._sources = dict(sources or {})
        self._labels: dict[str, LabelInfo] = {info.id: info for info in subscriptions.labels}
        self.offered: tuple[str, ...] = texts.COMMANDS  # narrowed by `register`

    def register(self, app: TelegramApp) -> None:
        # Commands as messages or channel posts; an edited command is not run again.
        where = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        commands: list[tuple[str, Callable[[Update, Context], Any]]] = [
            ("start", self.start),
            ("help", self.help),
            ("subscribe", self.subscribe),
            ("unsubscribe", self.unsubscribe),
            ("list", self.list),
            ("topics", self.topics),
            ("latest", self.latest),
            ("lang", self.lang),
            ("follow", self.follow),
            ("unfollow", self.unfollow),
            ("mute", self.mute),
            ("unmute", self.unmute),
            ("digest", self.digest),
            ("tz", self.tz),
            ("quiet", self.quiet),
        ]
        if self._stats is not None:
            commands.append(("stats", self.stats))
        handled = {name for name, _ in commands}
        # what the menu and the unknown-command reply offer: /stats only where it is on
        self.offered = tuple(c for c in texts.COMMANDS if c in handled)
        for name, callback in commands:
            app.add_handler(CommandHandler(name, callback, filters=where))
        app.add_handler(MessageHandler(filters.COMMAND & where, self.unknown_command))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.migrated))
        app.add_handler(CallbackQueryHandler(self.button, pattern=f"^{BUTTON_PREFIX}"))
        app.add_handler(
            CallbackQueryHandler(self.digest_button, pattern=f"^{DIGEST_BUTTON_PREFIX}")
        )
        app.add_handler(ChatMemberHandler(self.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.error)

    # -- who is asking --------------------------------------------------------------------

    async def _asker(self, update: Update) -> _Asker | None:
        message = update.effective_message
        tg_chat = update.effective_chat
        if message is None or tg_chat is None:
            return None
        thread = ""
        if message.is_topic_message and message.message_thread_id:
            thread = str(message.message_thread_id)
        chat = Chat(PLATFORM, str(tg_chat.id), thread)
        user = update.effective_user
        user_lang = user.language_code if user is not None and not user.is_bot else None
        lang = texts.pick_lang(await self._subs.lang(chat), user_lang)
        return _Asker(chat, tg_chat.type, lang, user_lang)

    async def _refusal(self, update: Update, asker: _Asker, context: Context) -> str | None:
        """None if the sender may change this chat's subscription, else the refusal text key."""
        if asker.kind == ChatType.PRIVATE:
            return None
        chat_id = int(asker.chat.chat_id)
        try:
            if asker.kind == ChatType.CHANNEL:
                me = await context.bot.get_chat_member(chat_id, context.bot.id)
                return None if me.status in ADMIN_STATUSES else "channel_needs_admin"
            message = update.effective_message
            if (
                message is not None
                and message.sender_chat is not None
                and message.sender_chat.id == chat_id
            ):
                return None  # an anonymous administrator, posting as the group itself
            user = update.effective_user
            if user is None or user.is_bot:
                return "admins_only"
            member = await context.bot.get_chat_member(chat_id, user.id)
        except TelegramError as exc:  # cannot check: refuse rather than let anyone in
            log.warning(
                "telegram_admin_check_failed chat=%s reason=%r", asker.chat.chat_id, exc.message
            )
            return "admins_only"
        return None if member.status in ADMIN_STATUSES else "admins_only"

    async def _reply(
        self,
        update: Update,
        context: Context,
        text: str,
        *,
        html: bool = False,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        """Answer in the same chat and forum topic, quoting the command outside private chats."""
        message = update.effective_message
        if message is None:
            return None
        quote = None
        if message.chat.type != ChatType.PRIVATE:
            quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        bot: Any = context.bot  # ExtBot[None] in PTB's default typing; ours has a rate limiter
        sent: Message = await bot.send_message(
            chat_id=message.chat.id,
            text=text,
            parse_mode=ParseMode.HTML if html else None,
            message_thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_parameters=quote,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            rate_limit_args=REPLY_RETRIES,
        )
        return sent

    def _log(self, asker: _Asker, command: str, outcome: str) -> None:
        log.info(
            "telegram_command chat=%s thread=%s command=%s outcome=%s",
            asker.chat.chat_id,
            asker.chat.thread_id or "-",
            command,
            outcome,
        )

    def _names(self, ids: Sequence[str], lang: str) -> str:
        return texts.names(ids, self._labels, lang)

    def _keyboard(self, followed: Sequence[str], lang: str) -> InlineKeyboardMarkup:
        buttons = [
            InlineKeyboardButton(
                ("✅ " if info.id in followed else "➕ ") + info.name(lang),
                callback_data=BUTTON_PREFIX + info.id,
            )
            for info in self._labels.values()
            if len((BUTTON_PREFIX + info.id).encode()) <= MAX_CALLBACK_DATA
        ]
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    @staticmethod
    def _digest_keyboard(lang: str) -> InlineKeyboardMarkup:
        """The modes /digest offers as buttons, two a row (other times can be typed)."""
        buttons = [
            InlineKeyboardButton(
                texts.t(f"digest_button_{mode}", lang),
                callback_data=DIGEST_BUTTON_PREFIX + mode,
            )
            for mode in commands.DIGEST_CHOICES
        ]
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    def _render(self, reply: commands.Reply, lang: str) -> str:
        return texts.render(reply, lang, self._labels)

    async def _answer(
        self, update: Update, context: Context, asker: _Asker, reply: commands.Reply, command: str
    ) -> None:
        """Render a command's Reply: its text, the stories of /latest as HTML links, the
        toggle buttons when it offers the labels to choose; then log the outcome."""
        lang = asker.lang
        if reply.stories:
            sources = self._sources
            items = [
                (a.story, sources.get(a.story.feed_id, a.story.feed_id)) for a in reply.stories
            ]
            html = render_latest(self._render(reply, lang), items, lang=lang, tz=self._tz)
            await self._reply(update, context, html, html=True)
        elif reply.choose:  # the toggle buttons, under the reply
            text = self._render(reply, lang) + "\n\n" + texts.t("choose", lang)
            markup = self._keyboard(reply.followed or (), lang)
            await self._reply(update, context, text, markup=markup)
        else:
            await self._reply(update, context, self._render(reply, lang))
        self._log(asker, command, reply.key)

    # -- commands -------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: welcome and how to use."""
        if asker := await self._asker(update):
            await self._answer(update, context, asker, commands.start(), "start")

    async def help(self, update: Update, context: Context) -> None:
        """/help: every command."""
        if asker := await self._asker(update):
            await self._answer(update, context, asker, commands.show_help(), "help")

    async def _change(
        self, update: Update, context: Context, command: str
    ) -> tuple[_Asker, list[str]] | None:
        """Who asks to change this chat, and their words; None (answered) if they may not."""
        asker = await self._asker(update)
        if asker is None:
            return None
        if refusal := await self._refusal(update, asker, context):
            await self._answer(update, context, asker, commands.Reply(refusal), command)
            return None
        return asker, list(context.args or [])

    async def subscribe(self, update: Update, context: Context) -> None:
        """/subscribe [ids]: add labels (none: the defaults, with toggle buttons)."""
        asked = await self._change(update, context, "subscribe")
        if asked is None:
            return
        asker, words = asked
        # a private chat takes its user's client language for its alerts
        private = asker.kind == ChatType.PRIVATE and asker.user_lang is not None
        remember = asker.lang if private else None
        reply = await commands.subscribe(self._subs, asker.chat, words, remember_lang=remember)
        await self._answer(update, context, asker, reply, "subscribe")

    async def unsubscribe(self, update: Update, context: Context) -> None:
        """/unsubscribe [ids]: remove some labels, or all of them."""
        asked = await self._change(update, context, "unsubscribe")
        if asked is None:
            return
        asker, words = asked
        reply = await commands.unsubscribe(self._subs, asker.chat, words)
        await self._answer(update, context, asker, reply, "unsubscribe")

    async def list(self, update: Update, context: Context) -> None:
        """/list: what this chat (or forum topic) receives."""
        asker = await self._asker(update)
        if asker is None:
            return
        reply = await commands.show_list(self._subs, asker.chat)
        await self._answer(update, context, asker, reply, "list")

    async def topics(self, update: Update, context: Context) -> None:
        """/topics: what can be followed, with names in the asker's language."""
        if asker := await self._asker(update):
            reply = await commands.topics(self._subs, asker.chat)
            await self._answer(update, context, asker, reply, "topics")

    async def latest(self, update: Update, context: Context) -> None:
        """/latest: the last 5 stories matching this chat's labels (all labels if none)."""
        if asker := await self._asker(update):
            reply = await commands.latest(self._subs, asker.chat)
            await self._answer(update, context, asker, reply, "latest")

    async def stats(self, update: Update, context: Context) -> None:
        """/stats [id] [days]: a chart of matching stories per day, with a one-line summary
        (decided by core/stats.py; sent as a photo with the summary as its caption)."""
        asker = await self._asker(update)
        message = update.effective_message
        if asker is None or message is None or self._stats is None:
            return
        reply = await self._stats.stats(asker.chat, list(context.args or []), asker.lang)
        if reply.png is None:
            await self._reply(update, context, reply.text)
        else:
            quote = None
            if message.chat.type != ChatType.PRIVATE:
                quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
            bot: Any = context.bot  # ExtBot with our rate limiter (see _reply)
            await bot.send_photo(
                chat_id=message.chat.id,
                photo=reply.png,
                caption=reply.text,  # one line, far below the 1,024-character caption limit
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
                reply_parameters=quote,
                rate_limit_args=REPLY_RETRIES,
            )
        self._log(asker, "stats", f"{reply.kind} labels={','.join(reply.labels) or '-'}")

    async def lang(self, update: Update, context: Context) -> None:
        """/lang ar|en|fr: the chat's language for replies and alerts."""
        asker = await self._asker(update)
        if asker is None:
            return
        args = [a.lower() for a in context.args or []]
        wanted = args[0] if len(args) == 1 else None
        if wanted in texts.LANGS and (refusal := await self._refusal(update, asker, context)):
            await self._answer(update, context, asker, commands.Reply(refusal), "lang")
            return
        reply = await commands.set_lang(self._subs, asker.chat, wanted, asker.lang)
        await self._answer(update, context, asker, reply, "lang")

    async def _changing(
        self,
        update: Update,
        context: Context,
        command: str,
        decide: Callable[[Chat, Sequence[str]], Awaitable[commands.Reply]],
    ) -> None:
        """A command that changes what the chat receives: admins only (as /subscribe), one
        decision of core.commands, its Reply rendered."""
        asked = await self._change(update, context, command)
        if asked is None:
            return
        asker, words = asked
        reply = await decide(asker.chat, words)
        markup = self._digest_keyboard(asker.lang) if reply.pick == "digest" else None
        await self._reply(update, context, self._render(reply, asker.lang), markup=markup)
        self._log(asker, command, reply.key)

    async def follow(self, update: Update, context: Context) -> None:
        """/follow <words>: the chat's own words and "phrases in quotes" (issue 13)."""
        await self._changing(
            update,
            context,
            "follow",
            lambda chat, words: commands.follow(self._subs, chat, " ".join(words)),
        )

    async def unfollow(self, update: Update, context: Context) -> None:
        """/unfollow <words>: stop following some of the chat's own words."""
        await self._changing(
            update,
            context,
            "unfollow",
            lambda chat, words: commands.unfollow(self._subs, chat, " ".join(words)),
        )

    async def mute(self, update: Update, context: Context) -> None:
        """/mute <id> [duration]: silence a label for a while, keeping the subscription."""
        await self._changing(
            update, context, "mute", lambda chat, words: commands.mute(self._subs, chat, words)
        )

    async def unmute(self, update: Update, context: Context) -> None:
        """/unmute <id>: a muted label's alerts come back."""
        await self._changing(
            update, context, "unmute", lambda chat, words: commands.unmute(self._subs, chat, words)
        )

    async def digest(self, update: Update, context: Context) -> None:
        """/digest off|hourly|daily HH:MM|weekly <day> HH:MM: one digest instead of a message
        per story (none: the current mode and buttons to pick one)."""
        await self._changing(
            update, context, "digest", lambda chat, words: commands.digest(self._subs, chat, words)
        )

    async def tz(self, update: Update, context: Context) -> None:
        """/tz <zone>: the zone of the chat's digest times and quiet hours."""
        await self._changing(
            update, context, "tz", lambda chat, words: commands.set_tz(self._subs, chat, words)
        )

    async def quiet(self, update: Update, context: Context) -> None:
        """/quiet HH:MM-HH:MM|off: alerts inside the window wait and come as one digest."""
        await self._changing(
            update, context, "quiet", lambda chat, words: commands.quiet(self._subs, chat, words)
        )

    async def unknown_command(self, update: Update, context: Context) -> None:
        """A command we do not know: a one-line list of the valid ones.

        In groups and channels only when it is addressed to us (`/foo@ourbot`): a bare
        `/foo` there may belong to another bot."""
        message = update.effective_message
        asker = await self._asker(update)
        if message is None or asker is None or not message.text:
            return
        first = message.text.split(maxsplit=1)[0]
        _, _, target = first.partition("@")
        mine = target.lower() == (context.bot.username or "").lower()
        if target and not mine:
            return  # /subscribe@OtherBot: not for us
        if asker.kind != ChatType.PRIVATE and not mine:
            return
        await self._answer(
            update, context, asker, commands.unknown_command(self.offered), "unknown"
        )

    # -- buttons ----------------------------------------------------------------------------

    async def _button_asker(
        self, update: Update, context: Context
    ) -> tuple[CallbackQuery, _Asker] | None:
        """Who pressed a button, in which chat; None (answered) when the message is too old
        or, outside private chats, the user is not an administrator."""
        query = update.callback_query
        if query is None:
            return None
        message = query.message
        user_lang = query.from_user.language_code if query.from_user else None
        if not isinstance(message, Message):  # too old: Telegram no longer shows it to us
            await query.answer(texts.t("button_expired", texts.pick_lang(None, user_lang)))
            return None
        thread = (
            str(message.message_thread_id)
            if message.is_topic_message and message.message_thread_id
            else ""
        )
        chat = Chat(PLATFORM, str(message.chat.id), thread)
        lang = texts.pick_lang(await self._subs.lang(chat), user_lang)
        asker = _Asker(chat, message.chat.type, lang, user_lang)
        if asker.kind != ChatType.PRIVATE:
            try:
                member = await context.bot.get_chat_member(message.chat.id, query.from_user.id)
                allowed = member.status in ADMIN_STATUSES
            except TelegramError:
                allowed = False
            if not allowed:
                await query.answer(
                    self._render(commands.Reply("admins_only"), lang), show_alert=True
                )
                self._log(asker, "button", "refused")
                return None
        return query, asker

    async def digest_button(self, update: Update, context: Context) -> None:
        """A mode button under /digest: set it, and the message says what was chosen."""
        pressed = await self._button_asker(update, context)
        if pressed is None:
            return
        query, asker = pressed
        mode = (query.data or "")[len(DIGEST_BUTTON_PREFIX) :]
        reply = await commands.digest(self._subs, asker.chat, [mode])
        text = self._render(reply, asker.lang)
        try:
            await query.edit_message_text(text)  # the buttons go: the choice is made
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        await query.answer()
        self._log(asker, "digest_button", f"{reply.key} mode={mode}")

    async def button(self, update: Update, context: Context) -> None:
        """A toggle button under /subscribe: flip one label, redraw the message in place."""
        pressed = await self._button_asker(update, context)
        if pressed is None:
            return
        query, asker = pressed
        chat, lang = asker.chat, asker.lang
        label = (query.data or "")[len(BUTTON_PREFIX) :]
        reply = await commands.toggle(self._subs, chat, label)
        if reply.followed is None:  # nothing changed: no message to redraw
            await query.answer(self._render(reply, lang))
            return
        # the message the buttons sit under shows what the chat receives now
        now = commands.Reply("list", fields={"labels": commands.Labels(reply.followed)})
        text = self._render(now, lang) + "\n\n" + texts.t("choose", lang)
        try:
            await query.edit_message_text(text, reply_markup=self._keyboard(reply.followed, lang))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        await query.answer(self._render(reply, lang))
        self._log(asker, "button", f"{reply.key} label={label}")

    # -- membership and migration -----------------------------------------------------------

    async def my_chat_member(self, update: Update, context: Context) -> None:
        """The bot was added, removed, blocked or demoted somewhere."""
        change = update.my_chat_member
        if change is None:
            return
        chat = change.chat
        new = change.new_chat_member
        reason: PauseReason | None = None
        if new.status == ChatMemberStatus.BANNED:
            code: PauseCode = "blocked" if chat.type == ChatType.PRIVATE else "kicked"
            reason = PauseReason(code, f"my_chat_member: {new.status}")
        elif new.status == ChatMemberStatus.LEFT:
            reason = PauseReason("removed", f"my_chat_member: {new.status}")
        elif isinstance(new, ChatMemberRestricted) and not new.can_send_messages:
            reason = PauseReason("no_permission", "restricted: may not send messages")
        elif chat.type == ChatType.CHANNEL and new.status not in ADMIN_STATUSES:
            reason = PauseReason("no_permission", "no longer an administrator of the channel")
        if reason is None:
            log.info("telegram_membership chat=%s status=%s", chat.id, new.status)
            return
        paused = await self._subs.pause(Chat(PLATFORM, str(chat.id)), reason)
        log.info(
            "telegram_chat_paused chat=%s subscriptions=%d reason=%r",
            chat.id,
            paused,
            reason.stored(),
        )

    async def migrated(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its subscriptions follow it to the new id."""
        message = update.effective_message
        if message is None or not message.migrate_to_chat_id:
            return  # the twin service message in the new supergroup (migrate_from_chat_id)
        old, new = str(message.chat.id), str(message.migrate_to_chat_id)
        await self._subs.migrate(PLATFORM, old, new)
        log.info("telegram_chat_migrated from=%s to=%s", old, new)

    async def error(self, update: object, context: Context) -> None:
        """Log first (with the update id, never the token), then tell the user if we can."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram_handler_error update=%s", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_message is None:
            return
        try:
            lang = texts.pick_lang(
                None, update.effective_user.language_code if update.effective_user else None
            )
            await update.effective_message.reply_text(texts.t("error", lang))
        except TelegramError:
            pass
