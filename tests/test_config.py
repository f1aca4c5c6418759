"""check-config: every problem named with its key path and line; secrets only from the env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from tests.helpers import ROOT


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env or {})
    return [str(p) for p in info.value.problems]


def test_default_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.yaml", env={})
    config = settings.config
    ids = [f.id for f in config.feeds]
    assert ids[:3] == ["hespress_ar", "hespress_fr", "hespress_en"]
    assert config.feeds[0].url == "https://www.hespress.com/feed"
    assert config.poll_interval == 120
    assert [f.id for f in config.watchlists.figures] == ["altman", "musk", "trump"]
    assert [t.id for t in config.watchlists.topics] == ["ai", "ai_policy"]
    assert settings.database_url == f"sqlite+aiosqlite:///{ROOT / 'data' / 'mirsad.db'}"
    assert not settings.platform_enabled("telegram") and not settings.platform_enabled("discord")


def test_unknown_key_wrong_type_bad_url_and_duplicate_id_each_named_with_line(make_config) -> None:
    path = make_config(
        """\
        database: x.db
        poll_intervall: 60
        feeds:
          - id: one
            url: https://example.org/feed
          - id: two
            url: ftp://example.org/feed
          - id: one
            url: https://example.org/other
            interval: soon
        """
    )
    found = problems(path)
    assert (
        "poll_intervall (line 2): unknown key (check its spelling and where it is indented)"
        in found
    )
    assert "feeds[1].url (line 7): not an http(s) URL: 'ftp://example.org/feed'" in found
    assert any(p.startswith("feeds[2].interval (line 10):") and "integer" in p for p in found)
    assert len(found) == 3  # the duplicate id is reported once the types are right


def test_duplicate_feed_id(make_config) -> None:
    path = make_config(
        """\
        feeds:
          - id: one
            url: https://example.org/feed
          - id: one
            url: https://example.org/other
        """
    )
    assert problems(path) == ["feeds[1].id (line 4): duplicate feed id 'one'"]


def test_poll_interval_at_least_one_and_yaml_errors_have_lines(make_config, tmp_path: Path) -> None:
    path = make_config("poll_interval: 0\n")
    assert problems(path) == ["poll_interval (line 1): Input should be greater than or equal to 1"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - id: a\n    url: [unclosed\n", encoding="utf-8")
    (only,) = problems(bad)
    assert only.startswith("line 4: not valid YAML:"), only
    assert "not valid YAML" in only


def test_duplicate_yaml_key_is_an_error(make_config) -> None:
    path = make_config("poll_interval: 60\npoll_interval: 30\n")
    assert problems(path) == ["poll_interval (line 2): duplicate key"]


def test_secrets_never_in_config_and_required_when_enabled(make_config) -> None:
    path = make_config("telegram:\n  enabled: true\n  token: 123456:ABCDEF\n")
    found = problems(path)
    assert any(
        p.startswith("telegram.token (line 3): tokens never go in the config file") for p in found
    )
    assert all("123456:ABCDEF" not in p for p in found)
    path = make_config("telegram:\n  enabled: true\n")
    assert problems(path) == [
        "telegram.enabled (line 2): is true but TELEGRAM_BOT_TOKEN is not set in the environment"
    ]
    settings = load_settings(path, env={"TELEGRAM_BOT_TOKEN": "123456:ABCDEF"})
    assert settings.platform_enabled("telegram")
    assert "123456" not in repr(settings.secrets)


def test_token_from_file(make_config, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("999:SECRETSECRET\n", encoding="utf-8")
    settings = load_settings(
        make_config("feeds: []\n"), env={"DISCORD_BOT_TOKEN_FILE": str(secret)}
    )
    assert settings.secrets.token("discord") == "999:SECRETSECRET"
    assert settings.platform_enabled("discord")


def test_bad_watchlist_pattern_is_named(make_config) -> None:
    path = make_config(
        """\
        watchlists:
          figures:
            - id: someone
              name: {ar: أحد, en: Someone}
              aliases: [في]
          topics: []
        """
    )
    (only,) = problems(path)
    assert only.startswith("watchlists.figures[0].aliases[0] (line 5):")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_check_config_cli_ok_and_errors(make_config) -> None:
    ok = run_cli("check-config", "--config", str(ROOT / "config.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(
        "ok: 11 feeds, 3 figures (altman, musk, trump), 2 topics (ai, ai_policy)"
    )
    bad = run_cli(
        "check-config", "--config", str(make_config("feeds:\n  - id: x\n    url: nope\n"))
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "feeds[0].url (line 3): not an http(s) URL: 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_check_config_never_prints_a_token(make_config) -> None:
    token = "424242:SUPERSECRETTOKENVALUE"
    path = make_config("discord:\n  enabled: true\n  token: " + token + "\n")
    result = run_cli("check-config", "--config", str(path), env={"DISCORD_BOT_TOKEN": token})
    assert result.returncode == 2
    assert token not in result.stdout + result.stderr
    result = run_cli(
        "check-config", "--config", str(ROOT / "config.yaml"), env={"TELEGRAM_BOT_TOKEN": token}
    )
    assert result.returncode == 0
    assert token not in result.stdout + result.stderr
    assert "telegram" in result.stdout


def test_the_database_url_may_come_from_the_environment(tmp_path: Path) -> None:
    """A PostgreSQL URL holds a password: it may stay out of config.yaml (issue 16)."""
    url = "postgresql+asyncpg://mirsad:s3cret-pw@db:5432/mirsad"
    settings = load_settings(ROOT / "config.yaml", env={"MIRSAD_DATABASE_URL": url})
    assert settings.database_url == url
    assert url in settings.secrets.values()  # redacted from every log line
    assert "s3cret-pw" not in repr(settings.secrets)
    secret_file = tmp_path / "db-url"
    secret_file.write_text(url + "\n")
    from_file = load_settings(
        ROOT / "config.yaml", env={"MIRSAD_DATABASE_URL_FILE": str(secret_file)}
    )
    assert from_file.database_url == url
    assert load_settings(ROOT / "config.yaml", env={}).database_url.startswith(
        "sqlite+aiosqlite:///"
    )


def test_check_config_refuses_what_run_cannot_do(make_config) -> None:  # type: ignore[no-untyped-def]
    def problems(body: str) -> list[str]:
        result = run_cli("check-config", "--config", str(make_config(body)))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        return result.stderr.splitlines()

    feed = "feeds:\n  - id: a\n    url: https://example.com/a.xml\n"
    assert problems("feeds: []\n") == [
        f"error: {make_config('feeds: []').parent / 'config.yaml'}: feeds: no feed to poll: "
        "add one ({id, url}) or set enabled: true"
    ]
    (line,) = problems(feed + "    language: de\n")
    assert line.endswith(
        "feeds[0].language (line 4): language 'de' is not one Mirsad reads: use ar, fr, en, "
        "or leave it out"
    )
    (line,) = problems("feeds:\n  - id: a\n    url: https://example.com/a b.xml\n")
    assert "feeds[0].url (line 3): the URL has a space in it" in line and "%20" in line
    (line,) = problems("database: postgresql://mirsad@db/mirsad\n" + feed)
    assert "database (line 1): postgresql:// has no asyncio driver" in line
    assert "postgresql+asyncpg://" in line


def test_a_missing_database_driver_names_the_pip_install(
    make_config,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if it were not installed
    path = make_config("database: postgresql+asyncpg://mirsad@db/mirsad\nfeeds: []\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert [str(p) for p in caught.value.problems] == [
        "database (line 1): the asyncpg driver is not installed: pip install asyncpg==0.32.0"
    ]


def test_an_empty_alias_is_named_in_plain_words(make_config) -> None:  # type: ignore[no-untyped-def]
    body = (
        "feeds: []\nwatchlists:\n  figures:\n    - id: x\n      name: {ar: س, en: X}\n"
        "      aliases: [Xavier, null]\n  topics: []\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(make_config(body), env={})
    messages = [str(p) for p in caught.value.problems]
    assert (
        "watchlists.figures[0].aliases[1] (line 6): is empty: give it a value, or remove the line"
        in messages
    )
    assert not any("TermSpec" in m or "Input should" in m for m in messages)
