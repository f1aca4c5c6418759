"""One story, one alert (issue 14), through the real pipeline: feeds served on loopback, the
poller with the matcher and the same-event grouper, the store, the outbox, and the real PTB
and discord.py senders against the fakes. What is checked is what reaches the fake servers.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from alerts.outbox import OutboxWorker
from config import load_settings
from core.subscriptions import Subscriptions
from events.fingerprint import Fingerprinter
from events.grouper import EventGrouper
from feeds.fetch import Fetcher, FetchSettings
from feeds.poll import Poller
from filters.watchlist import Matcher
from platforms.discord.sender import DiscordSender
from platforms.telegram.platform import TelegramPlatform
from store import Store
from tests.conftest import ROOT, FakeClock
from tests.fake_discord import (
    CHANNEL_A,
    FakeDiscord,
    Mirsad,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.fake_telegram import FakeTelegram, fake_telegram, real_labels, scaled  # noqa: F401
from tests.feedserver import FeedServer

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TZ = ZoneInfo("Africa/Casablanca")
CHAT = 7001
FEEDS = ("hespress_ar", "aljazeera_ar", "skynews_ar")
NAMES = {"hespress_ar": "هسبريس", "aljazeera_ar": "الجزيرة نت", "skynews_ar": "سكاي نيوز عربية"}

# One event (the Trump-Putin summit in Alaska) as three outlets wrote it, and another Trump
# story of the same day.
ALASKA = [
    (
        "بدء القمة بين ترامب وبوتين في ألاسكا",
        "بدأ الرئيس الأميركي دونالد ترامب ونظيره الروسي فلاديمير بوتين قمتهما اليوم الجمعة في "
        "ولاية ألاسكا الأميركية في مسعى لإنهاء الأزمة الأوكرانية.",
    ),
    (
        "قمة ترمب وبوتين تنطلق في ألاسكا",
        "انطلقت في ألاسكا اليوم الجمعة قمة الرئيس الأمريكي دونالد ترمب والرئيس الروسي فلاديمير "
        "بوتين لبحث إنهاء الحرب في أوكرانيا.",
    ),
    (
        "ترامب وبوتين يبدآن قمتهما في ألاسكا",
        "بدأ الرئيسان الأمريكي دونالد ترامب والروسي فلاديمير بوتين قمة في ألاسكا اليوم الجمعة "
        "تتصدرها الحرب في أوكرانيا.",
    ),
]
OTHER_TRUMP = (
    "ترامب يوقع أمرا تنفيذيا بشأن الرسوم الجمركية على الصلب",
    "وقع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا يرفع الرسوم الجمركية على واردات الصلب "
    "والألمنيوم إلى 50 في المائة.",
)
QUIET = ("توقعات طقس اليوم بالمغرب", "أجواء مشمسة في أغلب المناطق.")


def rss(items: Sequence[tuple[str, str, str]]) -> bytes:
    """A feed of (title, summary, link) items, newest first."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(summary)}</description>"
        f"<pubDate>Fri, 15 Aug 2025 {9 + i:02d}:00:00 +0000</pubDate></item>"
        for i, (title, summary, link) in enumerate(reversed(items))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.org/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def link(feed: str, n: int) -> str:
    return f"https://{feed.replace('_', '-')}.example/story-{n}.html"


@dataclass
class Rig:
    store: Store
    poller: Poller
    outbox: OutboxWorker
    feeds: FeedServer
    telegram: FakeTelegram
    discord: FakeDiscord
    clock: FakeClock

    def serve(self, feed: str, items: Sequence[tuple[str, str, str]]) -> None:
        self.feeds.set(f"/{feed}.xml", body=rss(items))

    async def poll_and_deliver(self) -> dict[str, Any]:
        self.clock.advance(600)  # every feed is due again
        outcomes = {o.feed_id: o for o in await self.poller.poll_all()}
        await asyncio.wait_for(self.outbox.deliver_due(), 30)
        return outcomes

    def telegram_alerts(self) -> list[Any]:
        return [m for m in self.telegram.messages(CHAT) if m.method == "sendMessage"]

    def telegram_edits(self) -> list[Any]:
        return [e for e in self.telegram.edits if e.chat_id == CHAT]

    def discord_alerts(self) -> list[Any]:
        return [m for m in self.discord.messages if m.channel_id == CHANNEL_A]


@pytest.fixture
async def rig(
    tmp_path: Path,
    store: Store,
    clock: FakeClock,
    feed_server: FeedServer,
    fake_telegram: FakeTelegram,
    fake_discord: FakeDiscord,
) -> AsyncIterator[Rig]:
    clock.now = datetime(2025, 8, 15, 14, 0, tzinfo=UTC)
    fake_telegram.private_chat(CHAT, language_code="ar")
    telegram = TelegramPlatform(
        token=fake_telegram.token,
        api_base_url=fake_telegram.api_base_url,
        subscriptions=Subscriptions(store, real_labels(), clock),
        store=store,
        tz=TZ,
        clock=clock,
        limiter=scaled(fake_telegram, 0.02),
        sources=NAMES,
    )
    await store.sync_feeds([(f, feed_server.url(f"/{f}.xml"), "ar", 60) for f in FEEDS], clock.now)
    for feed in FEEDS:
        feed_server.set(f"/{feed}.xml", body=rss([(*QUIET, link(feed, 0))]))
    await store.save_subscription("telegram", str(CHAT), ["trump"], clock.now)
    await store.save_subscription("discord", str(CHANNEL_A), ["trump"], clock.now)
    watchlists = load_settings(ROOT / "config.yaml", env={}).config.watchlists
    matcher = Matcher(watchlists)
    # as the runtime builds it (runtime/app.py): the watchlist figures weigh as names
    grouper = EventGrouper(fingerprinter=Fingerprinter.for_watchlists(watchlists.figures))
    (tmp_path / "discord").mkdir()  # the Discord side's own app and database
    async with (
        running_mirsad(
            fake_discord, mirsad_config(tmp_path / "discord", fake_discord), clock
        ) as app,
        Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher,
    ):
        discord = discord_sender(app)
        outbox = OutboxWorker(store, {"telegram": telegram.sender, "discord": discord}, clock)
        poller = Poller(store, fetcher, matcher, clock, rng=random.Random(1), grouper=grouper)
        await poller.poll_all()  # first poll: the feeds' items are recorded, nothing sent
        yield Rig(store, poller, outbox, feed_server, fake_telegram, fake_discord, clock)
    await telegram.stop()


def discord_sender(app: Mirsad) -> DiscordSender:
    sender = app.platform.sender
    assert isinstance(sender, DiscordSender)
    sender._sources = NAMES  # the feeds of this test, by name
    return sender


async def test_three_outlets_one_event_one_message_then_two_edits_on_both_platforms(
    rig: Rig,
) -> None:
    hespress, aljazeera, skynews = FEEDS
    rig.serve(hespress, [(*ALASKA[0], link(hespress, 1)), (*QUIET, link(hespress, 0))])
    out = await rig.poll_and_deliver()
    assert out[hespress].queued == 2 and out[hespress].grouped == 0
    [tg] = rig.telegram_alerts()
    [dc] = rig.discord_alerts()
    assert "بدء القمة بين ترامب وبوتين في ألاسكا" in tg.visible
    assert "نشرته أيضًا" not in tg.visible

    rig.serve(aljazeera, [(*ALASKA[1], link(aljazeera, 1)), (*QUIET, link(aljazeera, 0))])
    out = await rig.poll_and_deliver()
    assert (out[aljazeera].grouped, out[aljazeera].queued, out[aljazeera].edits) == (1, 0, 2)
    rig.serve(skynews, [(*ALASKA[2], link(skynews, 1)), (*QUIET, link(skynews, 0))])
    out = await rig.poll_and_deliver()
    assert (out[skynews].grouped, out[skynews].queued, out[skynews].edits) == (1, 0, 2)

    # Telegram: still one message, edited twice; it now names both other outlets, linked
    assert len(rig.telegram_alerts()) == 1
    edits = rig.telegram_edits()
    assert [e.message_id for e in edits] == [tg.message_id, tg.message_id]
    assert "نشرته أيضًا: الجزيرة نت\n" in edits[0].visible + "\n"
    now = rig.telegram.message(CHAT, tg.message_id)
    assert "نشرته أيضًا: الجزيرة نت، سكاي نيوز عربية" in now.visible
    assert f'<a href="{link(aljazeera, 1)}">الجزيرة نت</a>' in now.text
    assert f'<a href="{link(skynews, 1)}">سكاي نيوز عربية</a>' in now.text
    assert "بدء القمة بين ترامب وبوتين في ألاسكا" in now.visible  # the first report stays

    # Discord: one message, two edits; the field lists both outlets as links
    assert len(rig.discord_alerts()) == 1
    assert [e.message_id for e in rig.discord.edits] == [dc.message_id, dc.message_id]
    embed = rig.discord.edits[-1].payload["embeds"][0]
    [also] = [f for f in embed["fields"] if f["name"] == "نشرته أيضًا:"]
    assert also["value"] == (
        f"[الجزيرة نت]({link(aljazeera, 1)})\n[سكاي نيوز عربية]({link(skynews, 1)})"
    )
    rows = await rig.store.outbox_rows()
    assert (
        sorted((r["revision"], r["status"]) for r in rows)
        == [(0, "sent")] * 2 + [(1, "sent")] * 2 + [(2, "sent")] * 2
    )


async def test_a_different_story_on_the_same_figure_the_same_day_is_its_own_message(
    rig: Rig,
) -> None:
    hespress, aljazeera, _ = FEEDS
    rig.serve(hespress, [(*ALASKA[0], link(hespress, 1)), (*QUIET, link(hespress, 0))])
    await rig.poll_and_deliver()
    rig.serve(aljazeera, [(*OTHER_TRUMP, link(aljazeera, 2)), (*QUIET, link(aljazeera, 0))])
    out = await rig.poll_and_deliver()
    assert (out[aljazeera].grouped, out[aljazeera].queued) == (0, 2)
    titles = [m.visible.split("\n")[0] for m in rig.telegram_alerts()]
    assert titles == ["\u200f" + ALASKA[0][0], "\u200f" + OTHER_TRUMP[0]]
    assert [m.embeds[0]["title"] for m in rig.discord_alerts()] == [ALASKA[0][0], OTHER_TRUMP[0]]
    assert rig.telegram_edits() == [] and rig.discord.edits == []


async def test_a_corrected_headline_edits_the_sent_message_on_both_platforms(rig: Rig) -> None:
    hespress = FEEDS[0]
    rig.serve(
        hespress,
        [(*ALASKA[0], link(hespress, 1)), (*OTHER_TRUMP, link(hespress, 2))],
    )
    await rig.poll_and_deliver()
    # the feed lists newest first: the other story was published (and sent) first
    tg_other, tg_alaska = rig.telegram_alerts()
    _, dc_alaska = rig.discord_alerts()
    assert ALASKA[0][0] in tg_alaska.visible and ALASKA[0][0] == dc_alaska.embeds[0]["title"]

    fixed = "بدء القمة بين ترامب وبوتين في قاعدة عسكرية بألاسكا"
    # the feed corrects one headline and drops the other story: only the first is edited
    rig.serve(hespress, [(fixed, ALASKA[0][1], link(hespress, 1))])
    out = await rig.poll_and_deliver()
    assert (out[hespress].edits, out[hespress].queued) == (2, 0)
    [tg_edit] = rig.telegram_edits()
    assert tg_edit.message_id == tg_alaska.message_id
    assert tg_edit.visible.split("\n")[0] == "\u200f" + fixed
    assert "(محدَّث)" in tg_edit.visible.split("\n")[1]
    untouched = rig.telegram.message(CHAT, tg_other.message_id)
    assert untouched.visible == tg_other.visible  # the withdrawn story is left alone
    [dc_edit] = rig.discord.edits
    assert dc_edit.message_id == dc_alaska.message_id
    assert dc_edit.payload["embeds"][0]["title"] == fixed
    assert dc_edit.payload["embeds"][0]["footer"] == {"text": "(محدَّث)"}

    # the same corrected feed again: nothing more to edit
    out = await rig.poll_and_deliver()
    assert out[hespress].edits == 0 and len(rig.telegram_edits()) == 1


class _CrashAfterSend:
    """A store whose "sent" write never comes back, as if the process died right after the
    platform took the message (the worker task is then cancelled: the kill)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.stuck = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def mark_sent(self, outbox_id: int, message_id: str | None, now: datetime) -> None:
        self.stuck.set()
        await asyncio.Event().wait()


async def test_a_crash_between_sending_an_edit_and_recording_it_loses_no_edit(rig: Rig) -> None:
    hespress, aljazeera, _ = FEEDS
    rig.serve(hespress, [(*ALASKA[0], link(hespress, 1)), (*QUIET, link(hespress, 0))])
    await rig.poll_and_deliver()
    [tg] = rig.telegram_alerts()

    rig.serve(aljazeera, [(*ALASKA[1], link(aljazeera, 1)), (*QUIET, link(aljazeera, 0))])
    rig.clock.advance(600)
    await rig.poller.poll_all()
    crashing = _CrashAfterSend(rig.store)
    senders = {"telegram": rig.outbox._senders["telegram"]}
    doomed = OutboxWorker(crashing, senders, rig.clock)  # type: ignore[arg-type]
    run = asyncio.ensure_future(doomed.deliver_due())
    await asyncio.wait_for(crashing.stuck.wait(), 20)
    run.cancel()  # killed before "sent" was written
    with pytest.raises(asyncio.CancelledError):
        await run
    [edit] = rig.telegram_edits()  # the edit reached Telegram...
    rows = {(r["platform"], r["revision"]): r["status"] for r in await rig.store.outbox_rows()}
    assert rows[("telegram", 1)] == "pending"  # ...but was not recorded

    # after the restart the edit is sent again: Telegram answers "message is not modified",
    # which counts as done (no retry loop), and the row is recorded as sent
    await asyncio.wait_for(rig.outbox.deliver_due(), 30)
    rows = {(r["platform"], r["revision"]): r for r in await rig.store.outbox_rows()}
    assert rows[("telegram", 1)]["status"] == "sent" and rows[("telegram", 1)]["attempts"] == 1
    assert rows[("discord", 1)]["status"] == "sent"
    assert len(rig.telegram_edits()) == 1
    final = rig.telegram.message(CHAT, tg.message_id)
    assert final.visible == edit.visible and "الجزيرة نت" in final.visible


async def test_an_edit_of_a_message_deleted_in_the_chat_fails_once_without_retrying(
    rig: Rig,
) -> None:
    hespress, aljazeera, _ = FEEDS
    rig.serve(hespress, [(*ALASKA[0], link(hespress, 1)), (*QUIET, link(hespress, 0))])
    await rig.poll_and_deliver()
    [tg] = rig.telegram_alerts()
    del rig.telegram._messages[(CHAT, tg.message_id)]  # a member deleted it
    rig.serve(aljazeera, [(*ALASKA[1], link(aljazeera, 1)), (*QUIET, link(aljazeera, 0))])
    await rig.poll_and_deliver()
    rows = {(r["platform"], r["revision"]): r for r in await rig.store.outbox_rows()}
    assert rows[("telegram", 1)]["status"] == "failed"
    assert rows[("telegram", 1)]["attempts"] == 1
    assert "message to edit not found" in rows[("telegram", 1)]["last_error"].lower()
    assert rows[("discord", 1)]["status"] == "sent"  # the other chat is edited as usual
    assert await rig.store.next_delivery_at(["telegram", "discord"]) is None


async def test_grouping_survives_a_restart(rig: Rig) -> None:
    """The window is refilled from the store: an outlet that reports the event after a
    restart still edits the first alert instead of sending a second one."""
    from runtime.app import event_grouper

    hespress, aljazeera, _ = FEEDS
    rig.serve(hespress, [(*ALASKA[0], link(hespress, 1)), (*QUIET, link(hespress, 0))])
    await rig.poll_and_deliver()
    grouper = await event_grouper(rig.store, 12, rig.clock.now)
    assert grouper is not None and len(grouper) == 1
    rig.poller._grouper = grouper  # the restarted process's poller
    rig.serve(aljazeera, [(*ALASKA[1], link(aljazeera, 1)), (*QUIET, link(aljazeera, 0))])
    out = await rig.poll_and_deliver()
    assert out[aljazeera].grouped == 1 and len(rig.telegram_alerts()) == 1
    rig.clock.advance(timedelta(hours=13).total_seconds())
    assert len(await event_grouper(rig.store, 12, rig.clock.now) or []) == 0
