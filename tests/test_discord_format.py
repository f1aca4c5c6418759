"""The Discord embed of an alert (pure). The fake Discord's validators are the oracle: every
embed must be one Discord would accept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.render import AlertView
from models import Evidence, LabelInfo, Match, Story
from platforms.discord.render import (
    DEFAULT_COLOUR,
    PALETTE,
    embed_length,
    latest_embed,
    story_embed,
    truncate,
)
from tests.fake_discord import check_embeds, dlen

LABELS = {
    "trump": LabelInfo("trump", "figure", "ترامب", "Donald Trump"),
    "musk": LabelInfo("musk", "figure", "إيلون ماسك", "Elon Musk"),
    "ai": LabelInfo("ai", "topic", "الذكاء الاصطناعي", "Artificial Intelligence"),
}
WHEN = datetime(2026, 2, 15, 9, 30, tzinfo=UTC)
MENTION = re.compile(r"@(everyone|here)|<[@#]|</", re.IGNORECASE)


def story(**changes: object) -> Story:
    base: dict[str, object] = {
        "id": "s1",
        "feed_id": "hespress_ar",
        "title": "ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي",
        "summary": "وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا.",
        "link": "https://www.hespress.com/trump-1.html",
        "published": WHEN,
        "image": "https://cdn.hespress.com/trump.jpg",
    }
    base.update(changes)
    return Story(**base)  # type: ignore[arg-type]


MATCH = Match(
    ("trump", "ai"),
    (
        Evidence("trump", "ترمب", "ترمب", "title"),
        Evidence("trump", "ترامب", "ترامب", "summary"),
        Evidence("ai", "الذكاء الاصطناعي", "الذكاء الاصطناعي", "title"),
    ),
)


def texts_of(embed: dict[str, object]) -> list[str]:
    out = [str(embed.get("title", "")), str(embed.get("description", ""))]
    out.append(str((embed.get("author") or {}).get("name", "")))  # type: ignore[attr-defined]
    for fld in embed.get("fields", []):  # type: ignore[attr-defined]
        out += [fld["name"], fld["value"]]
    return out


def test_an_alert_embed_carries_everything_a_reader_needs() -> None:
    embed = story_embed(AlertView(story(), MATCH, "hespress_ar"), LABELS, "ar")
    assert embed["title"] == "ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي"
    assert embed["url"] == "https://www.hespress.com/trump-1.html"
    assert embed["description"] == "وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا."
    assert embed["author"] == {"name": "hespress_ar"}
    assert embed["timestamp"] == "2026-02-15T09:30:00+00:00"
    assert embed["thumbnail"] == {"url": "https://cdn.hespress.com/trump.jpg"}
    assert embed["color"] == PALETTE[0]  # trump is the first configured label
    [why] = embed["fields"]
    assert why["name"] == "سبب التنبيه"
    assert why["value"] == "**ترامب**: «ترمب», «ترامب»\n**الذكاء الاصطناعي**: «الذكاء الاصطناعي»"
    assert check_embeds([embed]) == {}


def test_english_channel_and_colour_of_the_first_label() -> None:
    match = Match(("musk",), (Evidence("musk", "Musk", "Musk", "title"),))
    embed = story_embed(AlertView(story(title="Musk and xAI"), match, "bbc"), LABELS, "en")
    assert embed["fields"][0] == {
        "name": "Why this alert",
        "value": "**Elon Musk**: «Musk»",
        "inline": False,
    }
    assert embed["color"] == PALETTE[1]
    unknown = Match(("gone",), ())
    assert story_embed(AlertView(story(), unknown, "x"), LABELS, "en")["color"] == DEFAULT_COLOUR


def test_mentions_in_feed_text_are_broken_and_ping_nobody() -> None:
    hostile = story(
        title="@everyone <@&1300000000000000031> عاجل @here",
        summary="<@1300000000000000022> و <#1300000000000000011> و </ban:1>",
    )
    embed = story_embed(AlertView(hostile, MATCH, "@everyone feed"), LABELS, "ar")
    for text in texts_of(embed):
        assert not MENTION.search(text), text
    assert "everyone" in embed["title"]  # still readable


def test_markdown_from_a_feed_stays_literal() -> None:
    embed = story_embed(
        AlertView(story(summary="اضغط [هنا](https://phish.example) **الآن** `code`"), MATCH, "x"),
        LABELS,
        "ar",
    )
    assert "[هنا](" not in embed["description"]
    assert r"\[هنا\](https://phish.example)" in embed["description"]
    assert r"\*\*الآن\*\*" in embed["description"]


def test_urls_discord_would_refuse_are_left_out() -> None:
    for bad in ("javascript:alert(1)", "ftp://x/y", "https://a b/c", "//no-scheme", "", "http://"):
        embed = story_embed(AlertView(story(link=bad, image=bad), MATCH, "x"), LABELS, "en")
        assert "url" not in embed and "thumbnail" not in embed
        assert check_embeds([embed]) == {}
    long = "https://example.com/" + "a" * 3000
    assert "url" not in story_embed(AlertView(story(link=long), MATCH, "x"), LABELS, "en")


def test_no_title_falls_back_to_the_summary_then_a_placeholder() -> None:
    embed = story_embed(AlertView(story(title=""), MATCH, "x"), LABELS, "en")
    assert embed["title"].startswith("وقّع الرئيس")
    assert "description" not in embed  # not the same text twice
    empty = story_embed(AlertView(story(title="", summary=""), MATCH, "x"), LABELS, "ar")
    assert empty["title"] == "(بدون عنوان)"
    assert check_embeds([empty]) == {}


def test_huge_text_is_cut_within_every_limit_in_utf16_units() -> None:
    emoji = "🚀" * 5000  # two UTF-16 units each
    words = " ".join(["الذكاء"] * 3000)
    evidence = tuple(
        Evidence(f"l{i}", "t", "كلمة" * 30 + str(j), "title") for i in range(30) for j in range(6)
    )
    labels = {f"l{i}": LabelInfo(f"l{i}", "topic", "موضوع " * 20, "Topic " * 20) for i in range(30)}
    match = Match(tuple(labels), evidence)
    embed = story_embed(
        AlertView(story(title=emoji, summary=words), match, "م" * 400), labels, "ar"
    )
    assert dlen(embed["title"]) <= 256 and embed["title"].endswith("…")
    assert dlen(embed["description"]) <= 700
    assert dlen(embed["author"]["name"]) <= 256
    assert dlen(embed["fields"][0]["value"]) <= 1024
    assert embed_length(embed) <= 6000
    assert check_embeds([embed]) == {}


def test_latest_lists_linked_titles_within_limits() -> None:
    items = [
        (
            story(
                id=f"s{i}",
                title=f"[خبر]({i}) @everyone " + "ع" * 300,
                link=f"https://x.example/{i})",
            ),
            MATCH,
        )
        for i in range(40)
    ]
    embed = latest_embed(items, LABELS, "ar", "آخر الأخبار المطابقة:", {"hespress_ar": "هسبريس"})
    assert check_embeds([embed]) == {}
    assert dlen(embed["description"]) <= 4096
    assert "(https://x.example/0%29)" in embed["description"]  # a ")" cannot end the link
    assert "<t:1771147800:f>" in embed["description"]  # shown in each reader's time zone
    assert not re.search(r"@(everyone|here)", embed["description"])


text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6000
) | st.sampled_from(["@everyone", "<@&123456789012345678>", "[a](https://b)", "\\", "🚀" * 300])


@settings(max_examples=150, deadline=None)
@given(
    title=text,
    summary=text,
    source=text,
    link=st.one_of(st.none(), text, st.just("https://ok.example/a")),
    image=st.one_of(st.none(), text),
    words=st.lists(text, max_size=8),
    lang=st.sampled_from(["ar", "en", "fr"]),
)
def test_any_feed_text_gives_an_embed_discord_accepts(
    title: str,
    summary: str,
    source: str,
    link: str | None,
    image: str | None,
    words: list[str],
    lang: str,
) -> None:
    match = Match(("trump", "ai"), tuple(Evidence("trump", "t", w, "title") for w in words))
    embed = story_embed(
        AlertView(story(title=title, summary=summary, link=link or "", image=image), match, source),
        LABELS,
        lang,
    )
    assert check_embeds([embed]) == {}
    assert embed["title"]  # never an empty title
    for piece in texts_of(embed):
        assert not MENTION.search(piece)


def test_truncate_keeps_lines_and_the_limit() -> None:
    assert truncate("a\nb", 10) == "a\nb"
    cut = truncate("سطر أول\n" + "🚀" * 3000, 2000)
    assert cut.startswith("سطر أول\n") and cut.endswith("…") and dlen(cut) <= 2000
