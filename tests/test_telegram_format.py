"""platforms/telegram/render.py: what a Telegram reader sees, checked with the fake's HTML parser
(the same rules Telegram applies: allowed tags only, balanced, escaped, 4096 after parsing)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.render import AlertView
from models import Evidence, LabelInfo, Match, Story
from platforms.telegram.render import (
    LRM,
    MAX_TEXT,
    RLM,
    clean,
    render_alert,
    render_latest,
    utf16_len,
)
from tests.fake_telegram import HtmlError, parse_html

TZ = ZoneInfo("Africa/Casablanca")
LABELS = {
    "trump": LabelInfo("trump", "figure", "ترامب", "Donald Trump"),
    "ai": LabelInfo("ai", "topic", "الذكاء الاصطناعي", "Artificial Intelligence"),
}
MATCH = Match(
    ("trump", "ai"),
    (Evidence("trump", "ترامب", "ترامب", "title"), Evidence("ai", "AI", "AI", "title")),
)


def story(
    title: str = "ترامب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي",
    summary: str = "ملخص الخبر.",
    link: str = "https://www.hespress.com/a-1.html",
    feed: str = "hespress_ar",
) -> Story:
    return Story(
        id=link or title,
        feed_id=feed,
        title=title,
        summary=summary,
        link=link,
        published=datetime(2026, 2, 11, 13, 5, tzinfo=UTC),
        language="ar",
    )


def test_arabic_alert_layout_and_what_the_reader_sees() -> None:
    text = render_alert(AlertView(story(), MATCH, "hespress_ar"), LABELS, lang="ar", tz=TZ)
    assert text.html.startswith(RLM + '<b><a href="https://www.hespress.com/a-1.html">ترامب يوقع')
    visible = parse_html(text.html)
    lines = visible.split("\n")
    assert lines == [
        RLM + "ترامب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي",
        RLM + "hespress_ar · 2026-02-11 14:05",  # 13:05 UTC is 14:05 in Casablanca (UTC+1)
        RLM + "ملخص الخبر.",
        RLM + "#ترامب #الذكاء_الاصطناعي",
    ]
    assert text.plain.split("\n")[1] == "https://www.hespress.com/a-1.html"


def test_english_chat_gets_english_hashtags_and_ltr_lines() -> None:
    text = render_alert(AlertView(story(), MATCH, "hespress_ar"), LABELS, lang="en", tz=TZ)
    lines = parse_html(text.html).split("\n")
    assert lines[-1] == LRM + "#DonaldTrump #ArtificialIntelligence"
    assert lines[0].startswith(RLM)  # the Arabic title still reads right to left
    assert lines[1].startswith(LRM)


def test_arabic_title_starting_with_latin_word_is_still_rtl() -> None:
    text = render_alert(
        AlertView(story(title="OpenAI تطلق نموذجا جديدا للذكاء الاصطناعي في المغرب"), MATCH, "x"),
        LABELS,
        lang="ar",
        tz=TZ,
    )
    assert parse_html(text.html).startswith(RLM + "OpenAI")


def test_french_story_in_arabic_chat_keeps_ltr_title() -> None:
    text = render_alert(
        AlertView(
            story(title="Trump signe un décret sur l'IA", summary="Le président américain..."),
            MATCH,
            "hespress_fr",
        ),
        LABELS,
        lang="ar",
        tz=TZ,
    )
    lines = parse_html(text.html).split("\n")
    assert lines[0] == LRM + "Trump signe un décret sur l'IA"
    assert lines[-1].startswith(RLM + "#ترامب")


@pytest.mark.parametrize(
    "title",
    [
        "<b>fake bold</b> & <script>alert(1)</script>",
        "Tom & Jerry </a></b><a href='javascript:x'>",
        'ترامب <i> &amp; &lt;tag&gt; "quoted"',
        "&#128512; &unknown; <tg-spoiler>",
    ],
)
def test_feed_markup_arrives_as_text(title: str) -> None:
    text = render_alert(
        AlertView(story(title=title, summary=title), MATCH, "<src>"), LABELS, lang="ar", tz=TZ
    )
    visible = parse_html(text.html)  # Telegram would accept it
    assert clean(title) in visible  # ...and show the title exactly as the feed wrote it
    assert "<src>" in visible


def test_href_is_quoted_and_bad_schemes_dropped() -> None:
    evil = 'https://x.test/a?b=1&c="><b>x</b>'
    text = render_alert(AlertView(story(link=evil), MATCH, "s"), LABELS, lang="ar", tz=TZ)
    assert 'href="https://x.test/a?b=1&amp;c=&quot;&gt;&lt;b&gt;x&lt;/b&gt;"' in text.html
    parse_html(text.html)
    for link in ("javascript:alert(1)", "ftp://x.test/f", "https://x.test/a b", ""):
        text = render_alert(AlertView(story(link=link), MATCH, "s"), LABELS, lang="ar", tz=TZ)
        assert "<a " not in text.html
        assert parse_html(text.html).startswith(RLM + "ترامب")


def test_bidi_overrides_and_control_characters_are_removed() -> None:
    title = "ترامب\u202e gnp.exe\u202c \x00\x07 يقول\nشيئا"
    text = render_alert(AlertView(story(title=title), MATCH, "s"), LABELS, lang="ar", tz=TZ)
    visible = parse_html(text.html)
    for bad in ("\u202e", "\u202c", "\x00", "\x07"):
        assert bad not in visible
    assert visible.split("\n")[0] == RLM + "ترامب gnp.exe يقول شيئا"


def test_never_over_4096_after_parsing_summary_cut_first() -> None:
    long_summary = ("كلمة " * 5000) + "النهاية"
    text = render_alert(
        AlertView(story(summary=long_summary), MATCH, "s"), LABELS, lang="ar", tz=TZ
    )
    visible = parse_html(text.html)
    assert utf16_len(visible) <= MAX_TEXT
    assert "…" in visible and "النهاية" not in visible
    # a tiny limit: the summary goes first, the title and hashtags stay
    small = render_alert(
        AlertView(story(summary=long_summary), MATCH, "s"), LABELS, lang="ar", tz=TZ, limit=120
    )
    shown = parse_html(small.html)
    assert utf16_len(shown) <= 120 and utf16_len(small.plain) <= 120
    assert "#ترامب" in shown


def test_huge_title_and_emoji_count_as_utf16() -> None:
    title = "😀" * 5000  # 2 UTF-16 units each
    text = render_alert(
        AlertView(story(title=title, summary="😀" * 5000), MATCH, "s"), LABELS, lang="en", tz=TZ
    )
    assert utf16_len(parse_html(text.html)) <= MAX_TEXT
    assert utf16_len(text.plain) <= MAX_TEXT


def test_untitled_story_uses_summary_or_placeholder() -> None:
    text = render_alert(
        AlertView(story(title="", summary=""), MATCH, "s"), LABELS, lang="ar", tz=TZ
    )
    assert parse_html(text.html).split("\n")[0] == RLM + "(بلا عنوان)"
    text = render_alert(
        AlertView(story(title="  ", summary="ملخص فقط"), MATCH, "s"), LABELS, lang="en", tz=TZ
    )
    assert parse_html(text.html).split("\n")[0].endswith("ملخص فقط")


def test_latest_list() -> None:
    html = render_latest(
        "آخر الأخبار المطابقة:",
        [(story(), "hespress_ar"), (story(title="<x>", link=""), "s")],
        lang="ar",
        tz=TZ,
    )
    lines = parse_html(html).split("\n")
    assert lines[0] == RLM + "آخر الأخبار المطابقة:"
    assert lines[1].endswith("1. ترامب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي")
    assert lines[3].endswith("2. <x>")


def test_fake_parser_rejects_what_telegram_rejects() -> None:
    for bad in (
        "<p>x</p>",
        "<b>x",
        "<b>x</i>",
        "a & b",
        "x < y",
        "<a>x</a>",
        "&nbsp;",
        '<span class="x">s</span>',
    ):
        with pytest.raises(HtmlError):
            parse_html(bad)
    assert (
        parse_html('<b>a</b> &lt;&amp;&gt;&quot; &#1575; <a href="https://x?a=1&amp;b=2">l</a>')
        == 'a <&>" ا l'
    )


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(max_size=600),
    summary=st.text(max_size=6000),
    link=st.text(max_size=80),
    source=st.text(max_size=40),
    lang=st.sampled_from(["ar", "en"]),
)
def test_any_feed_text_renders_to_valid_telegram_html(
    title: str, summary: str, link: str, source: str, lang: str
) -> None:
    text = render_alert(
        AlertView(
            story(title=title, summary=summary, link="https://x.test/" + link), MATCH, source
        ),
        LABELS,
        lang=lang,
        tz=TZ,
    )
    visible = parse_html(text.html)
    assert 0 < utf16_len(visible) <= MAX_TEXT
    assert utf16_len(text.plain) <= MAX_TEXT
    assert not any(
        ord(c) in range(0x202A, 0x202F) or ord(c) in range(0x2066, 0x206A) for c in visible
    )
