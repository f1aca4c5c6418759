"""Parse only what is new (issue 19 point 1): the shortcut gives the full parse's answer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text as sql

import feeds.incremental as incremental
from config import load_settings
from feeds.fetch import Fetcher, FetchSettings
from feeds.incremental import ItemMemory, read_feed
from feeds.parse import parse_feed
from feeds.poll import Poller
from filters.watchlist import Matcher
from store import Store
from tests.feedserver import FeedServer
from tests.helpers import ROOT, FakeClock

NOW = datetime(2026, 2, 11, 7, 0, tzinfo=UTC)


def item(n: int, *, link: str | None = None, title: str | None = None, guid: str = "") -> str:
    link = f"https://e.com/{n}" if link is None else link
    parts = f"<title>{title or f'story {n}'}</title><description>text {n}</description>"
    if link:
        parts += f"<link>{link}</link>"
    if guid:
        parts += f"<guid>{guid}</guid>"
    return f"<item>{parts}</item>"


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://e.com/</link>{''.join(items)}</channel></rss>"
    ).encode()


def read(body: bytes, memory: ItemMemory | None) -> incremental.Reading:
    return read_feed(
        body,
        {},
        feed_id="f",
        url="https://e.com/feed",
        language="ar",
        now=NOW,
        max_items=500,
        memory=memory,
    )


def full_ids(body: bytes) -> list[str]:
    parsed = parse_feed(body, {}, feed_id="f", url="https://e.com/feed", language="ar", now=NOW)
    return [s.id for s in parsed.stories]


@pytest.fixture
def parsed_bodies(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies handed to feedparser's side (parse_feed), to see what was parsed."""
    seen: list[bytes] = []
    real = incremental.parse_feed

    def spy(body: bytes, *args: Any, **kw: Any) -> Any:
        seen.append(body)
        return real(body, *args, **kw)

    monkeypatch.setattr(incremental, "parse_feed", spy)
    return seen


def test_only_new_items_are_parsed_and_known_ones_keep_their_ids(
    parsed_bodies: list[bytes],
) -> None:
    first = read(rss(*(item(n) for n in range(1, 51))), None)
    assert len(first.parsed.stories) == 50 and not first.partial
    body = rss(*(item(n) for n in range(51, 56)), *(item(n) for n in range(1, 46)))
    second = read(body, first.memory)
    assert second.partial
    assert [s.id for s in second.parsed.stories] == [f"https://e.com/{n}" for n in range(51, 56)]
    assert sorted(second.listed) == sorted(f"https://e.com/{n}" for n in range(1, 46))
    assert parsed_bodies[-1].count(b"<item>") == 5  # feedparser saw the 5 new items only
    # the same ids a full parse gives, for every item
    assert sorted([*second.listed, *(s.id for s in second.parsed.stories)]) == sorted(
        full_ids(body)
    )


def test_an_identical_body_is_not_parsed_at_all(parsed_bodies: list[bytes]) -> None:
    body = rss(item(1), item(2))
    first = read(body, None)
    again = read(body, first.memory)
    assert again.unchanged and again.parsed.stories == []
    assert len(parsed_bodies) == 1


def test_an_edited_item_is_parsed_again(parsed_bodies: list[bytes]) -> None:
    first = read(rss(item(1), item(2)), None)
    edited = read(rss(item(1, title="story 1, updated"), item(2)), first.memory)
    assert [s.title for s in edited.parsed.stories] == ["story 1, updated"]
    assert edited.listed == ["https://e.com/2"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # a new item with the link of a listed one: ids then come from the guids
        (
            [item(1, guid="a"), item(2, guid="b")],
            [item(3, link="https://e.com/1", guid="c"), item(1, guid="a"), item(2, guid="b")],
        ),
        # items without links: ids depend on the other items (content hashes, guids)
        (
            [item(1, link=""), item(2, link="")],
            [item(3, link=""), item(1, link=""), item(2, link="")],
        ),
        (
            [item(1, link="", guid="g"), item(2, link="", guid="h")],
            [item(3, link="", guid="g"), item(1, link="", guid="g"), item(2, link="", guid="h")],
        ),
    ],
    ids=["shared-link", "no-links", "shared-guid"],
)
def test_when_ids_depend_on_other_items_the_whole_body_is_parsed(
    before: list[str], after: list[str]
) -> None:
    first = read(rss(*before), None)
    body = rss(*after)
    second = read(body, first.memory)
    assert not second.partial and second.listed == []
    assert [s.id for s in second.parsed.stories] == full_ids(body)


def test_irregular_markup_is_parsed_whole() -> None:
    first = read(rss(item(1), item(2)), None)
    body = rss(item(3), item(1), item(2)).replace(b"</channel>", b"<item><title>open</channel>")
    second = read(body, first.memory)
    assert not second.partial


async def test_poller_alerts_only_the_new_items_and_keeps_the_listed_ones_seen(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    feed_server.set("/f.xml", rss(*(item(n) for n in range(1, 11))))
    await store.sync_feeds([("f", feed_server.url("/f.xml"), "ar", 60)], clock.now)
    matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        poller = Poller(store, fetcher, matcher, clock)
        (first,) = await poller.poll(await store.feeds())
        clock.advance(60)
        feed_server.set("/f.xml", rss(item(11), item(12), *(item(n) for n in range(1, 11))))
        (second,) = await poller.poll(await store.feeds())
        clock.advance(60)
        (third,) = await poller.poll(await store.feeds())  # the same body again (no ETag)
    assert (first.new, second.new, third.status) == (10, 2, "not_modified")
    async with store.engine.connect() as conn:
        seen = dict((await conn.execute(sql("SELECT id, seen_at FROM stories"))).all())
    assert len(seen) == 12
    # every listed story was marked seen at the second poll, parsed or not (pruning relies on it)
    assert len(set(seen.values())) == 1


# -- a feed's first poll reads the ids alone ---------------------------------------------------

FEEDS = ROOT / "tests" / "data" / "feeds"


def first_read(body: bytes) -> incremental.Reading:
    return read_feed(
        body,
        {},
        feed_id="f",
        url="https://e.com/feed",
        language="ar",
        now=NOW,
        max_items=500,
        memory=None,
        first=True,
    )


def test_a_first_read_of_a_real_feed_gives_the_full_parse_ids_without_feedparser(
    parsed_bodies: list[bytes],
) -> None:
    body = (FEEDS / "hespress-ar-2026-02-15.xml").read_bytes()
    reading = first_read(body)
    assert reading.ids_only and parsed_bodies == []
    assert [s.id for s in reading.parsed.stories] == full_ids(body)
    assert all(s.title == s.summary == "" for s in reading.parsed.stories)
    # and the next poll of the same items parses nothing but the new one
    later = body.replace(b"<item>", item(99).encode() + b"<item>", 1)
    second = read(later, reading.memory)
    assert second.partial and [s.id for s in second.parsed.stories] == ["https://e.com/99"]
    assert len(parsed_bodies) == 1


def test_every_feed_in_the_test_data_gets_the_full_parse_ids_or_a_full_parse() -> None:
    """The ids read alone must be the full parse's, item for item, or the next poll of
    that feed would take its whole list as new (and alert it)."""
    cheap = 0
    for path in sorted(FEEDS.rglob("*.xml")):
        body = path.read_bytes()
        try:
            reading = first_read(body)
        except incremental.ParseError:
            with pytest.raises(incremental.ParseError):
                full_ids(body)
            continue
        if reading.ids_only:
            cheap += 1
            assert [s.id for s in reading.parsed.stories] == full_ids(body), path
    assert cheap >= 10  # the plain feeds (Hespress, Al Jazeera, DW's RDF...) take the shortcut


@pytest.mark.parametrize(
    ("link", "cheap"),
    [
        ("https://E.com/a/../b?utm_source=x&amp;id=3#top", True),  # canonical form, &amp;
        ("<![CDATA[ https://e.com/cdata ]]>", True),
        ("<![CDATA[https://e.com/c?a=1&amp;b=2]]>", False),  # "&amp;" as written in CDATA
        ("  https://e.com/spaced\n ", True),
        ("https://e.com/%d8%a3", True),
        ("/relative", False),  # resolved against a base: parsed
        ("https://e.com/&#1575;", False),  # an entity other than &amp;
        ("https://e.com/ش", False),  # not ASCII
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_a_link_is_read_alone_only_when_plainly_written(link: str, cheap: bool) -> None:
    body = rss(item(1, link=link), item(2))
    reading = first_read(body)
    assert reading.ids_only is cheap
    assert [s.id for s in reading.parsed.stories] == full_ids(body)


@pytest.mark.parametrize(
    "extra",
    [
        '<atom:link href="https://e.com/other" rel="alternate"/>',  # a second link
        "<feedburner:origLink>https://e.com/orig</feedburner:origLink>",
        "<description><![CDATA[<link>https://e.com/x</link>]]></description>",
    ],
)
def test_an_item_with_more_than_one_link_is_parsed_whole(extra: str) -> None:
    body = rss(item(1).replace("</item>", f"{extra}</item>"), item(2))
    reading = first_read(body)
    assert not reading.ids_only
    assert [s.id for s in reading.parsed.stories] == full_ids(body)


def test_shared_links_xml_base_and_non_feeds_are_not_read_alone() -> None:
    shared = rss(item(1, link="https://e.com/home"), item(2, link="https://e.com/home"))
    assert not first_read(shared).ids_only
    assert [s.id for s in first_read(shared).parsed.stories] == full_ids(shared)
    based = rss(item(1), item(2)).replace(b"<rss ", b'<rss xml:base="https://b.org/" ')
    assert not first_read(based).ids_only
    page = b"<html><body><item><link>https://e.com/1</link></item></body></html>"
    with pytest.raises(incremental.ParseError, match="HTML page"):
        first_read(page)


def test_an_atom_entry_with_one_alternate_link_is_read_alone() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>t</title><id>urn:f</id>"
        b'<entry><title>a</title><id>urn:a</id><link href="https://e.com/a?x=1&amp;y=2"/></entry>'
        b"<entry><title>b</title><id>urn:b</id><link rel='alternate' href='https://e.com/b'/>"
        b"</entry></feed>"
    )
    reading = first_read(body)
    assert reading.ids_only
    assert [s.id for s in reading.parsed.stories] == full_ids(body)
    edited = body.replace(b"<link href", b'<link rel="enclosure" href', 1)
    assert not first_read(edited).ids_only


async def test_a_first_poll_records_ids_and_the_next_alerts_only_what_is_new(
    store: Store, clock: FakeClock, feed_server: FeedServer
) -> None:
    """Through the poller: recorded by id, nothing alerted; a restart without memory (a
    database from before the memory was stored) parses the whole feed and neither takes the
    recorded stories as new nor as corrections."""
    trump = "ترامب يلتقي بوتين"
    feed_server.set("/f.xml", rss(*(item(n, title=trump if n == 3 else None) for n in range(10))))
    await store.sync_feeds([("f", feed_server.url("/f.xml"), "ar", 60)], clock.now)
    matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
    async with Fetcher(FetchSettings(allow_private_addresses=True, total_timeout=5)) as fetcher:
        (first,) = await Poller(store, fetcher, matcher, clock).poll(await store.feeds())
        clock.advance(60)
        feed_server.set(
            "/f.xml",
            rss(
                item(10, title=trump + " مجددا"),
                *(item(n, title=trump if n == 3 else None) for n in range(10)),
            ),
        )
        async with store.engine.begin() as conn:
            await conn.execute(sql("UPDATE feeds SET item_memory = NULL"))
        restarted = Poller(store, fetcher, matcher, clock)  # no memory of the first poll
        (second,) = await restarted.poll(await store.feeds())
    assert (first.status, first.new, first.queued, first.first_poll) == ("ok", 10, 0, True)
    assert (second.new, second.edits) == (1, 0)
    async with store.engine.connect() as conn:
        rows = dict((await conn.execute(sql("SELECT id, title FROM stories"))).all())
    assert rows["https://e.com/3"] == "" and rows["https://e.com/10"] == trump + " مجددا"


# -- the memory is stored with the feed: one process per cycle (`bot.py once`) --------------


def test_a_packed_memory_unpacks_to_the_same_memory() -> None:
    body = rss(*(item(n) for n in range(1, 51)))
    memory = read(body, None).memory
    packed = memory.pack()
    assert ItemMemory.unpack(packed) == memory
    assert len(packed) < 2048  # 50 items: 16 bytes of digest each, their links compressed
    bare = ItemMemory(memory.body)  # ids not reusable (items without links of their own)
    assert ItemMemory.unpack(bare.pack()) == bare
    # what cannot be stored keeps the body digest alone: an unchanged body still costs nothing
    odd = ItemMemory(memory.body, memory.digests[:16], "https://e.com/\ud800")
    assert ItemMemory.unpack(odd.pack()) == bare
    links = {  # 500 long links that do not compress (past MAX_PACKED)
        hashlib.blake2b(b"%d" % n, digest_size=16).digest(): "https://e.com/"
        + "".join(hashlib.sha512(b"%d-%d" % (n, k)).hexdigest() for k in range(3))
        for n in range(500)
    }
    huge = ItemMemory.of(memory.body, links)
    assert ItemMemory.unpack(huge.pack()) == bare


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[:-1],  # cut short
        lambda b: b"\x02" + b[1:],  # another layout
        lambda b: b[:30],
        lambda b: b + b"x",
        lambda b: b[:17] + b"\x00\x00\x00\x07" + b[21:],  # a wrong item count
        lambda b: b[:-20] + bytes(20),  # a damaged compressed part
        lambda b: "not bytes",
    ],
    ids=["empty", "cut", "layout", "head-only", "trailing", "count", "zlib", "type"],
)
def test_a_damaged_stored_memory_is_no_memory(damage: Any) -> None:
    packed = read(rss(item(1), item(2), item(3)), None).memory.pack()
    assert ItemMemory.unpack(damage(packed)) is None


async def poll_once(database_url: str, clock: FakeClock, feed_url: str) -> Any:
    """One `bot.py once`: a store and a poller of its own, gone when it is done."""
    store = await Store.open(database_url)
    try:
        await store.sync_feeds([("f", feed_url, "ar", 60)], clock.now)
        matcher = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists)
        settings = FetchSettings(allow_private_addresses=True, total_timeout=5)
        async with Fetcher(settings) as fetcher:
            (outcome,) = await Poller(store, fetcher, matcher, clock).poll_all()
        return outcome
    finally:
        await store.close()


async def test_a_new_process_parses_only_the_new_items(
    database_url: str, clock: FakeClock, feed_server: FeedServer, parsed_bodies: list[bytes]
) -> None:
    """Issue 19: each cycle of `bot.py once` is a new process; the item memory stored with
    the feed makes it parse a changed feed's new items only, as the long-running bot does."""
    url = feed_server.url("/f.xml")
    feed_server.set("/f.xml", rss(*(item(n) for n in range(1, 51))))
    first = await poll_once(database_url, clock, url)
    assert (first.status, first.new, first.first_poll) == ("ok", 50, True)
    assert parsed_bodies == []  # a first poll reads the ids alone

    clock.advance(60)
    feed_server.set(
        "/f.xml", rss(*(item(n) for n in range(51, 56)), *(item(n) for n in range(1, 46)))
    )
    second = await poll_once(database_url, clock, url)
    assert (second.status, second.new) == ("ok", 5)
    assert [b.count(b"<item>") for b in parsed_bodies] == [5]  # the known 45 were not parsed

    clock.advance(60)
    feed_server.set(
        "/f.xml", rss(item(56), *(item(n) for n in range(51, 56)), *(item(n) for n in range(1, 45)))
    )
    third = await poll_once(database_url, clock, url)
    assert (third.status, third.new) == ("ok", 1)
    assert [b.count(b"<item>") for b in parsed_bodies] == [5, 1]

    clock.advance(60)  # the very same body again (the server sends no ETag): nothing parsed
    fourth = await poll_once(database_url, clock, url)
    assert fourth.status == "not_modified" and len(parsed_bodies) == 2

    store = await Store.open(database_url)
    try:
        async with store.engine.connect() as conn:
            stored = (await conn.execute(sql("SELECT item_memory FROM feeds"))).scalar_one()
            count = (await conn.execute(sql("SELECT count(*) FROM stories"))).scalar_one()
    finally:
        await store.close()
    assert count == 56
    assert 0 < len(stored) < 2048  # a few KB per feed at most


async def test_a_bad_stored_memory_costs_a_full_parse_not_the_poll(
    database_url: str, clock: FakeClock, feed_server: FeedServer, parsed_bodies: list[bytes]
) -> None:
    url = feed_server.url("/f.xml")
    feed_server.set("/f.xml", rss(*(item(n) for n in range(1, 11))))
    await poll_once(database_url, clock, url)
    store = await Store.open(database_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(sql("UPDATE feeds SET item_memory = :v"), {"v": b"\x01" + bytes(40)})
    finally:
        await store.close()
    clock.advance(60)
    feed_server.set("/f.xml", rss(item(11), *(item(n) for n in range(1, 11))))
    second = await poll_once(database_url, clock, url)
    assert (second.status, second.new, second.edits) == ("ok", 1, 0)
    assert [b.count(b"<item>") for b in parsed_bodies] == [11]  # parsed whole, once
    # and that poll stored a good memory again: the next process parses only what is new
    clock.advance(60)
    feed_server.set("/f.xml", rss(item(12), item(11), *(item(n) for n in range(1, 11))))
    third = await poll_once(database_url, clock, url)
    assert (third.status, third.new) == ("ok", 1)
    assert [b.count(b"<item>") for b in parsed_bodies] == [11, 1]
