"""Stories per label per day as a PNG line chart (dashboard Trends page and `/stats`).

Arabic needs no help here: matplotlib 3.11 lays text out with libraqm (HarfBuzz shaping and the
Unicode bidi algorithm), so Arabic letters join and read right to left as given; the DejaVu Sans
bundled with matplotlib has the Arabic glyphs, so no system font is needed. (Shaping it again
with arabic-reshaper + python-bidi would reverse it twice: tests/test_charts.py checks.)

Rendering takes ~100 ms of CPU: callers run `render_trend_png` in a thread
(`asyncio.to_thread`), and identical charts (same labels, days and counts) come from a cache.
"""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass
from datetime import date

# Colour-blind-safe (Okabe-Ito), in the order series are drawn.
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

# matplotlib's text layout caches are not thread-safe; charts are rare, so one at a time.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class TrendSeries:
    name: str  # shown in the legend, e.g. "ترامب"
    counts: tuple[int, ...]  # one per day of TrendChart.days


@dataclass(frozen=True)
class TrendChart:
    """Everything a chart shows; hashable, so the cache key is the chart itself."""

    title: str
    days: tuple[date, ...]
    series: tuple[TrendSeries, ...]
    y_label: str = ""

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.counts) != len(self.days):
                raise ValueError(
                    f"series {s.name!r} has {len(s.counts)} counts for {len(self.days)} days"
                )


@functools.lru_cache(maxsize=32)  # ~75 kB each
def render_trend_png(chart: TrendChart, width_px: int = 800, height_px: int = 420) -> bytes:
    """The chart as PNG bytes. Pure and cached: the same chart value renders once."""
    # imported here: matplotlib costs ~0.4 s and ~30 MB, paid only once a chart is asked for
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with _RENDER_LOCK:
        dpi = 100
        fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = list(range(len(chart.days)))
        for i, s in enumerate(chart.series):
            ax.plot(
                x,
                s.counts,
                label=s.name,
                color=_COLOURS[i % len(_COLOURS)],
                linewidth=2,
                marker="o" if len(x) <= 14 else None,
                markersize=4,
            )
        ax.set_title(chart.title, fontsize=13)
        if chart.y_label:
            ax.set_ylabel(chart.y_label)
        step = max(1, len(x) // 8)
        ticks = x[::step]
        if x and ticks[-1] != x[-1]:
            ticks.append(x[-1])
        ax.set_xticks(ticks, [f"{chart.days[i].day}/{chart.days[i].month}" for i in ticks])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        top = max((max(s.counts, default=0) for s in chart.series), default=0)
        ax.set_ylim(0, max(top * 1.15, 1))
        if x:
            ax.set_xlim(x[0] - 0.3, x[-1] + 0.3)
        ax.grid(axis="y", alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if chart.series:
            ax.legend(loc="upper left", frameon=False, fontsize=10)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi)
        return out.getvalue()
