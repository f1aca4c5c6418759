"""Digests and quiet hours (issue 13) through the real pipeline, on both platforms: /digest,
/tz and /quiet sent through the real python-telegram-bot and discord.py clients to the fakes,
a loopback feed polled, alerts held in the store, and the digest that reaches the fake server
at its time — once, after a restart too."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.outbox import OutboxWorker
from store import ChatRhythm
from tests.feedserver import FeedServer
from tests.test_follow_delivery import (  # noqa: F401  (the `side` fixture: both platforms)
    CHANNEL_A,
    FEED,
    GROUP,
    QUIET,
    TRUMP_1,
    TRUMP_2,
    DiscordSide,
    Side,
    TelegramSide,
    rss,
    side,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# A Trump story of another event than TRUMP_1 (one of the same event would join its alert)
TARIFFS = ("ترامب يفرض رسوما جمركية على واردات الصلب", "أعلن دونالد ترامب رسوما جديدة.")
# the watchlist's Musk: ماسك alone is also an Arabic word ("holding"), the full name is not
MUSK = ("إيلون ماسك يطلق شركة جديدة للصواريخ", "أعلن رجل الأعمال عن مشروعه الجديد.")
RIYADH = "Asia/Riyadh"  # UTC+3 all year: the times below do not move with daylight saving


def digests(side: Side) -> list[str]:
    """The text of every digest message in the chat, in order (a Discord digest: its
    heading, then each embed's title and list)."""
    if isinstance(side, TelegramSide):
        return [
            m.visible.replace("\u200e", "").replace("\u200f", "")
            for m in side.fake.messages(GROUP)
            if m.method == "sendMessage" and "News digest" in m.visible
        ]
    assert isinstance(side, DiscordSide)
    out = []
    for message in side.fake.posted_to(CHANNEL_A):
        content = str(message.payload.get("content") or "")
        if content.startswith("News digest"):
            sections = [f"{e['title']}\n{e['description']}" for e in message.embeds]
            out.append("\n".join([content, *sections]))
    return out


def singles(side: Side) -> list[str]:
    """The title of every story that came as its own alert, in order."""
    if isinstance(side, TelegramSide):
        return [
            m.visible.split("\n")[0].strip("\u200e\u200f")
            for m in side.fake.messages(GROUP)
            if m.method == "sendMessage"
            and "hespress" in m.visible
            and "News digest" not in m.visible
        ]
    assert isinstance(side, DiscordSide)
    return [
        m.embeds[0]["title"]
        for m in side.fake.posted_to(CHANNEL_A)
        if not str(m.payload.get("content") or "").startswith("News digest")
    ]


async def deliver(side: Side, outbox: OutboxWorker | None = None) -> None:
    await asyncio.wait_for((outbox or side.outbox).deliver_due(), 30)


async def poll(side: Side) -> None:
    await side.poller.poll_all()
    await deliver(side)


async def subscribe(side: Side, *figures: str) -> None:
    """Subscribe the chat to `figures`, its alerts and digests in English."""
    await side.command("lang", "en", {"language": "en"})
    for figure in figures:
        await side.command("subscribe", figure, {"figure": figure})


async def test_a_daily_digest_comes_once_at_its_time_grouped_and_survives_a_restart(
    side: Side, feed_server: FeedServer
) -> None:
    await subscribe(side, "trump", "musk")
    reply = await side.command("tz", RIYADH, {"zone": RIYADH})
    assert reply.startswith(f"Time zone: {RIYADH}.")
    reply = await side.command("digest", "daily 08:00", {"mode": "daily", "time": "08:00"})
    # now: 2026-02-16 12:00 UTC = 15:00 in Riyadh, so the next 08:00 there is tomorrow's
    assert reply.startswith(
        f"Digest: daily 08:00, {RIYADH} time. The next one: 2026-02-17 08:00 ({RIYADH})."
    )
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_1, MUSK, QUIET]))
    side.clock.advance(600)
    await poll(side)
    feed_server.set(f"/{FEED}.xml", body=rss([TARIFFS, TRUMP_1, MUSK, QUIET]))
    side.clock.advance(3 * 3600)
    await poll(side)
    assert singles(side) == [] and digests(side) == []  # they wait for the digest
    rows = await side.store.outbox_rows()
    assert [r["status"] for r in rows] == ["pending"] * 3
    assert {r["digest_at"] for r in rows} == {datetime(2026, 2, 17, 5, 0, tzinfo=UTC), None}

    # the process stops here and starts again (a new worker: nothing kept in memory)
    restarted = OutboxWorker(
        side.store, {side.platform: side.sender}, side.clock, zone=ZoneInfo("Africa/Casablanca")
    )
    side.clock.now = datetime(2026, 2, 17, 4, 59, tzinfo=UTC)
    await deliver(side, restarted)
    assert digests(side) == []
    side.clock.now = datetime(2026, 2, 17, 5, 0, tzinfo=UTC)  # 08:00 in Riyadh
    await deliver(side, restarted)
    await deliver(side, restarted)  # nothing twice
    [digest] = digests(side)
    assert digest.startswith("News digest (3)")
    # grouped by label in the chat's order (the config's: Musk before Trump), newest first
    # (rss() dates its items 06:00, 07:00... in feed order: TRUMP_1 is newer than TARIFFS)
    musk, trump, first, second = (
        digest.index("Elon Musk"),
        digest.index("Donald Trump"),
        digest.index(TRUMP_1[0]),
        digest.index(TARIFFS[0]),
    )
    assert musk < digest.index(MUSK[0]) < trump < first < second
    assert singles(side) == []  # one digest, no single alerts
    rows = await side.store.outbox_rows()
    assert [r["status"] for r in rows] == ["sent"] * 3


async def test_quiet_hours_hold_alerts_and_release_them_as_one_digest(
    side: Side, feed_server: FeedServer
) -> None:
    await subscribe(side, "trump", "musk")
    await side.command("tz", RIYADH, {"zone": RIYADH})
    reply = await side.command("quiet", "22:00-07:00", {"window": "22:00-07:00"})
    assert reply.startswith(f"Quiet hours: 22:00-07:00, {RIYADH} time.")
    side.clock.now = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)  # 23:00 in Riyadh: quiet
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_1, MUSK, QUIET]))
    await poll(side)
    side.clock.now = datetime(2026, 2, 17, 3, 59, tzinfo=UTC)
    await deliver(side)
    assert singles(side) == [] and digests(side) == []
    side.clock.now = datetime(2026, 2, 17, 4, 0, tzinfo=UTC)  # 07:00 in Riyadh: the end
    await deliver(side)
    [digest] = digests(side)
    assert digest.startswith("News digest (2)") and MUSK[0] in digest and TRUMP_1[0] in digest

    # outside the window a story comes at once, on its own
    side.clock.now = datetime(2026, 2, 17, 9, 0, tzinfo=UTC)
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_2, TRUMP_1, MUSK, QUIET]))
    await poll(side)
    assert singles(side) == [TRUMP_2[0]]
    assert len(digests(side)) == 1


async def test_one_story_held_by_quiet_hours_comes_as_its_usual_alert(
    side: Side, feed_server: FeedServer
) -> None:
    await subscribe(side, "trump")
    await side.command("tz", RIYADH, {"zone": RIYADH})
    await side.command("quiet", "22:00-07:00", {"window": "22:00-07:00"})
    side.clock.now = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_1, QUIET]))
    await poll(side)
    assert singles(side) == []
    side.clock.now = datetime(2026, 2, 17, 4, 0, tzinfo=UTC)
    await deliver(side)
    assert singles(side) == [TRUMP_1[0]]
    assert digests(side) == []


async def test_turning_digests_off_sends_what_waited_now_as_one_digest(
    side: Side, feed_server: FeedServer
) -> None:
    await subscribe(side, "trump", "musk")
    await side.command(
        "digest", "weekly fri 09:30", {"mode": "weekly", "day": "fri", "time": "09:30"}
    )
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_1, MUSK, QUIET]))
    side.clock.advance(600)
    await poll(side)
    assert digests(side) == []
    reply = await side.command("digest", "off", {"mode": "off"})
    assert reply.startswith("Digest off: each story comes at once.")
    await deliver(side)
    [digest] = digests(side)
    assert digest.startswith("News digest (2)")
    # and from now on, each story at once
    feed_server.set(f"/{FEED}.xml", body=rss([TRUMP_2, TRUMP_1, MUSK, QUIET]))
    side.clock.advance(600)
    await poll(side)
    assert singles(side) == [TRUMP_2[0]]


async def test_bad_modes_zones_and_windows_are_refused_in_one_line(side: Side) -> None:
    await subscribe(side)
    reply = await side.command("digest", "daily 25:00", {"mode": "daily", "time": "25:00"})
    assert reply == (
        "Not a digest mode: «daily 25:00». Write /digest off, hourly, daily HH:MM (e.g. daily "
        "07:30) or weekly <day> HH:MM (e.g. weekly mon 08:00). Nothing was changed."
    )
    reply = await side.command("tz", "Mars/Olympus", {"zone": "Mars/Olympus"})
    assert reply == (
        "Unknown time zone: «Mars/Olympus». Write a name like Africa/Casablanca, Asia/Riyadh, "
        "Europe/Paris or UTC. Nothing was changed."
    )
    reply = await side.command("quiet", "22:00-22:00", {"window": "22:00-22:00"})
    assert reply.startswith("Not a window: «22:00-22:00».")
    chat = str(GROUP if isinstance(side, TelegramSide) else CHANNEL_A)
    assert await side.store.chat_rhythm(side.platform, chat) == ChatRhythm()  # nothing set
