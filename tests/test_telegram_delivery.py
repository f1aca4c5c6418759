"""Telegram delivery: outbox + TelegramSender + the real PTB client, over HTTP, against the fake
Bot API server, which enforces Telegram's flood limits and answers 429 when they are exceeded.

Time is real here (the fake measures the gaps between requests), so the clocks are real too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.outbox import OutboxWorker, Pacing
from config import load_settings
from core.subscriptions import Subscriptions
from models import Evidence, Match, Story
from platforms.telegram.limiter import TelegramRateLimiter
from platforms.telegram.platform import TelegramPlatform, create_platform
from runtime.app import AppOptions, build
from store import FeedUpdate, Store
from tests.fake_telegram import FakeTelegram, Limits, fake_telegram, real_labels, user  # noqa: F401
from tests.feedserver import FeedServer, feed_server  # noqa: F401
from tests.helpers import FakeClock, rss, write_config

# PTB's own RetryAfter constructor reads its deprecated int `retry_after` (PTB 22.2+)
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TZ = ZoneInfo("Africa/Casablanca")
FEED = "hespress_ar"
T0 = datetime(2026, 2, 11, 8, 0, tzinfo=UTC)


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Rig:
    fake: FakeTelegram
    store: Store
    platform: TelegramPlatform

    def outbox(self, **kwargs: Any) -> OutboxWorker:
        return OutboxWorker(self.store, {"telegram": self.platform.sender}, real_now, **kwargs)

    async def subscribe(self, chat_id: int, labels: Sequence[str], thread: str = "") -> None:
        await self.store.save_subscription(
            "telegram", str(chat_id), list(labels), real_now(), thread_id=thread
        )

    async def stories(self, labels: Sequence[str], prefix: str = "s") -> list[Story]:
        """Queue one new story per entry of `labels` (published a minute apart), as a poll would."""
        now = real_now()
        await self.store.sync_feeds([(FEED, "http://127.0.0.1/feed", "ar", 60)], now)
        stories = [
            Story(
                id=f"{prefix}{i}",
                feed_id=FEED,
                title=f"خبر رقم {i} <عاجل> & مهم",
                summary=f"ملخص الخبر {i}",
                link=f"https://h.test/{prefix}{i}",
                published=T0 + timedelta(minutes=i),
                language="ar",
            )
            for i in range(len(labels))
        ]
        matches = {
            s.id: Match((label,), (Evidence(label, label, label, "title"),))
            for s, label in zip(stories, labels, strict=True)
        }
        await self.store.ingest(
            FEED, stories, matches, FeedUpdate(next_poll_at=now), now, alert=True
        )
        return stories

    async def rows(self) -> list[dict[str, Any]]:
        return await self.store.outbox_rows()


def make_platform(
    fake: FakeTelegram,
    store: Store,
    limiter: TelegramRateLimiter | None = None,
    pacing: Pacing | None = None,
) -> TelegramPlatform:
    platform = TelegramPlatform(
        token=fake.token,
        api_base_url=fake.api_base_url,
        subscriptions=Subscriptions(store, real_labels(), real_now),
        store=store,
        tz=TZ,
        clock=real_now,
        limiter=limiter,
        poll_timeout=0.5,
    )
    if pacing is not None:
        platform.sender.pacing = pacing
    return platform


@pytest.fixture
async def rig(fake_telegram: FakeTelegram, store: Store) -> AsyncIterator[Rig]:
    platform = make_platform(fake_telegram, store)
    yield Rig(fake_telegram, store, platform)
    await platform.stop()  # the sender opened the bot without start(), as `bot.py once` does


def titles(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.visible.split("\n")[0].lstrip("\u200f\u200e") for m in fake.messages(chat_id)]


@pytest.mark.slow
async def test_burst_to_50_chats_is_paced_not_dropped(rig: Rig) -> None:
    """10 stories to 40 private chats and 10 groups: no 429, all delivered once, in order."""
    fake = rig.fake
    private = [1000 + i for i in range(40)]
    groups = [-100100 - i for i in range(10)]
    for uid in private:
        fake.private_chat(uid)
        await rig.subscribe(uid, ["trump", "musk"])
    for gid in groups:
        fake.group(gid)
        await rig.subscribe(gid, ["trump"])  # groups get half of the stories (their 20/min is slow)
    labels = ["trump", "musk"] * 5
    stories = await rig.stories(labels)
    started = fake.clock()
    await asyncio.wait_for(rig.outbox().deliver_due(), 40)
    elapsed = fake.clock() - started

    assert fake.rate_limited == []
    expected_private = [s.title for s in stories]
    expected_group = [s.title for s, label in zip(stories, labels, strict=True) if label == "trump"]
    for uid in private:
        assert titles(fake, uid) == expected_private  # every story, once, in publication order
    for gid in groups:
        assert titles(fake, gid) == expected_group
    rows = await rig.rows()
    assert len(rows) == 450 and {r["status"] for r in rows} == {"sent"}
    assert Counter((m.chat_id, m.message_id) for m in fake.sent).most_common(1)[0][1] == 1
    sent_ids = {(int(r["chat_id"]), int(r["message_id"])) for r in rows}
    assert sent_ids == {(m.chat_id, m.message_id) for m in fake.sent}

    times = sorted(m.time for m in fake.sent)
    worst_second = max(sum(1 for t in times if a <= t < a + 1.0) for a in times)
    assert worst_second <= 30
    for chat_id in private + groups:
        gaps = [
            b.time - a.time
            for a, b in zip(fake.messages(chat_id), fake.messages(chat_id)[1:], strict=False)
        ]
        assert min(gaps) >= (3.0 if chat_id < 0 else 1.0) - 0.05
    rate = len(fake.sent) / (times[-1] - times[0])
    print(
        f"\nburst: {len(fake.sent)} alerts to 50 chats in {elapsed:.1f} s, {rate:.1f} msg/s overall, "
        f"busiest 1-s window {worst_second}"
    )
    # "paced, but not needlessly slow" is measured by bench/bench_delivery.py (BENCHMARKS.md:
    # 28/s sustained); a rate asserted here failed on a loaded machine (19.2/s at load 13)


@pytest.mark.slow
async def test_groups_never_get_more_than_20_per_window(
    fake_telegram: FakeTelegram, store: Store
) -> None:
    """Telegram's group limit with the clock 20 times faster (window 3 s instead of 60 s) on both
    sides, so 30 alerts per group really meet it: none refused, each window holds at most 20."""
    fake = fake_telegram
    factor = 0.05
    fake.limits = Limits(
        chat_gap=1.0 * factor,
        group_max=20,
        group_window=60 * factor,
        overall_max=30,
        tolerance=0.01,
    )
    limiter = TelegramRateLimiter(chat_gap=1.0 * factor, group_window=60 * factor)
    platform = make_platform(fake, store, limiter, Pacing(27.0, 1.0 * factor, 3.0 * factor * 0.5))
    rig = Rig(fake, store, platform)
    try:
        for gid in (-2001, -2002, -2003):
            fake.group(gid)
            await rig.subscribe(gid, ["ai"])
        await rig.stories(["ai"] * 30)
        await asyncio.wait_for(rig.outbox().deliver_due(), 30)
    finally:
        await platform.stop()
    assert fake.rate_limited == []
    for gid in (-2001, -2002, -2003):
        times = [m.time for m in fake.messages(gid)]
        assert len(times) == 30
        assert max(sum(1 for t in times if a <= t < a + 60 * factor - 0.01) for a in times) <= 20


@pytest.mark.slow
async def test_retry_after_is_honoured_exactly(rig: Rig) -> None:
    fake = rig.fake
    fake.private_chat(3001)
    fake.private_chat(3002)
    await rig.subscribe(3001, ["trump"])
    await rig.subscribe(3002, ["trump"])
    fake.fail(3001, 429, "Too Many Requests: retry after 2", parameters={"retry_after": 2})
    await rig.stories(["trump", "trump"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)

    attempts = [p for m, p in fake.calls if m == "sendMessage" and str(p.get("chat_id")) == "3001"]
    assert len(attempts) == 3  # refused once, then two alerts
    first, second = fake.messages(3001)
    other = fake.messages(3002)
    assert len(other) == 2 and other[0].time < first.time  # the other chat was not held
    refused = fake.errors_given
    assert refused == [(3001, 429, "Too Many Requests: retry after 2")]
    # the retry came after exactly retry_after: not sooner (the fake would refuse), not much later
    hold_started = other[0].time  # both chats' first sends started together
    assert 2.0 - 0.1 <= first.time - hold_started <= 2.0 + 0.5
    assert second.time - first.time >= 1.0 - 0.05
    assert fake.rate_limited == []
    rows = [r for r in await rig.rows() if r["chat_id"] == "3001"]
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert rows[0]["attempts"] == 1  # a rate limit is not the alert's fault


async def test_group_upgraded_to_supergroup_gets_the_alert_at_its_new_id(rig: Rig) -> None:
    fake = rig.fake
    fake.group(-5002, supergroup=False)
    fake.group(-1005002)
    await rig.subscribe(-5002, ["musk"])
    fake.fail(
        -5002,
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": -1005002},
    )
    stories = await rig.stories(["musk"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)
    assert fake.messages(-5002) == []
    assert titles(fake, -1005002) == [stories[0].title]
    assert await rig.store.subscription("telegram", "-5002") is None
    sub = await rig.store.subscription("telegram", "-1005002")
    assert sub is not None and sub.active and sub.labels == ("musk",)
    rows = await rig.rows()
    assert [(r["chat_id"], r["status"]) for r in rows] == [("-1005002", "sent")]


@pytest.mark.slow
async def test_alerts_go_to_the_forum_topic_that_subscribed(rig: Rig) -> None:
    fake = rig.fake
    fake.group(-6100, forum=True)
    await rig.subscribe(-6100, ["trump"], thread="42")
    await rig.subscribe(-6100, ["musk"], thread="43")
    stories = await rig.stories(["trump", "musk"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)
    got = sorted(
        (m.message_thread_id or 0, m.visible.split("\n")[0].lstrip("\u200f"))
        for m in fake.messages(-6100)
    )
    assert got == [(42, stories[0].title), (43, stories[1].title)]
    times = [m.time for m in fake.messages(-6100)]
    # one group, whatever the topic: its 20/min is shared, so the alerts are 3 s apart
    assert all(b - a >= 3.0 - 0.05 for a, b in itertools.pairwise(times))
    assert fake.rate_limited == []


@pytest.mark.slow
async def test_a_deleted_forum_topic_pauses_that_topic_only(rig: Rig) -> None:
    fake = rig.fake
    fake.group(-6200)  # not (or no longer) a forum: any message_thread_id is "not found"
    await rig.subscribe(-6200, ["trump"], thread="42")
    await rig.subscribe(-6200, ["trump"])  # the group itself
    await rig.stories(["trump", "trump"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)
    assert len(fake.messages(-6200)) == 2 and all(
        m.message_thread_id is None for m in fake.messages(-6200)
    )
    topic = await rig.store.subscription("telegram", "-6200", "42")
    group = await rig.store.subscription("telegram", "-6200")
    assert (
        topic is not None
        and not topic.active
        and topic.paused_reason == "topic_gone: Message thread not found"
    )
    assert group is not None and group.active
    statuses = sorted(r["status"] for r in await rig.rows())
    assert statuses == ["cancelled", "cancelled", "sent", "sent"]


@pytest.mark.parametrize(
    ("chat_id", "kind", "script", "reason"),
    [
        (
            4001,
            "private",
            "Forbidden: bot was blocked by the user",
            "blocked: Forbidden: bot was blocked by the user",
        ),
        (
            -4002,
            "group",
            "Forbidden: bot was kicked from the supergroup chat",
            "kicked: Forbidden: bot was kicked from the supergroup chat",
        ),
        (-4003, "unknown", None, "chat_gone: Chat not found"),
        (
            -4004,
            "group",
            "Bad Request: not enough rights to send text messages to the chat",
            "no_permission: Not enough rights to send text messages to the chat",
        ),
    ],
)
async def test_gone_chats_are_paused_with_the_reason_and_get_nothing_more(
    rig: Rig, chat_id: int, kind: str, script: str | None, reason: str
) -> None:
    fake = rig.fake
    if kind == "private":
        fake.private_chat(chat_id)
    elif kind == "group":
        fake.group(chat_id)
    if script:
        fake.fail(chat_id, 403 if script.startswith("Forbidden") else 400, script, times=None)
    fake.private_chat(4100)
    await rig.subscribe(chat_id, ["ai"])
    await rig.subscribe(4100, ["ai"])
    await rig.stories(["ai", "ai"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)
    assert len(fake.messages(4100)) == 2  # the healthy chat is unaffected
    tries = [p for m, p in fake.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id]
    assert len(tries) == 1  # one refusal, then nothing more is sent there
    sub = await rig.store.subscription("telegram", str(chat_id))
    assert sub is not None and not sub.active and sub.paused_reason == reason
    statuses = [r["status"] for r in await rig.rows() if r["chat_id"] == str(chat_id)]
    assert statuses == ["cancelled"] * 2
    # a later story is not even queued for the paused chat
    await rig.stories(["ai"], prefix="later")
    assert [
        r for r in await rig.rows() if r["chat_id"] == str(chat_id) and r["story_id"] == "later0"
    ] == []


@pytest.mark.slow
async def test_html_refused_falls_back_to_plain_text_once(rig: Rig) -> None:
    fake = rig.fake
    fake.private_chat(6001)
    fake.private_chat(6002)
    await rig.subscribe(6001, ["trump"])
    await rig.subscribe(6002, ["trump"])
    refusal = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    fake.fail(6001, 400, refusal, only_html=True)  # HTML refused, plain text accepted
    fake.fail(6002, 400, refusal, times=2)  # refused both ways: given up, not retried forever
    stories = await rig.stories(["trump", "trump"])
    await asyncio.wait_for(rig.outbox().deliver_due(), 20)

    first, second = fake.messages(6001)
    assert first.parse_mode is None and second.parse_mode == "HTML"
    lines = first.visible.split("\n")
    assert lines[0].endswith(stories[0].title)  # the feed's "<عاجل> &" shown as typed
    assert lines[1] == "https://h.test/s0"
    assert lines[-1].endswith("#ترامب")
    rows = {(r["chat_id"], r["story_id"]): r for r in await rig.rows()}
    assert rows[("6001", "s0")]["status"] == "sent"
    failed = rows[("6002", "s0")]
    assert (
        failed["status"] == "failed" and "refused as HTML and as plain text" in failed["last_error"]
    )
    assert titles(fake, 6002) == [stories[1].title]  # the next alert still arrives


async def test_server_errors_are_retried_later(rig: Rig) -> None:
    fake = rig.fake
    fake.private_chat(7001)
    await rig.subscribe(7001, ["ai"])
    fake.fail(7001, 502, "Bad Gateway")
    stories = await rig.stories(["ai"])
    clock = FakeClock(real_now())  # the 5 s backoff passes on the outbox's clock, not the wall's
    outbox = OutboxWorker(
        rig.store,
        {"telegram": rig.platform.sender},
        clock,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )
    await asyncio.wait_for(outbox.deliver_due(), 20)
    assert 4.9 <= sum(clock.slept) <= 10.1
    assert titles(fake, 7001) == [stories[0].title]
    (row,) = await rig.rows()
    assert row["status"] == "sent" and row["attempts"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("crash", [False, True])
async def test_restart_mid_burst_loses_nothing_and_repeats_at_most_one_per_chat(
    fake_telegram: FakeTelegram, tmp_path: Path, crash: bool
) -> None:
    """Stop (or kill the delivery task) while a burst is under way, restart on the same
    database: every alert arrives; gracefully exactly once, after a crash at most one repeat
    per chat (the send in flight when it died)."""
    fake = fake_telegram
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    chats = [8000 + i for i in range(20)]
    store = await Store.open(url)
    platform = make_platform(fake, store)
    rig = Rig(fake, store, platform)
    for uid in chats:
        fake.private_chat(uid)
        await rig.subscribe(uid, ["musk"])
    stories = await rig.stories(["musk"] * 3)
    stop = asyncio.Event()
    task = asyncio.create_task(rig.outbox().run(stop))
    await fake.wait_until(lambda: len(fake.sent) >= 25, within=20)
    if crash:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    else:
        stop.set()
        await asyncio.wait_for(task, 10)
    first_run = len(fake.sent)
    await platform.stop()
    await store.close()
    assert first_run < 60

    # A real restart takes longer than Telegram's 1 s per-chat gap; a new process does not know
    # when each chat last got a message, so an instant restart would meet the flood limit.
    await asyncio.sleep(1.05)
    store = await Store.open(url)
    platform = make_platform(fake, store)
    try:
        await asyncio.wait_for(Rig(fake, store, platform).outbox().deliver_due(), 30)
        rows = await store.outbox_rows()
    finally:
        await platform.stop()
        await store.close()
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 60
    assert fake.rate_limited == []
    expected = [s.title for s in stories]
    for uid in chats:
        got = titles(fake, uid)
        assert sorted(set(got), key=expected.index) == expected  # nothing lost, in order
        repeats = len(got) - len(set(got))
        assert repeats == 0 if not crash else repeats <= 1


async def test_story_in_loopback_feed_reaches_subscribed_chats_only(
    fake_telegram: FakeTelegram, feed_server: FeedServer, tmp_path: Path, database_url: str
) -> None:
    """The real composition (runtime.app.build): commands over Telegram, a feed served on
    loopback, a poll, the outbox; two subscribed chats get the alert, the unsubscribed one not."""
    fake = fake_telegram
    config = write_config(
        tmp_path,
        f"""
        database: {database_url}
        timezone: Africa/Casablanca
        feeds:
          - id: hespress_ar
            url: {feed_server.url("/feed.xml")}
            language: ar
        http:
          allow_private_addresses: true
        telegram:
          api_base_url: {fake.api_base_url}
        health:
          enabled: false
    """,
    )
    settings = load_settings(config, env={"TELEGRAM_BOT_TOKEN": fake.token})
    feed_server.set("/feed.xml", body=rss([OLD_ITEM]))
    options = AppOptions(clock=real_now, platform_factories=(("telegram", create_platform),))
    async with AsyncExitStack() as stack:
        parts = await build(settings, stack, options)
        (platform,) = parts.platforms
        assert isinstance(platform, TelegramPlatform)
        await platform.start()
        stack.push_async_callback(platform.stop)

        alice = fake.private_chat(9001, language_code="ar")
        bob_group = fake.group(-9002, admins={9003: "administrator"})
        carol = fake.private_chat(9004, language_code="en")
        for chat, text, sender in (
            (alice, "/subscribe trump", None),
            (bob_group, "/subscribe", user(9003, "en")),
            (carol, "/subscribe trump", None),
            (carol, "/unsubscribe", None),
        ):
            before = len(fake.messages(chat.id))
            fake.push(fake.command(chat, text, from_user=sender))
            await fake.wait_for_message(chat.id, before + 1)
        replies = {c.id: len(fake.messages(c.id)) for c in (alice, bob_group, carol)}

        first = await parts.poller.poll_all()  # first poll: stories recorded as seen, no alerts
        assert [o.queued for o in first] == [0]
        feed_server.set("/feed.xml", body=rss([NEW_ITEM, OLD_ITEM]))
        second = await parts.poller.poll_all()
        assert [o.queued for o in second] == [2]
        await asyncio.wait_for(parts.outbox.deliver_due(), 20)

    for chat in (alice, bob_group):
        alert = fake.messages(chat.id)[replies[chat.id] :]
        assert len(alert) == 1 and alert[0].parse_mode == "HTML"
        lines = alert[0].visible.split("\n")
        assert lines[0] == "\u200fترامب يعلن خطة جديدة للذكاء الاصطناعي"
        assert "#ترامب" in lines[-1]
        assert 'href="https://www.hespress.com/new-1.html"' in alert[0].text
    assert len(fake.messages(carol.id)) == replies[carol.id]  # unsubscribed: nothing
    assert fake.rate_limited == []


OLD_ITEM = (
    "ترامب يزور المغرب",
    "https://www.hespress.com/old-1.html",
    "Tue, 10 Feb 2026 08:00:00 GMT",
)
NEW_ITEM = (
    "ترامب يعلن خطة جديدة للذكاء الاصطناعي",
    "https://www.hespress.com/new-1.html",
    "Wed, 11 Feb 2026 09:30:00 GMT",
)
