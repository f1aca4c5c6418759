"""Command sync, start and stop of the Discord platform, against the fake Discord."""

from __future__ import annotations

import discord
import pytest

from platforms.discord.endpoints import rest_base
from platforms.discord.platform import DiscordStartError
from tests.fake_discord import (
    GUILD_ID,
    MEMBER_ID,
    FakeDiscord,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.helpers import FakeClock


async def test_global_sync_happens_once_until_the_commands_change(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    fake = fake_discord
    config = mirsad_config(tmp_path, fake, guild_ids="[]")
    async with running_mirsad(fake, config, clock) as app:
        assert app.platform.bot.synced == ["global"]
    assert [guild for guild, _ in fake.command_puts] == [None]

    async with running_mirsad(fake, config, clock) as app:  # a restart, same commands
        assert app.platform.bot.synced == []
    assert len(fake.command_puts) == 1

    # Letting every member change subscriptions changes the commands: they are synced again.
    relaxed = mirsad_config(
        tmp_path, fake, guild_ids="[]", extra="  require_manage_channels: false\n"
    )
    async with running_mirsad(fake, relaxed, clock) as app:
        assert app.platform.bot.synced == ["global"]
    assert len(fake.command_puts) == 2
    subscribe = next(c for c in fake.commands[None] if c["name"] == "subscribe")
    assert subscribe["default_member_permissions"] is None


async def test_guild_sync_goes_to_each_configured_guild(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    config = mirsad_config(tmp_path, fake_discord, guild_ids=f"[{GUILD_ID}]")
    async with running_mirsad(fake_discord, config, clock):
        pass
    assert [guild for guild, _ in fake_discord.command_puts] == [GUILD_ID]
    assert None not in fake_discord.commands  # nothing global while developing in a guild


async def test_switching_between_global_and_guild_sync_removes_the_old_copy(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    """Left in place, the commands of the previous target show twice in the client."""
    fake = fake_discord
    async with running_mirsad(fake, mirsad_config(tmp_path, fake, guild_ids="[]"), clock):
        pass
    assert len(fake.commands[None]) == 15
    guild_config = mirsad_config(tmp_path, fake, guild_ids=f"[{GUILD_ID}]")
    async with running_mirsad(fake, guild_config, clock) as app:
        assert app.platform.bot.synced == [str(GUILD_ID)]
    assert fake.commands[None] == [] and len(fake.commands[GUILD_ID]) == 15
    puts = len(fake.command_puts)
    async with running_mirsad(fake, guild_config, clock):  # done once, not at every start
        pass
    assert len(fake.command_puts) == puts
    async with running_mirsad(fake, mirsad_config(tmp_path, fake, guild_ids="[]"), clock):
        pass
    assert fake.commands[GUILD_ID] == [] and len(fake.commands[None]) == 15


async def test_reading_commands_work_in_a_dm(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_mirsad(fake, mirsad_config(tmp_path, fake, guild_ids="[]"), clock):
        for name in ("help", "topics", "latest"):
            answer = await fake.command(name, user=MEMBER_ID, in_guild=False, channel=4242)
            assert answer.content or answer.data.get("embeds")
            assert "wrong" not in answer.content  # not the generic error reply
        with pytest.raises(AssertionError, match="does not offer /subscribe in DMs"):
            await fake.interact("subscribe", user=MEMBER_ID, in_guild=False, channel=4242)


async def test_a_rejected_token_fails_start_clearly_without_showing_it(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    config = mirsad_config(tmp_path, fake_discord)
    with pytest.raises(DiscordStartError, match="rejected DISCORD_BOT_TOKEN") as caught:
        async with running_mirsad(fake_discord, config, clock, token="wrong.token"):
            pass
    assert "wrong.token" not in str(caught.value)
    assert fake_discord.identifies == 0 and fake_discord.command_puts == []


async def test_stop_restores_discord_py_endpoints_and_can_be_repeated(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with running_mirsad(fake_discord, mirsad_config(tmp_path, fake_discord), clock) as app:
        assert fake_discord.api_url == discord.http.Route.BASE
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake_discord.gateway_url
        await app.platform.stop()
        assert app.platform.bot.is_closed()
    await app.platform.stop()
    assert before == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def test_rest_base_accepts_a_host_or_a_full_base() -> None:
    assert rest_base("https://chat.example") == "https://chat.example/api/v10"
    assert rest_base("https://chat.example/api/") == "https://chat.example/api/v10"
    assert rest_base("http://127.0.0.1:9/api/v9") == "http://127.0.0.1:9/api/v9"


async def test_a_start_that_failed_at_the_gateway_can_be_retried(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    fake = fake_discord
    fake.reject_identify = 1
    config = mirsad_config(tmp_path, fake)
    async with running_mirsad(fake, config, clock, start=False) as app:
        with pytest.raises(DiscordStartError, match="gateway closed at start"):
            await app.platform.start()
        await app.platform.start()  # runtime.app retries a failed start with a backoff
        assert fake.ready.is_set()
        answer = await fake.command("help", user=MEMBER_ID)
        assert "Mirsad" in answer.content
    assert len(fake.command_puts) == 1  # logging in twice did not sync twice


async def test_without_gateway_url_the_gateway_is_asked_from_the_rest_server(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    config = mirsad_config(tmp_path, fake_discord, gateway=False)
    async with running_mirsad(fake_discord, config, clock):
        assert ("GET", "/gateway/bot") in fake_discord.requests
        assert fake_discord.ready.is_set()
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake_discord.gateway_url


async def test_an_instance_connects_the_gateway_shard_it_is_given(
    tmp_path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    """Several instances (issue 16): each runs one shard of `shard_count`."""
    shard = "  shard_count: 2\n  shard_ids: [1]\n"
    config = mirsad_config(tmp_path, fake_discord, extra=shard)
    async with running_mirsad(fake_discord, config, clock):
        pass
    assert fake_discord.identified_shards == [[1, 2]]
