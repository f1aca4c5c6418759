"""Alerts to Discord through the real outbox, Sender and discord.py, against the fake Discord.

The end-to-end test runs the app as `bot.py once` does (runtime.app.run_once) on a loopback
feed; the others queue alerts in the store and let the app's outbox deliver them, then look
at what the fake received and at the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.outbox import OutboxWorker
from alerts.payloads import SendResult
from config import load_settings
from models import Evidence, Match, Story
from platforms.discord.platform import DiscordPlatform
from runtime.app import AppOptions, run_forever, run_once
from store import Delivery, FeedUpdate
from tests.fake_discord import (
    ADMIN_ID,
    CHANNEL_A,
    CHANNEL_B,
    ROLE_ID,
    THREAD_A,
    FakeDiscord,
    Mirsad,
    Scripted,
    connection_reset,
    discord_factory,
    fake_discord,  # noqa: F401
    mirsad_config,
    rate_limited,
    running_mirsad,
    server_error,
    slow,
)
from tests.feedserver import FeedServer
from tests.helpers import FEEDS, FakeClock, with_new_item

HOSTILE_ITEM = f"""
    <item>
      <title>@everyone ترمب يوقع أمرا تنفيذيا &lt;@&amp;{ROLE_ID}&gt; @here</title>
      <link>https://www.hespress.com/trump-order-1700001.html</link>
      <description>وقّع الرئيس الأمريكي دونالد ترامب أمرا [اضغط هنا](https://phish.example) جديدا.</description>
      <pubDate>Sun, 15 Feb 2026 09:30:00 +0000</pubDate>
      <guid isPermaLink="false">https://www.hespress.com/?p=1700001</guid>
    </item>"""


async def test_a_story_in_a_feed_arrives_as_an_embed_in_the_subscribed_channel_only(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    feed_server: FeedServer,
    clock: FakeClock,
) -> None:
    fake = fake_discord
    clock.now = datetime(2026, 2, 16, 8, 0, tzinfo=UTC)  # after the stories were published
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-11.xml", etag='"a"')
    feeds = f"feeds:\n  - id: hespress_ar\n    url: {feed_server.url('/hespress.xml')}\n    language: ar"
    config = mirsad_config(tmp_path, fake, feeds=feeds)

    # A moderator subscribes channel A to Trump, a thread to Musk; channel B stays out.
    async with running_mirsad(fake, config, clock):
        await fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID, channel=CHANNEL_A)
        await fake.command("subscribe", {"figure": "musk"}, user=ADMIN_ID, channel=THREAD_A)

    made: list[DiscordPlatform] = []
    settings = load_settings(config, env={"DISCORD_BOT_TOKEN": fake.token})
    options = AppOptions(clock=clock, platform_factories=(("discord", discord_factory(made)),))
    try:
        first = await run_once(settings, options)  # the first poll records, sends nothing
        assert first[0].status == "ok" and first[0].queued == 0
        assert fake.messages == []

        feed_server.set(
            "/hespress.xml",
            with_new_item(FEEDS / "hespress-ar-2026-02-15.xml", HOSTILE_ITEM),
            etag='"b"',
        )
        second = await run_once(settings, options)
        assert second[0].queued == 1

        [posted] = fake.messages
        assert posted.channel_id == CHANNEL_A
        assert fake.posted_to(CHANNEL_B) == [] and fake.posted_to(THREAD_A) == []
        [embed] = posted.embeds
        assert embed["url"] == "https://www.hespress.com/trump-order-1700001.html"
        assert "ترمب يوقع أمرا تنفيذيا" in embed["title"]
        assert embed["timestamp"].startswith("2026-02-15T09:30:00")
        assert embed["author"] == {"name": "hespress_ar"}
        # The channel's language is Arabic by default: the why-field names the label in Arabic.
        assert embed["fields"][0]["name"] == "سبب التنبيه"
        assert "ترامب" in embed["fields"][0]["value"] and "ترمب" in embed["fields"][0]["value"]
        # Nobody is pinged, and the feed's mentions do not even render as mentions.
        assert posted.payload["allowed_mentions"] == {"parse": []}
        assert posted.pings == []
        assert "@everyone" not in embed["title"] and "@here" not in embed["title"]
        assert f"<@&{ROLE_ID}>" not in embed["title"]
        assert "](https://phish.example)" not in embed.get("description", "").replace("\\]", "")

        rows = await _outbox(tmp_path, fake, clock)
        assert [(r["chat_id"], r["status"], r["message_id"]) for r in rows] == [
            (str(CHANNEL_A), "sent", str(posted.message_id))
        ]

        third = await run_once(settings, options)  # nothing is alerted twice
        assert third[0].queued == 0 and len(fake.messages) == 1
        # Three starts (one with the gateway, two `once`): the commands were synced once.
        assert len(fake.command_puts) == 1
    finally:
        for platform in made:
            await platform.stop()


async def _outbox(tmp_path: Path, fake: FakeDiscord, clock: FakeClock) -> list[dict[str, object]]:
    async with running_mirsad(fake, mirsad_config(tmp_path, fake), clock, start=False) as app:
        return await app.parts.store.outbox_rows()


# --- alerts queued in the store, delivered by the app's outbox ---------------------------------

STORY_N = 0


async def queue_story(app: Mirsad, clock: FakeClock, title: str = "ترامب يعلن قرارا") -> Story:
    """Store a new matching story for `trump`: one outbox row per active subscription."""
    global STORY_N
    STORY_N += 1
    store = app.parts.store
    await store.sync_feeds([("hespress_ar", "http://127.0.0.1/feed", "ar", 60)], clock())
    story = Story(
        id=f"https://example.com/{STORY_N}",
        feed_id="hespress_ar",
        title=f"{title} {STORY_N}",
        summary="",
        link=f"https://example.com/{STORY_N}",
        published=clock() + timedelta(seconds=STORY_N),
    )
    match = Match(("trump",), (Evidence("trump", "ترامب", "ترامب", "title"),))
    result = await store.ingest(
        "hespress_ar",
        [story],
        {story.id: match},
        FeedUpdate(next_poll_at=clock()),
        clock(),
        alert=True,
    )
    assert result.new_stories == 1
    return story


@pytest.fixture
async def app(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock, database_url: str
) -> AsyncIterator[Mirsad]:
    config = mirsad_config(tmp_path, fake_discord, database=database_url)
    async with running_mirsad(fake_discord, config, clock) as app:
        await fake_discord.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
        yield app


async def rows(app: Mirsad) -> list[tuple[str, int, str | None]]:
    return [
        (r["status"], r["attempts"], r["last_error"]) for r in await app.parts.store.outbox_rows()
    ]


async def test_short_429_is_waited_out_by_discord_py_and_sent_once(
    app: Mirsad, clock: FakeClock
) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, rate_limited(0.2))
    await app.parts.outbox.deliver_due()
    assert app.fake.attempts == [(CHANNEL_A, 429), (CHANNEL_A, 200)]
    assert len(app.fake.messages) == 1
    assert await rows(app) == [("sent", 1, None)]


async def test_long_429_goes_back_to_the_outbox_without_counting_an_attempt(
    app: Mirsad, clock: FakeClock
) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, rate_limited(120.0))
    await app.parts.outbox.deliver_due()
    assert app.fake.messages == []
    [row] = await app.parts.store.outbox_rows()
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert "rate limited for 120" in row["last_error"]
    assert row["next_attempt_at"] == clock() + timedelta(seconds=120)

    # Before retry_after nothing is tried; after it, the alert goes out once.
    await app.parts.outbox.deliver_due()
    assert app.fake.attempts == [(CHANNEL_A, 429)]
    clock.advance(121)
    later = OutboxWorker(app.parts.store, {"discord": app.platform.sender}, clock)
    await later.deliver_due()
    assert len(app.fake.messages) == 1
    assert await rows(app) == [("sent", 1, None)]


async def test_cloudflare_429_without_via_holds_the_whole_platform(
    app: Mirsad, clock: FakeClock
) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, rate_limited(60.0, via=False))
    await app.parts.outbox.deliver_due()
    [row] = await app.parts.store.outbox_rows()
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["next_attempt_at"] == clock() + timedelta(seconds=60)  # its Retry-After


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (50013, "no_permission: missing permissions (Discord 50013)"),
        (50001, "no_access: missing access (Discord 50001)"),
        (10003, "chat_gone: unknown channel (Discord 10003)"),
    ],
)
async def test_losing_the_channel_pauses_it_with_the_reason(
    app: Mirsad, clock: FakeClock, code: int, reason: str
) -> None:
    fake = app.fake
    for _ in range(3):
        await queue_story(app, clock)
    fake.deny(CHANNEL_A, code)
    await app.parts.outbox.deliver_due()
    assert fake.attempts == [(CHANNEL_A, 404 if code == 10003 else 403)]  # no hammering
    sub = await app.parts.store.subscription("discord", str(CHANNEL_A), "")
    assert sub is not None and not sub.active and sub.paused_reason == reason
    assert [r[0] for r in await rows(app)] == ["cancelled"] * 3

    listed = await fake.command("list", user=ADMIN_ID)
    assert "paused" in listed.content


async def test_a_channel_that_comes_back_can_be_subscribed_again(
    app: Mirsad, clock: FakeClock
) -> None:
    fake = app.fake
    await queue_story(app, clock)
    fake.deny(CHANNEL_A, 50013)
    await app.parts.outbox.deliver_due()
    assert await app.sub() == (("trump",), False)

    fake.allow(CHANNEL_A)
    answer = await fake.command("subscribe", user=ADMIN_ID)  # "Send /subscribe to resume it"
    assert "Subscribed" in answer.content
    assert await app.sub() == (("trump",), True)  # what it followed, not the defaults
    story = await queue_story(app, clock)
    await app.parts.outbox.deliver_due()
    [posted] = fake.messages  # the new story only: the old one was cancelled with the pause
    assert posted.embeds[0]["title"] == story.title


def virtual_time_worker(
    app: Mirsad,
    clock: FakeClock,
    on_result: Callable[[Delivery, SendResult], None] | None = None,
) -> OutboxWorker:
    """The app's outbox on the test clock: its waits move the clock instead of sleeping."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return OutboxWorker(
        app.parts.store,
        {"discord": app.platform.sender},
        clock,
        monotonic=lambda: clock().timestamp(),
        sleep=sleep,
        on_result=on_result,
    )


async def test_server_errors_are_retried_after_a_backoff_then_sent(
    app: Mirsad, clock: FakeClock
) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, server_error(503))
    started = clock()
    await virtual_time_worker(app, clock).deliver_due()
    assert app.fake.attempts == [(CHANNEL_A, 503), (CHANNEL_A, 200)]
    assert clock() - started >= timedelta(seconds=5)  # the outbox's first backoff
    assert len(app.fake.messages) == 1
    assert await rows(app) == [("sent", 2, None)]


async def test_a_500_is_retried_by_discord_py_itself(app: Mirsad, clock: FakeClock) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, server_error(500))  # discord.py retries 500/502/504/524 after 1 s
    await app.parts.outbox.deliver_due()
    assert app.fake.attempts == [(CHANNEL_A, 500), (CHANNEL_A, 200)]
    assert await rows(app) == [("sent", 1, None)]


async def test_an_alert_discord_refuses_fails_alone_and_the_next_one_goes(
    app: Mirsad, clock: FakeClock
) -> None:
    await queue_story(app, clock)
    second = await queue_story(app, clock)
    app.fake.script(
        CHANNEL_A,
        Scripted(400, {"code": 50035, "message": "Invalid Form Body", "errors": {"embeds": "x"}}),
    )
    await app.parts.outbox.deliver_due()
    statuses = await rows(app)
    assert statuses[0][0] == "failed" and "Invalid Form Body" in str(statuses[0][2])
    assert statuses[1][0] == "sent"
    [posted] = app.fake.messages
    assert posted.embeds[0]["title"] == second.title
    assert await app.sub() == (("trump",), True)  # one bad alert does not pause the channel


async def test_alerts_keep_their_order_in_a_channel(app: Mirsad, clock: FakeClock) -> None:
    stories = [await queue_story(app, clock) for _ in range(3)]
    await app.parts.outbox.deliver_due()
    assert [m.embeds[0]["title"] for m in app.fake.messages] == [s.title for s in stories]


async def test_gateway_reconnect_resumes_and_loses_nothing(app: Mirsad, clock: FakeClock) -> None:
    fake = app.fake
    assert fake.identifies == 1
    await fake.request_reconnect()
    # While the client is away: a moderator runs a command, and an alert is due.
    pending = await fake.interact("subscribe", {"topic": "ai"}, user=ADMIN_ID, channel=CHANNEL_B)
    await queue_story(app, clock)
    await app.parts.outbox.deliver_due()  # REST does not need the gateway

    answer = await fake.answer(pending)  # replayed on RESUME, then answered
    assert "Subscribed" in answer.content
    assert await app.sub(CHANNEL_B) == (("ai",), True)
    assert fake.identifies == 1 and fake.resumes == 1  # resumed, not a new session
    assert fake.gateway_paths == ["/gateway", "/gateway-resume"]
    assert len(fake.posted_to(CHANNEL_A)) == 1

    after = await fake.command("list", user=ADMIN_ID, channel=CHANNEL_B)  # still listening
    assert "Artificial Intelligence" in after.content


@pytest.mark.slow
async def test_run_forever_starts_discord_delivers_and_stops_cleanly(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    """`bot.py run` as runtime.app runs it: the platform starts under the supervisor, the
    scheduler polls, the outbox delivers, and stop closes the client."""
    fake = fake_discord
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-11.xml", etag='"a"')
    feeds = (
        f"feeds:\n  - id: hespress_ar\n    url: {feed_server.url('/hespress.xml')}\n"
        "    language: ar\n    interval: 1\nhealth:\n  port: 0"
    )
    settings = load_settings(
        mirsad_config(tmp_path, fake, feeds=feeds), env={"DISCORD_BOT_TOKEN": fake.token}
    )
    made: list[DiscordPlatform] = []
    stop = asyncio.Event()
    options = AppOptions(platform_factories=(("discord", discord_factory(made)),))
    runner = asyncio.create_task(run_forever(settings, options, stop))
    try:
        await asyncio.wait_for(fake.ready.wait(), 10)
        await fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
        while feed_server.hits("/hespress.xml") == 0:  # the first poll records what is there
            await asyncio.sleep(0.05)
        feed_server.set(
            "/hespress.xml",
            with_new_item(FEEDS / "hespress-ar-2026-02-15.xml", HOSTILE_ITEM),
            etag='"b"',
        )
        for _ in range(300):  # the next tick (5 s) polls again and the alert goes out
            if fake.messages:
                break
            await asyncio.sleep(0.05)
        [posted] = fake.messages
        assert posted.channel_id == CHANNEL_A and posted.pings == []
    finally:
        stop.set()
        await asyncio.wait_for(runner, 20)
    assert made[0].bot.is_closed()


async def test_a_thread_gets_its_alerts_in_the_thread(app: Mirsad, clock: FakeClock) -> None:
    await app.fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID, channel=THREAD_A)
    story = await queue_story(app, clock)
    await app.parts.outbox.deliver_due()
    [in_thread] = app.fake.posted_to(THREAD_A)
    assert in_thread.embeds[0]["title"] == story.title
    assert len(app.fake.posted_to(CHANNEL_A)) == 1  # the channel's own subscription too


async def test_a_reset_connection_is_retried_later(app: Mirsad, clock: FakeClock) -> None:
    await queue_story(app, clock)
    app.fake.script(CHANNEL_A, connection_reset())
    await virtual_time_worker(app, clock).deliver_due()
    assert [status for _, status in app.fake.attempts] == [0, 200]
    [row] = await app.parts.store.outbox_rows()
    assert row["status"] == "sent" and row["attempts"] == 2


async def test_a_send_that_hangs_is_abandoned_and_retried(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    config = mirsad_config(tmp_path, fake_discord)
    async with running_mirsad(fake_discord, config, clock, send_timeout=0.3) as app:
        await fake_discord.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
        await queue_story(app, clock)
        fake_discord.script(CHANNEL_A, slow(1.0))
        retried: list[str] = []
        worker = virtual_time_worker(
            app, clock, lambda d, result: retried.append(getattr(result, "reason", ""))
        )
        await worker.deliver_due()
        assert retried == ["no answer from Discord within 0.3s", ""]
        assert len(fake_discord.messages) == 1
        [row] = await app.parts.store.outbox_rows()
        assert (row["status"], row["attempts"]) == ("sent", 2)
