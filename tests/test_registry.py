"""A new platform is one package plus one registry line (docs/ARCHITECTURE.md): with only
an entry added, its config section is validated by its model, its token is read from
LOOPCHAT_BOT_TOKEN, check-config lists it, and the runtime builds it with its own context."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import cmd_check_config
from config import ConfigError, load_settings
from platforms import registry
from runtime.app import AppOptions, run_once
from tests.helpers import write_config

EXTRA = Path(__file__).resolve().parent / "data" / "extra_platform"


@pytest.fixture
def loopchat(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(EXTRA))
    import loopchat  # type: ignore[import-not-found]

    entry = registry.PlatformEntry("loopchat", loopchat.LoopchatConfig, "loopchat:create_platform")
    monkeypatch.setattr(registry, "PLATFORMS", (*registry.PLATFORMS, entry))  # the one line
    loopchat.BUILT.clear()
    yield loopchat
    sys.modules.pop("loopchat", None)


def test_its_section_and_token_come_from_the_registry(
    tmp_path: Path, loopchat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path,
        "feeds: [{id: a, url: 'https://example.com/a.xml'}]\nloopchat:\n  room_prefix: news-\n",
    )
    settings = load_settings(config, env={"LOOPCHAT_BOT_TOKEN": "abc"})
    [entry] = [e for e in registry.enabled(settings)]
    assert entry.name == "loopchat" and entry.section(settings.config).room_prefix == "news-"
    assert settings.secrets.token("loopchat") == "abc"
    monkeypatch.setenv("LOOPCHAT_BOT_TOKEN", "abc")
    out, err = io.StringIO(), io.StringIO()
    assert cmd_check_config(config, out, err) == 0
    assert out.getvalue().rstrip().endswith("alerts to loopchat")
    bad = write_config(tmp_path, "feeds: []\nloopchat:\n  room_prefx: x\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad, env={})
    assert "loopchat.room_prefx (line 3): unknown key" in str(caught.value)
    required = write_config(tmp_path, "feeds: []\nloopchat:\n  enabled: true\n")
    with pytest.raises(ConfigError, match="LOOPCHAT_BOT_TOKEN is not set"):
        load_settings(required, env={})


async def test_the_runtime_builds_it_with_its_own_context(tmp_path: Path, loopchat: Any) -> None:
    config = write_config(
        tmp_path,
        "feeds: [{id: a, url: 'https://example.com/a.xml'}]\nloopchat:\n  room_prefix: news-\n",
    )
    settings = load_settings(config, env={"LOOPCHAT_BOT_TOKEN": "abc"})
    options = AppOptions(stream=io.StringIO(), platform_factories=registry.factories(settings))
    await run_once(settings, options)
    [context] = loopchat.BUILT
    assert context.token == "abc" and context.config.room_prefix == "news-"


def test_imports_run_one_way() -> None:
    """A platform package never imports runtime/ (it gets a PlatformContext), and the core
    (core/, alerts/, store/, feeds/, filters/) never imports a platform package."""
    root = Path(__file__).resolve().parent.parent

    def imports(folder: str) -> list[tuple[str, str]]:
        found = []
        for path in sorted((root / folder).rglob("*.py")):
            for line in path.read_text(encoding="utf-8").splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from"):
                    found.append((str(path.relative_to(root)), words[1]))
        return found

    assert [i for i in imports("platforms") if i[1].split(".")[0] in ("runtime", "bot")] == []
    for core in ("core", "alerts", "store", "feeds", "filters"):
        assert [i for i in imports(core) if i[1].startswith("platforms")] == [], core
