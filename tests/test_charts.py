"""The trend chart: a valid PNG of the promised size, cached by value, Arabic drawn shaped and
right to left."""

from __future__ import annotations

import struct
from datetime import date, timedelta

import pytest
from matplotlib import _text_helpers
from matplotlib.font_manager import FontProperties, findfont, get_font

from charts import TrendChart, TrendSeries, render_trend_png

DAYS = tuple(date(2026, 11, 1) + timedelta(days=i) for i in range(30))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def chart(trump: int = 3) -> TrendChart:
    return TrendChart(
        title="قصص مطابقة في اليوم",
        days=DAYS,
        series=(
            TrendSeries("ترامب", tuple((i * trump) % 7 for i in range(30))),
            TrendSeries("AI", tuple(i % 3 for i in range(30))),
        ),
    )


def test_the_chart_is_a_png_of_the_size_asked_and_sane_weight() -> None:
    png = render_trend_png(chart())
    assert png_size(png) == (800, 420)
    assert 10_000 < len(png) < 300_000
    assert png_size(render_trend_png(chart(), 640, 360)) == (640, 360)


def test_the_same_chart_renders_once_and_new_counts_render_anew() -> None:
    first = render_trend_png(chart())
    assert render_trend_png(chart()) is first  # from the cache
    assert render_trend_png(chart(trump=5)) != first


def test_an_empty_chart_still_renders() -> None:
    empty = TrendChart("لا شيء", DAYS, (TrendSeries("ترامب", (0,) * 30),))
    assert png_size(render_trend_png(empty)) == (800, 420)
    with pytest.raises(ValueError, match="has 2 counts for 30 days"):
        TrendChart("x", DAYS, (TrendSeries("x", (1, 2)),))


def test_matplotlib_shapes_arabic_and_lays_it_out_right_to_left() -> None:
    # The chart passes Arabic to matplotlib as it is written: this is why no reshaper is
    # needed. "بت" must come out joined (initial beh, final teh) and in visual order
    # (teh on the left). Shaping it again beforehand would reverse it back.
    font = get_font(findfont(FontProperties(family="DejaVu Sans")))
    glyphs = [
        (item.char, font.get_glyph_name(item.glyph_index))
        for item in _text_helpers.layout("بت", font)
    ]
    assert glyphs == [("ت", "uniFE96"), ("ب", "uniFE91")]
