"""The `discord:` section of config.yaml (the registry adds it to the config)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from core.redact import redact
from core.validation import StrictModel, check_api_url, check_http_url


class DiscordConfig(StrictModel):
    # None = on when DISCORD_BOT_TOKEN is set; True = required; False = off.
    enabled: bool | None = None
    guild_ids: list[int] = Field(default_factory=list)
    api_base_url: str | None = None
    gateway_url: str | None = None
    require_manage_channels: bool = True
    # Several instances (issue 16): the gateway shards this instance connects, out of
    # shard_count (Discord requires sharding past 2,500 servers). An instance runs one or more
    # shards and answers the commands of their servers; every instance can deliver (alerts go
    # over REST). That no two instances run the same shard cannot be checked here: each
    # instance sees only its own config (README "Several instances").
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None

    @model_validator(mode="after")
    def _shards_of_the_count(self) -> DiscordConfig:
        if self.shard_ids is None and self.shard_count is None:
            return self
        if self.shard_ids is None or self.shard_count is None:
            raise ValueError("set shard_count and shard_ids together (e.g. 4 and [0, 1])")
        if not self.shard_ids:
            raise ValueError("shard_ids: name at least one shard, e.g. [0]")
        outside = [s for s in self.shard_ids if not 0 <= s < self.shard_count]
        if outside:
            listed = ", ".join(map(str, outside))
            raise ValueError(f"shard_ids: {listed} not in 0..{self.shard_count - 1}")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(f"shard_ids: each shard once, not {self.shard_ids}")
        return self

    @field_validator("api_base_url")
    @classmethod
    def _api_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check_api_url(
            check_http_url(value), "DISCORD_BOT_TOKEN", "https://discord.com/api"
        ).rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url_shape(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError(f"not a ws(s) URL: {redact(value)!r}")
        return (
            None
            if value is None
            else check_api_url(value, "DISCORD_BOT_TOKEN", "wss://gateway.discord.gg")
        )
