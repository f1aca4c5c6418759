"""A small, realistic database for the dashboard tests, written through the Store's own API:
feeds (one failing, one with an unsafe title), matched Arabic and French stories, chats."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import Evidence, Match, Story
from store import ChatRhythm, FeedUpdate, FollowedTerm, Store

FEEDS = [
    ("hespress_ar", "https://www.hespress.com/feed", "ar"),
    ("hespress_fr", "https://fr.hespress.com/feed", "fr"),
    ("aljazeera_ar", "https://www.aljazeera.net/rss", "ar"),
    ("broken_feed", "https://broken.example/feed", "ar"),
]
NAMES = {
    "hespress_ar": "هسبريس",
    "hespress_fr": "Hespress FR",
    "aljazeera_ar": "الجزيرة نت",
    "broken_feed": "<script>alert('name')</script>",
}
ARABIC_TITLE = "ترامب يعلن خطة جديدة لتنظيم الذكاء الاصطناعي"
HOSTILE_TITLE = "<img src=x onerror=alert(1)> ماسك يطلق نموذجا جديدا"
FAILING_ERROR = "HTTP 503 from broken.example"


def _story(sid: str, feed: str, title: str, published: datetime, lang: str) -> Story:
    return Story(
        id=sid,
        feed_id=feed,
        title=title,
        summary="",
        link=f"https://news.example/{sid}",
        published=published,
        language=lang,
    )


async def seed(store: Store, now: datetime) -> None:
    await store.sync_feeds([(fid, url, lang, 120) for fid, url, lang in FEEDS], now)
    stories = {
        "hespress_ar": [
            (
                _story("a1", "hespress_ar", ARABIC_TITLE, now - timedelta(hours=2), "ar"),
                Match(
                    ("trump", "ai_policy", "ai"),
                    (
                        Evidence("trump", "ترامب", "ترامب", "title", 0, 5),
                        Evidence("ai", "الذكاء الاصطناعي", "الذكاء الاصطناعي", "title", 27, 43),
                    ),
                ),
            ),
            (
                _story("a2", "hespress_ar", HOSTILE_TITLE, now - timedelta(days=3), "ar"),
                Match(("musk",), (Evidence("musk", "ماسك", "ماسك", "title", 24, 28),)),
            ),
            (_story("a3", "hespress_ar", "خبر عن الطقس", now - timedelta(hours=1), "ar"), Match()),
        ],
        "hespress_fr": [
            (
                _story(
                    "f1", "hespress_fr", "Trump et l'IA", now - timedelta(days=1, hours=2), "fr"
                ),
                Match(("trump",), (Evidence("trump", "Trump", "Trump", "title", 0, 5),)),
            ),
        ],
    }
    for feed, items in stories.items():
        await store.ingest(
            feed,
            [s for s, _ in items],
            {s.id: m for s, m in items},
            FeedUpdate(next_poll_at=now + timedelta(minutes=2)),
            now,
            alert=True,
        )
    await store.record_feed_failure(
        "broken_feed", FeedUpdate(next_poll_at=now + timedelta(minutes=8), error=FAILING_ERROR), now
    )
    await store.record_feed_failure(
        "broken_feed",
        FeedUpdate(next_poll_at=now + timedelta(minutes=16), error=FAILING_ERROR),
        now,
    )
    await store.save_subscription("telegram", "-100123", ["trump", "ai"], now)
    await store.save_subscription("telegram", "42", ["musk"], now)
    await store.pause_chat("telegram", "42", "blocked", now)
    await store.save_subscription("discord", "9001", ["ai_policy"], now, guild_id="77")
    # issue 13: a chat's own words and a mute
    await store.add_follows(
        "discord", "9001", [FollowedTerm("غزة", "غزه"), FollowedTerm("OpenAI", "openai")], now
    )
    await store.set_mutes("discord", "9001", ["ai_policy"], now + timedelta(hours=24), now)
    # its rhythm: a morning digest in its own zone, quiet at night
    rhythm = ChatRhythm(digest="daily 07:30", tz="Asia/Riyadh", quiet="23:00-07:00")
    await store.set_chat_rhythm("discord", "9001", rhythm, now, release_at=now)
