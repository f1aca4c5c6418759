"""No configuration value that might be a secret is ever echoed (issue 17, case 6).

A token pasted where it does not belong (`telegram.api_base_url`, `*_TOKEN_FILE`), a password
in a URL, a secret query parameter: check-config, `once` and the logs say what to fix without
printing it back.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import LoggingConfig
from core.redact import REDACTED, looks_like_token, redact
from runtime.logs import setup_logging
from tests.helpers import ROOT, write_config

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456"


def check_config(
    config: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_a_token_pasted_into_the_telegram_api_url_is_refused_without_printing_it(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path, f"telegram:\n  api_base_url: https://api.telegram.org/bot{TELEGRAM_TOKEN}\n"
    )
    result = check_config(config)
    assert result.returncode == 2
    assert TELEGRAM_TOKEN not in result.stdout + result.stderr
    assert "AAHdqTcv" not in result.stderr  # not even a part of it
    assert result.stderr.strip() == (
        f"error: {config}: telegram.api_base_url (line 2): holds a bot token "
        f"(https://api.telegram.org/bot{REDACTED}): give the server only "
        "(e.g. https://api.telegram.org) and set the token in TELEGRAM_BOT_TOKEN"
    )


def test_a_token_or_a_password_in_a_bad_url_is_not_quoted_back(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"""\
        telegram:
          api_base_url: "{TELEGRAM_TOKEN}"
        discord:
          api_base_url: ftp://mirsad:hunter2hunter2@example.org/api
          gateway_url: https://example.org/gateway?token={DISCORD_TOKEN}
        feeds:
          - id: private
            url: feed.example.org/rss?api_key=k3y-s3cr3t-value
        """,
    )
    result = check_config(config)
    assert result.returncode == 2
    for secret in (TELEGRAM_TOKEN, "hunter2hunter2", DISCORD_TOKEN, "k3y-s3cr3t-value"):
        assert secret not in result.stderr
    lines = result.stderr.splitlines()
    assert (
        f"error: {config}: telegram.api_base_url (line 2): not an http(s) URL: '{REDACTED}'"
        in lines
    )
    assert (
        f"error: {config}: discord.api_base_url (line 4): not an http(s) URL: "
        f"'ftp://{REDACTED}@example.org/api'"
    ) in lines
    assert (
        f"error: {config}: discord.gateway_url (line 5): not a ws(s) URL: "
        f"'https://example.org/gateway?token={REDACTED}'"
    ) in lines
    assert (
        f"error: {config}: feeds[0].url (line 8): not an http(s) URL: "
        f"'feed.example.org/rss?api_key={REDACTED}'"
    ) in lines


def test_a_token_given_as_the_token_file_names_the_variable_not_the_value(tmp_path: Path) -> None:
    config = write_config(tmp_path, "feeds: []\n")
    result = check_config(config, {"TELEGRAM_BOT_TOKEN_FILE": TELEGRAM_TOKEN})
    assert result.returncode == 2
    assert TELEGRAM_TOKEN not in result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: {config}: TELEGRAM_BOT_TOKEN_FILE: cannot read the file it names (No such file "
        "or directory); it holds a token, not a file name: set TELEGRAM_BOT_TOKEN instead"
    )
    missing = tmp_path / "secrets" / "discord-token-x9f2"
    result = check_config(config, {"DISCORD_BOT_TOKEN_FILE": str(missing)})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {config}: DISCORD_BOT_TOKEN_FILE: cannot read the file it names "
        "(No such file or directory)"
    )
    assert "x9f2" not in result.stderr


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_logs_hide_secret_shaped_values_that_are_not_the_configured_token(
    log_stream: io.StringIO,
) -> None:
    setup_logging(LoggingConfig(), ["the-configured-token-value"], stream=log_stream)
    log = logging.getLogger("mirsad.test")
    log.warning("telegram_failed url=https://api.telegram.org/bot%s/getMe", TELEGRAM_TOKEN)
    log.warning("db_failed url=postgresql+asyncpg://mirsad:pa55word@db:5432/mirsad")
    log.warning("feed_failed url=https://feeds.example.org/x.xml?lang=ar&access_token=abc123xyz")
    log.warning("discord_failed token=%s known=the-configured-token-value", DISCORD_TOKEN)
    try:
        raise RuntimeError(
            f"cannot connect to https://u:topsecret9@example.org/bot{TELEGRAM_TOKEN}"
        )
    except RuntimeError:
        log.exception("boom")
    text = log_stream.getvalue()
    for secret in (TELEGRAM_TOKEN, "pa55word", "abc123xyz", DISCORD_TOKEN, "topsecret9"):
        assert secret not in text
    assert "the-configured-token-value" not in text
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in text
    assert f"postgresql+asyncpg://{REDACTED}@db:5432/mirsad" in text
    assert f"x.xml?lang=ar&access_token={REDACTED}" in text
    assert f"RuntimeError: cannot connect to https://{REDACTED}@example.org/bot{REDACTED}" in text


@pytest.mark.parametrize(
    "line",
    [
        "alert_sent platform=telegram chat=-1001234567890 story=https://www.hespress.com/x-12.html",
        "poll_ok feed=hespress_ar ms=532 new=3 at 2026-02-11 10:00:00+00:00",
        "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/73d0e1b4-532f",
        "health_listening host=127.0.0.1 port=8080 url=http://[::1]:8080/healthz?verbose=1",
        "ترامب يعلن قرارا جديدا رقم 12",
    ],
)
def test_ordinary_log_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line
    assert not looks_like_token(line)
