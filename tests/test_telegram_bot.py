"""Telegram commands, buttons and permissions: the real python-telegram-bot client, over HTTP,
against the fake Bot API server (tests/fake_telegram.py). Each test asserts what reached the
chat and what the store holds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.subscriptions import Subscriptions
from models import Evidence, Match, Story
from platforms.telegram.platform import TelegramPlatform
from store import FeedUpdate, Store
from tests.fake_telegram import Chat, FakeTelegram, Sent, fake_telegram, real_labels, scaled, user  # noqa: F401

TZ = ZoneInfo("Africa/Casablanca")
ALL_IDS = [info.id for info in real_labels()]
DEFAULT_IDS = [info.id for info in real_labels() if info.default]


@dataclass
class Env:
    fake: FakeTelegram
    platform: TelegramPlatform
    store: Store
    subs: Subscriptions

    async def say(self, chat: Chat, text: str, **kwargs: Any) -> Sent:
        """Send `text` into `chat` and return the bot's answer there."""
        before = len(self.fake.messages(chat.id))
        self.fake.push(self.fake.command(chat, text, **kwargs))
        return await self.fake.wait_for_message(chat.id, before + 1)

    async def ignored(self, chat: Chat, text: str, **kwargs: Any) -> None:
        """Send `text`, then a probe /help: only the probe may be answered (updates are handled
        in order, so once the probe's answer is there the first update was handled)."""
        before = len(self.fake.messages(chat.id))
        self.fake.push(self.fake.command(chat, text, **kwargs))
        probe = kwargs.get("from_user")
        self.fake.push(self.fake.command(chat, "/help@mirsad_bot", from_user=probe))
        answer = await self.fake.wait_for_message(chat.id, before + 1)
        assert answer.visible.startswith(("الأوامر", "Commands")), answer.visible
        assert len(self.fake.messages(chat.id)) == before + 1

    async def labels(self, chat: Chat, thread: str = "") -> tuple[str, ...] | None:
        sub = await self.store.subscription("telegram", str(chat.id), thread)
        return None if sub is None else (sub.labels if sub.active else ())


@pytest.fixture
async def env(fake_telegram: FakeTelegram, store: Store, clock: Any) -> AsyncIterator[Env]:
    limiter = scaled(fake_telegram, 0.05)
    subs = Subscriptions(store, real_labels(), clock)
    platform = TelegramPlatform(
        token=fake_telegram.token,
        api_base_url=fake_telegram.api_base_url,
        subscriptions=subs,
        store=store,
        tz=TZ,
        clock=clock,
        limiter=limiter,
        poll_timeout=0.5,
    )
    await platform.start()
    yield Env(fake_telegram, platform, store, subs)
    await platform.stop()
    assert fake_telegram.rate_limited == []  # no test here may trip Telegram's flood limits


async def test_start_registers_menus_and_asks_for_the_updates_it_handles(
    env: Env, caplog: Any
) -> None:
    fake = env.fake
    menus = fake.commands
    assert set(menus) == {
        ("default", ""),
        ("default", "ar"),
        ("default", "en"),
        ("default", "fr"),
    }
    assert [c["command"] for c in menus[("default", "ar")]] == [
        "start",
        "help",
        "subscribe",
        "unsubscribe",
        "list",
        "topics",
        "latest",
        "lang",  # no /stats: this bot has no stats (menu and handlers agree)
        "follow",
        "unfollow",
        "mute",
        "unmute",
        "digest",
        "tz",
        "quiet",
    ]
    assert menus[("default", "ar")][2]["description"] == "اشترك في شخصيات ومواضيع"
    french = {c["command"]: c["description"] for c in menus[("default", "fr")]}
    assert french["subscribe"] == "S'abonner à des personnalités et des sujets"
    assert french["lang"] == "Langue des réponses (ar, fr ou en)"
    assert menus[("default", "")] == menus[("default", "en")]
    await fake.wait_until(lambda: any(m == "getUpdates" for m, _ in fake.calls))
    polls = [p for m, p in fake.calls if m == "getUpdates" and p.get("allowed_updates")]
    assert {"message", "channel_post", "callback_query", "my_chat_member"} <= set(
        polls[0]["allowed_updates"]
    )


async def test_start_and_help_in_the_users_language(env: Env) -> None:
    ar = env.fake.private_chat(101, language_code="ar")
    en = env.fake.private_chat(102, language_code="en-GB")
    fr = env.fake.private_chat(103, language_code="fr")
    assert (await env.say(ar, "/start")).visible.startswith("مرحبًا! أنا مرصاد")
    assert (await env.say(en, "/start")).visible.startswith("Hello! I am Mirsad")
    assert (await env.say(fr, "/help")).visible.startswith("Commandes :\n/subscribe")
    assert (await env.say(ar, "/help")).visible.startswith("الأوامر:")
    no_lang = env.fake.private_chat(104, language_code=None)
    assert (await env.say(no_lang, "/start")).visible.startswith("مرحبًا")  # Arabic by default


async def test_subscribe_without_arguments_gives_defaults_and_buttons(env: Env) -> None:
    chat = env.fake.private_chat(201, language_code="ar")
    reply = await env.say(chat, "/subscribe")
    assert reply.visible.startswith(
        "تم الاشتراك. هذه المحادثة تتلقى الآن: سام ألتمان، إيلون ماسك، ترامب"
    )
    assert await env.labels(chat) == tuple(DEFAULT_IDS)
    buttons = reply.buttons()
    assert [data for _, data in buttons] == ["t:" + i for i in ALL_IDS]
    assert all(text.startswith("✅ ") for text, data in buttons if data[2:] in DEFAULT_IDS)
    assert reply.parse_mode is None  # plain text: nothing a user typed is ever read as markup


async def test_french_client_gets_french_reply_and_buttons(env: Env) -> None:
    chat = env.fake.private_chat(206, language_code="fr-FR")
    reply = await env.say(chat, "/subscribe")
    assert reply.visible.startswith(
        "Abonnement enregistré. Cette conversation reçoit désormais : Sam Altman, Elon Musk, "
        "Donald Trump, Intelligence artificielle, Politique de l'IA\n\nTouchez pour suivre une "
        "personnalité ou un sujet, ou pour ne plus le suivre :"
    )
    assert [text for text, _ in reply.buttons()] == [
        "✅ Sam Altman",
        "✅ Elon Musk",
        "✅ Donald Trump",
        "✅ Intelligence artificielle",
        "✅ Politique de l'IA",
    ]
    assert await env.store.chat_lang("telegram", str(chat.id)) == "fr"  # alerts in French too
    fake = env.fake
    fake.push(fake.press(reply, "t:ai", from_user=user(206, "fr")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 1)
    assert fake.callback_answers[0]["text"] == "Vous ne suivez plus : Intelligence artificielle"
    now = fake.message(chat.id, reply.message_id)  # redrawn in place, still in French
    assert "➕ Intelligence artificielle" in [text for text, _ in now.buttons()]


async def test_button_press_toggles_and_redraws_in_place(env: Env) -> None:
    chat = env.fake.private_chat(202, language_code="en")
    reply = await env.say(chat, "/subscribe")
    fake = env.fake
    fake.push(fake.press(reply, "t:musk", from_user=user(202, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 1)
    assert "musk" not in (await env.labels(chat) or ())
    assert fake.callback_answers[0]["text"] == "No longer following: Elon Musk"
    now = fake.message(chat.id, reply.message_id)  # the same message, edited
    assert ("➕ Elon Musk", "t:musk") in now.buttons()
    assert now.visible.startswith("This chat receives alerts about: Sam Altman, Donald Trump")
    assert len(fake.messages(chat.id)) == 1  # no new message, the old one changed
    fake.push(fake.press(now, "t:musk", from_user=user(202, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 2)
    assert "musk" in (await env.labels(chat) or ())
    assert fake.callback_answers[1]["text"] == "Now following: Elon Musk"
    assert ("✅ Elon Musk", "t:musk") in fake.message(chat.id, reply.message_id).buttons()
    fake.push(fake.press(now, "t:nonexistent", from_user=user(202, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 3)
    assert fake.callback_answers[2]["text"].startswith("This button is out of date")


async def test_digest_offers_its_modes_as_buttons_and_a_press_sets_one(env: Env) -> None:
    chat = env.fake.private_chat(207, language_code="en")
    await env.say(chat, "/subscribe trump")
    reply = await env.say(chat, "/digest")
    assert reply.visible.startswith("Digest now: off (time zone UTC).")
    assert reply.buttons() == [
        ("At once", "d:off"),
        ("Hourly", "d:hourly"),
        ("Daily 08:00", "d:daily 08:00"),
        ("Weekly Mon 08:00", "d:weekly mon 08:00"),
    ]
    fake = env.fake
    fake.push(fake.press(reply, "d:daily 08:00", from_user=user(207, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 1)
    now = fake.message(chat.id, reply.message_id)  # the choice replaces the buttons
    assert now.visible.startswith("Digest: daily 08:00, UTC time. The next one: 2026-02-12 08:00")
    assert now.buttons() == []
    stored = await env.store.chat_rhythm("telegram", str(chat.id))
    assert (stored.digest, stored.tz, stored.quiet) == ("daily 08:00", None, None)


async def test_subscribe_with_ids_and_names(env: Env) -> None:
    chat = env.fake.private_chat(203, language_code="en")
    reply = await env.say(chat, "/subscribe musk ai_policy")
    assert reply.visible == "Subscribed. This chat now receives: Elon Musk, AI Policy"
    assert reply.buttons() == []
    assert await env.labels(chat) == ("musk", "ai_policy")
    reply = await env.say(chat, "/subscribe ترامب")  # an Arabic display name works too
    assert reply.visible == "Subscribed. This chat now receives: Elon Musk, Donald Trump, AI Policy"
    reply = await env.say(chat, "/subscribe trump")
    assert reply.visible == "This chat already receives: Elon Musk, Donald Trump, AI Policy"
    # the user's language was remembered for the alerts of this private chat
    assert await env.store.chat_lang("telegram", "203") == "en"


async def test_bad_arguments_get_one_helpful_line_and_change_nothing(env: Env) -> None:
    chat = env.fake.private_chat(204, language_code="en")
    reply = await env.say(chat, "/subscribe musk <b>bogus</b> " + "x" * 500)
    assert reply.visible == (
        "Unknown: «<b>bogus</b>», «"
        + "x" * 32
        + "…». Valid ids: altman, musk, trump, ai, ai_policy"
    )
    assert await env.labels(chat) is None
    reply = await env.say(chat, "/unsubscribe nothing_like_this")
    assert reply.visible.startswith("Unknown: «nothing_like_this». Valid ids:")
    reply = await env.say(chat, "/lang de")
    assert reply.visible == "Unknown language: «de». Choose one of: ar, en, fr"
    reply = await env.say(chat, "/frobnicate")
    assert (
        reply.visible
        == "Unknown command. Commands: /start /help /subscribe /unsubscribe /list /topics /latest /lang"
        " /follow /unfollow /mute /unmute /digest /tz /quiet"
    )
    assert "\n" not in reply.visible


async def test_unsubscribe_some_then_all(env: Env) -> None:
    chat = env.fake.private_chat(205, language_code="ar")
    await env.say(chat, "/subscribe musk trump ai")
    reply = await env.say(chat, "/unsubscribe musk")
    assert reply.visible == "تم إلغاء: إيلون ماسك. ما زالت المحادثة تتلقى: ترامب، الذكاء الاصطناعي"
    assert await env.labels(chat) == ("trump", "ai")
    reply = await env.say(chat, "/unsubscribe altman")
    assert reply.visible == "هذه المحادثة لا تتابع: سام ألتمان. تتابع: ترامب، الذكاء الاصطناعي"
    reply = await env.say(chat, "/unsubscribe")
    assert reply.visible == "تم إلغاء الاشتراك. لن تصل تنبيهات إلى هذه المحادثة بعد الآن."
    assert await env.labels(chat) == ()
    reply = await env.say(chat, "/unsubscribe")
    assert reply.visible == "هذه المحادثة غير مشتركة. اكتب /subscribe للاشتراك."
    assert (
        await env.say(chat, "/list")
    ).visible == "هذه المحادثة غير مشتركة. اكتب /subscribe للاشتراك."


async def test_list_topics_and_lang(env: Env) -> None:
    chat = env.fake.private_chat(206, language_code="ar")
    await env.say(chat, "/subscribe altman ai")
    assert (
        await env.say(chat, "/list")
    ).visible == "هذه المحادثة تتلقى تنبيهات عن: سام ألتمان، الذكاء الاصطناعي"
    topics = (await env.say(chat, "/topics")).visible
    assert "• musk — إيلون ماسك" in topics and "• ai_policy — سياسات الذكاء الاصطناعي" in topics
    assert (
        topics.index("الشخصيات")
        < topics.index("✅ altman")  # what this chat follows is marked
        < topics.index("المواضيع")
        < topics.index("✅ ai —")
    )
    assert (await env.say(chat, "/lang en")).visible == "This chat's language is now English."
    assert await env.store.chat_lang("telegram", "206") == "en"
    assert (
        await env.say(chat, "/list")
    ).visible == "This chat receives alerts about: Sam Altman, Artificial Intelligence"
    assert (await env.say(chat, "/lang")).visible.startswith("Current language: English.")


async def test_latest_shows_the_last_matching_stories_as_links(env: Env, clock: Any) -> None:
    chat = env.fake.private_chat(207, language_code="ar")
    assert (await env.say(chat, "/latest")).visible == "لا توجد أخبار مطابقة بعد."
    now = clock()
    await env.store.sync_feeds([("hespress_ar", "http://127.0.0.1/f", "ar", 60)], now)
    stories = [
        Story(
            id=f"s{i}",
            feed_id="hespress_ar",
            title=f"خبر {i} عن ترامب <وسم>",
            summary="",
            link=f"https://h.test/{i}",
            published=datetime(2026, 2, 11, 8 + i, tzinfo=UTC),
        )
        for i in range(7)
    ]
    matches = {
        s.id: Match(("trump",), (Evidence("trump", "ترامب", "ترامب", "title"),)) for s in stories
    }
    await env.store.ingest(
        "hespress_ar", stories, matches, FeedUpdate(next_poll_at=now), now, alert=False
    )
    reply = await env.say(chat, "/latest")
    assert reply.parse_mode == "HTML"
    lines = reply.visible.split("\n")
    assert lines[0].endswith("آخر الأخبار المطابقة:")
    assert lines[1].endswith("1. خبر 6 عن ترامب <وسم>") and lines[9].endswith(
        "5. خبر 2 عن ترامب <وسم>"
    )
    assert '<a href="https://h.test/6">' in reply.text
    assert reply.params.get("link_preview_options") == {"is_disabled": True}


async def test_group_only_admins_may_change(env: Env) -> None:
    fake = env.fake
    group = fake.group(-1001, admins={11: "creator", 12: "administrator"})
    member = user(13, "en")
    reply = await env.say(group, "/subscribe", from_user=member)
    assert (
        reply.visible
        == "Sorry, in groups and channels only administrators can change the subscription."
    )
    assert reply.buttons() == []
    assert await env.labels(group) is None
    for command in ("/subscribe musk", "/unsubscribe", "/lang en"):
        assert (await env.say(group, command, from_user=member)).visible.startswith("Sorry")
    assert (
        await env.labels(group) is None and await env.store.chat_lang("telegram", "-1001") is None
    )
    # reading is open to everyone
    assert (await env.say(group, "/list", from_user=member)).visible.startswith(
        "This chat is not subscribed"
    )
    # the creator, an administrator and an anonymous administrator may
    reply = await env.say(group, "/subscribe musk", from_user=user(11, "ar"))
    assert reply.visible == "تم الاشتراك. هذه المحادثة تتلقى الآن: إيلون ماسك"
    await env.say(group, "/subscribe trump", from_user=user(12, "en"))
    reply = await env.say(group, "/subscribe ai", anonymous_admin=True)
    assert reply.visible.startswith("تم الاشتراك")  # no user language: Arabic
    assert await env.labels(group) == ("musk", "trump", "ai")
    # replies in groups quote the command
    assert reply.params["reply_parameters"]["message_id"] > 0


async def test_group_buttons_refuse_non_admins(env: Env) -> None:
    fake = env.fake
    group = fake.group(-1002, admins={21: "administrator"})
    reply = await env.say(group, "/subscribe", from_user=user(21, "en"))
    fake.push(fake.press(reply, "t:musk", from_user=user(22, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 1)
    answer = fake.callback_answers[0]
    assert answer["text"].startswith("Sorry") and answer.get("show_alert") in (True, "true", "True")
    assert "musk" in (await env.labels(group) or ())
    assert fake.edits == []
    fake.push(fake.press(reply, "t:musk", from_user=user(21, "en")))
    await fake.wait_until(lambda: len(fake.callback_answers) == 2)
    assert "musk" not in (await env.labels(group) or ())


async def test_commands_for_other_bots_and_bare_unknown_commands_in_groups_are_ignored(
    env: Env,
) -> None:
    group = env.fake.group(-1003, admins={31: "administrator"})
    admin = user(31, "en")
    await env.ignored(group, "/subscribe@OtherBot musk", from_user=admin)
    assert await env.labels(group) is None
    await env.ignored(group, "/weather", from_user=admin)
    reply = await env.say(group, "/weather@mirsad_bot", from_user=admin)
    assert reply.visible.startswith("Unknown command.")
    reply = await env.say(group, "/subscribe@mirsad_bot musk", from_user=admin)
    assert await env.labels(group) == ("musk",)


async def test_forum_topic_subscription_and_replies_stay_in_the_topic(env: Env) -> None:
    forum = env.fake.group(-1004, forum=True, admins={41: "administrator"})
    admin = user(41, "en")
    reply = await env.say(forum, "/subscribe trump", from_user=admin, thread_id=42)
    assert reply.message_thread_id == 42
    assert await env.labels(forum, "42") == ("trump",)
    assert await env.labels(forum) is None  # the General topic is not subscribed
    reply = await env.say(forum, "/subscribe", from_user=admin, thread_id=43)
    assert reply.message_thread_id == 43
    env.fake.push(env.fake.press(reply, "t:trump", from_user=admin))
    await env.fake.wait_until(lambda: len(env.fake.callback_answers) == 1)
    assert "trump" not in (await env.labels(forum, "43") or ())
    assert await env.labels(forum, "42") == ("trump",)  # the other topic is untouched
    assert (await env.say(forum, "/list", from_user=admin, thread_id=42)).visible == (
        "This chat receives alerts about: Donald Trump"
    )


async def test_channel_commands_need_the_bot_to_be_admin(env: Env) -> None:
    fake = env.fake
    channel = fake.channel(-1005, bot_status="administrator")
    reply = await env.say(channel, "/subscribe musk")
    assert reply.visible == "تم الاشتراك. هذه المحادثة تتلقى الآن: إيلون ماسك"
    assert await env.labels(channel) == ("musk",)
    other = fake.channel(-1006, bot_status="member")
    reply = await env.say(other, "/subscribe musk")
    assert reply.visible == "عذرًا، يجب أن أكون مشرفًا في هذه القناة لأغيّر اشتراكها."
    assert await env.labels(other) is None


async def test_bot_removed_pauses_and_subscribe_again_resumes(env: Env) -> None:
    fake = env.fake
    group = fake.group(-1007, admins={51: "administrator"})
    admin = user(51, "en")
    await env.say(group, "/subscribe musk", from_user=admin)
    fake.push(fake.my_chat_member(group, "member", "kicked", by=admin))
    await env.say(
        fake.private_chat(52), "/help"
    )  # updates are handled in order: this one comes after
    sub = await env.store.subscription("telegram", "-1007")
    assert (
        sub is not None and not sub.active and sub.paused_reason == "kicked: my_chat_member: kicked"
    )
    fake.push(fake.my_chat_member(group, "left", "member", by=admin))
    reply = await env.say(group, "/list", from_user=admin)
    assert (
        reply.visible
        == "The subscription is paused (the bot was kicked from this chat). Send /subscribe to resume it."
    )
    await env.say(group, "/subscribe", from_user=admin)
    sub = await env.store.subscription("telegram", "-1007")
    assert sub is not None and sub.active and sub.paused_reason is None


async def test_private_block_pauses_with_reason(env: Env) -> None:
    fake = env.fake
    chat = fake.private_chat(301, language_code="en")
    await env.say(chat, "/subscribe musk")
    fake.push(fake.my_chat_member(chat, "member", "kicked"))
    other = fake.private_chat(302)
    await env.say(other, "/help")  # handled after the block
    sub = await env.store.subscription("telegram", "301")
    assert (
        sub is not None
        and not sub.active
        and sub.paused_reason == "blocked: my_chat_member: kicked"
    )


async def test_group_upgrade_service_message_moves_the_subscription(env: Env) -> None:
    fake = env.fake
    group = fake.group(-5001, supergroup=False, admins={61: "creator"})
    await env.say(group, "/subscribe trump", from_user=user(61, "en"))
    service = fake.command(group, "", from_user=user(61, "en"))
    del service["message"]["text"]
    service["message"]["migrate_to_chat_id"] = -1005001
    fake.push(service)
    new = fake.group(-1005001, admins={61: "creator"})
    reply = await env.say(new, "/list", from_user=user(61, "en"))
    assert reply.visible == "This chat receives alerts about: Donald Trump"
    assert await env.store.subscription("telegram", "-5001") is None


async def test_token_never_logged_by_mirsad(env: Env, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="mirsad")
    chat = env.fake.private_chat(401)
    await env.say(chat, "/subscribe")
    await env.say(chat, "/bogus")
    mine = [r.getMessage() for r in caplog.records if r.name.startswith("mirsad")]
    assert any("telegram_command" in m for m in mine)
    assert not any(env.fake.token in m or env.fake.token.split(":")[1] in m for m in mine)


NASTY = [
    "",
    " ",
    "x" * 3000,
    "musk" * 400,
    "ترامب،ماسك",
    "MuSk",
    "#ترامب",
    "'; DROP TABLE subscriptions; --",
    "<b>bold</b> &amp; <a href='javascript:x'>",
    "@everyone",
    "\u202egnp.exe",
    "١٢٣",
    "\u200b",
    "ai\u200d",
    "/subscribe",
    "musk,trump",
    "null",
    "None",
    "🙂" * 50,
    "ai_policy ai_policy ai_policy",
]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["/subscribe", "/unsubscribe", "/lang", "/list"])
async def test_any_argument_gets_a_reply_and_non_admins_change_nothing(
    env: Env, command: str
) -> None:
    """Issue 7 "Input from people": odd, huge, mixed-script or hostile arguments always get a
    clear reply (never the error text), and a non-admin in a group never changes anything."""
    fake = env.fake
    group = fake.group(-7001, admins={71: "administrator"})
    private = fake.private_chat(7002, language_code="en")
    stranger = user(72, "en")
    for arg in NASTY:
        text = f"{command} {arg}".strip()
        reply = await env.say(group, text, from_user=stranger)
        assert not reply.visible.startswith("Something went wrong"), (text, reply.visible)
        if command in ("/subscribe", "/unsubscribe") or (
            command == "/lang" and arg.lower() in ("ar", "en")
        ):
            assert reply.visible.startswith("Sorry"), (text, reply.visible)
        reply = await env.say(private, text)
        assert not reply.visible.startswith("Something went wrong"), (text, reply.visible)
        assert len(reply.visible) < 1000
    assert await env.labels(group) is None
    assert await env.store.chat_lang("telegram", "-7001") is None


async def test_a_failing_handler_is_logged_and_the_user_told(
    env: Env, monkeypatch: Any, caplog: Any
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(env.subs, "latest", broken)
    chat = env.fake.private_chat(7101, language_code="en")
    reply = await env.say(chat, "/latest")
    assert reply.visible == "Something went wrong. Please try again in a moment."
    errors = [r for r in caplog.records if r.getMessage().startswith("telegram_handler_error")]
    assert (
        errors
        and errors[0].exc_info is not None
        and "database is locked" in str(errors[0].exc_info[1])
    )
