"""The whole product as a self-hoster runs it: `python bot.py run` in a subprocess with both
fake platforms and a loopback feed server (issue 6, "Done when")."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.fake_discord import (  # noqa: F401
    ADMIN_ID,
    CHANNEL_A,
    CHANNEL_B,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    fake_discord,
)
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401
from tests.feedserver import FeedServer
from tests.helpers import FEEDS, ROOT, free_port, get, with_new_item, write_config


async def wait_for(check, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_bot_run_with_both_platforms_end_to_end(
    tmp_path: Path,
    feed_server: FeedServer,
    fake_telegram: FakeTelegram,
    fake_discord: FakeDiscord,
    database_url: str,  # SQLite, and PostgreSQL when tests have one (tests/pg.py)
) -> None:
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-15.xml", etag='"1"')
    port = free_port()
    config = write_config(
        tmp_path,
        f"""\
        database: {database_url}
        feeds:
          - id: hespress_ar
            name: هسبريس
            url: {feed_server.url("/hespress.xml")}
            language: ar
            interval: 1
        http:
          allow_private_addresses: true
          total_timeout: 5
        telegram:
          api_base_url: {fake_telegram.api_base_url}
        discord:
          guild_ids: [{GUILD_ID}]
          api_base_url: {fake_discord.api_url}
          gateway_url: {fake_discord.gateway_url}
        health:
          port: {port}
        """,
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "DISCORD_BOT_TOKEN": TOKEN,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        await wait_for(lambda: get(health)[0] == 200, 40, "/healthz 200")
        await asyncio.wait_for(fake_discord.ready.wait(), 30)

        alice = fake_telegram.private_chat(1001, language_code="ar")
        bob = fake_telegram.private_chat(1002, language_code="en")  # never subscribes
        fake_telegram.push(fake_telegram.command(alice, "/subscribe trump"))
        reply = await fake_telegram.wait_for_message(alice.id, within=20)
        assert "ترامب" in reply.visible
        answer = await fake_discord.command(
            "subscribe", {"figure": "trump"}, user=ADMIN_ID, channel=CHANNEL_A
        )
        assert answer.ephemeral or answer.content

        # a matching story appears in the feed
        feed_server.set(
            "/hespress.xml", with_new_item(FEEDS / "hespress-ar-2026-02-15.xml"), etag='"2"'
        )
        alert = await fake_telegram.wait_for_message(alice.id, count=2, within=30)
        assert (
            "ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي &amp; الرقائق" not in alert.visible
        )  # escaped once
        assert "ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي & الرقائق" in alert.visible
        assert "هسبريس" in alert.visible and "#ترامب" in alert.visible
        assert alert.parse_mode == "HTML"
        await wait_for(lambda: len(fake_discord.posted_to(CHANNEL_A)) == 1, 20, "the Discord embed")
        (embed,) = fake_discord.posted_to(CHANNEL_A)[0].embeds
        assert embed["title"].startswith("ترمب يوقع أمرا تنفيذيا")
        assert embed["url"] == "https://www.hespress.com/trump-ai-order-1700001.html"
        assert fake_discord.posted_to(CHANNEL_B) == []
        assert fake_telegram.messages(bob.id) == []

        status, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert 'mirsad_alerts_total{platform="telegram",result="sent"} 1.0' in metrics
        assert 'mirsad_alerts_total{platform="discord",result="sent"} 1.0' in metrics
        assert 'mirsad_matches_total{label="trump"} 1.0' in metrics
        assert fake_telegram.token not in metrics and TOKEN not in metrics
        assert get(health) == (200, "ok\n")
        # discord.py is "ready" a moment after the gateway's READY (it waits for the guilds)
        await wait_for(
            lambda: all(
                f'mirsad_platform_up{{platform="{p}"}} 1.0'
                in get(f"http://127.0.0.1:{port}/metrics")[1]
                for p in ("telegram", "discord")
            ),
            20,
            "both platforms up in /metrics",
        )

        proc.send_signal(signal.SIGTERM)  # stopped within Docker's stop_grace_period (15 s)
        _, err_bytes = await asyncio.wait_for(proc.communicate(), 15)
        err = err_bytes.decode()
        assert proc.returncode == 0, err[-3000:]
        assert "platform_started name=telegram" in err and "platform_started name=discord" in err, (
            err
        )
        assert fake_telegram.token not in err and TOKEN not in err  # tokens never logged
        # the whole log around it: a job that raised under load once had its text cut off
        assert "Traceback" not in err, err[max(0, err.find("Traceback") - 1500) :][:6000]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
