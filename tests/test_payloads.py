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


async def test_telegram_digest_fills_messages_within_the_limit_in_order(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    long = "word " * 200  # each alert ~600 characters: several messages are needed
    items = tuple((story(i, summary=long), TRUMP) for i in range(1, 31))
    result = await sender.send(target("telegram", str(CHAT)), sender.render(Digest(items), "en"))
    messages = fake_telegram.messages(CHAT)
    assert isinstance(result, Sent) and len(result.message_ids) == len(messages) > 1
    assert all(utf16_len(m.visible) <= MAX_TEXT for m in messages)
    assert len(messages) <= 6  # packed, not one message per story
    assert messages[0].visible.lstrip("\u200e").startswith(f"News digest (30) · 1/{len(messages)}")
    shown = "\n".join(m.visible for m in messages)
    positions = [shown.index(f"Trump story {i}\n") for i in range(1, 31)]
    assert positions == sorted(positions)  # every story once, in order


async def test_telegram_digest_of_one_story_has_no_part_numbers(
    telegram: TelegramPlatform, fake_telegram: FakeTelegram
) -> None:
    sender = telegram.sender
    rendered = sender.render(Digest(((story(1), TRUMP),)), "ar")
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


async def test_discord_digest_packs_embeds_within_discord_limits(
    discord_app: Mirsad, fake_discord: FakeDiscord
) -> None:
    sender = discord_app.platform.sender
    long = "word " * 140  # each embed ~900 characters: the 6000 total decides, not the 10 embeds
    items = tuple((story(i, summary=long), TRUMP) for i in range(1, 26))
    result = await sender.send(
        target("discord", str(CHANNEL_A)), sender.render(Digest(items), "en")
    )
    messages = fake_discord.messages
    assert isinstance(result, Sent) and len(result.message_ids) == len(messages)
    assert all(len(m.embeds) <= MAX_EMBEDS for m in messages)
    assert all(sum(embed_length(e) for e in m.embeds) <= TOTAL_LIMIT for m in messages)
    assert [e["title"] for m in messages for e in m.embeds] == [
        f"Trump story {i}" for i in range(1, 26)
    ]
    assert messages[0].payload["content"] == f"News digest (25) · 1/{len(messages)}"
    assert 4 <= len(messages) <= 7


async def test_discord_short_digest_is_one_message_of_up_to_ten_embeds(
    discord_app: Mirsad, fake_discord: FakeDiscord
) -> None:
    sender = discord_app.platform.sender
    items = tuple((story(i), TRUMP) for i in range(1, 13))
    await sender.send(target("discord", str(CHANNEL_A)), sender.render(Digest(items), "en"))
    assert [len(m.embeds) for m in fake_discord.messages] == [10, 2]


# --- the terminal -----------------------------------------------------------------------------


async def test_console_prints_new_edit_and_digest() -> None:
    out = io.StringIO()
    labels = {info.id: info for info in real_labels()}
    sender = ConsoleSender(out, labels, TZ)
    to = target("console", "stdout")
    for payload in (
        NewAlert(story(1), TRUMP),
        EditAlert(story(1, title="fixed"), TRUMP, "x"),
        Digest(((story(2), TRUMP), (story(3), TRUMP))),
    ):
        # an id is recorded even for the terminal, so that an edit prints an UPDATE (issue 14)
        assert await sender.send(to, sender.render(payload, "en")) == Sent(("printed",))
    text = out.getvalue()
    assert "ALERT   Trump story 1" in text and "UPDATE  fixed" in text
    assert "News digest (2)" in text and text.index("Trump story 2") < text.index("Trump story 3")


# --- the result union ---------------------------------------------------------------------------


def test_send_result_is_a_closed_union_and_moved_needs_its_new_id() -> None:
    assert set(get_args(SendResult)) == {Sent, Retry, Gone, Moved, Failed}
    with pytest.raises(ValueError, match="new chat id"):
        Moved("")
