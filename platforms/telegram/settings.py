"""The `telegram:` section of config.yaml (the registry adds it to the config)."""

from __future__ import annotations

from pydantic import field_validator

from core.validation import StrictModel, check_api_url, check_http_url


class TelegramConfig(StrictModel):
    # None = on when TELEGRAM_BOT_TOKEN is set; True = required; False = off.
    enabled: bool | None = None
    api_base_url: str = "https://api.telegram.org"

    @field_validator("api_base_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        return check_api_url(
            check_http_url(value), "TELEGRAM_BOT_TOKEN", "https://api.telegram.org"
        ).rstrip("/")
