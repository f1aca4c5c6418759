"""feeds/parse.py on real and crafted feed bytes (tests/data/feeds/, see its README).

Each captured or crafted feed has an expected-values file; the same files are also served
over loopback and fetched, so the whole intake (fetch -> parse) is checked on real bytes.
"""

from __future__ import annotations

import json
import re
import time
import tracemalloc
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.errors import FeedError, ParseError
from feeds.fetch import Fetcher, FetchSettings
from feeds.items import find_items
from feeds.parse import (
    MAX_SUMMARY,
    MAX_TITLE,
    ParsedFeed,
    canonical_link,
    clean_text,
    parse_feed,
    story_id,
)
from models import Story
from tests.feedserver import FeedServer, feed_server  # noqa: F401
from tests.giant_feeds import many_items, one_huge_title

DATA = Path(__file__).parent / "data" / "feeds"
CORPUS = DATA / "feedparser-corpus"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
RSS = {"content-type": "application/rss+xml"}
EXPECTED = sorted(DATA.glob("*.expected.json"))
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u00ad\u200b\ufeff]")


def parse(body: bytes | str, headers: dict[str, str] | None = None, **kw: Any) -> ParsedFeed:
    data = body.encode("utf-8") if isinstance(body, str) else body
    options: dict[str, Any] = {
        "feed_id": "test",
        "url": "https://feeds.example.com/feed.xml",
        "language": None,
        "now": NOW,
    }
    options.update(kw)
    return parse_feed(data, RSS if headers is None else headers, **options)


def rss(items: str, channel: str = "<title>t</title><link>https://e.com/</link>") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}{items}</channel></rss>'


def item(title: str = "t", link: str | None = "https://e.com/1", **fields: str) -> str:
    parts = [f"<title>{title}</title>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    parts += [f"<{k}>{v}</{k}>" for k, v in fields.items()]
    return f"<item>{''.join(parts)}</item>"


def assert_sane(feed: ParsedFeed) -> None:
    """What must hold for every story of every feed, however hostile."""
    ids = [s.id for s in feed.stories]
    assert len(ids) == len(set(ids))
    for story in feed.stories:
        assert story.id
        assert story.published.tzinfo is not None
        assert story.published.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert story.published <= NOW
        for text in (story.title, story.summary):
            assert not FORBIDDEN.search(text), text
            assert text == " ".join(text.split())
        assert len(story.title) <= MAX_TITLE and len(story.summary) <= MAX_SUMMARY
        assert story.link == "" or story.link.startswith(("http://", "https://"))
        assert story.image is None or story.image.startswith(("http://", "https://"))


def check_expected(feed: ParsedFeed, expected: dict[str, Any]) -> None:
    assert feed.title == expected["title"]
    assert len(feed.stories) == expected["count"]
    assert len(feed.warnings) == len(expected["warnings"]), feed.warnings
    for fragment in expected["warnings"]:
        assert any(fragment in w for w in feed.warnings), (fragment, feed.warnings)
    for want in expected["stories"]:
        story = feed.stories[want["index"]]
        for key, value in want.items():
            if key == "index":
                continue
            if key == "published":
                assert story.published.isoformat() == value
            elif key == "summary_starts":
                assert story.summary.startswith(value), story.summary
            elif key == "summary_ends":
                assert story.summary.endswith(value), story.summary
            else:
                assert getattr(story, key) == value, (key, getattr(story, key))
    assert_sane(feed)


def load_expected(expected_path: Path) -> dict[str, Any]:
    return dict(json.loads(expected_path.read_text("utf-8")))


def feed_file(expected_path: Path) -> Path:
    stem = expected_path.name.removesuffix(".expected.json")
    return next(p for p in DATA.glob(f"{stem}.*") if p != expected_path)


# -- every data file against its expected values -------------------------------------------


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_feed_gives_expected_values(expected_path: Path) -> None:
    expected = load_expected(expected_path)
    body = feed_file(expected_path).read_bytes()
    kwargs = {
        "language": expected["language"],
        "url": f"https://feeds.example.com/{expected_path.name}",
    }
    if "error" in expected:
        with pytest.raises(ParseError) as info:
            parse(body, expected["headers"], **kwargs)
        assert info.value.reason == expected["error"]
        return
    check_expected(parse(body, expected["headers"], **kwargs), expected)


@pytest.mark.parametrize("expected_path", EXPECTED, ids=lambda p: p.name.split(".")[0])
async def test_intake_over_loopback(feed_server: FeedServer, expected_path: Path) -> None:
    """Serve the file with its headers, fetch it, parse what the fetcher returned."""
    expected = load_expected(expected_path)
    path = f"/{feed_file(expected_path).name}"
    feed_server.set(
        path, feed_file(expected_path), content_type=None, headers=expected["headers"], gzip=True
    )
    async with Fetcher(FetchSettings(allow_private_addresses=True)) as fetcher:
        result = await fetcher.fetch(feed_server.url(path))
    args = {"feed_id": "test", "url": result.url, "language": expected["language"], "now": NOW}
    if "error" in expected:
        with pytest.raises(ParseError, match=re.escape(expected["error"])):
            parse_feed(result.body, result.headers, **args)
        return
    direct = parse(feed_file(expected_path).read_bytes(), expected["headers"], **args)
    assert parse_feed(result.body, result.headers, **args).stories == direct.stories


def test_wordpress_footer_gone_from_every_real_hespress_story() -> None:
    for name in ("hespress-ar-2026-02-11.xml", "hespress-ar-2026-02-15.xml"):
        feed = parse((DATA / name).read_bytes(), language="ar")
        for story in feed.stories:
            assert "appeared first on" not in story.summary
            assert "The post" not in story.summary
            assert "[…]" not in story.summary


# -- refusing what is not a feed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b" \r\n\t ", "empty body"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "not a feed: JSON"),
        (b"<html><body>Not found</body></html>", "not a feed: HTML page"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<!-- x --><html xmlns="'
            b'http://www.w3.org/1999/xhtml"><head><title>t</title></head></html>',
            "not a feed: HTML page",
        ),
        (b"just some text, no markup", "not a feed: no XML markup"),
        (
            b'<?xml version="1.0"?><config><a>1</a></config>',
            "not a feed: no RSS, RDF or Atom element found",
        ),
        (bytes(range(256)) * 40, "not a feed: "),
        (b"\x1f\x8b\x08\x00garbage-gzip", "not a feed: "),
    ],
    ids=["empty", "blank", "json", "html", "xhtml", "text", "other-xml", "binary", "gzip-left"],
)
def test_non_feeds_raise_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(body)
    assert info.value.reason.startswith(reason)
    assert isinstance(info.value, FeedError)


def test_valid_feed_without_items_is_not_an_error() -> None:
    feed = parse(rss(""))
    assert (feed.title, feed.stories, feed.warnings) == ("t", [], [])


# -- entity attacks ------------------------------------------------------------------------


def test_billion_laughs_is_not_expanded() -> None:
    feed = parse((DATA / "billion-laughs.xml").read_bytes())
    assert "lollol" not in feed.title + feed.stories[0].title + feed.stories[0].summary


def test_quadratic_blowup_is_not_expanded() -> None:
    # memory, not time, is the finding here (the time is in bench/bench_parse.py)
    tracemalloc.start()
    try:
        feed = parse((DATA / "quadratic-blowup.xml").read_bytes())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # feedparser alone: 1 GB of text, about 3 GB of memory
    assert "xxxxxxxxxx" not in feed.stories[0].summary


def test_external_file_entities_are_not_read() -> None:
    feed = parse((DATA / "xxe-external-entity.xml").read_bytes())
    story = feed.stories[0]
    assert (story.title, story.summary) == ("secret: &xxe;", "&xxe;")  # left as written
    assert "root:" not in story.title + story.summary


def test_external_http_entities_are_never_fetched(feed_server: FeedServer) -> None:
    feed_server.set("/evil.dtd", b'<!ENTITY leak "LEAKED">', content_type="application/xml-dtd")
    feed_server.set("/secret", b"SECRET", content_type="text/plain")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "{feed_server.url("/evil.dtd")}" [
  <!ENTITY % remote SYSTEM "{feed_server.url("/evil.dtd")}">
  %remote;
  <!ENTITY secret SYSTEM "{feed_server.url("/secret")}">
]>
<rss version="2.0"><channel><title>x</title>
<item><title>a &secret; &leak;</title><link>https://e.com/1</link></item></channel></rss>"""
    feed = parse(body)
    assert "SECRET" not in feed.stories[0].title and "LEAKED" not in feed.stories[0].title
    assert feed_server.hits("/evil.dtd") == 0
    assert feed_server.hits("/secret") == 0


@pytest.mark.parametrize(
    "prolog",
    [
        '<!ENTITY a "{big}">\n<!DOCTYPE rss>',  # outside any DOCTYPE: feedparser re-inserts it
        '<!DOCTYPE rss [<!ENTITY b "]>"><!ENTITY a "{big}">]>',  # "]>" inside a value
        "<!-- <x> --><!DOCTYPE rss [\n<!ENTITY a '{big}'>\n]>",  # comment looks like a root
    ],
    ids=["stray", "bracket-in-value", "comment-before"],
)
def test_entity_declarations_are_removed_wherever_they_hide(prolog: str) -> None:
    body = prolog.format(big="x" * 20_000) + rss(item(description="&a;" * 5_000)).split("?>", 1)[1]
    feed = parse(body)
    assert "xxxxxxxxxx" not in feed.stories[0].summary
    assert any("entity declarations removed" in w for w in feed.warnings)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE rss [<!ENTITY " + b"'\"" * 1_000_000,
        b"<!DOCTYPE rss [" + b"<!--" * 1_000_000,
        b'<!ENTITY "' * 500_000,
    ],
    ids=["quotes", "comments", "declarations"],
)
def test_hostile_prologs_cost_linear_time(body: bytes) -> None:
    # CPU time, which other jobs on the machine do not inflate: about 0.3 s here, while a
    # quadratic scan of these 2 MB would take hours
    started = time.process_time()
    with pytest.raises(ParseError):
        parse(body)
    assert time.process_time() - started < 5


# -- size ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_items_parse_in_reasonable_time() -> None:
    items = "".join(
        item(
            f"Story {i} &amp; more",
            f"https://e.com/{i}?utm_source=rss",
            description=f"&lt;p&gt;Summary {i}&lt;/p&gt;",
            guid=f"g{i}",
            pubDate="Wed, 11 Feb 2026 03:14:52 +0000",
        )
        for i in range(10_000)
    )
    started = time.process_time()
    feed = parse(rss(items), max_items=10_000)
    elapsed = time.process_time() - started
    assert len(feed.stories) == 10_000
    assert feed.stories[9_999] == Story(
        id="https://e.com/9999",
        feed_id="test",
        title="Story 9999 & more",
        summary="Summary 9999",
        link="https://e.com/9999",
        published=datetime(2026, 2, 11, 3, 14, 52, tzinfo=UTC),
    )
    assert elapsed < 15, elapsed  # CPU seconds: about 2 on the development machine


@pytest.mark.slow
def test_ten_thousand_items_sharing_one_guid_stay_distinct() -> None:
    items = "".join(
        item(f"Story {i}", None, guid="same", description=f"text {i}") for i in range(10_000)
    )
    feed = parse(rss(items), max_items=10_000)
    assert len({s.id for s in feed.stories}) == 10_000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("items", "size"), [(60_000, 4_000_000), (150_000, 9_900_000)], ids=["60k-4MB", "150k-9.9MB"]
)
def test_giant_feed_is_cut_to_the_newest_items_before_parsing(items: int, size: int) -> None:
    body = many_items(items, size, dated=False)
    assert len(body) < 10_000_000  # within the default http.max_bytes, as the attack was
    tracemalloc.start()
    try:
        feed = parse(body, max_items=500)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(feed.stories) == 500 and feed.dropped == items - 500
    assert [s.link for s in feed.stories[:2]] == ["http://g.co/0", "http://g.co/1"]  # newest first
    assert feed.stories[-1].link == "http://g.co/499"
    # the parse's own allocations stay a small multiple of the body (it held 600 MB before)
    assert peak < 3 * len(body), peak


def test_the_newest_items_are_kept_by_date_wherever_they_stand() -> None:
    feed = parse(many_items(1_000, 110_000, dated=True), max_items=10)
    assert feed.dropped == 990
    # item 0 (the newest) stands last in the body; items 1..9 first
    assert sorted(s.title for s in feed.stories) == [str(n) for n in range(10)]
    assert feed.stories[-1].title == "0"  # kept in feed order


def test_undated_or_partly_dated_items_keep_the_first_ones() -> None:
    items = "".join(item(f"s{i}", f"https://e.com/{i}") for i in range(30))
    items += item("dated", "https://e.com/d", pubDate="Wed, 11 Feb 2026 03:14:52 +0000")
    feed = parse(rss(items), max_items=5)
    assert [s.title for s in feed.stories] == ["s0", "s1", "s2", "s3", "s4"]
    assert feed.dropped == 26


@pytest.mark.slow
def test_one_giant_title_is_cut_before_parsing() -> None:
    body = one_huge_title(9_600_000)
    tracemalloc.start()
    try:
        feed = parse(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(feed.stories) == 1
    assert len(feed.stories[0].title) == MAX_TITLE
    assert feed.stories[0].link == "https://giant.example.com/1"
    assert any("text runs over" in w for w in feed.warnings)
    assert peak < 3 * len(body), peak  # 450 MB before the cut


@pytest.mark.parametrize(
    "text",
    [
        "<![CDATA[" + "ن" * 70_000 + "]]>",
        "<![CDATA[" + "x" * 70_000 + " <b>bold</b> " + "y" * 70_000 + "]]>",
        "&amp;" * 20_000,
        "a" * 65_535 + "&amp;" + "b" * 1_000,
    ],
    ids=["cdata-arabic", "cdata-markup", "entities", "entity-at-the-cut"],
)
def test_long_text_runs_are_cut_into_well_formed_xml(text: str) -> None:
    body = rss(item(text, "https://e.com/1") + item("next", "https://e.com/2"))
    feed = parse(body)
    assert [s.link for s in feed.stories] == ["https://e.com/1", "https://e.com/2"]
    assert not any("well-formed" in w for w in feed.warnings), feed.warnings
    assert 0 < len(feed.stories[0].title) <= MAX_TITLE
    assert "&amp" not in feed.stories[0].title


@pytest.mark.parametrize(
    "markup",
    [
        "<item><title>inside <![CDATA[ <item><title>fake</title></item> ]]></title>"
        "<link>https://e.com/0</link></item>",
        "<!-- <item><title>commented</title></item> --><item><title>real</title>"
        "<link>https://e.com/0</link></item>",
        "<rss:item><title>prefixed</title><link>https://e.com/0</link></rss:item>",
    ],
    ids=["item-in-cdata", "item-in-comment", "namespace-prefix"],
)
def test_item_scan_skips_cdata_and_comments(markup: str) -> None:
    found = find_items(rss(markup + item("two", "https://e.com/2")).encode())
    assert len(found.spans) == 2 and found.regular


@pytest.mark.parametrize(
    "tail",
    [
        "<item><title>unclosed</title>",  # the last item never closes
        "<![CDATA[ never closed",
        "</item></item>",
    ],
)
def test_irregular_markup_is_still_capped(tail: str) -> None:
    items = "".join(item(f"s{i}", f"https://e.com/{i}") for i in range(50))
    body = rss(items).replace("</channel></rss>", tail + "</channel></rss>")
    assert not find_items(body.encode()).regular
    feed = parse(body, max_items=10)
    assert len(feed.stories) <= 10
    assert feed.stories[0].title == "s0"


def test_huge_title_and_summary_are_cut() -> None:
    feed = parse(rss(item("ت" * 100_000, description="ن" * 1_000_000)))
    story = feed.stories[0]
    assert len(story.title) == MAX_TITLE and story.title.endswith("…")
    assert len(story.summary) == MAX_SUMMARY


# -- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codec", ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"]
)
def test_utf16_and_utf32_without_declaration(codec: str) -> None:
    text = (DATA / "annahar-utf16le-undeclared.xml").read_bytes().decode("utf-16-le")
    feed = parse(text.encode(codec), {"content-type": "text/xml"})
    assert [s.title for s in feed.stories][:1] == ["ترامب يلتقي ماسك في البيت الأبيض"]
    assert len(feed.stories) == 3


def test_utf16_declared_as_utf8_in_header_is_still_read() -> None:
    body = (DATA / "annahar-utf16le-undeclared.xml").read_bytes()
    feed = parse(body, {"content-type": "application/rss+xml; charset=utf-8"})
    assert feed.stories[0].title == "ترامب يلتقي ماسك في البيت الأبيض"


def test_windows_1256_declared_only_in_http_header() -> None:
    body = (DATA / "alquds-windows-1256-undeclared.xml").read_bytes()
    feed = parse(body, {"content-type": "application/rss+xml; charset=windows-1256"})
    assert feed.stories[0].title == "ترامب يلتقي ماسك في البيت الأبيض"
    assert not any("windows-1256" in w for w in feed.warnings)  # declared: no guessing


def test_windows_1256_falsely_declared_utf8() -> None:
    body = (DATA / "alquds-windows-1256-undeclared.xml").read_bytes()
    body = body.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="utf-8"?>')
    feed = parse(body)
    assert feed.stories[1].title == "الحكومة تناقش قانون الذكاء الاصطناعي"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (CORPUS / "illformed" / "chardet").glob("*.xml"))
)
def test_other_legacy_charsets_are_not_mistaken_for_windows_1256(name: str) -> None:
    feed = parse((CORPUS / "illformed" / "chardet" / name).read_bytes(), {})
    assert not any("windows-1256" in w for w in feed.warnings)


# -- feedparser's own hostile corpus -------------------------------------------------------


def corpus_headers(body: bytes) -> dict[str, str]:
    for codec in ("utf-8", "utf-16", "utf-32", "utf-16-be", "utf-32-be", "latin-1"):
        try:
            head = body[:3000].decode(codec)
        except UnicodeDecodeError:
            continue
        if "Description:" in head:
            break
    return {
        m.group(1).lower(): m.group(2).strip()
        for m in re.finditer(r"^Header:\s*([\w-]+):\s*(.*)$", head, re.M)
    }


@pytest.mark.parametrize(
    "path", sorted(CORPUS.rglob("*.xml")), ids=lambda p: str(p.relative_to(CORPUS))
)
def test_feedparser_corpus_never_crashes_or_hangs(path: Path) -> None:
    body = path.read_bytes()
    started = time.process_time()  # CPU time: a loaded machine does not make it fail
    try:
        feed = parse(body, corpus_headers(body))
    except ParseError as e:
        assert e.reason.startswith(("not a feed", "empty body"))
    else:
        assert_sane(feed)
    assert time.process_time() - started < 1


def test_corpus_scripts_never_reach_text() -> None:
    for path in sorted((CORPUS / "wellformed" / "sanitize").glob("*.xml")):
        body = path.read_bytes()
        for story in parse(body, corpus_headers(body)).stories:
            text = (story.title + " " + story.summary).lower()
            assert "<script" not in text and "alert(" not in text and "javascript:" not in text, (
                path
            )


# -- fields --------------------------------------------------------------------------------


def test_configured_language_wins_over_the_feed() -> None:
    body = rss(item(), channel="<title>t</title><language>en-US</language>")
    assert parse(body).stories[0].language == "en"
    assert parse(body, language="ar").stories[0].language == "ar"
    assert (
        parse(rss(item(), channel="<title>t</title><language>??</language>")).stories[0].language
        is None
    )


def test_future_date_is_clamped_and_old_date_kept() -> None:
    feed = parse(
        rss(
            item("a", "https://e.com/a", pubDate="Sat, 01 Jan 2039 00:00:00 +0000")
            + item("b", "https://e.com/b", pubDate="Mon, 01 Jan 2001 00:00:00 +0000")
        )
    )
    assert feed.stories[0].published == NOW
    assert feed.stories[1].published == datetime(2001, 1, 1, tzinfo=UTC)


def test_relative_links_resolve_against_the_feed_url() -> None:
    feed = parse(rss(item("a", "/news/1?utm_campaign=x")), url="https://site.example.ma/feed/")
    assert feed.stories[0].link == "https://site.example.ma/news/1"


def test_guid_permalink_stands_in_for_a_missing_link() -> None:
    feed = parse(rss(item("a", None, guid="https://e.com/from-guid")))
    assert feed.stories[0].link == "https://e.com/from-guid"
    assert feed.stories[0].id == "https://e.com/from-guid"


def test_guid_ids_are_scoped_by_feed() -> None:
    body = rss('<item><title>a</title><guid isPermaLink="false">42</guid></item>')
    assert parse(body, feed_id="one").stories[0].id == "guid:one:42"
    assert parse(body, feed_id="two").stories[0].id == "guid:two:42"


def test_item_whose_link_only_gains_tracking_keeps_its_id() -> None:
    before = parse(rss(item("a", "https://www.hespress.com/x-1699907.html")))
    after = parse(
        rss(item("a (updated)", "HTTPS://WWW.Hespress.com/x-1699907.html?utm_source=tw#c"))
    )
    assert before.stories[0].id == after.stories[0].id


def test_item_with_empty_everything_is_skipped() -> None:
    feed = parse(rss("<item><description>   </description></item>" + item()))
    assert len(feed.stories) == 1
    assert any("skipped: 1" in w for w in feed.warnings)


# -- canonical_link, story_id, clean_text --------------------------------------------------


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        (
            "https://www.aljazeera.net/news/2026/1/29/x?traffic_source=rss",
            "https://www.aljazeera.net/news/2026/1/29/x",
        ),
        (
            "https://e.com/a?id=7&utm_source=rss&utm_medium=feed&fbclid=abc&gclid=1",
            "https://e.com/a?id=7",
        ),
        (
            "https://www.bbc.com/arabic/articles/c1?at_medium=RSS&at_campaign=rss",
            "https://www.bbc.com/arabic/articles/c1",
        ),
        (
            "https://www.dw.com/ar/x/a-1?maca=ara-rss-ara-all-1127-rdf",
            "https://www.dw.com/ar/x/a-1",
        ),
        ("HTTPS://WWW.Example.COM:443/Path/Case#frag", "https://www.example.com/Path/Case"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        (
            "https://www.hespress.com/%d8%a3%d8%b3-1699907.html",
            "https://www.hespress.com/%D8%A3%D8%B3-1699907.html",
        ),
        (
            "https://www.hespress.com/أس-1699907.html",
            "https://www.hespress.com/%D8%A3%D8%B3-1699907.html",
        ),
        ("  https://e.com/a b  ", "https://e.com/a%20b"),
        ("https://[2001:DB8::1]/x", "https://[2001:db8::1]/x"),
        ("https://e.com/?q=%d8%a3&UTM_Source=x", "https://e.com/?q=%D8%A3"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("not a url", "not a url"),
        ("https://e.com:99999/x", "https://e.com:99999/x"),
    ],
)
def test_canonical_link(link: str, canonical: str) -> None:
    assert canonical_link(link) == canonical


@given(st.text(max_size=60))
def test_canonical_link_never_raises_and_is_stable(suffix: str) -> None:
    once = canonical_link("https://Example.com/" + suffix)
    assert canonical_link(once) == once


def test_story_id_prefers_link_then_guid_then_content() -> None:
    assert story_id("https://e.com/a?utm_source=x", "g", "t", "s") == "https://e.com/a"
    assert story_id("", " g-1 ", "t", "s") == "guid:g-1"
    by_text = story_id("", None, "<b>Title</b>", "Summary  text")
    assert by_text.startswith("sha256:") and len(by_text) == len("sha256:") + 32
    assert story_id("", None, "Title", "Summary text") == by_text  # markup and spacing aside
    assert story_id("", None, "Title", "Other text") != by_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<p>Hello <b>world</b></p><p>again</p>", "Hello world again"),
        ("a<br>b<br/>c", "a b c"),
        ("Tom &amp; Jerry &#8211; &quot;x&quot;", 'Tom & Jerry – "x"'),
        ("double &amp;quot;encoded&amp;quot;", 'double "encoded"'),
        ("<script>alert(1)</script>visible<style>p{color:red}</style>", "visible"),
        ("bidi \u202egnp.exe\u202c isolate \u2066x\u2069", "bidi gnp.exe isolate x"),
        ("ctl\x00\x07\x1b\x7f\x85\x9bend", "ctl end"),
        ("soft\u00adhy\u200bphen\ufeff", "softhyphen"),
        ("  many\n\n\tspaces\u00a0and\u2028lines  ", "many spaces and lines"),
        ("ماسك\u200c و\u200fترامب", "ماسك\u200c و\u200fترامب"),  # ZWNJ and RLM are kept
        ("a < b and c > d", "a < b and c > d"),
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@given(st.text())
def test_clean_text_output_is_plain_and_single_spaced(raw: str) -> None:
    out = clean_text(raw)
    assert not FORBIDDEN.search(out)
    assert out == " ".join(out.split())
    assert not any(unicodedata.category(c) == "Cs" for c in out)


def test_a_parse_does_not_look_for_libxml2_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # feedparser asked for libxml2's SAX driver on every parse: where it is not installed,
    # a failed import that searched sys.path each time (issue 19). Expat reads the feed.
    import builtins

    asked: list[str] = []
    real_import = builtins.__import__

    def recording_import(name: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", recording_import)
    feed = parse(rss("<item><title>t</title><link>https://e.com/1</link></item>"))
    monkeypatch.undo()
    assert [s.link for s in feed.stories] == ["https://e.com/1"]
    assert "drv_libxml2" not in asked
