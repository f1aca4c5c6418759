"""The feed commands' decisions: `bot.py feeds list|add|remove|import|export`.

An edit is made on the file's text (yamlfile.FeedFile), then the whole result is checked
exactly as `bot.py check-config` checks a file (`config.check_settings`, one decision in one
place: a bad URL or language, a duplicate id or URL, no feed left to poll) and written only
when it passes; otherwise it is refused with check-config's own messages and the file is left
as it was. Each command returns a value; `bot.py` prints it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config import ConfigError, ConfigProblem, FeedConfig, check_settings

from . import opml
from .yamlfile import FeedFile, write_in_place


@dataclass(frozen=True)
class Refused:
    """Nothing was written; each problem is one line to print."""

    problems: list[str]


@dataclass(frozen=True)
class Changed:
    """The file was rewritten: `added` and `removed` feeds (id, url), `skipped` (url, why)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


Outcome = Refused | Changed


def add(
    path: Path,
    url: str,
    *,
    feed_id: str | None = None,
    name: str | None = None,
    language: str | None = None,
    interval: int | None = None,
    enabled: bool = True,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Append one feed; its id is made from the URL's host when not given."""
    file = FeedFile.read(path)
    entry = _entry(
        feed_id or new_id(url, _ids(file)),
        url,
        name,
        language,
        interval,
        None if enabled else False,
    )
    file.append(entry)
    problems = _problems(path, file.render(), env)
    if problems:
        return Refused([_line(p) for p in problems])
    write_in_place(path, file.render())
    return Changed(added=[(entry["id"], url)])


def remove(path: Path, feed_id: str, env: Mapping[str, str] | None = None) -> Outcome:
    file = FeedFile.read(path)
    index = file.index_of(feed_id)
    if index is None:
        known = ", ".join(str(e.get("id")) for e in file.entries())
        return Refused([f"feeds: no feed has the id {feed_id!r} (the ids: {known or 'none'})"])
    url = str(file.entries()[index].get("url"))
    file.remove(index)
    problems = _problems(path, file.render(), env)
    if problems:
        return Refused([_line(p) for p in problems])
    write_in_place(path, file.render())
    return Changed(removed=[(feed_id, url)])


def import_opml(path: Path, data: bytes, env: Mapping[str, str] | None = None) -> Outcome:
    """Append every feed of an OPML list that the config accepts; each one it refuses (a URL
    already listed, no http(s) URL, a language Mirsad does not read) is skipped with the
    reason. Raises opml.OpmlError when the data is not an OPML feed list."""
    feeds = opml.parse(data)
    file = FeedFile.read(path)
    first = len(file.entries())
    taken = _ids(file)
    pending: list[dict[str, Any]] = []
    for feed in feeds:
        feed_id = feed.id if feed.id and feed.id not in taken else new_id(feed.url, taken)
        taken.add(feed_id)
        pending.append(
            _entry(
                feed_id,
                feed.url,
                feed.title,
                feed.language,
                int(feed.interval) if feed.interval and feed.interval.isdigit() else feed.interval,
                _bool(feed.enabled),
            )
        )
    skipped: list[tuple[str, str]] = []
    while True:  # each pass drops the entries the check refuses, until the rest passes
        candidate = FeedFile(path, file.text)
        for entry in pending:
            candidate.append(entry)
        problems = _problems(path, candidate.render(), env)
        refused = {i - first: p for p in problems if (i := _feed_index(p)) is not None}
        refused = {i: p for i, p in refused.items() if 0 <= i < len(pending)}
        if not refused:
            break
        for i in sorted(refused, reverse=True):
            skipped.append((str(pending[i]["url"]), refused[i].message))
            del pending[i]
    if problems:  # what is wrong is not in the imported feeds: the file itself
        return Refused([_line(p) for p in problems])
    if pending:
        write_in_place(path, candidate.render())
    skipped.sort(key=lambda s: [f.url for f in feeds].index(s[0]))
    return Changed(added=[(e["id"], e["url"]) for e in pending], skipped=skipped)


def export_opml(feeds: list[FeedConfig], title: str, now: datetime) -> str:
    return opml.render(
        (
            opml.OpmlFeed(
                url=f.url,
                title=f.name,
                language=f.language,
                id=f.id,
                interval=str(f.interval) if f.interval is not None else None,
                enabled=None if f.enabled else "false",
            )
            for f in feeds
        ),
        title,
        now,
    )


# The host's labels that do not name the outlet: feeds.bbci.co.uk -> bbci
_PREFIXES = {"www", "feeds", "feed", "rss"}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu"}


def new_id(url: str, taken: set[str]) -> str:
    """A feed id from the URL's host, not one of `taken`: www.hespress.com -> hespress,
    fr.hespress.com -> hespress_fr, arabic.rt.com -> rt_arabic (then _2, _3...)."""
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".") if label]
    try:
        ipaddress.ip_address(host)
        labels = []
    except ValueError:
        pass
    while len(labels) > 1 and labels[0] in _PREFIXES:
        labels.pop(0)
    if len(labels) > 1:
        labels.pop()  # the top-level domain
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels.pop()
    base = re.sub(r"[^a-z0-9_-]+", "_", "_".join(reversed(labels))).strip("_-")[:56] or "feed"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def _entry(
    feed_id: str,
    url: str,
    name: str | None,
    language: str | None,
    interval: int | str | None,
    enabled: bool | str | None,
) -> dict[str, Any]:
    """The keys in config.yaml's own order; unset ones left out."""
    keys: dict[str, Any] = {"id": feed_id, "name": name, "url": url, "language": language}
    keys |= {"interval": interval, "enabled": enabled}
    return {k: v for k, v in keys.items() if v is not None}


def _bool(value: str | None) -> bool | str | None:
    if value is None:
        return None
    return {"true": None, "false": False}.get(value.strip().lower(), value)


def _ids(file: FeedFile) -> set[str]:
    return {str(e.get("id")) for e in file.entries()}


def _problems(path: Path, text: str, env: Mapping[str, str] | None) -> list[ConfigProblem]:
    try:
        check_settings(path, env, text)
    except ConfigError as exc:
        return exc.problems
    return []


def _line(problem: ConfigProblem) -> str:
    """check-config's line without the line number: it would point into a file not written."""
    return str(replace(problem, line=None))


def _feed_index(problem: ConfigProblem) -> int | None:
    found = re.match(r"feeds\[(\d+)\]", problem.path)
    return int(found.group(1)) if found else None
