"""Building blocks of the config models, shared by `config.py` and each platform's own
settings model (`platforms/<name>/settings.py`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from core.redact import looks_like_token, redact


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are frozen after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {redact(value)!r}")
    return value


def check_api_url(value: str, token_variable: str, example: str) -> str:
    """A platform's API base URL: the server only; a bot token pasted into it is refused
    (without being printed back), since the token comes from the environment."""
    if looks_like_token(value):
        raise ValueError(
            f"holds a bot token ({redact(value)}): give the server only "
            f"(e.g. {example}) and set the token in {token_variable}"
        )
    return value
