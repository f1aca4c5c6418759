"""Load and validate `config.yaml`, plus the secrets that come from the environment.

Every problem becomes one `ConfigProblem` naming the key path and the line, e.g.
``feeds[2].url (line 17): not an http(s) URL: 'ftp://x'`` — so a self-hoster can fix the file
without reading code. Tokens are read only from the environment (``TELEGRAM_BOT_TOKEN``,
``DISCORD_BOT_TOKEN``, or ``*_FILE`` naming a file that holds one) and are never printed.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, create_model, field_validator

from core.redact import looks_like_token, redact
from core.validation import StrictModel as _Strict
from core.validation import check_http_url as _check_http_url
from filters.schema import WatchlistsConfig
from platforms import registry

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.yaml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class FeedConfig(_Strict):
    id: str
    url: str
    name: str | None = Field(default=None, max_length=100, description="shown in alerts")
    language: str | None = None
    interval: int | None = Field(default=None, ge=1, description="seconds between polls")
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"feed id {value!r} must be lowercase letters, digits, - or _")
        return value

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if any(c.isspace() for c in value):
            raise ValueError(
                f"the URL has a space in it ({value!r}): remove it, or write it as %20"
            )
        return _check_http_url(value)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in FEED_LANGUAGES:
            raise ValueError(
                f"language {value!r} is not one Mirsad reads: use "
                f"{', '.join(FEED_LANGUAGES)}, or leave it out"
            )
        return value


# The languages matching knows (filters/): a feed's `language` picks the aliases to look for.
FEED_LANGUAGES = ("ar", "fr", "en")
# The driver to install for each async database driver SQLAlchemy may ask for.
_DRIVER_PINS = {"asyncpg": "asyncpg==0.32.0", "aiosqlite": "aiosqlite==0.22.1"}


def database_problem(url: str) -> str | None:
    """Why `run` could not open this database URL (no async driver, driver not installed)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        return (
            "not a database URL Mirsad can open: give a SQLite file path, or "
            "postgresql+asyncpg://user@host/mirsad"
        )
    if not getattr(dialect, "is_async", False):
        return (
            f"{parsed.drivername}:// has no asyncio driver: write postgresql+asyncpg://... "
            "(or a SQLite file path)"
        )
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = exc.name or parsed.get_driver_name()
        return (
            f"the {module} driver is not installed: pip install {_DRIVER_PINS.get(module, module)}"
        )
    return None


class HttpConfig(_Strict):
    connect_timeout: float = Field(default=10, gt=0)
    read_timeout: float = Field(default=20, gt=0)
    total_timeout: float = Field(default=60, gt=0)
    max_bytes: int = Field(default=10_000_000, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    per_host_concurrency: int = Field(default=2, ge=1, le=64)
    allow_private_addresses: bool = False
    user_agent: str | None = None


class HealthConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    enabled: bool = True


class DashboardConfig(_Strict):
    """The operator's web dashboard (web/): off unless enabled. Off loopback it requires
    MIRSAD_DASHBOARD_TOKEN (or _FILE) in the environment."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)


class DeliveryConfig(_Strict):
    # Seconds the database may refuse writes (disk full, read-only file) before Mirsad exits
    # for its supervisor to restart it; meanwhile nothing is sent and /healthz answers 503.
    store_outage_limit: float = Field(default=300, gt=0)


class EventsConfig(_Strict):
    # Issue 14: a story that reports an event alerted in the last `window_hours` is not sent
    # again; the first alert is edited to name it ("also reported by"). 0 turns grouping off.
    window_hours: float = Field(default=12, ge=0, le=72)


class LoggingConfig(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(default=False, alias="json")


class Config(_Strict):
    database: str = "data/mirsad.db"
    poll_interval: int = Field(default=120, ge=1)
    timezone: str = "Africa/Casablanca"
    # the terminal's language (its alerts, labels and `bot.py latest`); chats choose with /lang
    language: str = "ar"
    retention_days: int = Field(default=30, ge=1)
    # items read from one feed body, the newest kept (issue 17: a 150,000-item feed froze the bot)
    max_items_per_feed: int = Field(default=500, ge=1, le=100_000)
    feeds: list[FeedConfig] = Field(default_factory=list)
    http: HttpConfig = Field(default_factory=HttpConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    watchlists: WatchlistsConfig

    @field_validator("language")
    @classmethod
    def _interface_language(cls, value: str) -> str:
        from core.subscriptions import LANGS

        if value not in LANGS:
            raise ValueError(f"language {value!r} is not one Mirsad speaks: use {', '.join(LANGS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Africa/Casablanca, UTC)") from None
        return value


@functools.cache
def _config_model(platforms: tuple[registry.PlatformEntry, ...]) -> type[Config]:
    """The config as loaded: `Config` plus one section per platform of the registry
    (`telegram:`, `discord:`...), each validated by that platform's own model. Code reads a
    platform's section through its registry entry (`entry.section(config)`)."""
    sections: dict[str, Any] = {
        e.name: (e.config_model, Field(default_factory=e.config_model))
        for e in platforms
        if e.config_model is not None
    }
    return create_model("Config", __base__=Config, **sections)


@dataclass(frozen=True)
class Secrets:
    """Tokens from the environment, by platform name. `repr` never shows them."""

    tokens: Mapping[str, str] = field(default_factory=dict)  # platform name -> its bot token
    dashboard_token: str | None = None
    # MIRSAD_DATABASE_URL: a database URL with a password (PostgreSQL) overrides `database:`
    database_url: str | None = None

    def __repr__(self) -> str:
        shown = {e.name: ("set" if self.token(e.name) else "unset") for e in registry.PLATFORMS}
        shown["dashboard"] = "set" if self.dashboard_token else "unset"
        return f"Secrets({shown})"

    def token(self, platform: str) -> str | None:
        return self.tokens.get(platform)

    def values(self) -> list[str]:
        return [v for v in (*self.tokens.values(), self.dashboard_token, self.database_url) if v]


@dataclass(frozen=True)
class Settings:
    """Everything `bot.py` needs: the validated config, where it came from, the secrets."""

    config: Config
    path: Path
    secrets: Secrets

    @property
    def database_url(self) -> str:
        return self.secrets.database_url or database_url(self.config.database, self.path)

    def platform_enabled(self, name: str) -> bool:
        """Whether platform `name` runs: its `enabled:`, else whether its token is set."""
        found = next((e for e in registry.PLATFORMS if e.name == name), None)
        return found is not None and found.enabled(self)


@dataclass(frozen=True)
class ConfigProblem:
    path: str  # e.g. "feeds[2].url"
    line: int | None
    message: str

    def __str__(self) -> str:
        if not self.path:
            where = f"line {self.line}" if self.line else "config"
        else:
            where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {redact(self.message)}"  # a value quoted back may hold a secret


class ConfigError(Exception):
    """The config cannot be used; `problems` lists every problem found."""

    def __init__(self, source: Path, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def database_url(database: str, config_path: Path) -> str:
    """A SQLAlchemy URL: plain paths are SQLite files relative to the config file."""
    if "://" in database:
        return database
    path = Path(database)
    if not path.is_absolute():
        path = config_path.resolve().parent / path
    return f"sqlite+aiosqlite:///{path}"


def read_secrets(env: Mapping[str, str]) -> Secrets:
    """Tokens from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""

    def one(name: str) -> str | None:
        value = env.get(name, "").strip()
        if value:
            return value
        file_name = env.get(f"{name}_FILE", "").strip()
        if file_name:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                # the value is not printed: it may be the token itself, pasted by mistake
                hint = (
                    f"; it holds a token, not a file name: set {name} instead"
                    if looks_like_token(file_name)
                    else ""
                )
                raise ConfigError(
                    Path(f"${name}_FILE"),
                    [
                        ConfigProblem(
                            f"{name}_FILE",
                            None,
                            f"cannot read the file it names ({exc.strerror}){hint}",
                        )
                    ],
                ) from None
        return None

    found = {e.name: one(e.token_env) for e in registry.PLATFORMS}
    return Secrets(
        {name: token for name, token in found.items() if token},
        dashboard_token=one("MIRSAD_DASHBOARD_TOKEN"),
        database_url=one("MIRSAD_DATABASE_URL"),
    )


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name or a wildcard (0.0.0.0, "") listens where others can reach it


# --- locating keys in the YAML text -------------------------------------------------------

_Path = tuple[str | int, ...]


# libyaml's parser when PyYAML was built with it (the wheels are): the pure-Python one takes
# ~0.6 s of CPU and leaves ~8 MB of resident memory behind for a config of 1,000 feeds, the
# C one 0.06 s and ~2 MB (issue 19: start-up of every `bot.py once`, peak memory).
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The data of one YAML document, read safely (libyaml's parser when there is one)."""
    loader = _YAML_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data, from one parse."""
    loader = _YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


def _index_lines(
    node: yaml.Node, path: _Path, lines: dict[_Path, int], dups: list[ConfigProblem]
) -> None:
    """Record the 1-based line of every key path; report duplicate mapping keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                dups.append(
                    ConfigProblem(
                        _format_path(child), key_node.start_mark.line + 1, "duplicate key"
                    )
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines, dups)


def _format_path(path: _Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(path: _Path, lines: Mapping[_Path, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _problems_from_validation(
    error: ValidationError, lines: Mapping[_Path, int]
) -> list[ConfigProblem]:
    raw: list[tuple[_Path, str, str, Any]] = []
    for err in error.errors():
        # pydantic puts union-branch and validator tags into loc; keep only the keys and
        # indexes that exist in the file (and the name of a missing key).
        loc: _Path = ()
        parts = list(err["loc"])
        for i, part in enumerate(parts):
            last_missing = err["type"] == "missing" and i == len(parts) - 1
            if isinstance(part, int) or (*loc, part) in lines or last_missing:
                loc = (*loc, part)
        raw.append((loc, str(err["type"]), str(err["msg"]), err.get("input")))
    # A value that fits no branch of a union (`"term" | {term: ...}`) gets one error per
    # branch, and its list one more for being short: keep our own message where there is one.
    ours = {loc for loc, kind, _, _ in raw if kind == "value_error"}
    problems: list[ConfigProblem] = []
    for loc, kind, msg, value in raw:
        if kind != "value_error" and loc in ours:
            continue
        if kind == "too_short" and any(o[: len(loc)] == loc and o != loc for o in ours):
            continue
        message = msg.removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            message = (
                "tokens never go in the config file: set them in the environment "
                f"({', '.join(e.token_env for e in registry.PLATFORMS)})"
                if "token" in key.lower()
                else "unknown key (check its spelling and where it is indented)"
            )
        elif kind == "missing":
            message = "required key is missing"
        elif value is None:  # `- ` or `key:` with nothing after it (YAML null)
            message = "is empty: give it a value, or remove the line"
        elif kind in ("model_type", "dict_type", "string_type", "list_type"):
            wanted = {"string_type": "text", "list_type": "a list"}.get(kind, "a mapping of keys")
            message = f"expected {wanted} here, not {type(value).__name__} {value!r}"
        problem = ConfigProblem(_format_path(loc), _line_for(loc, lines), message)
        if problem not in problems:
            problems.append(problem)
    return problems


def load_settings(
    path: Path | str = DEFAULT_CONFIG,
    env: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Settings:
    """Read, validate and combine the config file and the environment's secrets.

    `text`, when given, is validated as if it were the file at `path` (an edit before it is
    written: `bot.py feeds add`). Raises ConfigError listing every problem; nothing is started
    on a bad config.
    """
    path = Path(path)
    env = os.environ if env is None else env
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                path, [ConfigProblem("", None, f"cannot read {path}: {exc.strerror}")]
            ) from None
    try:
        root, data = _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [ConfigProblem("", line, f"not valid YAML: {reason}")]) from None
    if not isinstance(data, dict) or root is None:
        raise ConfigError(
            path,
            [ConfigProblem("", 1, "the file must be a mapping of keys (feeds:, watchlists:, ...)")],
        )

    lines: dict[_Path, int] = {}
    problems: list[ConfigProblem] = []
    _index_lines(root, (), lines, problems)
    config: Config | None = None
    try:
        config = _config_model(registry.PLATFORMS).model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, lines))

    try:
        secrets = read_secrets(env)
    except ConfigError as exc:
        problems.extend(exc.problems)
        secrets = Secrets()

    if config is not None and (host := env.get("MIRSAD_HEALTH_HOST", "").strip()):
        # where /healthz and /metrics listen, over `health.host`: docker-compose.yml sets
        # 0.0.0.0 (the container's own network) and publishes the port on the host's 127.0.0.1
        health = config.health.model_copy(update={"host": host})
        config = config.model_copy(update={"health": health})
    if config is not None:
        seen: set[str] = set()
        urls: dict[str, str] = {}
        for i, feed in enumerate(config.feeds):
            if feed.id in seen:
                where = ("feeds", i, "id")
                problems.append(
                    ConfigProblem(
                        _format_path(where),
                        _line_for(where, lines),
                        f"duplicate feed id {feed.id!r}",
                    )
                )
            seen.add(feed.id)
            if feed.url in urls:  # polled twice, every story alerted twice
                where = ("feeds", i, "url")
                problems.append(
                    ConfigProblem(
                        _format_path(where),
                        _line_for(where, lines),
                        f"feed {urls[feed.url]!r} has this URL already: list a feed once",
                    )
                )
            urls.setdefault(feed.url, feed.id)
        for entry in registry.PLATFORMS:
            section = entry.section(config)
            if getattr(section, "enabled", None) and not secrets.token(entry.name):
                problems.append(
                    ConfigProblem(
                        f"{entry.name}.enabled",
                        _line_for((entry.name, "enabled"), lines),
                        f"is true but {entry.token_env} is not set in the environment",
                    )
                )
        url = secrets.database_url or database_url(config.database, path)
        if (problem := database_problem(url)) is not None:
            key = "MIRSAD_DATABASE_URL" if secrets.database_url else "database"
            problems.append(ConfigProblem(key, _line_for(("database",), lines), problem))
        dashboard = config.dashboard
        if dashboard.enabled and not is_loopback(dashboard.host) and not secrets.dashboard_token:
            problems.append(
                ConfigProblem(
                    "dashboard.host",
                    _line_for(("dashboard", "host"), lines),
                    f"{dashboard.host!r} is not loopback: set MIRSAD_DASHBOARD_TOKEN (or "
                    "MIRSAD_DASHBOARD_TOKEN_FILE) in the environment, or listen on 127.0.0.1",
                )
            )
    if problems:
        raise ConfigError(path, problems)
    assert config is not None
    return Settings(config=config, path=path, secrets=secrets)


def check_settings(
    path: Path | str = DEFAULT_CONFIG,
    env: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Settings:
    """What `bot.py check-config` accepts: `load_settings` plus what only `run` would find out
    (no feed to poll). The feed commands (`bot.py feeds add|remove|import`) check an edit with
    it before writing, so an edit check-config would refuse is never written."""
    settings = load_settings(path, env, text)
    if not any(feed.enabled for feed in settings.config.feeds):
        raise ConfigError(
            Path(path),
            [
                ConfigProblem(
                    "feeds", None, "no feed to poll: add one ({id, url}) or set enabled: true"
                )
            ],
        )
    return settings
