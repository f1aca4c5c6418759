"""Helpers shared by test modules (test modules never import each other).

Paths, the settable clock, config files, feed bodies and small records. Fixtures stay in
conftest.py, which re-exports these names for tests written before this module existed.
"""

from __future__ import annotations

import asyncio
import socket
import textwrap
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from models import Evidence, Match, Story

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
FEEDS = DATA / "feeds"  # real captures and hostile feeds; tests never read the team's shared folder


class FakeClock:
    """A settable clock: tests move time instead of sleeping.

    `monotonic` and `sleep` fit the seams of the outbox and the rate gates: a part given them
    waits out a 5 s backoff in no time, and the clock shows the 5 s passed.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
        self._start = self.now
        self.slept: list[float] = []  # every wait asked of `sleep`, in order

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return (self.now - self._start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        """Move time on instead of waiting (still yields once, as a real sleep does)."""
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


def write_config(tmp_path: Path, body: str, *, with_watchlists: bool = True) -> Path:
    """A config file in tmp_path: `body` plus the real default watchlists from config.yaml."""
    text = textwrap.dedent(body)
    if with_watchlists and "watchlists:" not in text:
        default = (ROOT / "config.yaml").read_text(encoding="utf-8")
        text += "\n" + default[default.index("# WATCHLISTS-BEGIN") :]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    """GET `url`: (status, body text), or (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


NEW_ITEM = """
    <item>
      <title>ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي &amp; الرقائق</title>
      <link>https://www.hespress.com/trump-ai-order-1700001.html?utm_source=rss&amp;utm_medium=feed</link>
      <description>وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا. The post ترمب يوقع appeared first on Hespress - هسبريس جريدة إلكترونية مغربية.</description>
      <pubDate>Sun, 15 Feb 2026 09:30:00 +0000</pubDate>
      <guid isPermaLink="false">https://www.hespress.com/?p=1700001</guid>
    </item>"""


def with_new_item(feed: Path, item: str = NEW_ITEM) -> bytes:
    """The feed file's bytes with `item` inserted before its first item (the newest story)."""
    text = feed.read_text(encoding="utf-8")
    at = text.index("<item>")
    return (text[:at] + item.strip() + "\n    " + text[at:]).encode("utf-8")


def rss(items: Sequence[tuple[str, str, str]]) -> bytes:
    """A small Hespress-like RSS 2.0 body from (title, link, pubDate) triples."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{date}</pubDate><description>تفاصيل الخبر</description></item>"
        for title, link, date in items
    )
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0"><channel><title>هسبريس</title><link>https://www.hespress.com</link>
        <description>x</description>{body}</channel></rss>
    """).encode("utf-8")


def story(n: int, minutes: int = 0) -> Story:
    """Story number n of feed "f", published n (or `minutes`) minutes after 10:00 UTC."""
    return Story(
        id=f"https://example.org/{n}",
        feed_id="f",
        title=f"title {n}",
        summary="s",
        link=f"https://example.org/{n}",
        published=datetime(2026, 2, 11, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes or n),
    )


def match(*labels: str) -> Match:
    """A match on `labels`, each with one evidence of its own name in the title."""
    return Match(labels, tuple(Evidence(label, label, label, "title", 0, 1) for label in labels))


def refuse_once(monkeypatch: Any, target: object, method: str, error: Exception) -> None:
    """`target.method` raises `error` on its first call, then works as before: the store
    refusing once (locked past its busy timeout, a full disk)."""
    real = getattr(target, method)
    refusals = [error]

    async def refusing(*args: Any, **kwargs: Any) -> Any:
        if refusals:
            raise refusals.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(target, method, refusing)
