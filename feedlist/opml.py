"""OPML, the feed-list format feed readers import and export: read and written (pure).

The standard library's XML parser reads it: OPML is a handful of `<outline>` elements, and
expat (2.4.1 and later, as Python 3.11 ships it) refuses entity expansion bombs, while
ElementTree never fetches external entities. Every `<outline>` with an `xmlUrl`, at any depth
(folders nest them), is a feed; attribute names are matched without regard to case, as
exporters differ (`xmlUrl`, `xmlurl`). `title` (else `text`) is the feed's name, `language` its
language (OPML 2.0; `ar-MA` is read as `ar`). What Mirsad alone knows (the feed's id, interval,
whether it is enabled) travels in attributes of its own namespace, which other readers ignore,
so that an export imported elsewhere, or back, keeps them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

NAMESPACE = "urn:mirsad:opml"
MAX_BYTES = 5_000_000  # a feed list, not a dump: anything larger is refused unread


class OpmlError(ValueError):
    """The file is not an OPML feed list; the message says what is wrong in one line."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    language: str | None = None
    id: str | None = None
    interval: str | None = None  # as written: the config's validation reads the number
    enabled: str | None = None


def parse(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES:,} bytes: not a feed list")
    try:
        root = ET.fromstring(data)  # noqa: S314 (see the module docstring)
    except ET.ParseError as exc:
        raise OpmlError(f"not valid XML: {exc}") from None
    if _local(root.tag).lower() != "opml":
        raise OpmlError(f"not OPML: the document is <{_local(root.tag)}>, not <opml>")
    body = next((c for c in root if _local(c.tag).lower() == "body"), None)
    if body is None:
        raise OpmlError("not OPML: no <body>")
    return [_feed(attrs) for attrs in _outlines(body) if _attr(attrs, "xmlurl")]


def render(feeds: Iterable[OpmlFeed], title: str, now: datetime) -> str:
    """An OPML 2.0 document listing `feeds`."""
    ET.register_namespace("mirsad", NAMESPACE)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        # `text` is required: a feed with no name shows its id there, and has no `title`
        attrs = {"type": "rss", "text": feed.title or feed.id or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        if feed.language:
            attrs["language"] = feed.language
        for key in ("id", "interval", "enabled"):
            value = getattr(feed, key)
            if value is not None:
                attrs[f"{{{NAMESPACE}}}{key}"] = value
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _outlines(parent: ET.Element) -> Iterator[dict[str, str]]:
    for child in parent:
        if _local(child.tag).lower() == "outline":
            yield {_attr_name(k): v for k, v in child.attrib.items()}
            yield from _outlines(child)


def _feed(attrs: dict[str, str]) -> OpmlFeed:
    language = _attr(attrs, "language")
    if language:  # "ar-MA", "en_US", "FR" -> ar, en, fr
        language = language.replace("_", "-").split("-")[0].lower()
    url, feed_id = _attr(attrs, "xmlurl") or "", attrs.get(f"{{{NAMESPACE}}}id")
    text = _attr(attrs, "text")
    return OpmlFeed(
        url=url,
        title=_attr(attrs, "title") or (text if text not in (url, feed_id) else None),
        language=language,
        id=feed_id,
        interval=attrs.get(f"{{{NAMESPACE}}}interval"),
        enabled=attrs.get(f"{{{NAMESPACE}}}enabled"),
    )


def _attr(attrs: dict[str, str], name: str) -> str | None:
    value = attrs.get(name)
    return value.strip() if value and value.strip() else None


def _attr_name(key: str) -> str:
    """Plain attribute names lowercased; ours keep their namespace (`{urn:mirsad:opml}id`)."""
    return key if key.startswith(f"{{{NAMESPACE}}}") else key.lower()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
