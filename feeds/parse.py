"""Feed bytes + response headers -> stories. Pure: no I/O, no clock (`now` is passed in).

feedparser does the reading (RSS 0.9x, RSS 1.0/RDF, RSS 2.0, Atom; declared charsets;
ill-formed XML through its loose parser). Around it, this module:

- fixes what feedparser 6 gets wrong for Arabic feeds: UTF-16/32 bodies without a BOM or
  declaration (annahar.com) are transcoded first, and undeclared windows-1256 (which
  feedparser would read as windows-1252 mojibake) is recognised by its Arabic letters;
- refuses what is not a feed (empty body, HTML page, JSON, garbage) with a `ParseError`,
  and keeps survivable problems (ill-formed XML that still yielded stories, charset
  overrides, bad dates) as `warnings`;
- turns each entry into a `models.Story`: plain-text title and summary (`clean_text`,
  WordPress footers removed), UTC publish time (missing or unreadable -> `now`, future ->
  `now`), an image (enclosure, media:content, media:thumbnail), and a stable id
  (`story_id`: canonical link, else guid, else content hash).

Giant feeds: `feeds/items.py` cuts the body to `max_items` items (the newest) and cuts
over-long text runs before feedparser sees it, so a parse costs memory and time in
proportion to what is kept, not to what was sent (issue 17 item 2).

Entity attacks: feedparser 6 disables external entities and drops nested entity
declarations, so "billion laughs" and XXE bodies stay inert. But it keeps "safe" text
entities, and when expat stops a quadratic blow-up (one 50 KB entity referenced 20,000
times) at its amplification limit, feedparser's loose fallback parser expands them all:
1 GB of text, 3 GB of memory, 24 s, measured with feedparser 6.0.14. So every <!ENTITY>
declaration is removed here before feedparser sees the body; feeds have no honest use
for them (tests/test_parse.py runs the real attack files).
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import html
import importlib.util
import io
import re
import xml.sax
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import feedparser

from feeds.errors import ParseError
from feeds.items import MAX_TEXT_RUN, reduce
from models import Story

# feedparser asks xml.sax for libxml2's SAX driver before expat on every parse
# (`feedparser.api.PREFERRED_XML_PARSERS`). Where that driver is not installed (no requirement
# brings it), the failed import searched every sys.path entry again each time: ~0.2 ms of a
# one-new-item parse's ~1.5 ms (issue 19). Asked once here instead; the parser is expat, as
# before, and an installed driver is still preferred.
if importlib.util.find_spec("drv_libxml2") is None:
    feedparser.api.PREFERRED_XML_PARSERS = []

MAX_TITLE = 1_000  # characters; longer titles and summaries are cut (hostile feeds)
MAX_SUMMARY = 5_000
MAX_ITEMS = 500  # default cap on the items read from one feed body (config: max_items_per_feed)

_TRACKING_PREFIXES = ("utm_", "at_")  # at_*: AT Internet tags, e.g. BBC at_medium=RSS
# fmt: off
_TRACKING_PARAMS = frozenset({
    "traffic_source", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
    "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "ref_src", "cmpid", "ocid", "xtor", "ito",
    "maca",  # DW: ?maca=ara-rss-ara-all-1127-rdf
})
# fmt: on
_DEFAULT_PORTS = {"http": 80, "https": 443}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif")


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed body held: its title, its stories in feed order, survivable problems."""

    title: str
    stories: list[Story]  # in feed order, one per id
    warnings: list[str]
    dropped: int = 0  # items left out over the cap (the oldest)
    entries: int = 0  # entries feedparser read (after the cap)


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    *,
    feed_id: str,
    url: str,
    language: str | None,
    now: datetime,
    max_items: int = MAX_ITEMS,
) -> ParsedFeed:
    """Parse a feed body. Raises ParseError when it holds no feed at all.

    `url` resolves relative links; `language` (from the config) wins over the feed's own;
    `now` (aware) stands in for missing dates and caps future ones; at most `max_items`
    items are read, the newest.
    """
    if not body or body.isspace():  # (no .strip(): a copy of a 10 MB body for nothing)
        raise ParseError("empty body")
    warnings: list[str] = []
    response_headers = {k.lower(): v for k, v in headers.items()}
    body = _fix_encoding(body, response_headers, warnings)
    refuse_non_feeds(body)
    body = _drop_entity_declarations(body, warnings)
    reduced = reduce(body, max_items)
    body = reduced.body
    if reduced.cut_runs:
        warnings.append(f"text runs over {MAX_TEXT_RUN} bytes cut: {reduced.cut_runs}")
    response_headers["content-location"] = urljoin(
        url, response_headers.get("content-location", "")
    )
    # A file object, never bytes/str: feedparser treats strings as URLs or paths to open.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=response_headers,
        # Output is plain text (clean_text drops every tag): HTML sanitising and URI
        # rewriting inside content would be wasted work, 35% of the parse time.
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries: list[Any] = list(parsed.get("entries", []))
    dropped = reduced.dropped
    if len(entries) > max_items:  # markup the cheap pass read otherwise: cut here too
        dropped += len(entries) - max_items
        entries = entries[:max_items]
    version = str(parsed.get("version") or "")
    if parsed.get("bozo"):
        problem = _describe(parsed.get("bozo_exception"))
        if not entries and not version:
            raise ParseError(f"not a feed: {problem}")
        warnings.append(problem)
    if not version and not entries:
        raise ParseError("not a feed: no RSS, RDF or Atom element found")
    feed_info: Any = parsed.get("feed", {})
    lang = language or _language(feed_info.get("language"))
    base = str(response_headers["content-location"])
    stories = _stories(
        entries, feed_id=feed_id, base=base, language=lang, now=now, warnings=warnings
    )
    return ParsedFeed(
        title=_cut(clean_text(feed_info.get("title", "")), MAX_TITLE),
        stories=stories,
        warnings=warnings,
        dropped=dropped,
        entries=len(entries),
    )


# -- ids and links -------------------------------------------------------------------------


def canonical_link(link: str) -> str:
    """The link as an identity: tracking parameters and fragment dropped, scheme and host
    lower-cased, default port dropped, percent-escapes in upper case and non-ASCII escaped.

    Non-http(s) or unparseable input comes back stripped but otherwise unchanged.
    """
    link = link.strip()
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        return link
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in _DEFAULT_PORTS or not host:
        return link
    if ":" in host:  # IPv6 literal: urlsplit dropped the brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracking(pair))
    return urlunsplit((scheme, netloc, _escapes(parts.path) or "/", _escapes(query, "/?"), ""))


def story_id(link: str, guid: str | None, title: str, summary: str) -> str:
    """Stable id of a story: its canonical link, else "guid:<guid>", else a content hash.

    The hash ("sha256:<32 hex>") covers the cleaned title and summary, so markup or
    whitespace changes in the feed do not make a story new.
    """
    if link.strip():
        return canonical_link(link)
    if guid and guid.strip():
        return f"guid:{guid.strip()}"
    text = f"{clean_text(title)}\n{clean_text(summary)}"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _is_tracking(pair: str) -> bool:
    key = unquote(pair.partition("=")[0]).lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _escapes(part: str, extra_safe: str = "") -> str:
    """Escape what must be escaped (non-ASCII, spaces) and upper-case existing escapes,
    so the %d8%a3 (Hespress) and %D8%A3 and raw Arabic spellings of a link are one id."""
    escaped = quote(part, safe="/%:@!$&'()*+,;=-._~" + extra_safe)
    return re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), escaped)


# -- text ----------------------------------------------------------------------------------

# Bidi embeddings/overrides/isolates can reorder what a reader sees (a "Trojan Source"
# trick); soft hyphen, zero-width space, word joiner and a stray BOM hide inside words and
# break matching. LRM/RLM and ZWJ/ZWNJ stay: Arabic and Persian text uses them honestly.
# fmt: off
_INVISIBLE = dict.fromkeys([
    *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x00AD, 0x200B, 0x2060, 0xFEFF,
    0xFFF9, 0xFFFA, 0xFFFB, 0xFFFE, 0xFFFF,
])
# fmt: on
_CONTROLS = {c: " " for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]}
_TEXT_TABLE = {**_INVISIBLE, **_CONTROLS}
_SURROGATES = re.compile("[\ud800-\udfff]")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def clean_text(html_or_text: str) -> str:
    """Plain text of a title or summary: tags removed (script/style contents too),
    entities decoded (twice-encoded ones as well), control characters and bidi overrides
    removed, whitespace collapsed to single spaces."""
    text = html_or_text
    if "<" in text:
        text = _TextExtractor.extract(text)
    elif "&" in text:
        text = html.unescape(text)
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)  # "&amp;quot;" in the feed: double-encoded
    text = text.translate(_TEXT_TABLE)
    text = _SURROGATES.sub("", text)  # lone surrogates
    return " ".join(text.split())


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "head", "title"})
    # fmt: off
    _BREAKS = frozenset({
        "br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "figure",
        "figcaption", "img",
    })
    # fmt: on

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skipping = 0

    @classmethod
    def extract(cls, markup: str) -> str:
        parser = cls()
        parser.feed(markup)
        parser.close()
        return "".join(parser._parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self._parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self._parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(data)


# WordPress appends "The post <title> appeared first on <site>." to every excerpt (in the
# site's language: French and Arabic installs translate it). Hespress keeps the English one.
_FOOTERS = (
    ("The post ", " appeared first on "),
    ("L’article ", " est apparu en premier sur "),
    ("L'article ", " est apparu en premier sur "),
    ("Cet article ", " est apparu en premier sur "),
    ("ظهرت المقالة ", " أولاً على "),
)
_ELLIPSIS_TAIL = re.compile(r"\s*\[\s*(?:…|\.\.\.)\s*\]\s*$")


def _strip_boilerplate(summary: str, title: str) -> str:
    for lead, marker in _FOOTERS:
        at = summary.rfind(marker)
        if at == -1 or len(summary) - at > 300:
            continue
        # Prefer the exact "The post <title>" so a title that itself contains "The post "
        # or a summary that mentions it earlier is cut in the right place.
        start = summary.rfind(f"{lead}{title}{marker}") if title else -1
        if start == -1:
            start = summary.rfind(lead, 0, at)
        if start != -1:
            summary = summary[:start].rstrip()
    # "… the excerpt [...]": keep the sign that the text was cut, drop the brackets.
    return _ELLIPSIS_TAIL.sub("…", summary) if _ELLIPSIS_TAIL.search(summary) else summary


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- entries -> stories --------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    link: str  # canonical, "" if none usable
    guid: str | None
    title: str
    summary: str
    published: datetime
    image: str | None


def _stories(
    entries: list[Any],
    *,
    feed_id: str,
    base: str,
    language: str | None,
    now: datetime,
    warnings: list[str],
) -> list[Story]:
    counts: Counter[str] = Counter()
    items = [e for e in (_entry(raw, base, now, counts) for raw in entries) if e is not None]
    # A link or guid is an identity only if it names one story. Some feeds put the home
    # page as every item's link, or one guid on every item (issue 7): those must not
    # collapse distinct stories into one. "Distinct" means another title (for links) or
    # another link or title (for guids): summaries alone vary too easily between copies.
    link_stories: dict[str, set[str]] = {}
    guid_stories: dict[str, set[tuple[str, str]]] = {}
    for item in items:
        link_stories.setdefault(item.link, set()).add(item.title)
        if item.guid:
            guid_stories.setdefault(item.guid, set()).add((item.link, item.title))
    stories: dict[str, Story] = {}
    for item in items:
        link_ok = bool(item.link) and len(link_stories[item.link]) == 1
        guid_ok = bool(item.guid) and len(guid_stories[item.guid or ""]) == 1
        if item.link and not link_ok:
            counts["shared link"] += 1
        if item.guid and not guid_ok and not link_ok:
            counts["shared guid"] += 1
        # guid ids are only unique within their feed ("123"), so they carry the feed id.
        guid = f"{feed_id}:{item.guid}" if guid_ok else None
        sid = story_id(item.link if link_ok else "", guid, item.title, item.summary)
        if sid in stories:
            counts["duplicate"] += 1
            continue
        stories[sid] = Story(
            id=sid,
            feed_id=feed_id,
            title=item.title,
            summary=item.summary,
            link=item.link,
            published=item.published,
            image=item.image,
            language=language,
        )
    warnings.extend(_count_warnings(counts))
    return list(stories.values())


def _entry(raw: Any, base: str, now: datetime, counts: Counter[str]) -> _Entry | None:
    link = http_url(raw.get("link"), base)
    if raw.get("link") and not link and not raw.get("guidislink"):
        counts["bad link"] += 1  # (a "urn:uuid:" guid standing in for the link is no news)
    title = _cut(clean_text(str(raw.get("title") or "")), MAX_TITLE)
    summary_html = raw.get("summary") or ""
    if not summary_html and raw.get("content"):
        summary_html = raw["content"][0].get("value") or ""
    summary = _cut(_strip_boilerplate(clean_text(str(summary_html)), title), MAX_SUMMARY)
    guid = " ".join(str(raw.get("id") or "").split()) or None
    if not (link or guid or title or summary):
        counts["empty"] += 1
        return None
    return _Entry(
        link=canonical_link(link) if link else "",
        guid=guid,
        title=title,
        summary=summary,
        published=_published(raw, now, counts),
        image=_image(raw, link or base),
    )


def _published(raw: Any, now: datetime, counts: Counter[str]) -> datetime:
    when: datetime | None = None
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict.get("updated") falls back to "published" with a warning.
        when = _struct_time(dict.get(raw, f"{key}_parsed")) or _date_text(dict.get(raw, key))
        if when is not None:
            break
    if when is None:
        counts["no date"] += 1
        return now
    if when > now:
        counts["future"] += 1  # scheduled posts (Jordan News) or a wrong clock
        return now
    return when


def _struct_time(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6]).replace(tzinfo=UTC)  # feedparser normalises to UTC
    except (TypeError, ValueError, OverflowError):
        return None


def _date_text(text: Any) -> datetime | None:
    """Dates feedparser gives up on: "+03" offsets (Anadolu), plain ISO 8601 variants."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = re.sub(r"([+-]\d{2})$", r"\g<1>00", text.strip())  # "+03" -> "+0300"
    when: datetime | None = None
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(text)
    if when is None:
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(text)
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _image(raw: Any, base: str) -> str | None:
    candidates: list[tuple[Any, str, str]] = []  # (url, type, medium)
    for enclosure in raw.get("enclosures") or []:
        candidates.append((enclosure.get("href"), enclosure.get("type") or "", "enclosure"))
    for media in raw.get("media_content") or []:
        candidates.append((media.get("url"), media.get("type") or "", media.get("medium") or ""))
    for thumb in raw.get("media_thumbnail") or []:
        candidates.append((thumb.get("url"), "", "image"))
    for url, mime, medium in candidates:
        absolute = http_url(url, base)
        if not absolute:
            continue
        path = urlsplit(absolute).path.lower()
        if (
            mime.lower().startswith("image/")
            or medium == "image"
            or (not mime and medium in ("", "enclosure") and path.endswith(_IMAGE_SUFFIXES))
        ):
            return absolute
    return None


def http_url(value: Any, base: str) -> str:
    """`value` made absolute against `base` if it is an http(s) URL, else ""."""
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    return absolute if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def _count_warnings(counts: Counter[str]) -> list[str]:
    texts = {
        "bad link": "links that are not http(s) URLs, dropped: {}",
        "empty": "entries without link, guid, title or summary, skipped: {}",
        "no date": "stories without a readable date, fetch time used: {}",
        "future": "stories dated in the future, fetch time used: {}",
        "shared link": "stories sharing their link with other stories, id from guid or text: {}",
        "shared guid": "stories sharing their guid with other stories, guid not used: {}",
        "duplicate": "duplicate stories dropped: {}",
    }
    return [texts[key].format(n) for key, n in counts.items() if n]


def _language(value: Any) -> str | None:
    """Primary language subtag of the feed's own language ("en-US" -> "en"), if sane."""
    if not isinstance(value, str):
        return None
    primary = re.split(r"[-_\s]", value.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


# -- encodings and non-feeds ---------------------------------------------------------------

_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def _fix_encoding(body: bytes, headers: dict[str, str], warnings: list[str]) -> bytes:
    """Transcode to UTF-8 what feedparser would misread; update headers to match."""
    text: str | None = None
    codec = _utf16_or_32(body)
    if codec:
        text = body.decode(codec, errors="replace").lstrip("\ufeff")
    elif _looks_windows_1256(body, headers):
        text = body.decode("cp1256", errors="replace")
        warnings.append("no usable charset declared and not UTF-8: read as windows-1256")
    if text is None:
        return body
    data = _XML_ENCODING.sub(rb"\1", text.encode("utf-8"), count=1)
    media_type = headers.get("content-type", "application/xml").split(";", 1)[0].strip()
    headers["content-type"] = f"{media_type or 'application/xml'}; charset=utf-8"
    return data


def _utf16_or_32(body: bytes) -> str | None:
    """Codec of a UTF-16/32 body, by BOM or by the zero bytes around its first "<"."""
    head = body[:4]
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return codec
    patterns = {
        b"<\x00\x00\x00": "utf-32-le",
        b"\x00\x00\x00<": "utf-32-be",
    }
    if head in patterns:
        return patterns[head]
    if len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return None


def _looks_windows_1256(body: bytes, headers: Mapping[str, str]) -> bool:
    """Undeclared (or falsely "UTF-8") Arabic windows-1256: mostly Arabic once decoded."""
    if _is_utf8(body):
        return False
    declared = _CHARSET.search(headers.get("content-type", ""))
    xml_decl = re.match(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)""", body[:200])
    for found in (
        declared.group(1) if declared else None,
        xml_decl.group(1).decode("ascii") if xml_decl else None,
    ):
        if found and found.lower().replace("_", "-") not in ("utf-8", "utf8"):
            return False  # an explicit non-UTF-8 charset: feedparser honours it
    # Any 8-bit text decodes as windows-1256 into "Arabic" letters (Big5, KOI8-R...), so
    # look for Arabic's commonest pair instead: the article "ال" is bytes C7 E1, starting
    # about one word in three. Other encodings almost never produce that pair.
    high = sum(1 for b in body if b > 127)
    return high > 0 and body.count(b"\xc7\xe1") / high > 0.03


def _is_utf8(body: bytes) -> bool:
    """Whether `body` is valid UTF-8, decoded in slices: decoding a 10 MB body whole would
    build a str of up to 40 MB only to be thrown away."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    try:
        for at in range(0, len(view), 1 << 16):
            decoder.decode(view[at : at + (1 << 16)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_DECLARATION_TOKEN = re.compile(rb"""["'\[\]>]|<!--""")
_NAME_START = re.compile(rb"\w")


def _drop_entity_declarations(body: bytes, warnings: list[str]) -> bytes:
    """Remove the DOCTYPE's internal subset and any stray <!...> declaration before the
    root element, so no entity of the feed's own can be expanded by anyone.

    A linear scan with `find`, not one big regex: a hostile prolog (thousands of
    unterminated quotes or comments) must not make this step quadratic.
    """
    if b"<!ENTITY" not in body:  # case matters in XML: nothing else declares an entity
        return body
    cuts: list[tuple[int, int]] = []
    declarations = 0
    i = 0
    while (lt := body.find(b"<", i)) != -1:
        following = body[lt + 1 : lt + 2]
        if following == b"?" or body.startswith(b"<!--", lt):
            closer = b"?>" if following == b"?" else b"-->"
            end = body.find(closer, lt + 2)
            if end == -1:
                break
            i = end + len(closer)
        elif following == b"!":
            i, subset = _declaration_end(body, lt)
            if not body.startswith(b"<!DOCTYPE", lt):
                subset = (lt, i)  # a declaration outside any DOCTYPE: drop it whole
            if subset is not None:
                cuts.append(subset)
                declarations += max(1, body.count(b"<!ENTITY", *subset))
        elif _NAME_START.match(following):
            break  # the root element: the prolog is over
        else:
            i = lt + 1
    if not cuts:
        return body
    warnings.append(f"XML entity declarations removed, never expanded: {declarations}")
    kept, last = [], 0
    for start, end in cuts:
        kept.append(body[last:start])
        last = end
    kept.append(body[last:])
    return b"".join(kept)


def _declaration_end(body: bytes, start: int) -> tuple[int, tuple[int, int] | None]:
    """End of the <!...> declaration at `start`, and the span of its [internal subset]."""
    i = start + 2
    subset_start: int | None = None
    subset_end: int | None = None
    while (token := _DECLARATION_TOKEN.search(body, i)) is not None:
        mark, i = token.group(), token.end()
        if mark in (b'"', b"'", b"<!--"):
            closer = b"-->" if mark == b"<!--" else mark
            end = body.find(closer, i)
            if end == -1:
                break
            i = end + len(closer)
        elif mark == b"[" and subset_start is None:
            subset_start = token.start()
        elif mark == b"]" and subset_start is not None and subset_end is None:
            subset_end = i
        elif mark == b">" and (subset_start is None or subset_end is not None):
            return i, None if subset_start is None else (subset_start, subset_end or i)
    # Unterminated: everything from here on is the declaration.
    return len(body), None if subset_start is None else (subset_start, len(body))


_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_FIRST_CHAR = re.compile(rb"\s*(\S)")


def root_name(body: bytes) -> bytes | None:
    """Local name of the root element, lower-cased (b"rss", b"feed", b"rdf"), if found in
    the first 4 KB (after the prolog: <?xml?>, comments, DOCTYPE)."""
    root = _ROOT.search(re.sub(rb"<!--.*?-->|<![^>]*>|<\?.*?\?>", b"", body[:4096], flags=re.S))
    return None if root is None else root.group(1).split(b":")[-1].lower()


def refuse_non_feeds(body: bytes) -> None:
    """Fail fast, with a reason a person understands, on bodies that are plainly no feed."""
    first = _FIRST_CHAR.match(body)
    start = first.group(1) if first else b""
    if start in (b"{", b"["):
        raise ParseError("not a feed: JSON")
    name = root_name(body)
    if name is None:
        if b"<" not in body[:4096]:
            raise ParseError("not a feed: no XML markup")
        return  # a long prolog: let feedparser decide
    if name == b"html":
        raise ParseError("not a feed: HTML page")


def _describe(exception: Any) -> str:
    """One line for a feedparser bozo exception."""
    if isinstance(exception, xml.sax.SAXParseException):
        return (
            f"not well-formed XML ({exception.getMessage()} at line "
            f"{exception.getLineNumber()}); read what could be read"
        )
    # feedparser's own notices: charset overrides, "no Content-type specified", ...
    text = " ".join(str(exception).split())[:200]
    return text or type(exception).__name__
