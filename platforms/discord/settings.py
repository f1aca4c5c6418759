"""The `discord:` section of config.yaml (the registry adds it to the config)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from core.redact import redact
from core.validation import StrictModel, check_api_url, check_http_url


class DiscordConfig(StrictModel):
    # None = on when DISCORD_BOT_TOKEN is set; True = required; False = off.
    enabled: bool | None = None
    guild_ids: list[int] = Field(default_factory=list)
    api_base_url: str | None = None
    gateway_url: str | None = None
    require_manage_channels: bool = True

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
