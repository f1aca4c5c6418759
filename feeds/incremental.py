"""Parse only what is new: the raw items a feed served last time are not parsed again.

A changed feed usually changes by a few items: on the 1,000-feed farm, 5 of 50 (issue 19).
feedparser and the clean-up of every entry cost ~17 ms for the 50; the 45 known ones are
half the bot's CPU for nothing. So, per feed, the poller remembers the digest of each raw
`<item>`/`<entry>` it parsed and the story id it gave, and the next time

- a body identical to the last one is not parsed at all (like a 304);
- items whose raw bytes are unchanged keep their id without being parsed: only the new or
  edited items go to feedparser, in a body made of the feed's own head and tail around them;
- whenever the shortcut could give another answer than a full parse, the whole body is
  parsed (feedparser stays the parser of record): irregular markup, items without a link
  of their own (ids then depend on the other items: shared guids, content hashes), a new
  item whose link another item already has, anything that does not count up.

The poller keeps the memory in the process and, packed (`ItemMemory.pack`, ~1-2 KB for 50
items), in the feed's row, written with the poll's result: `bot.py once`, one process per
cycle as cron runs it, starts with it too (it parsed every changed feed whole without it). A
stored value that does not unpack (damaged, another format) counts as no memory: that poll
parses the feed whole. It holds, per feed, one 16-byte digest and one id per item.

A feed's first poll only records what the feed holds (it alerts nobody), so it needs the
ids alone: when every item plainly carries its own link (`feeds.items.item_links`), the
stories are recorded by id, without feedparser, clean-up or text (`Reading.ids_only`);
otherwise the body is parsed whole as usual. Such a story has an empty title and summary.

Pure: runs in the poller's parse thread; the caller keeps the memory between polls.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from feeds.errors import ParseError
from feeds.items import Items, find_items, item_links, keep_newest
from feeds.parse import (
    ParsedFeed,
    canonical_link,
    http_url,
    parse_feed,
    refuse_non_feeds,
    root_name,
)
from models import Story


@dataclass(frozen=True)
class ItemMemory:
    """What a feed served last time: the body's digest and, per raw item, its story id.

    Packed (issue 19, memory): the item digests as one bytes of 16-byte digests and the ids
    as one newline-joined str, ~3 KB for 50 items instead of ~12 KB of dict, bytes and str
    objects; `ids` unpacks them while a body is read."""

    body: bytes
    digests: bytes = b""  # 16 bytes per item; empty: ids not reusable
    joined_ids: str = ""  # the items' story ids in the same order, "\n"-joined

    @classmethod
    def of(cls, body: bytes, ids: Mapping[bytes, str]) -> ItemMemory:
        if any("\n" in i for i in ids.values()):
            ids = {}  # (no id holds a newline: links are escaped, guids whitespace-folded)
        return cls(body, b"".join(ids), "\n".join(ids.values()))

    @property
    def ids(self) -> dict[bytes, str]:
        if not self.digests:
            return {}
        return dict(zip(digests_of(self.digests), self.joined_ids.split("\n"), strict=True))

    def pack(self) -> bytes:
        """The memory as stored in the feed's row: a format byte, the body digest, the item
        count, the item digests, then the ids zlib-compressed (links share their prefixes:
        ~3 KB of ids for 50 items become ~1 KB). Past MAX_PACKED only the body digest is
        kept: an unchanged body still costs no parse, a changed one is parsed whole."""
        count = len(self.digests) // DIGEST
        head = _FORMAT + self.body + struct.pack(">I", count)
        if not count:
            return head
        bare = _FORMAT + self.body + struct.pack(">I", 0)
        try:
            text = self.joined_ids.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a broken feed: not storable
            return bare
        packed = head + self.digests + zlib.compress(text)
        return bare if len(packed) > MAX_PACKED else packed

    @classmethod
    def unpack(cls, data: bytes | None) -> ItemMemory | None:
        """The memory `pack` gave, or None for anything else (no value, a damaged or
        older one): never raises, since a bad stored value must only cost a full parse."""
        if not isinstance(data, bytes | bytearray | memoryview) or not data:
            return None  # (a driver may hand back a memoryview; anything else is not ours)
        data = bytes(data)
        fixed = len(_FORMAT) + DIGEST + 4
        if len(data) < fixed or not data.startswith(_FORMAT):
            return None
        body = data[len(_FORMAT) : len(_FORMAT) + DIGEST]
        (count,) = struct.unpack(">I", data[fixed - 4 : fixed])
        if not count:
            return cls(body) if len(data) == fixed else None
        digests = data[fixed : fixed + count * DIGEST]
        if len(digests) != count * DIGEST:
            return None
        try:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(data[fixed + count * DIGEST :], MAX_PACKED * 64)
            if inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
                return None  # cut short, or more than any honest memory holds
            joined = raw.decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            return None
        if joined.count("\n") != count - 1 or len(set(digests_of(digests))) != count:
            return None
        return cls(body, digests, joined)


@dataclass(frozen=True)
class Reading:
    """The result of reading a 200 answer."""

    unchanged: bool  # the very body of last time: nothing to parse, nothing new
    parsed: ParsedFeed  # the stories parsed: every item, or only the new ones
    listed: list[str]  # ids of items still listed but not parsed (known from last time)
    memory: ItemMemory  # to keep for the next poll (once the poll is stored)
    partial: bool  # only the new items were parsed
    ids_only: bool = False  # a first poll read for ids alone: stories without text


DIGEST = 16  # bytes of an item's (and the body's) digest
_FORMAT = b"\x01"  # the first byte of a packed memory: its layout (a new layout, a new byte)
MAX_PACKED = 64 * 1024  # bytes: a packed memory past this keeps the body digest alone


def digests_of(digests: bytes) -> list[bytes]:
    return [digests[n : n + DIGEST] for n in range(0, len(digests), DIGEST)]


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST).digest()


def read_feed(
    body: bytes,
    headers: Mapping[str, str],
    *,
    feed_id: str,
    url: str,
    language: str | None,
    now: datetime,
    max_items: int,
    memory: ItemMemory | None,
    first: bool = False,
) -> Reading:
    """Parse `body`, reusing `memory` (the last reading of this feed) where it is safe;
    `first` (the feed's first poll): read the ids alone where that is safe.

    Raises ParseError like `parse_feed` when the body holds no feed."""
    body_digest = _digest(body)
    if memory is not None and memory.body == body_digest:
        return Reading(True, ParsedFeed("", [], []), [], memory, partial=False)

    items = find_items(body)
    if not items.regular or not len(items):
        return _full(body, headers, feed_id, url, language, now, max_items, body_digest, None)
    keep = keep_newest(body, items, max_items)
    digests = [_digest(body[items.starts[n] : items.ends[n]]) for n in keep]
    dropped = len(items) - len(keep)
    if first and memory is None:
        ids_only = _ids_only(body, headers, items, keep, feed_id, url, language, now)
        if ids_only is not None:
            ids = dict(zip(digests, (s.id for s in ids_only.stories), strict=True))
            return Reading(
                False, ids_only, [], ItemMemory.of(body_digest, ids), partial=False, ids_only=True
            )
    known_ids = memory.ids if memory is not None else {}
    new = [n for n, d in zip(keep, digests, strict=True) if d not in known_ids]
    listed = [known_ids[d] for d in digests if d in known_ids]
    if not known_ids or len(set(listed)) != len(listed):
        return _full(body, headers, feed_id, url, language, now, max_items, body_digest, digests)

    if new:
        parts = [body[: items.starts[0]]]
        parts.extend(body[items.starts[n] : items.ends[n]] for n in new)
        parts.append(body[items.ends[-1] :])
        try:
            parsed = parse_feed(
                b"".join(parts),
                headers,
                feed_id=feed_id,
                url=url,
                language=language,
                now=now,
                max_items=max_items,
            )
        except ParseError:
            parsed = None
        if (
            parsed is None
            or not _ids_are_links(parsed, len(new))
            or not {s.id for s in parsed.stories}.isdisjoint(listed)  # a link listed twice
        ):
            return _full(
                body, headers, feed_id, url, language, now, max_items, body_digest, digests
            )
    else:
        parsed = ParsedFeed("", [], [])
    new_ids = iter(s.id for s in parsed.stories)  # one per new item, in document order
    ids = {d: known_ids[d] if d in known_ids else next(new_ids) for d in digests}
    result = ParsedFeed(parsed.title, parsed.stories, parsed.warnings, dropped=dropped)
    return Reading(False, result, listed, ItemMemory.of(body_digest, ids), partial=True)


def _ids_only(
    body: bytes,
    headers: Mapping[str, str],
    items: Items,
    keep: list[int],
    feed_id: str,
    url: str,
    language: str | None,
    now: datetime,
) -> ParsedFeed | None:
    """The kept items as stories with their ids and links alone, when each has a plain link
    of its own (the id a full parse gives it then); None when unsure."""
    if len(body) == 0 or body.isspace():
        return None
    refuse_non_feeds(body)  # the same ParseError the full parse would raise
    if root_name(body) not in (b"rss", b"rdf", b"feed"):
        return None
    links = item_links(body, items, keep)
    if links is None:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    base = urljoin(url, lowered.get("content-location", ""))
    stories: list[Story] = []
    for raw in links:
        link = canonical_link(http_url(raw, base))
        if not link:
            return None
        stories.append(Story(link, feed_id, "", "", link, now, language=language))
    if len({s.id for s in stories}) != len(stories):
        return None  # a link listed twice: its id depends on the titles
    dropped = len(items) - len(keep)
    return ParsedFeed("", stories, [], dropped=dropped, entries=len(stories))


def _ids_are_links(parsed: ParsedFeed, items: int) -> bool:
    """Each item gave one story whose id is its own link: ids that do not depend on the
    feed's other items (shared links and guids, content hashes do)."""
    return (
        parsed.entries == items
        and len(parsed.stories) == items
        and all(s.link and s.id == s.link for s in parsed.stories)
    )


def _full(
    body: bytes,
    headers: Mapping[str, str],
    feed_id: str,
    url: str,
    language: str | None,
    now: datetime,
    max_items: int,
    body_digest: bytes,
    digests: list[bytes] | None,
) -> Reading:
    parsed = parse_feed(
        body, headers, feed_id=feed_id, url=url, language=language, now=now, max_items=max_items
    )
    ids: dict[bytes, str] = {}
    if digests is not None and _ids_are_links(parsed, len(digests)):
        ids = dict(zip(digests, (s.id for s in parsed.stories), strict=True))
    return Reading(False, parsed, [], ItemMemory.of(body_digest, ids), partial=False)
