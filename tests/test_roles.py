"""`bot.py run --roles`: an instance polls, delivers and answers commands only as told (issue 16)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.outbox import Pacing
from alerts.payloads import Payload, Rendered, RenderedNew, SendResult, Sent
from config import load_settings
from models import Evidence, Match, Story
from runtime.app import AppOptions, run_forever
from store import FeedUpdate, Store, Subscription
from tests.feedserver import FeedServer
from tests.helpers import write_config

EMPTY_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<link>https://h.test/</link><description>d</description></channel></rss>"
)


class RecordingPlatform:
    name = "rec"
    platform = "rec"
    pacing = Pacing()

    def __init__(self) -> None:
        self.sender = self
        self.starts = 0
        self.sent: list[str] = []

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        return RenderedNew("")

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        self.sent.append(target.chat_id)
        return Sent(("1",))

    async def start(self) -> None:
        self.starts += 1

    async def stop(self) -> None:
        pass


@pytest.mark.slow
@pytest.mark.parametrize(
    ("roles", "polls", "delivers", "starts"),
    [
        ({"deliver"}, False, True, False),
        ({"poll"}, True, False, False),
        ({"commands"}, False, False, True),
        ({"poll", "deliver", "commands"}, True, True, True),
    ],
)
async def test_an_instance_does_only_its_roles(
    tmp_path: Path,
    feed_server: FeedServer,
    roles: set[str],
    polls: bool,
    delivers: bool,
    starts: bool,
    database_url: str,
) -> None:
    feed_server.set("/feed.xml", EMPTY_FEED, etag='"1"')
    config = write_config(
        tmp_path,
        f"""\
        database: {database_url}
        feeds:
          - id: f
            url: {feed_server.url("/feed.xml")}
        http:
          allow_private_addresses: true
        health:
          enabled: false
        """,
    )
    settings = load_settings(config, env={})
    now = datetime.now(UTC)
    store = await Store.open(settings.database_url)
    try:  # one alert waiting in the outbox for the platform's chat
        await store.sync_feeds([("f", feed_server.url("/feed.xml"), None, 120)], now)
        await store.save_subscription("rec", "42", ["trump"], now)
        story = Story("s1", "f", "t", "s", "https://h.test/1", now)
        match = Match(("trump",), (Evidence("trump", "t", "t", "title"),))
        update = FeedUpdate(next_poll_at=now)
        await store.ingest("f", [story], {"s1": match}, update, now, alert=True)
    finally:
        await store.close()

    platform = RecordingPlatform()
    stop = asyncio.Event()
    options = AppOptions(platform_factories=(("rec", lambda parts: platform),))
    options.roles = frozenset(roles)
    task = asyncio.create_task(run_forever(settings, options, stop))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # what each role does shows within two ticks
        done_polling = not polls or feed_server.hits("/feed.xml") > 0
        done_sending = not delivers or platform.sent
        done_starting = not starts or platform.starts
        if done_polling and done_sending and done_starting:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # a tick more: what it must not do has had its chance too
    stop.set()
    await asyncio.wait_for(task, 15)
    assert (feed_server.hits("/feed.xml") > 0) == polls
    assert (platform.sent == ["42"]) == delivers
    assert (platform.starts > 0) == starts
