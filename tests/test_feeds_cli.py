"""`bot.py feeds list|add|remove|import|export`, run as an operator runs them: subprocesses of
bot.py on a config file in a temporary folder; what they print, their exit codes, and the file
afterwards (comments and layout kept; a refused edit leaves every byte as it was)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from feedlist.edit import new_id
from tests.helpers import ROOT, write_config

RT = "  - id: rt_arabic\n    name: آر تي عربي\n    url: https://arabic.rt.com/rss/\n    language: ar\n"


def feeds(*args: str, config: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "feeds", *args, "--config", str(config)],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """The config.yaml Mirsad ships (its comments, its 11 feeds), copied to a temporary folder."""
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_add_appends_the_feed_and_keeps_every_comment_and_line(shipped: Path) -> None:
    before = shipped.read_text(encoding="utf-8")
    result = feeds(
        "add",
        "https://www.alarabiya.net/.mrss/ar.xml",
        "--name",
        "العربية",
        "--language",
        "ar",
        "--interval",
        "300",
        config=shipped,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "added alarabiya: https://www.alarabiya.net/.mrss/ar.xml\n"
    # the new feed sits after the last one, above the comment that heads the next section
    new = (
        "  - id: alarabiya\n"
        "    name: العربية\n"
        "    url: https://www.alarabiya.net/.mrss/ar.xml\n"
        "    language: ar\n"
        "    interval: 300\n"
    )
    anchor = "    language: ar\n\n# HTTP behaviour of the feed fetcher.\n"
    expected = before.replace(
        anchor, "    language: ar\n" + new + anchor[len("    language: ar\n") :]
    )
    assert expected != before
    assert shipped.read_text(encoding="utf-8") == expected

    listed = feeds("list", config=shipped)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 12
    assert lines[0] == "hespress_ar  ar  https://www.hespress.com/feed  هسبريس"
    assert lines[-1] == "alarabiya  ar  https://www.alarabiya.net/.mrss/ar.xml  العربية  every 300s"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("ftp://example.com/feed",),
            "feeds[11].url: not an http(s) URL: 'ftp://example.com/feed'",
        ),
        (
            ("https://example.com/a feed", "--id", "x"),
            "feeds[11].url: the URL has a space in it ('https://example.com/a feed'): remove it, "
            "or write it as %20",
        ),
        (
            ("https://example.com/feed", "--language", "de"),
            "feeds[11].language: language 'de' is not one Mirsad reads: use ar, fr, en, or leave "
            "it out",
        ),
        (
            ("https://example.com/feed", "--id", "hespress_ar"),
            "feeds[11].id: duplicate feed id 'hespress_ar'",
        ),
        (
            ("https://arabic.rt.com/rss/", "--id", "rt"),
            "feeds[11].url: feed 'rt_arabic' has this URL already: list a feed once",
        ),
        (
            ("https://example.com/feed", "--id", "Big Feed"),
            "feeds[11].id: feed id 'Big Feed' must be lowercase letters, digits, - or _",
        ),
    ],
    ids=["scheme", "space", "language", "duplicate-id", "duplicate-url", "id-shape"],
)
def test_an_add_check_config_would_refuse_is_refused_and_the_file_left_as_it_was(
    shipped: Path, args: tuple[str, ...], error: str
) -> None:
    before = shipped.read_bytes()
    result = feeds("add", *args, config=shipped)
    assert result.returncode == 2
    assert result.stderr == f"error: {shipped}: {error}\n"
    assert result.stdout == ""
    assert shipped.read_bytes() == before


def test_remove_takes_the_feed_out_and_its_section_comment_stays(shipped: Path) -> None:
    before = shipped.read_text(encoding="utf-8")
    result = feeds("remove", "dw_arabic", config=shipped)  # the last feed, under which the
    assert result.returncode == 0, result.stderr  # next section's comment hangs
    assert result.stdout == "removed dw_arabic: https://rss.dw.com/rdf/rss-ar-all\n"
    dw = "  - id: dw_arabic\n    name: DW عربية\n    url: https://rss.dw.com/rdf/rss-ar-all\n    language: ar\n"
    assert dw in before
    assert shipped.read_text(encoding="utf-8") == before.replace(dw, "")

    unknown = feeds("remove", "dw_arabic", config=shipped)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(f"error: {shipped}: feeds: no feed has the id 'dw_arabic' (")


def test_removing_the_last_feed_is_refused_as_check_config_refuses_no_feed(tmp_path: Path) -> None:
    config = write_config(tmp_path, "feeds:\n  - id: only\n    url: https://example.com/feed\n")
    before = config.read_bytes()
    result = feeds("remove", "only", config=config)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {config}: feeds: no feed to poll: add one ({{id, url}}) or set enabled: true\n"
    )
    assert config.read_bytes() == before


def test_export_then_import_carries_every_feed_setting(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    source = write_config(
        tmp_path / "a",
        """\
        feeds:
          - id: hespress_ar
            name: هسبريس
            url: https://www.hespress.com/feed
            language: ar
          - id: slow
            name: "Le 360: l'info"
            url: https://fr.le360.ma/rss?a=1&b=2
            language: fr
            interval: 900
          - id: paused
            url: https://example.com/paused.xml
            enabled: false
        """,
    )
    opml = tmp_path / "feeds.opml"
    exported = feeds("export", "--output", str(opml), config=source)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == f"exported 3 feeds to {opml}\n"
    assert feeds("export", config=source).stdout.count("<outline ") == 3  # stdout by default

    target = write_config(
        tmp_path / "b",
        "feeds:\n  - id: bbc\n    url: https://feeds.bbci.co.uk/arabic/rss.xml\n",
    )
    imported = feeds("import", str(opml), config=target)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == [
        "added hespress_ar: https://www.hespress.com/feed",
        "added slow: https://fr.le360.ma/rss?a=1&b=2",
        "added paused: https://example.com/paused.xml",
    ]
    assert "imported 3 feeds, skipped 0" in imported.stderr
    got = load_settings(target, env={}).config.feeds
    want = load_settings(source, env={}).config.feeds
    assert got[0].id == "bbc" and got[1:] == want

    # once more: every feed is listed already, nothing is written
    before = target.read_bytes()
    again = feeds("import", str(opml), config=target)
    assert again.returncode == 0
    assert again.stdout.splitlines() == [
        "skipped https://www.hespress.com/feed: feed 'hespress_ar' has this URL already: list a feed once",
        "skipped https://fr.le360.ma/rss?a=1&b=2: feed 'slow' has this URL already: list a feed once",
        "skipped https://example.com/paused.xml: feed 'paused' has this URL already: list a feed once",
    ]
    assert target.read_bytes() == before


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>From a feed reader</title></head>
  <body>
    <outline text="Maroc" title="Maroc">
      <outline type="rss" text="Le360" xmlUrl="https://ar.le360.ma/arc/outboundfeeds/rss/?outputType=xml" language="ar-MA"/>
      <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
    </outline>
    <outline type="rss" text="Spiegel" xmlurl="https://www.spiegel.de/schlagzeilen/index.rss" language="de"/>
    <outline type="rss" text="RT" title="RT Arabic" xmlUrl="https://arabic.rt.com/rss/"/>
    <outline type="rss" text="RT again" xmlUrl="https://arabic.rt.com/rss/"/>
    <outline text="a folder with no feed"/>
  </body>
</opml>
"""


def test_import_adds_what_the_config_accepts_and_names_what_it_skipped(shipped: Path) -> None:
    text = shipped.read_text(encoding="utf-8")
    assert RT in text
    shipped.write_text(text.replace(RT, ""), encoding="utf-8")  # RT Arabic comes from the OPML
    source = shipped.parent / "reader.opml"
    source.write_bytes(OPML)
    result = feeds("import", str(source), config=shipped)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "added le360_ar: https://ar.le360.ma/arc/outboundfeeds/rss/?outputType=xml",
        "added rt_arabic: https://arabic.rt.com/rss/",
        "skipped javascript:alert(1): not an http(s) URL: 'javascript:alert(1)'",
        "skipped https://www.spiegel.de/schlagzeilen/index.rss: language 'de' is not one Mirsad "
        "reads: use ar, fr, en, or leave it out",
        "skipped https://arabic.rt.com/rss/: feed 'rt_arabic' has this URL already: list a feed once",
    ]
    assert "imported 2 feeds, skipped 3" in result.stderr
    added = load_settings(shipped, env={}).config.feeds[-2:]
    assert [(f.id, f.name, f.language) for f in added] == [
        ("le360_ar", "Le360", "ar"),
        ("rt_arabic", "RT Arabic", None),  # the OPML gave no language
    ]

    # not OPML at all: one line, exit 2, nothing written
    before = shipped.read_bytes()
    html = feeds("import", "-", config=shipped, stdin=b"<html><body>hi</body></html>")
    assert html.returncode == 2
    assert html.stderr == "error: -: not OPML: the document is <html>, not <opml>\n"
    assert shipped.read_bytes() == before


def test_check_config_refuses_one_url_listed_twice(make_config) -> None:  # type: ignore[no-untyped-def]
    path = make_config(
        "feeds:\n  - id: a\n    url: https://example.com/f\n  - id: b\n    url: https://example.com/f\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert [str(p) for p in info.value.problems] == [
        "feeds[1].url (line 5): feed 'a' has this URL already: list a feed once"
    ]


@pytest.mark.parametrize(
    ("url", "taken", "expected"),
    [
        ("https://www.hespress.com/feed", set(), "hespress"),
        ("https://fr.hespress.com/feed", set(), "hespress_fr"),
        ("https://feeds.bbci.co.uk/arabic/rss.xml", set(), "bbci"),
        ("https://arabic.rt.com/rss/", {"rt_arabic"}, "rt_arabic_2"),
        ("http://127.0.0.1:8000/x.xml", {"feed"}, "feed_2"),
        ("https://xn--mgbh0fb.example/rss", set(), "xn--mgbh0fb"),
    ],
)
def test_an_id_is_made_from_the_host_when_none_is_given(
    url: str, taken: set[str], expected: str
) -> None:
    assert new_id(url, taken) == expected
