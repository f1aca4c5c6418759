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

The memory is per process (a restart parses each feed in full once) and holds, per feed,
one 16-byte digest and one id per item.

Pure: runs in the poller's parse thread; the caller keeps the memory between polls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from feeds.errors import ParseError
from feeds.items import find_items, keep_newest
from feeds.parse import ParsedFeed, parse_feed


@dataclass(frozen=True)
class ItemMemory:
    """What a feed served last time: the body's digest and, per raw item, its story id."""

    body: bytes
    ids: Mapping[bytes, str] = field(default_factory=dict)  # empty: ids not reusable


@dataclass(frozen=True)
class Reading:
    """The result of reading a 200 answer."""

    unchanged: bool  # the very body of last time: nothing to parse, nothing new
    parsed: ParsedFeed  # the stories parsed: every item, or only the new ones
    listed: list[str]  # ids of items still listed but not parsed (known from last time)
    memory: ItemMemory  # to keep for the next poll (once the poll is stored)
    partial: bool  # only the new items were parsed


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


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
) -> Reading:
    """Parse `body`, reusing `memory` (the last reading of this feed) where it is safe.

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
    return Reading(False, result, listed, ItemMemory(body_digest, ids), partial=True)


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
    return Reading(False, parsed, [], ItemMemory(body_digest, ids), partial=False)
