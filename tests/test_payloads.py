"""Rendering apart from sending: a new alert, an edit of a sent message and a digest, each
rendered and sent by the real PTB and discord.py clients against the fakes, plus the
tagged SendResult the outbox handles."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from alerts.payloads import (
    Digest,
    EditAlert,
    Failed,
    Gone,
    Moved,
    NewAlert,
    Retry,
    SendResult,
    Sent,
)
from core.subscriptions import Subscriptions
from models import Evidence, Match, Story
from platforms.console.sender import ConsoleSender
from platforms.discord.render import MAX_EMBEDS, TOTAL_LIMIT, embed_length
from platforms.telegram.platform import TelegramPlatform
from platforms.telegram.render import MAX_TEXT, utf16_len
from store import Store, Subscription
from tests.fake_discord import (
    CHANNEL_A,
    FakeDiscord,
    Mirsad,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.fake_telegram import FakeTelegram, fake_telegram, real_labels, scaled  # noqa: F401
from tests.helpers import FakeClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TZ = ZoneInfo("Africa/Casablanca")
T0 = datetime(2026, 2, 11, 8, 0, tzinfo=UTC)
CHAT = 5001


def story(i: int, title: str | None = None, summary: str = "") -> Story:
    return Story(
        id=f"s{i}",
        feed_id="hespress_ar",
        title=title if title is not None else f"Trump story {i}",
        summary=summary or f"summary of story {i}",
        link=f"https://h.test/s{i}",
        published=T0 + timedelta(minutes=i),
        language="en",
    )


TRUMP = Match(("trump",), (Evidence("trump", "trump", "Trump", "title"),))


def target(platform: str, chat_id: str, lang: str = "en") -> Subscription:
    return Subscription(1, platform, chat_id, "", None, ("trump",), True, None, lang)


# --- Telegram ---------------------------------------------------------------------------------


@pytest.fixture
async def telegram(fake_telegram: FakeTelegram, store: Store) -> AsyncIterator[TelegramPlatform]:
    fake_telegram.private_chat(CHAT, language_code="en")
    platform = TelegramPlatform(
        token=fake_telegram.token,
        api_base_url=fake_telegram.api_base_url,
        subscriptions=Subscriptions(store, real_labels(), lambda: T0),
        store=store,
        tz=TZ,
        clock=lambda: T0,
        limiter=scaled(fake_telegram, 0.02),  # Telegram's 1 s per chat, 50 times faster
    )
    yield platform
    await platform.stop()


async def test_telegram_new_alert_is_one_message(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    result = await sender.send(
        target("telegram", str(CHAT)), sender.render(NewAlert(story(1), TRUMP), "en")
    )
    [message] = fake_telegram.messages(CHAT)
    assert result == Sent((str(message.message_id),))
    assert "Trump story 1" in message.visible and "#DonaldTrump" in message.visible


async def test_telegram_edit_rewrites_the_sent_message_in_place(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    to = target("telegram", str(CHAT))
    first = await sender.send(to, sender.render(NewAlert(story(1), TRUMP), "en"))
    assert isinstance(first, Sent) and first.message_id is not None
    corrected = story(1, title="Trump story 1, corrected headline")
    edited = await sender.send(
        to, sender.render(EditAlert(corrected, TRUMP, first.message_id), "en")
    )
    assert edited == Sent((first.message_id,))
    [edit] = fake_telegram.edits
    assert edit.method == "editMessageText" and edit.message_id == int(first.message_id)
    assert "corrected headline" in edit.visible
    assert len(fake_telegram.messages(CHAT)) == 1  # no second message
    # the same text again: Telegram says "not modified", which means it already shows it
    again = await sender.send(
        to, sender.render(EditAlert(corrected, TRUMP, first.message_id), "en")
    )
    assert again == Sent((first.message_id,))


async def test_telegram_edit_of_a_message_it_no_longer_has_fails(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    result = await sender.send(
        target("telegram", str(CHAT)), sender.render(EditAlert(story(1), TRUMP, "999"), "en")
    )
    assert isinstance(result, Failed) and result.reason == "Message to edit not found"


def digest(items: tuple[tuple[Story, Match], ...], order: tuple[str, ...]) -> Digest:
    return Digest(tuple(NewAlert(s, m) for s, m in items), order)


MUSK = Match(("musk",), (Evidence("musk", "musk", "Musk", "title"),))
BOTH = Match(("musk", "trump"), TRUMP.evidence + MUSK.evidence)


async def test_telegram_digest_fills_messages_within_the_limit_grouped_newest_first(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    long = "headline words " * 12  # each line ~200 characters: several messages are needed
    items = tuple((story(i, title=f"Trump story {i} {long}"), TRUMP) for i in range(1, 61))
    rendered = sender.render(digest(items, ("trump",)), "en")
    result = await sender.send(target("telegram", str(CHAT)), rendered)
    messages = fake_telegram.messages(CHAT)
    assert isinstance(result, Sent) and len(result.message_ids) == len(messages) > 1
    assert all(utf16_len(m.visible) <= MAX_TEXT for m in messages)
    assert len(messages) <= 4  # packed, not one message per story
    lines = [m.visible.split("\n") for m in messages]
    assert lines[0][0].lstrip("\u200e") == f"News digest (60) · 1/{len(messages)}"
    # every message names the label it lists, even one that starts inside the list
    assert all("\u200eDonald Trump" in part for part in lines)
    shown = "\n".join(m.visible for m in messages)
    positions = [shown.index(f"Trump story {i} ") for i in range(1, 61)]
    assert positions == sorted(positions, reverse=True)  # every story once, newest first
    assert '<a href="https://h.test/s60">Trump story 60' in messages[0].text


async def test_telegram_digest_groups_stories_by_the_chats_labels(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    items = (
        (story(1, "Trump signs an order"), TRUMP),
        (story(2, "Musk launches a rocket"), MUSK),
        (story(3, "Musk meets Trump"), BOTH),
        (story(4, "Trump speaks"), TRUMP),
    )
    rendered = sender.render(digest(items, ("musk", "trump", "#follow")), "en")
    await sender.send(target("telegram", str(CHAT)), rendered)
    [message] = fake_telegram.messages(CHAT)
    assert [line.strip("\u200e\u200f") for line in message.visible.split("\n")] == [
        "News digest (4)",
        "",
        "Elon Musk",
        "• Musk meets Trump · hespress_ar",
        "• Musk launches a rocket · hespress_ar",
        "",
        "Donald Trump",
        "• Trump speaks · hespress_ar",
        "• Trump signs an order · hespress_ar",
    ]


async def test_a_digest_line_names_the_other_outlets_of_the_same_event(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    other = Story("o1", "aljazeera_ar", "Trump, again", "", "https://a.test/1", T0, None, "ar")
    payload = Digest((NewAlert(story(1), TRUMP, also=(other,)),), ("trump",))
    await sender.send(target("telegram", str(CHAT)), sender.render(payload, "en"))
    await sender.send(target("telegram", str(CHAT), "ar"), sender.render(payload, "ar"))
    english, arabic = fake_telegram.messages(CHAT)
    assert "• Trump story 1 · hespress_ar, aljazeera_ar" in english.visible
    assert "• Trump story 1 · hespress_ar، aljazeera_ar" in arabic.visible  # the Arabic comma


async def test_telegram_digest_of_one_story_has_no_part_numbers(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    rendered = sender.render(Digest((NewAlert(story(1), TRUMP),)), "ar")
    await sender.send(target("telegram", str(CHAT), "ar"), rendered)
    [message] = fake_telegram.messages(CHAT)
    assert message.visible.split("\n")[0] == "\u200fموجز الأخبار (1)"


# --- Discord ----------------------------------------------------------------------------------


@pytest.fixture
async def discord_app(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> AsyncIterator[Mirsad]:
    async with running_mirsad(fake_discord, mirsad_config(tmp_path, fake_discord), clock) as app:
        yield app


async def test_discord_new_alert_and_its_edit(
    discord_app: Mirsad, fake_discord: FakeDiscord
) -> None:
    sender = discord_app.platform.sender
    to = target("discord", str(CHANNEL_A))
    first = await sender.send(to, sender.render(NewAlert(story(1), TRUMP), "en"))
    [posted] = fake_discord.messages
    assert first == Sent((str(posted.message_id),))
    assert posted.embeds[0]["title"] == "Trump story 1"

    corrected = story(1, title="Trump story 1, corrected headline")
    edited = await sender.send(
        to, sender.render(EditAlert(corrected, TRUMP, str(posted.message_id)), "en")
    )
    assert edited == Sent((str(posted.message_id),))
    [edit] = fake_discord.edits
    assert edit.message_id == posted.message_id and edit.payload["allowed_mentions"] == {
        "parse": []
    }
    assert len(fake_discord.messages) == 1
    assert fake_discord.messages[0].embeds[0]["title"] == "Trump story 1, corrected headline"


async def test_discord_edit_of_a_deleted_message_fails_without_pausing(
    discord_app: Mirsad, fake_discord: FakeDiscord
) -> None:
    sender = discord_app.platform.sender
    result = await sender.send(
        target("discord", str(CHANNEL_A)), sender.render(EditAlert(story(1), TRUMP, "123"), "en")
    )
    assert isinstance(result, Failed) and "10008" in result.reason


async def test_discord_digest_lists_each_label_in_embeds_within_discord_limits(
    discord_app: Mirsad, fake_discord: FakeDiscord
) -> None:
    sender = discord_app.platform.sender
    long = "headline words " * 12  # each line ~250 characters: descriptions overflow
    items = tuple((story(i, title=f"Trump story {i} {long}"), TRUMP) for i in range(1, 101))
    items += ((story(101, "Musk launches a rocket"), MUSK),)
    result = await sender.send(
        target("discord", str(CHANNEL_A)), sender.render(digest(items, ("musk", "trump")), "en")
    )
    messages = fake_discord.messages
    assert isinstance(result, Sent) and len(result.message_ids) == len(messages) > 1
    assert all(len(m.embeds) <= MAX_EMBEDS for m in messages)
    assert all(sum(embed_length(e) for e in m.embeds) <= TOTAL_LIMIT for m in messages)
    embeds = [e for m in messages for e in m.embeds]
    assert [e["title"] for e in embeds][:2] == ["Elon Musk", "Donald Trump"]
    assert {e["title"] for e in embeds[1:]} == {"Donald Trump"}  # a long list goes on
    text = "\n".join(e["description"] for e in embeds)
    positions = [text.index(f"Trump story {i} ") for i in range(1, 101)]
    assert positions == sorted(positions, reverse=True)  # every story once, newest first
    assert "[Musk launches a rocket](https://h.test/s101) — hespress\\_ar" in text
    assert messages[0].payload["content"] == f"News digest (101) · 1/{len(messages)}"


# --- the terminal -----------------------------------------------------------------------------


async def test_console_prints_new_edit_and_digest() -> None:
    out = io.StringIO()
    labels = {info.id: info for info in real_labels()}
    sender = ConsoleSender(out, labels, TZ)
    to = target("console", "stdout")
    for payload in (
        NewAlert(story(1), TRUMP),
        EditAlert(story(1, title="fixed"), TRUMP, "x"),
        Digest((NewAlert(story(2), TRUMP), NewAlert(story(3), TRUMP))),
    ):
        # an id is recorded even for the terminal, so that an edit prints an UPDATE (issue 14)
        assert await sender.send(to, sender.render(payload, "en")) == Sent(("printed",))
    text = out.getvalue()
    assert "ALERT   Trump story 1" in text and "UPDATE  fixed" in text
    assert "News digest (2)" in text and "Donald Trump" in text
    assert text.index("Trump story 3") < text.index("Trump story 2")  # newest first


# --- the result union ---------------------------------------------------------------------------


def test_send_result_is_a_closed_union_and_moved_needs_its_new_id() -> None:
    assert set(get_args(SendResult)) == {Sent, Retry, Gone, Moved, Failed}
    with pytest.raises(ValueError, match="new chat id"):
        Moved("")
