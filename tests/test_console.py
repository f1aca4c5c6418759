"""The terminal as a platform (issue 18 point 4): alert blocks laid out for a terminal in the
config's `language`, right-to-left isolates around Arabic in a Latin block (and the reverse),
colours only when stdout is a terminal (never piped, never with NO_COLOR), and `bot.py latest`
run as a user runs it, against a database prepared on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.payloads import NewAlert
from alerts.render import AlertView
from core.subscriptions import Subscriptions
from models import Evidence, Match, Story
from platforms.base import PlatformContext
from platforms.console.platform import ConsolePlatform
from platforms.console.render import PLAIN, Style, render_console
from store import FeedUpdate, Store, Subscription
from tests.fake_telegram import real_labels
from tests.helpers import FakeClock, write_config

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Africa/Casablanca")  # UTC+0 from 15 February 2026 (Ramadan), UTC+1 before
RLM, LRI, RLI, PDI = "\u200f", "\u2066", "\u2067", "\u2069"
ESC = "\x1b["
LABELS = {info.id: info for info in real_labels()}

TRUMP_AI = Story(
    id="https://www.hespress.com/trump-ai-1.html",
    feed_id="hespress_ar",
    title="ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي",
    summary="وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا.",
    link="https://www.hespress.com/trump-ai-1.html",
    published=datetime(2026, 2, 15, 8, 30, tzinfo=UTC),
)
TRUMP_AI_MATCH = Match(
    ("trump", "ai"),
    (
        Evidence("trump", "ترامب", "ترمب", "title"),
        Evidence("trump", "ترامب", "ترامب", "summary"),
        Evidence("ai", "الذكاء الاصطناعي", "الذكاء الاصطناعي", "title"),
    ),
)
MUSK = Story(
    id="https://fr.hespress.com/musk-2.html",
    feed_id="hespress_fr",
    title="Elon Musk annonce une nouvelle fusée",
    summary="",
    link="https://fr.hespress.com/musk-2.html",
    published=datetime(2026, 2, 14, 18, 5, tzinfo=UTC),
)
MUSK_MATCH = Match(("musk",), (Evidence("musk", "Elon Musk", "Elon Musk", "title"),))
WEATHER = Story(  # matched nothing: never listed
    id="https://www.hespress.com/weather-3.html",
    feed_id="hespress_ar",
    title="أمطار رعدية مرتقبة",
    summary="",
    link="https://www.hespress.com/weather-3.html",
    published=datetime(2026, 2, 15, 9, 0, tzinfo=UTC),
)


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout does in an interactive shell."""

    def isatty(self) -> bool:
        return True


# --- colours: a terminal, a pipe, NO_COLOR -------------------------------------------------


def test_colour_only_for_a_terminal_without_no_color() -> None:
    assert Style.for_stream(Terminal(), {}).colour
    assert not Style.for_stream(io.StringIO(), {}).colour  # piped or redirected to a file
    assert not Style.for_stream(Terminal(), {"NO_COLOR": "1"}).colour
    assert Style.for_stream(Terminal(), {"NO_COLOR": ""}).colour  # no-color.org: empty = unset


async def test_console_platform_colours_a_terminal_and_not_a_pipe(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'mirsad.db'}")
    try:

        async def printed(stream: io.StringIO) -> str:
            context: PlatformContext[Any] = PlatformContext(
                config=None,
                token=None,
                store=store,
                subscriptions=Subscriptions(store, real_labels(), clock),
                sources={"hespress_ar": "هسبريس"},
                tz=TZ,
                clock=clock,
                stream=stream,
                language="en",
            )
            sender = ConsolePlatform(context).sender
            target = Subscription(
                1, "console", "stdout", "", None, ("trump", "ai"), True, None, "en"
            )
            await sender.send(target, sender.render(NewAlert(TRUMP_AI, TRUMP_AI_MATCH), "en"))
            return stream.getvalue()

        coloured = await printed(Terminal())
        assert f"{ESC}1;32mALERT   {ESC}0m" in coloured  # the heading, bold green
        assert f"{ESC}1;36mDonald Trump{ESC}0m" in coloured
        plain = await printed(io.StringIO())
        assert ESC not in plain and "\x1b" not in plain
        assert f"ALERT   {RLI}{TRUMP_AI.title}{PDI}\n" in plain
        monkeypatch.setenv("NO_COLOR", "1")
        assert "\x1b" not in await printed(Terminal())
    finally:
        await store.close()


# --- the block in each language ------------------------------------------------------------


def test_english_block_isolates_the_arabic_and_names_labels_in_english() -> None:
    text = render_console(AlertView(TRUMP_AI, TRUMP_AI_MATCH, "hespress_ar"), LABELS, TZ, lang="en")
    assert text.splitlines()[1:] == [
        f"ALERT   {RLI}{TRUMP_AI.title}{PDI}",
        "source  hespress_ar",
        "time    2026-02-15 08:30 Africa/Casablanca",
        "link    https://www.hespress.com/trump-ai-1.html",
        f"summary {RLI}{TRUMP_AI.summary}{PDI}",
        f"labels  Donald Trump: «{RLI}ترمب{PDI}» (title), «{RLI}ترامب{PDI}» (summary)",
        f"        Artificial Intelligence: «{RLI}الذكاء الاصطناعي{PDI}» (title)",
    ]


def test_arabic_block_reads_right_to_left_with_latin_pieces_isolated() -> None:
    text = render_console(AlertView(TRUMP_AI, TRUMP_AI_MATCH, "هسبريس"), LABELS, TZ, lang="ar")
    lines = text.splitlines()
    assert all(line.startswith(RLM) for line in lines[1:])  # an RTL paragraph each
    assert lines[1:] == [
        f"{RLM}تنبيه     {TRUMP_AI.title}",
        f"{RLM}المصدر    هسبريس",
        f"{RLM}الوقت     {LRI}2026-02-15 08:30 Africa/Casablanca{PDI}",
        f"{RLM}الرابط    {LRI}https://www.hespress.com/trump-ai-1.html{PDI}",
        f"{RLM}الملخص    {TRUMP_AI.summary}",
        f"{RLM}التصنيفات ترامب: «ترمب» (العنوان)، «ترامب» (الملخص)",
        f"{RLM}          الذكاء الاصطناعي: «الذكاء الاصطناعي» (العنوان)",
    ]


def test_french_block() -> None:
    text = render_console(
        AlertView(TRUMP_AI, TRUMP_AI_MATCH, "Hespress FR", edit=True), LABELS, TZ, lang="fr"
    )
    assert f"MISE À JOUR {RLI}{TRUMP_AI.title}{PDI}\n" in text
    assert "source      Hespress FR\n" in text and "heure       2026-02-15 08:30" in text
    assert (
        f"étiquettes  Donald Trump: «{RLI}ترمب{PDI}» (titre), «{RLI}ترامب{PDI}» (résumé)\n" in text
    )
    assert f"            Intelligence artificielle: «{RLI}الذكاء الاصطناعي{PDI}» (titre)\n" in text


def test_a_feed_cannot_reverse_the_lines_around_its_title() -> None:
    hostile = Story(
        id="x",
        feed_id="f",
        title="ترامب\u202e evil \u2066x",
        summary="a\nb",
        link="",
        published=TRUMP_AI.published,
    )
    text = render_console(
        AlertView(hostile, TRUMP_AI_MATCH, "f"), LABELS, TZ, lang="en", style=PLAIN
    )
    assert "\u202e" not in text and f"{LRI}x" not in text  # the feed's own controls are gone
    assert "link    -\n" in text


# --- bot.py latest -------------------------------------------------------------------------


async def _prepare(url: str) -> None:
    """A database as `bot.py run` leaves it: two matched stories, one unmatched."""
    store = await Store.open(url)
    now = datetime(2026, 2, 15, 10, 0, tzinfo=UTC)
    try:
        await store.sync_feeds(
            [
                ("hespress_ar", "http://127.0.0.1/ar", "ar", 60),
                ("hespress_fr", "http://127.0.0.1/fr", "fr", 60),
            ],
            now,
        )
        for feed, story, match in (
            ("hespress_fr", MUSK, MUSK_MATCH),
            ("hespress_ar", TRUMP_AI, TRUMP_AI_MATCH),
            ("hespress_ar", WEATHER, None),
        ):
            matched = {story.id: match} if match else {}
            await store.ingest(
                feed, [story], matched, FeedUpdate(next_poll_at=now), now, alert=False
            )
    finally:
        await store.close()


def _config(tmp_path: Path, language: str, database: str = "state/mirsad.db") -> Path:
    return write_config(
        tmp_path,
        f"""
        database: {database}
        timezone: Africa/Casablanca
        language: {language}
        feeds:
          - id: hespress_ar
            name: هسبريس
            url: http://127.0.0.1/ar
          - id: hespress_fr
            name: Hespress FR
            url: http://127.0.0.1/fr
        http:
          allow_private_addresses: true
        """,
    )


def latest(config: Path, *args: str, database_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if database_url:
        env["MIRSAD_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "latest", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.slow
async def test_latest_prints_the_newest_matching_stories(tmp_path: Path, database_url: str) -> None:
    await _prepare(database_url)
    config = _config(tmp_path, "en")

    shown = latest(config, database_url=database_url)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.splitlines() == [
        f"2026-02-15 08:30  {RLI}هسبريس{PDI}  {RLI}{TRUMP_AI.title}{PDI}  "
        "[Donald Trump, Artificial Intelligence]  https://www.hespress.com/trump-ai-1.html",
        "2026-02-14 19:05  Hespress FR  Elon Musk annonce une nouvelle fusée  [Elon Musk]  "
        "https://fr.hespress.com/musk-2.html",
    ]
    assert "\x1b" not in shown.stdout  # piped: plain text

    only_musk = latest(config, "--label", "musk", database_url=database_url)
    assert only_musk.returncode == 0 and only_musk.stdout.splitlines() == [
        shown.stdout.splitlines()[1]
    ]
    newest = latest(config, "--limit", "1", database_url=database_url)
    assert newest.stdout.splitlines() == shown.stdout.splitlines()[:1]

    french = latest(
        _config(tmp_path, "fr"), "--label", "Intelligence artificielle", database_url=database_url
    )
    assert french.returncode == 0
    assert french.stdout.splitlines() == [
        f"2026-02-15 08:30  {RLI}هسبريس{PDI}  {RLI}{TRUMP_AI.title}{PDI}  "
        "[Donald Trump, Intelligence artificielle]  https://www.hespress.com/trump-ai-1.html"
    ]
    arabic = latest(_config(tmp_path, "ar"), "--label", "ترامب", database_url=database_url)
    assert arabic.stdout == (
        f"{RLM}{LRI}2026-02-15 08:30{PDI}  هسبريس  {TRUMP_AI.title}  "
        f"[ترامب، الذكاء الاصطناعي]  {LRI}https://www.hespress.com/trump-ai-1.html{PDI}\n"
    )
    nothing = latest(_config(tmp_path, "fr"), "--label", "altman", database_url=database_url)
    assert (nothing.returncode, nothing.stdout) == (
        0,
        "Aucun article correspondant pour l'instant.\n",
    )


@pytest.mark.slow
async def test_latest_in_a_terminal_is_coloured(tmp_path: Path) -> None:
    database = tmp_path / "state" / "mirsad.db"
    database.parent.mkdir()
    await _prepare(f"sqlite+aiosqlite:///{database}")
    config = _config(tmp_path, "en")

    def under_a_terminal(env: dict[str, str]) -> str:
        main, child = pty.openpty()
        try:
            proc = subprocess.run(
                [sys.executable, str(ROOT / "bot.py"), "latest", "--config", str(config)],
                stdout=child,
                stderr=subprocess.PIPE,
                timeout=60,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            )
            assert proc.returncode == 0, proc.stderr
            return os.read(main, 65536).decode()
        finally:
            os.close(main)
            os.close(child)

    coloured = under_a_terminal({})
    assert f"{ESC}2m2026-02-15 08:30{ESC}0m" in coloured
    assert f"{ESC}4;34mhttps://www.hespress.com/trump-ai-1.html{ESC}0m" in coloured
    assert "\x1b" not in under_a_terminal({"NO_COLOR": "1"})


@pytest.mark.slow
def test_latest_refuses_an_unknown_label_and_a_missing_database(tmp_path: Path) -> None:
    config = _config(tmp_path, "en")
    unknown = latest(config, "--label", "nobody")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        "error: --label 'nobody' is not a figure or topic of this config: "
        "use altman, musk, trump, ai, ai_policy\n"
    )
    missing = latest(config)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (
        f"error: no database at {tmp_path / 'state' / 'mirsad.db'} yet: `python bot.py once` "
        "(or `run`) creates it and records the stories\n"
    )
    assert not (tmp_path / "state" / "mirsad.db").exists()  # looking did not create one
    unreachable = latest(
        config, database_url="postgresql+asyncpg://postgres:s3cret@127.0.0.1:9/mirsad"
    )
    assert unreachable.returncode == 1 and unreachable.stdout == ""
    assert unreachable.stderr.startswith("error: cannot open the database: ")
    assert unreachable.stderr.count("\n") == 1 and "s3cret" not in unreachable.stderr
    bad_limit = latest(config, "--limit", "0")
    assert bad_limit.returncode == 2 and bad_limit.stderr == (
        "error: --limit 0: give a number from 1 to 500\n"
    )
