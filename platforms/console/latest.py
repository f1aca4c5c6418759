"""`bot.py latest [--label X] [--limit N]`: the newest matching stories from the database,
one line each, laid out for the terminal (platforms/console/render.py) in the config's
`language`. Works on SQLite files and PostgreSQL URLs alike; reads, never polls or sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from config import Settings
from core.redact import redact
from core.subscriptions import resolve_labels
from core.texts import t
from filters.watchlist import label_infos
from platforms.console.render import Style, render_latest_line
from store import Store, StoredAlert
from store.dbfile import DatabaseFile, DatabaseFileError

DEFAULT_LIMIT = 10
MAX_LIMIT = 500


class LatestError(Exception):
    """What stops `latest`, as the one line to print, and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LatestRequest:
    label: str | None = None  # an id or a name, as typed; None: every label
    limit: int = DEFAULT_LIMIT


def chosen_labels(settings: Settings, label: str | None) -> list[str]:
    """The label ids to show: the one named (id or name, any language), else all of them."""
    infos = label_infos(settings.config.watchlists)
    if label is None:
        return [info.id for info in infos]
    ids, unknown = resolve_labels(infos, [label])
    if unknown or not ids:
        valid = ", ".join(info.id for info in infos)
        raise LatestError(
            f"--label {label!r} is not a figure or topic of this config: use {valid}", 2
        )
    return ids


def missing_database(url: str) -> str | None:
    """Why there is nothing to read at a SQLite URL (no file yet, or an empty one)."""
    file = DatabaseFile.from_url(url)
    if file is None or not file.is_empty():
        return None
    return (
        f"no database at {file.path} yet: `python bot.py once` (or `run`) creates it and "
        "records the stories"
    )


async def latest(
    settings: Settings,
    request: LatestRequest,
    out: TextIO,
    env: Mapping[str, str],
) -> int:
    """Print the newest stories matching `request`; raise LatestError for a bad label or a
    database that cannot be read."""
    if not 1 <= request.limit <= MAX_LIMIT:
        raise LatestError(f"--limit {request.limit}: give a number from 1 to {MAX_LIMIT}", 2)
    ids = chosen_labels(settings, request.label)
    url = settings.database_url
    if problem := missing_database(url):
        raise LatestError(problem, 1)
    try:
        store = await Store.open(url)
    except DatabaseFileError as exc:
        raise LatestError(str(exc), 1) from exc
    except Exception as exc:  # unreachable server, wrong password, no such database...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LatestError(f"cannot open the database: {redact(first)}", 1) from exc
    try:
        found = await store.latest_alerts(ids, request.limit)
    finally:
        await store.close()
    print_latest(settings, found, out, Style.for_stream(out, env))
    return 0


def print_latest(
    settings: Settings, found: Sequence[StoredAlert], out: TextIO, style: Style
) -> None:
    """One line per story, newest first; the reply to an empty list in `language`."""
    config = settings.config
    lang = config.language
    labels = {info.id: info for info in label_infos(config.watchlists)}
    sources = {f.id: f.name or f.id for f in config.feeds}
    tz = ZoneInfo(config.timezone)
    if not found:
        out.write(t("latest_empty", lang) + "\n")
        return
    for alert in found:
        story, match = alert.story, alert.match
        source = sources.get(story.feed_id, story.feed_id)
        out.write(render_latest_line(story, match, labels, tz, source, lang=lang, style=style))
    out.flush()
