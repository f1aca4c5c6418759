#!/usr/bin/env python3
"""Mirsad (مرصاد): watches Arabic news feeds and alerts chats about watched figures and topics.

    python bot.py run           [--config FILE]   poll on schedule and deliver until stopped
    python bot.py once          [--config FILE]   one poll cycle over every feed, deliver, exit
        (run and once: --new-database to accept an empty database where one existed before)
    python bot.py classify      [--config FILE]   headlines in, matches out (tune watchlists)
                                [--explain]       ... every rule fired, every near-miss and why
    python bot.py check-config  [--config FILE]   validate the config, exit 0 (ok) or 2
    python bot.py healthcheck   [--config FILE]   ask the running bot's /healthz, exit 0 or 1
    python bot.py feeds list|add|remove|import|export   edit config.yaml's feeds (OPML in/out)
    python bot.py latest        [--config FILE]   print the newest matching stories
                                [--label X] [--limit N]

`python bot.py COMMAND --help` says more about each. This file is the command line only;
`runtime/app.py` builds and runs the parts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from config import DEFAULT_CONFIG, ConfigError, Settings, check_settings, load_settings
from core.redact import redact
from runtime.logs import setup_logging

if TYPE_CHECKING:
    from platforms.base import PlatformFactory

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
HEALTHCHECK_TIMEOUT = 8.0  # seconds; Docker's own timeout for the check is 10


def _load(path: Path, err: TextIO, check: bool = False) -> Settings | None:
    """The settings, or None after printing every problem (`check`: as check-config)."""
    try:
        return check_settings(path) if check else load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {exc.source}: {problem}", file=err)
        return None


def cmd_check_config(path: Path, out: TextIO, err: TextIO) -> int:
    settings = _load(path, err, check=True)
    if settings is None:
        return EXIT_CONFIG
    config = settings.config
    wl = config.watchlists
    from platforms import registry

    platforms = [e.name for e in registry.PLATFORMS if e.enabled(settings)] or ["terminal"]
    print(
        f"ok: {len(config.feeds)} feeds, {len(wl.figures)} figures "
        f"({', '.join(f.id for f in wl.figures)}), {len(wl.topics)} topics "
        f"({', '.join(t.id for t in wl.topics)}), alerts to {', '.join(platforms)}",
        file=out,
    )
    return EXIT_OK


def cmd_classify(path: Path, inp: TextIO, out: TextIO, err: TextIO, explain: bool = False) -> int:
    from filters.watchlist import compiled_matcher

    settings = _load(path, err)
    if settings is None:
        return EXIT_CONFIG
    matcher = compiled_matcher(settings.config.watchlists)
    status = EXIT_OK
    for number, line in enumerate(inp, start=1):
        if not line.strip():
            continue
        try:
            item = _classify_input(line, number)
            title, summary = item.get("title") or "", item.get("summary") or ""
            if not isinstance(title, str) or not isinstance(summary, str):
                raise ValueError("title and summary must be strings")
        except ValueError as exc:
            print(
                f'error: line {number}: {exc}; expected {{"id", "title", "summary"}} '
                "or a line of plain text",
                file=err,
            )
            status = EXIT_FAILED
            continue
        language = item.get("lang") or item.get("language")
        if explain:
            shown = (title or summary)[:80].replace("\n", " ")
            out.write(f"== {item.get('id')}: {shown}\n")
            out.write("\n".join(matcher.explain(title, summary, language)) + "\n")
            out.flush()
            continue
        match = matcher.match(title, summary, language)
        evidence = [e.as_dict() for e in match.evidence]
        out.write(
            json.dumps(
                {"id": item.get("id"), "labels": list(match.labels), "evidence": evidence},
                ensure_ascii=False,
            )
            + "\n"
        )
        out.flush()
    return status


def _classify_input(line: str, number: int) -> dict[str, Any]:
    """A JSON object line as written, or a plain text line as a headline (id: line number)."""
    text = line.strip()
    if not text.startswith("{"):
        return {"id": number, "title": text, "summary": ""}
    item = json.loads(text)
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    return item


def cmd_healthcheck(path: Path, out: TextIO, err: TextIO) -> int:
    """GET /healthz of the bot running with this config: 0 when it answers 200."""
    import urllib.error
    import urllib.request

    settings = _load(path, err)
    if settings is None:
        return EXIT_CONFIG
    health = settings.config.health
    if not health.enabled:
        print("ok: the health endpoint is off (health.enabled: false), nothing to ask", file=out)
        return EXIT_OK
    url = f"http://{_local_host(health.host)}:{health.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTHCHECK_TIMEOUT) as answer:
            print(answer.read().decode("utf-8", "replace").strip(), file=out)
            return EXIT_OK
    except urllib.error.HTTPError as exc:  # 503 and its reason
        print(f"unhealthy: {exc.read().decode('utf-8', 'replace').strip()}", file=err)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"unhealthy: no answer from {url}: {reason}", file=err)
    return EXIT_FAILED


def cmd_feeds(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`bot.py feeds ACTION`: list or export the feeds, or edit them in the config file."""
    from feedlist import edit
    from feedlist.opml import OpmlError
    from feedlist.yamlfile import FeedFileError

    path: Path = args.config
    if args.action in ("list", "export"):
        settings = _load(path, err)
        if settings is None:
            return EXIT_CONFIG
        feeds = settings.config.feeds
        if args.action == "list":
            for f in feeds:
                off = "" if f.enabled else "  (disabled)"
                every = f"  every {f.interval}s" if f.interval else ""
                print(f"{f.id}  {f.language or '-'}  {f.url}  {f.name or ''}{every}{off}", file=out)
            print(f"{len(feeds)} feeds in {path}", file=err)
            return EXIT_OK
        from datetime import UTC, datetime

        text = edit.export_opml(list(feeds), f"Mirsad feeds ({path.name})", datetime.now(UTC))
        if args.output is None:
            out.write(text)
            return EXIT_OK
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {args.output}: {exc.strerror}", file=err)
            return EXIT_FAILED
        print(f"exported {len(feeds)} feeds to {args.output}", file=err)
        return EXIT_OK
    try:
        if args.action == "add":
            outcome = edit.add(
                path,
                args.url,
                feed_id=args.id,
                name=args.name,
                language=args.language,
                interval=args.interval,
                enabled=not args.disabled,
            )
        elif args.action == "remove":
            outcome = edit.remove(path, args.id)
        else:
            source = args.file
            data = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
            outcome = edit.import_opml(path, data)
    except OpmlError as exc:
        print(f"error: {args.file}: {exc}", file=err)
        return EXIT_CONFIG
    except FeedFileError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_CONFIG
    except OSError as exc:  # the OPML file cannot be read, or the config cannot be written
        print(f"error: {exc.filename or path}: {exc.strerror}; nothing changed", file=err)
        return EXIT_FAILED
    if isinstance(outcome, edit.Refused):
        for problem in outcome.problems:
            print(f"error: {path}: {problem}", file=err)
        return EXIT_CONFIG  # and the file is as it was
    for feed_id, url in outcome.added:
        print(f"added {feed_id}: {url}", file=out)
    for feed_id, url in outcome.removed:
        print(f"removed {feed_id}: {url}", file=out)
    for url, reason in outcome.skipped:
        print(f"skipped {url}: {reason}", file=out)
    if args.action == "import":
        print(f"imported {len(outcome.added)} feeds, skipped {len(outcome.skipped)}", file=err)
    if outcome.added or outcome.removed:
        print(f"{path} updated; restart Mirsad to poll the new list", file=err)
    return EXIT_OK


def _local_host(host: str) -> str:
    """The address to reach a server listening on `host` from the same machine."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (reaching a server, not binding one)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def cmd_latest(path: Path, label: str | None, limit: int, out: TextIO, err: TextIO) -> int:
    """The newest matching stories in the database, one line each (platforms/console)."""
    from platforms.console.latest import LatestError, LatestRequest, latest

    settings = _load(path, err)
    if settings is None:
        return EXIT_CONFIG
    logging.getLogger("mirsad").setLevel(logging.WARNING)  # the output is the stories alone
    try:
        return asyncio.run(latest(settings, LatestRequest(label, limit), out, os.environ))
    except LatestError as exc:
        print(f"error: {exc}", file=err)
        return exc.status


def cmd_once(path: Path, out: TextIO, err: TextIO, new_database: bool = False) -> int:
    from runtime.app import AppOptions, run_once

    settings = _load(path, err)
    if settings is None:
        return EXIT_CONFIG
    setup_logging(settings.config.logging, settings.secrets.values(), stream=err)
    try:
        outcomes = asyncio.run(
            run_once(
                settings,
                AppOptions(
                    stream=out, platform_factories=_platforms(settings), new_database=new_database
                ),
            )
        )
    except Exception as exc:  # the cycle itself could not run (database, config): say so and exit 1
        logging.getLogger("mirsad").debug("once failed", exc_info=True)
        # the error may quote a URL (database, feed) with a password in it
        print(f"error: the poll cycle could not run: {redact(str(exc))}", file=err)
        return EXIT_FAILED
    failed = [o for o in outcomes if o.status == "error"]
    new = sum(o.new for o in outcomes)
    queued = sum(o.queued for o in outcomes)
    print(
        f"polled {len(outcomes)} feeds: {len(outcomes) - len(failed)} ok, {len(failed)} failed; "
        f"{new} new stories, {queued} alerts",
        file=err,
    )
    return EXIT_OK


def cmd_run(
    path: Path, err: TextIO, new_database: bool = False, roles: frozenset[str] | None = None
) -> int:
    from alerts.outbox import StoreOutage
    from runtime.app import AppOptions, HealthPortBusy, run_forever
    from store.dbfile import DatabaseFileError

    settings = _load(path, err)
    if settings is None:
        return EXIT_CONFIG
    setup_logging(settings.config.logging, settings.secrets.values(), stream=err)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        options = AppOptions(
            platform_factories=_platforms(settings),
            new_database=new_database,
            health_required=os.environ.get("MIRSAD_HEALTH_REQUIRED") == "1",
        )
        if roles is not None:
            options.roles = roles
        await run_forever(settings, options, stop)

    try:
        asyncio.run(main())
    except (StoreOutage, DatabaseFileError, HealthPortBusy) as exc:  # explained: no traceback
        logging.getLogger("mirsad").critical("mirsad_stopped error=%r", str(exc))
        return EXIT_FAILED
    except Exception as exc:
        logging.getLogger("mirsad").critical("mirsad_stopped error=%r", str(exc), exc_info=True)
        return EXIT_FAILED
    return EXIT_OK


def _platforms(settings: Settings) -> tuple[tuple[str, PlatformFactory], ...]:
    """The platforms to run, from the registry: each one enabled (by default: whose token is
    set), else the terminal."""
    from platforms import registry

    return registry.factories(settings)


def version() -> str:
    """The version in pyproject.toml, or "unknown"."""
    import tomllib

    try:
        with (Path(__file__).resolve().parent / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Every command with a sentence saying what it does (`bot.py COMMAND --help`)."""
    parser = argparse.ArgumentParser(
        prog="bot.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="`python bot.py COMMAND --help` says more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"mirsad {version()}")
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help="config file (default: config.yaml beside bot.py)",
    )
    new_database = argparse.ArgumentParser(add_help=False)
    new_database.add_argument(
        "--new-database",
        action="store_true",
        help="start on an empty database even though the marker beside it "
        "(<database>.marker) says one existed there before",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, summary: str, details: str, *extra: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, parents=[config, *extra], help=summary, description=f"{summary}. {details}"
        )

    run = command(
        "run",
        "poll the feeds on schedule and deliver alerts until SIGTERM or Ctrl-C",
        "With no bot token in the environment, alerts are printed in the terminal. Serves "
        "/healthz and /metrics on health.host:health.port.",
        new_database,
    )
    run.add_argument(
        "--roles",
        default="poll,deliver,commands",
        help="what this instance does, comma-separated (poll, deliver, commands; default "
        "all); several instances on one PostgreSQL database can split them",
    )
    command(
        "once",
        "poll every feed once, deliver what was found, and exit",
        "Exit 0 when the cycle ran (even if some feeds failed; they are listed), 1 when it "
        "could not run, 2 on a bad config.",
        new_database,
    )
    classify = command(
        "classify",
        "match headlines against the watchlists: try a new figure or topic on any text",
        'Reads stdin line by line: a JSON object {"id", "title", "summary", "lang"} or plain '
        "text (a headline; its id is the line number). Writes one JSON line per input: "
        '{"id", "labels", "evidence"}.',
    )
    classify.add_argument(
        "--explain",
        action="store_true",
        help="print, per story, every rule that fired and every near-miss rejected and why",
    )
    command(
        "check-config",
        "validate the config file without starting anything",
        "Prints `ok: ...` and exits 0, or one line per problem (key path and line) and exits 2.",
    )
    latest = command(
        "latest",
        "print the newest matching stories from the database, newest first",
        "One line per story: local time, source, title, [labels], link, in the config's "
        "`language`; colours only in a terminal (NO_COLOR turns them off). Exit 1 when there "
        "is no database yet, 2 for an unknown label.",
    )
    latest.add_argument(
        "--label",
        metavar="X",
        help="only this figure or topic (its id, or its name in any language)",
    )
    latest.add_argument(
        "--limit",
        type=int,
        default=10,
        metavar="N",
        help="how many stories (default 10)",
    )
    command(
        "healthcheck",
        "ask the running bot's /healthz (the Docker health check)",
        "Reads health.host and health.port from the config; exits 0 when /healthz answers "
        "200, 1 otherwise (the reason on stderr).",
    )
    _feeds_parser(commands, config)
    return parser


def _feeds_parser(commands: Any, config: argparse.ArgumentParser) -> None:
    feeds = commands.add_parser(
        "feeds",
        help="list, add, remove, import (OPML) or export (OPML) the feeds of the config file",
        description="List, add, remove, import or export the feeds of the config file. Edits "
        "keep the file's comments and layout, and are checked as check-config checks the "
        "file: a refused edit prints why (exit 2) and leaves the file as it was.",
    )
    actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "list", parents=[config], help="print one line per feed: id, language, URL, name"
    )
    add = actions.add_parser("add", parents=[config], help="add a feed at the end of the list")
    add.add_argument("url", help="the feed's address (RSS, Atom or RDF), http(s)://...")
    add.add_argument("--id", help="its id (default: made from the URL's host, e.g. hespress)")
    add.add_argument("--name", help="the name shown in alerts")
    add.add_argument("--language", metavar="ar|fr|en", help="the language its stories are in")
    add.add_argument("--interval", type=int, metavar="SECONDS", help="seconds between polls")
    add.add_argument("--disabled", action="store_true", help="listed but not polled")
    remove = actions.add_parser("remove", parents=[config], help="remove the feed with this id")
    remove.add_argument("id")
    load = actions.add_parser(
        "import",
        parents=[config],
        help="add the feeds of an OPML file (a feed reader's export); those the config "
        "refuses (already listed, bad URL) are skipped and named",
    )
    load.add_argument("file", type=Path, metavar="FILE.opml", help="the OPML file, or - for stdin")
    export = actions.add_parser(
        "export", parents=[config], help="write the feeds as OPML (for a feed reader)"
    )
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return cmd_check_config(args.config, sys.stdout, sys.stderr)
    if args.command == "classify":
        return cmd_classify(args.config, sys.stdin, sys.stdout, sys.stderr, args.explain)
    if args.command == "once":
        return cmd_once(args.config, sys.stdout, sys.stderr, args.new_database)
    if args.command == "healthcheck":
        return cmd_healthcheck(args.config, sys.stdout, sys.stderr)
    if args.command == "feeds":
        return cmd_feeds(args, sys.stdout, sys.stderr)
    if args.command == "latest":
        return cmd_latest(args.config, args.label, args.limit, sys.stdout, sys.stderr)
    roles = frozenset(r.strip() for r in args.roles.split(",") if r.strip())
    unknown = sorted(roles - {"poll", "deliver", "commands"})
    if unknown or not roles:
        parser.error(
            f"--roles: unknown role {', '.join(unknown)!r}; use poll, deliver and/or commands"
            if unknown
            else "--roles: name at least one of poll, deliver, commands"
        )
    return cmd_run(args.config, sys.stderr, args.new_database, roles)


if __name__ == "__main__":
    sys.exit(main())
