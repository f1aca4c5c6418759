"""Logging: one line per outcome, plain or JSON, with every secret redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from config import LoggingConfig
from core.redact import REDACTED, redact

__all__ = ["REDACTED", "JsonFormatter", "RedactSecrets", "setup_logging"]


class RedactSecrets(logging.Filter):
    """Replaces any secret in a record's final text, whoever logged it: the bot tokens, and
    anything shaped like a token or a password in a URL (core/redact.py).

    Libraries log request URLs, and Telegram's URLs contain the token (`/bot<token>/`), so
    redaction happens on the formatted message, not only in our own calls."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = list(secrets)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, self.redact(text)
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(config: LoggingConfig, secrets: Sequence[str], stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(
        JsonFormatter()
        if config.json_format
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.level)
    # One line per request from httpx/aiohttp would drown the outcomes (and show token URLs).
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "telegram.ext", "discord"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
