"""A chat's own words and mutes (issue 13) through the real pipeline, on both platforms:
/follow and /mute sent through the real python-telegram-bot and discord.py clients to the
fakes, a loopback feed polled by the poller (watchlists + every chat's words in one
automaton), the store, the outbox, and the alerts that reach the fake servers."""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from alerts.outbox import OutboxWorker, Sender
from config import load_settings
from core.subscriptions import Subscriptions
from feeds.fetch import Fetcher, FetchSettings
from feeds.follows import FollowWatch
from feeds.poll import Poller
from filters.watchlist import Matcher
from platforms.telegram.platform import TelegramPlatform
from store import Store
from tests.fake_discord import (
    ADMIN_ID,
    CHANNEL_A,
    CHANNEL_B,
    FakeDiscord,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.fake_telegram import (  # noqa: F401
    FakeTelegram,
    fake_telegram,
    real_labels,
    scaled,
    user,
)
from tests.feedserver import FeedServer
from tests.helpers import ROOT, FakeClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

GROUP, OTHER_GROUP, ADMIN = -1009001, -1009002, 61
FEED = "hespress_ar"
QUIET = ("توقعات طقس اليوم بالمغرب", "أجواء مشمسة في أغلب المناطق.")
# the stories of one poll, each (title, summary)
MUSK = ("ماسك يطلق شركة جديدة للصواريخ", "أعلن رجل الأعمال عن مشروعه الجديد.")
INSIDE = ("دعوات إلى التماسك الاجتماعي في المدن", "قال مسؤولون إن الوحدة ضرورية.")
APART = ("الذكاء في التعليم والفن الاصطناعي", "ندوة عن المدارس والمتاحف.")
PHRASE = ("مؤتمر دولي للذكاء الاصطناعي في الرباط", "يشارك خبراء من عدة دول.")
TRUMP_1 = ("ترامب يوقع أمرا تنفيذيا جديدا", "وقع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا.")
TRUMP_2 = ("ترامب يلتقي رئيس وزراء كندا", "التقى الرئيس الأمريكي دونالد ترامب نظيره الكندي.")


def rss(items: Sequence[tuple[str, str]]) -> bytes:
    """A feed of (title, summary) items, newest first, each with its own link."""
    body = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>https://hespress.example/{zlib.crc32(title.encode())}</link>"
        f"<description>{escape(summary)}</description>"
        f"<pubDate>Mon, 16 Feb 2026 {6 + i:02d}:00:00 +0000</pubDate></item>"
        for i, (title, summary) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://hespress.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


class Side:
    """One platform: send a command as an administrator, poll the feed, read the alerts."""

    platform: str
    store: Store
    sender: Sender[Any]  # the platform's sender, for a new outbox worker (a restart)

    async def command(self, name: str, args: str, options: dict[str, str]) -> str:
        raise NotImplementedError

    async def poll_and_deliver(self) -> None:
        raise NotImplementedError

    def alerts(self, other: bool = False) -> list[str]:
        """The text of every alert in the chat (or the other chat), in order."""
        raise NotImplementedError


class TelegramSide(Side):
    def __init__(
        self, fake: FakeTelegram, poller: Poller, outbox: OutboxWorker, clock: FakeClock
    ) -> None:
        self.fake, self.poller, self.outbox, self.clock = fake, poller, outbox, clock
        self.group = fake.group(GROUP, admins={ADMIN: "administrator"})
        fake.group(OTHER_GROUP, admins={ADMIN: "administrator"})

    async def command(self, name: str, args: str, options: dict[str, str]) -> str:
        before = len(self.fake.messages(GROUP))
        self.fake.push(
            self.fake.command(self.group, f"/{name} {args}", from_user=user(ADMIN, "en"))
        )
        return (await self.fake.wait_for_message(GROUP, before + 1)).visible

    async def poll_and_deliver(self) -> None:
        self.clock.advance(600)
        await self.poller.poll_all()
        await asyncio.wait_for(self.outbox.deliver_due(), 30)

    def alerts(self, other: bool = False) -> list[str]:
        chat = OTHER_GROUP if other else GROUP
        return [
            m.visible
            for m in self.fake.messages(chat)
            if m.method == "sendMessage" and "hespress" in m.visible
        ]


class DiscordSide(Side):
    def __init__(self, fake: FakeDiscord, poller: Poller, outbox: OutboxWorker, clock: FakeClock):
        self.fake, self.poller, self.outbox, self.clock = fake, poller, outbox, clock

    async def command(self, name: str, args: str, options: dict[str, str]) -> str:
        answer = await self.fake.command(name, options, user=ADMIN_ID)
        return str(answer.content)

    async def poll_and_deliver(self) -> None:
        self.clock.advance(600)
        await self.poller.poll_all()
        await asyncio.wait_for(self.outbox.deliver_due(), 30)

    def alerts(self, other: bool = False) -> list[str]:
        channel = CHANNEL_B if other else CHANNEL_A
        out = []
        for message in self.fake.posted_to(channel):
            embed = message.embeds[0]
            fields = "\n".join(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))
            out.append(f"{embed['title']}\n{fields}")
        return out


@pytest.fixture(params=["telegram", "discord"])
async def side(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FakeClock,
    feed_server: FeedServer,
) -> AsyncIterator[Side]:
    clock.now = datetime(2026, 2, 16, 12, 0, tzinfo=UTC)  # after the stories' times
    feed_server.set(f"/{FEED}.xml", body=rss([QUIET]))
    url = feed_server.url(f"/{FEED}.xml")
    if request.param == "telegram":
        async with FakeTelegram() as fake:
            store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}")
            platform = TelegramPlatform(
                token=fake.token,
                api_base_url=fake.api_base_url,
                subscriptions=Subscriptions(store, real_labels(), clock),
                store=store,
                tz=ZoneInfo("Africa/Casablanca"),
                clock=clock,
                limiter=scaled(fake, 0.02),
                poll_timeout=0.5,
                sources={FEED: "hespress"},
            )
            await platform.start()
            await store.sync_feeds([(FEED, url, "ar", 60)], clock())
            matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
            try:
                async with Fetcher(
                    FetchSettings(allow_private_addresses=True, total_timeout=5)
                ) as fetcher:
                    poller = Poller(
                        store,
                        fetcher,
                        matcher,
                        clock,
                        rng=random.Random(1),
                        follows=FollowWatch(store),
                    )
                    await poller.poll_all()  # the first poll records the feed, sends nothing
                    outbox = OutboxWorker(store, {"telegram": platform.sender}, clock)
                    telegram = TelegramSide(fake, poller, outbox, clock)
                    telegram.platform, telegram.store = "telegram", store
                    telegram.sender = platform.sender
                    yield telegram
            finally:
                await platform.stop()
                await store.close()
    else:
        fake_dc = await FakeDiscord().start()
        feeds = f"feeds:\n  - id: {FEED}\n    name: hespress\n    url: {url}\n    language: ar"
        try:
            async with running_mirsad(
                fake_dc, mirsad_config(tmp_path, fake_dc, feeds=feeds), clock
            ) as app:
                await app.parts.poller.poll_all()
                discord = DiscordSide(fake_dc, app.parts.poller, app.parts.outbox, clock)
                discord.platform, discord.store = "discord", app.parts.store
                discord.sender = app.platform.sender
                yield discord
        finally:
            await fake_dc.close()


async def test_a_chat_gets_the_stories_holding_its_words_and_no_word_inside_another(
    side: Side, feed_server: FeedServer
) -> None:
    reply = await side.command(
        "follow", 'ماسك "الذكاء الاصطناعي"', {"words": 'ماسك "الذكاء الاصطناعي"'}
    )
    assert reply.startswith("Now following: «ماسك», «الذكاء الاصطناعي».")
    feed_server.set(f"/{FEED}.xml", body=rss([MUSK, INSIDE, APART, PHRASE, QUIET]))
    await side.poll_and_deliver()
    alerts = side.alerts()
    # only the story with the word, and the one with the phrase (ل + ال attached): not the
    # word inside التماسك, not the phrase's words apart
    assert len(alerts) == 2, alerts
    by_title = {a.split("\n")[0].strip("\u200f\u200e"): a for a in alerts}
    assert set(by_title) == {MUSK[0], PHRASE[0]}
    assert "#follow" in by_title[MUSK[0]] and "ماسك" in by_title[MUSK[0]]
    assert "#follow" in by_title[PHRASE[0]] and "للذكاء الاصطناعي" in by_title[PHRASE[0]]
    assert side.alerts(other=True) == []  # only the chat that follows the words


async def test_refusals_too_common_too_short_and_the_21st_word(side: Side) -> None:
    reply = await side.command("follow", "the من", {"words": "the من"})
    assert reply == "Too common to follow (they are in nearly every story): «the», «من»"
    reply = await side.command("follow", "x", {"words": "x"})
    assert reply == "Too short to follow (at least 2 letters): «x»"
    words = " ".join(f"word{n:02}" for n in range(1, 22))
    reply = await side.command("follow", words, {"words": words})
    assert reply == (
        "Now following: «word01», «word02», «word03», «word04», «word05», «word06», «word07», "
        "«word08», «word09», «word10», «word11», «word12», «word13», «word14», «word15», "
        "«word16», «word17», «word18», «word19», «word20». This chat follows 20 of 20 words.\n"
        "Not followed, this chat already follows 20 words, the most: «word21». "
        "Remove some with /unfollow."
    )


async def test_a_muted_label_is_silent_until_the_mute_ends_then_alerts_again(
    side: Side, feed_server: FeedServer, clock: FakeClock
) -> None:
    await side.command("subscribe", "trump", {"figure": "trump"})
    reply = await side.command("mute", "trump 24h", {"label": "trump", "duration": "24h"})
    assert reply.startswith("Muted until 2026-02-17 12:00 UTC: Donald Trump.")
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_1, QUIET]))
    await side.poll_and_deliver()
    assert side.alerts() == []  # muted: the story is not sent, and never will be
    clock.advance(24 * 3600)  # the mute is over
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_2, TRUMP_1, QUIET]))
    await side.poll_and_deliver()
    [alert] = side.alerts()
    assert alert.split("\n")[0].strip("\u200f\u200e") == TRUMP_2[0]
    assert "#follow" not in alert
