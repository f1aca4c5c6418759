"""Discord sharding across instances (issue 16): an instance connects the gateway shards its
config lists, answers the commands of their servers, and delivers to any server's channel.

The fake Discord routes each server's events to the session of its shard, as Discord does;
GUILD_0, GUILD_1 and GUILD_ID sit on shards 0, 1 and 2 of 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from tests.fake_discord import (
    ADMIN_ID,
    CHANNEL_0,
    CHANNEL_1,
    CHANNEL_A,
    GUILD_0,
    GUILD_1,
    GUILD_ID,
    FakeDiscord,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.helpers import FakeClock
from tests.test_discord_delivery import queue_story


def shards(ids: str, count: int = 3) -> str:
    return f"  shard_count: {count}\n  shard_ids: {ids}\n"


async def test_an_instance_with_two_shards_answers_both_and_delivers_to_every_server(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock, database_url: str
) -> None:
    fake = fake_discord
    fake.add_guild(GUILD_0, "Shard zero", CHANNEL_0)
    fake.add_guild(GUILD_1, "Shard one", CHANNEL_1)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = mirsad_config(
        tmp_path / "a", fake, guild_ids="[]", extra=shards("[0, 2]"), database=database_url
    )
    other = mirsad_config(
        tmp_path / "b", fake, guild_ids="[]", extra=shards("[1]"), database=database_url
    )
    # identify_gap 0: the fake does not keep Discord's one-IDENTIFY-per-5-s limit
    async with running_mirsad(fake, one, clock, identify_gap=0.0) as a:
        assert sorted(fake.identified_shards) == [[0, 3], [2, 3]]  # one client, two shards
        assert sorted(g.id for g in a.platform.bot.guilds) == sorted([GUILD_0, GUILD_ID])
        for guild, channel in ((GUILD_0, CHANNEL_0), (GUILD_ID, CHANNEL_A)):
            answer = await fake.command(
                "subscribe", {"figure": "trump"}, user=ADMIN_ID, guild=guild, channel=channel
            )
            assert "Donald Trump" in answer.content
            assert await a.sub(channel) == (("trump",), True)

        # GUILD_1 is on shard 1, which this instance does not run: Discord has no session
        # of ours to route its command to.
        await fake.interact(
            "subscribe", {"figure": "trump"}, user=ADMIN_ID, guild=GUILD_1, channel=CHANNEL_1
        )
        assert fake.undelivered == [(1, "INTERACTION_CREATE")]
        assert await a.sub(CHANNEL_1) is None

        # the instance running shard 1 answers it, into the same database
        async with running_mirsad(fake, other, clock) as b:
            assert fake.identified_shards[-1] == [1, 3]
            answer = await fake.command(
                "subscribe", {"figure": "trump"}, user=ADMIN_ID, guild=GUILD_1, channel=CHANNEL_1
            )
            assert "Donald Trump" in answer.content
            assert [g.id for g in b.platform.bot.guilds] == [GUILD_1]
        assert await a.sub(CHANNEL_1) == (("trump",), True)

        # alerts go over REST: the first instance delivers to shard 1's server too
        await queue_story(a, clock)
        await a.parts.outbox.deliver_due()
        assert sorted(m.channel_id for m in fake.messages) == sorted(
            [CHANNEL_0, CHANNEL_1, CHANNEL_A]
        )


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("  shard_count: 2\n", "set shard_count and shard_ids together"),
        ("  shard_count: 2\n  shard_ids: []\n", "name at least one shard"),
        ("  shard_count: 2\n  shard_ids: [2, 0, 5]\n", "shard_ids: 2, 5 not in 0..1"),
        ("  shard_count: 3\n  shard_ids: [1, 1]\n", r"each shard once, not \[1, 1\]"),
        ("  shard_count: 0\n  shard_ids: [0]\n", "shard_count"),
    ],
)
def test_shard_settings_that_cannot_work_are_refused_in_one_line(
    tmp_path: Path, fake_discord: FakeDiscord, extra: str, error: str
) -> None:
    with pytest.raises(ConfigError, match=error) as caught:
        load_settings(mirsad_config(tmp_path, fake_discord, extra=extra), env={})
    assert len(str(caught.value).strip().splitlines()) == 1
