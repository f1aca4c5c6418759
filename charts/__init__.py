"""PNG charts (matplotlib, Agg): pure rendering of numbers it is given, no I/O."""

from .trend import TrendChart, TrendSeries, render_trend_png

__all__ = ["TrendChart", "TrendSeries", "render_trend_png"]
