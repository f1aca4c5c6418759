"""The one list of platforms: which exist, their config model, and how each is built.

`config.py` adds each platform's section (its model) to the config and reads its token;
`bot.py` and `runtime/` ask this module which platforms are enabled and build them from here;
nothing else names a platform. Each factory is imported only when its platform runs, so a
Telegram-only bot never imports discord.py (and the reverse). This module imports only the
platforms' settings models, so that `config.py` can import it.

Adding a platform: one package under `platforms/` and one `PlatformEntry` line below (see
docs/ARCHITECTURE.md, "Adding a platform").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from core.validation import StrictModel
from platforms.discord.settings import DiscordConfig
from platforms.telegram.settings import TelegramConfig

if TYPE_CHECKING:
    from config import Config, Settings
    from platforms.base import PlatformFactory
    from store import SubscriptionStore


@dataclass(frozen=True)
class PlatformEntry:
    """One platform: its name (also its config section and the `<NAME>_BOT_TOKEN` secret),
    its config model and its factory as `module:function`."""

    name: str
    config_model: type[StrictModel] | None
    factory_path: str

    @property
    def token_env(self) -> str:
        return f"{self.name.upper()}_BOT_TOKEN"

    def section(self, config: Config) -> Any:
        """This platform's config section (an instance of `config_model`), or None."""
        return getattr(config, self.name, None) if self.config_model is not None else None

    def enabled(self, settings: Settings) -> bool:
        """`enabled: true/false` in its section; unset means "on when its token is set"."""
        wanted = getattr(self.section(settings.config), "enabled", None)
        return bool(settings.secrets.token(self.name)) if wanted is None else bool(wanted)

    def factory(self) -> PlatformFactory:
        module, _, name = self.factory_path.partition(":")
        return cast("PlatformFactory", getattr(importlib.import_module(module), name))


# The chat platforms, in the order they start.
PLATFORMS: tuple[PlatformEntry, ...] = (
    PlatformEntry("telegram", TelegramConfig, "platforms.telegram.platform:create_platform"),
    PlatformEntry("discord", DiscordConfig, "platforms.discord.platform:create_platform"),
)

# With no chat platform enabled, alerts go to the terminal through the same outbox.
FALLBACK = PlatformEntry("console", None, "platforms.console.platform:create_platform")


def entry(name: str) -> PlatformEntry | None:
    return next((e for e in (*PLATFORMS, FALLBACK) if e.name == name), None)


def enabled(settings: Settings) -> tuple[PlatformEntry, ...]:
    """The platforms to run: every enabled chat platform, else the terminal."""
    return tuple(e for e in PLATFORMS if e.enabled(settings)) or (FALLBACK,)


def factories(settings: Settings) -> tuple[tuple[str, PlatformFactory], ...]:
    return tuple((e.name, e.factory()) for e in enabled(settings))


async def retire_fallback(store: SubscriptionStore, now: datetime) -> None:
    """A chat platform runs: the terminal's subscription (from an earlier run) is paused."""
    from platforms.console.platform import retire

    await retire(store, now)
