"""Giant feeds made in code (too big to keep in tests/data): issue 17 item 2's attack cases.

- `many_items(n, size, dated=...)`: an RSS feed of `n` small items padded to about `size`
  bytes (at least ~63 bytes an item, ~110 dated); dated items are newest first except that
  the newest is placed LAST, so "keep the newest" cannot be done by keeping the first ones;
  undated items are in feed order (newest first, by convention);
- `one_huge_title(size)`: one item whose title is `size` bytes of Arabic text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

BASE = datetime(2026, 2, 11, 7, 0, 0, tzinfo=UTC)
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
    "<title>Giant</title><link>https://giant.example.com/</link><description>x</description>"
)
_TAIL = "</channel></rss>"


def item_date(n: int) -> datetime:
    """Item n is n minutes older than BASE (item 0 is the newest)."""
    return BASE - timedelta(minutes=n)


def _item(n: int, pad: int, dated: bool) -> str:
    date = ""
    if dated:
        date = f"<pubDate>{item_date(n).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
    return f"<item><title>{n}{'ـ' * pad}</title><link>http://g.co/{n}</link>{date}</item>"


def many_items(n: int, size: int, *, dated: bool) -> bytes:
    """About `size` bytes of `n` items (see the module docstring for their order)."""
    bare = len(_item(n // 2, 0, dated).encode())
    pad = max(0, (size - len(_HEAD) - len(_TAIL)) // n - bare) // 2  # tatweel: 2 bytes
    order = [*range(1, n), 0] if dated else list(range(n))
    return (_HEAD + "".join(_item(i, pad, dated) for i in order) + _TAIL).encode("utf-8")


def one_huge_title(size: int) -> bytes:
    words = "عنوان طويل جدا "
    text = words * (size // len(words.encode()))
    return (
        f"{_HEAD}<item><title>{text}</title><link>https://giant.example.com/1</link>"
        f"<pubDate>{item_date(0).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>{_TAIL}"
    ).encode()
