"""A cheap pass over a feed's raw XML, before feedparser: where the items are, which to keep.

feedparser builds a dictionary per entry in pure Python: 60,000 items in a 4.5 MB body cost
7 s of CPU and 150 MB, 150,000 items far more, and one 9.6 MB title 450 MB (issue 17 item 2).
No honest feed needs that, so before feedparser sees a body this module

- finds the top-level items (`<item>` RSS/RDF, `<entry>` Atom, any namespace prefix) with a
  linear scan that skips CDATA sections and comments;
- keeps at most `max_items` of them: the newest by their own date when every item has one,
  else the first ones (feeds list newest first); the rest of the document stays as it is;
- cuts any run of text longer than `MAX_TEXT_RUN` bytes (a title is cut at 1,000 characters
  and a summary at 5,000 later anyway), keeping the CDATA or comment closer behind it.

So feedparser's input is at most `max_items` items of bounded text, whatever arrives: the
memory of a parse is bounded in proportion to `http.max_bytes` (the body and one reduced
copy of it) plus a fixed amount per kept item (RELIABILITY.md has the measured figures).

Pure: bytes in, bytes out; no clock, no I/O.
"""

from __future__ import annotations

import contextlib
import heapq
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_TEXT_RUN = 64 * 1024  # bytes of text between two tags that are worth parsing

# What the scan stops at: a CDATA section, a comment, or an item/entry tag (open or close).
_MARK = re.compile(rb"<(?:!\[CDATA\[|!--|(/?)(?:[A-Za-z_][\w.-]*:)?(item|entry)(?=[\s>/]))")
_DATE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(?:pubDate|published|updated|date|issued|modified)(?:\s[^>]*)?>"
    rb"\s*(?:<!\[CDATA\[)?([^<\]]{6,80})"
)
# A run of text longer than MAX_TEXT_RUN, matched only from its start (the lookbehind), so
# the scan stays linear however many shorter runs there are.
_LONG_RUN = re.compile(rb"(?<![^<>])[^<>]{%d,}" % (MAX_TEXT_RUN + 1))


@dataclass(frozen=True)
class Items:
    """Where the items of a body are, in document order (8-byte arrays, not tuples: a
    150,000-item body must not cost 17 MB of Python objects just to be measured)."""

    starts: array[int]
    ends: array[int]
    regular: bool  # False when the markup was irregular (nesting, an unclosed item...)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def spans(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))


@dataclass(frozen=True)
class Reduced:
    body: bytes
    found: int  # items in the body as it came
    dropped: int  # items left out because of the cap
    cut_runs: int  # text runs cut to MAX_TEXT_RUN


def find_items(body: bytes) -> Items:
    """The top-level items/entries of `body`. Never raises; linear in the body's length.

    Irregular markup is read the forgiving way (a nested item belongs to its parent, a close
    without an open is ignored, an item still open at the end ends there) and flagged.
    """
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    regular = True
    start = -1  # start of the item being read, -1 outside any
    depth = 0
    i = 0
    while (mark := _MARK.search(body, i)) is not None:
        at = mark.start()
        if mark.group(2) is None:  # CDATA or comment: skip it whole
            closer = b"]]>" if body.startswith(b"<![CDATA[", at) else b"-->"
            end = body.find(closer, mark.end())
            if end == -1:
                regular = False
                break  # runs to the end: no item can start inside it
            i = end + len(closer)
            continue
        tag_end = body.find(b">", mark.end())
        if tag_end == -1:
            regular = False
            break
        i = tag_end + 1
        closing = bool(mark.group(1))
        if not closing and body[tag_end - 1 : tag_end] == b"/":
            if depth == 0:
                starts.append(at)  # <item/>: an empty item
                ends.append(i)
            continue
        if not closing:
            if depth == 0:
                start = at
            else:
                regular = False
            depth += 1
        elif depth == 0:
            regular = False  # a close without an open
        else:
            depth -= 1
            if depth == 0:
                starts.append(start)
                ends.append(i)
    if depth > 0:
        regular = False
        starts.append(start)
        ends.append(len(body))
    return Items(starts, ends, regular)


def reduce(body: bytes, max_items: int) -> Reduced:
    """`body` with at most `max_items` items (the newest) and no text run over MAX_TEXT_RUN."""
    items = find_items(body)
    found = len(items)
    dropped = 0
    if found > max_items:
        keep = keep_newest(body, items, max_items)
        dropped = found - len(keep)
        parts = [body[: items.starts[0]]]
        parts.extend(body[items.starts[n] : items.ends[n]] for n in keep)
        parts.append(body[items.ends[-1] :])
        body = b"".join(parts)
    cut_runs = 0
    if len(body) > MAX_TEXT_RUN:

        def cut(match: re.Match[bytes]) -> bytes:
            nonlocal cut_runs
            cut_runs += 1
            return _cut_run(match.group())

        body = _LONG_RUN.sub(cut, body)
    return Reduced(body, found, dropped, cut_runs)


class _Undated(Exception):
    pass


def keep_newest(body: bytes, items: Items, limit: int) -> list[int]:
    """Indexes of the `limit` newest items, in document order: by date when every item has
    one, else the first ones (feeds list their newest first). Memory: O(limit)."""

    def dated() -> Iterator[tuple[datetime, int]]:
        for n, (start, end) in enumerate(zip(items.starts, items.ends, strict=True)):
            when = _date(body, start, end)
            if when is None:
                raise _Undated
            yield when, -n  # the same date: the earlier item wins

    if len(items) <= limit:
        return list(range(len(items)))
    try:
        ranked = heapq.nlargest(limit, dated())
    except _Undated:
        return list(range(limit))
    return sorted(-negative for _, negative in ranked)


def _date(body: bytes, start: int, end: int) -> datetime | None:
    found = _DATE.search(body, start, end)
    if found is None:
        return None
    text = found.group(1).decode("ascii", "replace").strip()
    when: datetime | None = None
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(text)
    if when is None:
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _cut_run(run: bytes) -> bytes:
    """The first MAX_TEXT_RUN bytes of a text run, ending neither inside a UTF-8 character
    nor inside an entity, plus the "]]" or "--" that closes a CDATA section or a comment."""
    head = run[:MAX_TEXT_RUN]
    while head and 0x80 <= head[-1] < 0xC0:  # a UTF-8 continuation byte: drop the character
        head = head[:-1]
    if head and head[-1] >= 0xC0:
        head = head[:-1]
    amp = head.rfind(b"&", max(0, len(head) - 40))
    if amp != -1 and head.find(b";", amp) == -1:
        head = head[:amp]
    tail = run[len(run.rstrip(b"]-")) :][-2:]
    return head + tail


# -- ids without a parse (issue 19: a feed's first poll only records what it holds) ---------

# Any tag whose name ends in "link", whatever its case or prefix (<link>, <atom:link>,
# <feedburner:origLink>): an item must hold exactly one, a plain <link>.
_ANY_LINK = re.compile(rb"<[\w.:-]*link(?=[\s>/])", re.IGNORECASE)
_RSS_LINK = re.compile(rb"<link>\s*(?:<!\[CDATA\[([^\]<>]*)\]\]>|([^<]*))\s*</link>")
_ATOM_LINK = re.compile(rb"<link((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))*)\s*/>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ABSOLUTE = re.compile(rb"https?://[!-~]+")  # printable ASCII, no whitespace


def item_links(body: bytes, items: Items, keep: list[int]) -> list[str] | None:
    """The raw link of each kept item, when every one is plainly written; else None.

    "Plainly": one link per item and no other link-like element, an absolute http(s) URL
    in printable ASCII (`&amp;` the only entity), outside any CDATA section or comment in
    the item, not inside an xml:base document. Anything else is None: the caller parses
    the body instead (tests/test_incremental.py holds this against feedparser's reading of
    every feed in tests/data). The links are as written: the caller makes them ids.
    """
    if b"xml:base" in body or b"<!ENTITY" in body:
        return None
    links: list[str] = []
    for n in keep:
        start, end = items.starts[n], items.ends[n]
        found = list(_ANY_LINK.finditer(body, start, end))
        if len(found) != 1:
            return None
        at = found[0].start()
        if _inside(body, start, at, b"<![CDATA[", b"]]>") or _inside(
            body, start, at, b"<!--", b"-->"
        ):
            return None
        raw = _link_at(body, at, end)
        if raw is None:
            return None
        raw = raw.strip()
        if not _ABSOLUTE.fullmatch(raw):
            return None
        links.append(raw.decode("ascii"))
    return links


def _inside(body: bytes, start: int, at: int, opener: bytes, closer: bytes) -> bool:
    """Whether `at` lies inside an opener...closer section that began after `start`."""
    last = body.rfind(opener, start, at)
    return last != -1 and body.find(closer, last, at) == -1


def _link_at(body: bytes, at: int, end: int) -> bytes | None:
    """The link written at `at`, `&amp;` decoded (in CDATA: no "&" at all); None if unsure."""
    rss = _RSS_LINK.match(body, at, end)
    if rss is not None:
        if rss.group(1) is not None:  # CDATA: as written
            return None if b"&" in rss.group(1) else rss.group(1)
        return _unescape(rss.group(2))
    atom = _ATOM_LINK.match(body, at, end)
    if atom is None:
        return None
    attributes: dict[bytes, bytes] = {}
    for name, double, single in _ATTRIBUTE.findall(atom.group(1)):
        attributes[name] = double if double or not single else single
    if attributes.get(b"rel", b"alternate") != b"alternate" or b"href" not in attributes:
        return None
    return _unescape(attributes[b"href"])


def _unescape(text: bytes) -> bytes | None:
    if text.count(b"&") != text.count(b"&amp;"):
        return None  # another entity: leave it to feedparser
    return text.replace(b"&amp;", b"&")
