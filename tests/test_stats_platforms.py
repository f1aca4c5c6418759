"""`/stats` through the real clients: PTB against tests/fake_telegram.py (a photo arrives with
the summary as its caption), discord.py against tests/fake_discord.py (an embed whose image is
the attached PNG). What the decision itself answers: tests/test_stats.py."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.stats import Stats
from core.subscriptions import Subscriptions
from platforms.telegram.platform import TelegramPlatform
from store import Store
from store.reports import Reports, TrendCounts
from tests.dashboard_data import seed
from tests.fake_discord import (
    MEMBER_ID,
    FakeDiscord,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.fake_telegram import FakeTelegram, fake_telegram, real_labels, user  # noqa: F401
from tests.helpers import FakeClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
F, P = "\u2068", "\u2069"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture
async def telegram(
    fake_telegram: FakeTelegram, database_url: str
) -> AsyncIterator[tuple[FakeTelegram, Store]]:
    url = database_url
    store = await Store.open(url, new_database=True)
    await seed(store, NOW)
    reports = Reports.open(url)
    clock = FakeClock(NOW)
    subs = Subscriptions(store, real_labels(), clock)
    stats = Stats(subs, TrendCounts(reports, ZoneInfo("Africa/Casablanca")), clock)
    platform = TelegramPlatform(
        token=fake_telegram.token,
        api_base_url=fake_telegram.api_base_url,
        subscriptions=subs,
        store=store,
        tz=ZoneInfo("Africa/Casablanca"),
        clock=clock,
        poll_timeout=0.5,
        stats=stats,
    )
    await platform.start()
    yield fake_telegram, store
    await platform.stop()
    await reports.close()
    await store.close()


async def test_telegram_stats_sends_a_png_photo_with_the_summary_as_caption(
    telegram: tuple[FakeTelegram, Store],
) -> None:
    fake, store = telegram
    chat = fake.private_chat(301, language_code="en")
    await store.save_subscription("telegram", str(chat.id), ["trump", "ai"], NOW)
    fake.push(fake.command(chat, "/stats"))
    photo = await fake.wait_for_message(chat.id)
    assert photo.method == "sendPhoto"
    png = photo.params["photo"]
    assert isinstance(png, bytes) and png_size(png) == (800, 420)
    assert 10_000 < len(png) < 500_000
    assert photo.visible == (
        f"Last 30 days: {F}Donald Trump{P} {F}2{P}, {F}Artificial Intelligence{P} {F}1{P}. "
        f"Busiest day: {F}30/11{P} ({F}2{P} stories)."
    )

    fake.push(fake.command(chat, "/stats musk 7"))
    second = await fake.wait_for_message(chat.id, 2)
    assert second.method == "sendPhoto" and second.visible.startswith(
        f"Last 7 days: {F}Elon Musk{P}"
    )

    # with stats on, the menu and the unknown-command reply offer /stats
    assert "stats" in [c["command"] for c in fake.commands[("default", "en")]]
    fake.push(fake.command(chat, "/frobnicate"))
    unknown = await fake.wait_for_message(chat.id, 3)
    assert "/lang /stats /follow" in unknown.visible

    fake.push(fake.command(chat, "/stats bitcoin"))
    refused = await fake.wait_for_message(chat.id, 4)
    assert refused.method == "sendMessage"
    assert refused.visible.startswith("Unknown: «bitcoin». Valid: altman, musk")


async def test_telegram_stats_in_a_group_topic_answers_in_that_topic_in_arabic(
    telegram: tuple[FakeTelegram, Store],
) -> None:
    fake, _ = telegram
    group = fake.group(-100777, forum=True)
    fake.push(fake.command(group, "/stats trump 3", thread_id=9, from_user=user(55, "ar")))
    photo = await fake.wait_for_message(group.id)
    assert photo.method == "sendPhoto" and photo.message_thread_id == 9
    assert photo.visible.startswith(f"آخر 3 يومًا: {F}ترامب{P} {F}2{P}.")
    assert png_size(photo.params["photo"]) == (800, 420)


@pytest.fixture
async def discord_app(tmp_path: Path, fake_discord: FakeDiscord) -> AsyncIterator[Any]:
    async with running_mirsad(
        fake_discord, mirsad_config(tmp_path, fake_discord), FakeClock(NOW)
    ) as app:
        await seed(app.parts.store, NOW)
        yield app


async def test_discord_stats_answers_with_an_embed_and_the_png_attached(discord_app: Any) -> None:
    fake: FakeDiscord = discord_app.fake
    names = {c["name"]: c for c in next(iter(fake.commands.values()))}
    options = {o["name"]: o for o in names["stats"]["options"]}
    assert options["days"]["type"] == 4
    assert (options["days"]["min_value"], options["days"]["max_value"]) == (1, 90)

    interaction = await fake.interact("stats", {"label": "trump", "days": "7"}, user=MEMBER_ID)
    first = await fake.answer(interaction)
    assert first.type == 5 and not first.ephemeral  # acknowledged, then drawn
    for _ in range(500):  # the chart is drawn in a thread: up to 10 s on a loaded machine
        if len(fake.answers[interaction]) == 2:
            break
        await asyncio.sleep(0.02)
    followup = fake.answers[interaction][1]
    [(filename, png)] = followup.files
    assert filename == "mirsad-stats.png"
    assert png_size(png) == (800, 420) and 10_000 < len(png) < 500_000
    [embed] = followup.data["embeds"]
    assert embed["image"]["url"] == "attachment://mirsad-stats.png"
    assert embed["title"] == "Matching stories per day — last 7 days"
    assert embed["description"] == (
        f"Last 7 days: {F}Donald Trump{P} {F}2{P}. Busiest day: {F}30/11{P} ({F}1{P} stories)."
    )
    assert followup.data["allowed_mentions"] == {"parse": []}


async def test_discord_stats_with_an_unknown_label_answers_the_asker_alone(
    discord_app: Any,
) -> None:
    fake: FakeDiscord = discord_app.fake
    answer = await fake.command("stats", {"label": "bitcoin"}, user=MEMBER_ID)
    assert answer.ephemeral and answer.files == []
    assert answer.content.startswith("Unknown: «bitcoin».")
