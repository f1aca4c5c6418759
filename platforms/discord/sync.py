"""Discord command sync: the discord.py Bot that adds the Cog and syncs the slash commands
only when their payload changed (its hash is kept in the store's meta table).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from platforms.discord.commands import MirsadTranslator, SubscriptionCog
from store import MetaStore

log = logging.getLogger("mirsad.discord")

IDENTIFY_GAP = 5.0  # seconds between two shards' IDENTIFY (Discord's identify rate limit)
META_PREFIX = "discord_commands:"  # store meta key prefix for the synced payload's hash


class MirsadBot(commands.Bot):
    """The discord.py client: adds the Cog and syncs commands in `setup_hook`."""

    def __init__(
        self,
        cog: SubscriptionCog,
        store: MetaStore,
        *,
        guild_ids: Sequence[int],
        sync_key: str,
        **options: Any,
    ) -> None:
        # Mirsad never joins voice: skip discord.py's warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # no message commands; required argument
            intents=discord.Intents(guilds=True),  # slash commands need no privileged intent
            help_command=None,
            **options,
        )
        self._cog = cog
        self._store = store
        self._guild_ids = list(guild_ids)
        self._sync_key = sync_key
        self.synced: list[str] = []  # targets synced by the last setup_hook ("global" or ids)

    async def setup_hook(self) -> None:
        # Runs at every login; a start retried after a failure logs in again.
        await self.tree.set_translator(MirsadTranslator())
        if self.get_cog(self._cog.qualified_name) is None:
            await self.add_cog(self._cog)
        self.synced = await sync_commands(self, self._store, self._guild_ids, self._sync_key)


class ShardedMirsadBot(MirsadBot, commands.AutoShardedBot):
    """MirsadBot on several gateway shards of one connection each (`discord.shard_ids` with
    more than one id): discord.py's AutoShardedClient connects the listed shards and routes
    each server's events, commands included, to its shard. `commands.Bot` adds nothing to
    `BotBase`, so the sharded client's methods come first in the method order."""

    def __init__(self, *args: Any, identify_gap: float = IDENTIFY_GAP, **options: Any) -> None:
        super().__init__(*args, **options)
        self._identify_gap = identify_gap

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Discord takes one IDENTIFY per 5 s for a bot (session_start_limit.max_concurrency
        # 1): the shards after the first wait their turn (what discord.py does by default).
        if not initial:
            await asyncio.sleep(self._identify_gap)


async def command_payload(bot: commands.Bot, guild: discord.abc.Snowflake | None) -> list[Any]:
    """The JSON discord.py would PUT for this target (translations included)."""
    translator = bot.tree.translator
    payload = []
    for command in bot.tree.get_commands(guild=guild):
        if translator is not None:
            payload.append(await command.get_translated_payload(bot.tree, translator))
        else:
            payload.append(command.to_dict(bot.tree))
    return payload


async def sync_commands(
    bot: commands.Bot, store: MetaStore, guild_ids: Sequence[int], sync_key: str = ""
) -> list[str]:
    """Sync to each guild in `guild_ids`, or globally when there are none, but only targets
    whose payload hash differs from the one stored after the last successful sync.

    Returns the targets synced. A refused sync (no `applications.commands` scope in a guild,
    Discord down) is logged and retried at the next start; a 400 means our commands are
    invalid, which is a bug, and is raised."""
    targets: list[discord.abc.Snowflake | None] = (
        [discord.Object(id=g) for g in guild_ids] if guild_ids else [None]
    )
    synced: list[str] = []
    for guild in targets:
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        name = str(guild.id) if guild is not None else "global"
        payload = await command_payload(bot, guild)
        body = {"application": bot.application_id, "server": sync_key, "commands": payload}
        digest = hashlib.sha256(
            json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        key = f"{META_PREFIX}{name}"
        if await store.get_meta(key) == digest:
            log.info("discord_commands_unchanged target=%s", name)
            continue
        try:
            await bot.tree.sync(guild=guild)
        except app_commands.CommandSyncFailure:
            raise
        except discord.HTTPException as exc:
            log.error("discord_commands_sync_failed target=%s error=%r", name, str(exc))
            continue
        await store.set_meta(key, digest)
        synced.append(name)
        log.info("discord_commands_synced target=%s count=%d", name, len(payload))
    wanted = {str(g.id) if g is not None else "global" for g in targets}
    for key in await store.meta_keys(META_PREFIX):
        if key[len(META_PREFIX) :] not in wanted:
            await _remove_commands(bot, store, key)
    return synced


async def _remove_commands(bot: commands.Bot, store: MetaStore, key: str) -> None:
    """Empty the commands of a target synced before but no longer configured (a switch
    between global and guild sync, a guild taken off the list): left there, every command
    would show twice in the client."""
    name = key[len(META_PREFIX) :]
    app_id = bot.application_id
    if app_id is None:
        return
    try:
        if name == "global":
            await bot.http.bulk_upsert_global_commands(app_id, [])
        else:
            await bot.http.bulk_upsert_guild_commands(app_id, int(name), [])
    except (discord.Forbidden, discord.NotFound) as exc:
        # the bot has left that guild: nothing of ours shows there any more
        log.info("discord_commands_gone target=%s reason=%r", name, str(exc))
    except discord.HTTPException as exc:
        log.error("discord_commands_remove_failed target=%s error=%r", name, str(exc))
        return  # tried again at the next start
    await store.delete_meta(key)
    log.info("discord_commands_removed target=%s", name)
