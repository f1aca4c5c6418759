"""`/stats [id] [days]`: matched stories per day for a chat's labels, as a PNG chart and a
one-line summary (issue 15). Decided here once; each platform only sends the result (a photo
on Telegram, an embed with the image attached on Discord).

Which labels: the ids or names given, else the chat's active subscription, else every label.
Which days: a number from 1 to `MAX_DAYS` given, else `DEFAULT_DAYS`. Counts come from
`store.reports.TrendCounts` (kept up to date incrementally); the chart is rendered in a thread
(`asyncio.to_thread`) and cached by value, so the same labels, days and counts render once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from charts import TrendChart, TrendSeries, render_trend_png
from core import texts
from core.subscriptions import Chat, Subscriptions

DEFAULT_DAYS = 30
MAX_DAYS = 90

# Isolate each name and number inside the summary (U+2068 FSI ... U+2069 PDI), so a Latin name
# or a number does not reorder the Arabic sentence around it (STYLE.md habit 21).
FSI, PDI = "\u2068", "\u2069"

_TEXTS: dict[str, dict[str, str]] = {
    "stats_title": {
        "ar": "أخبار مطابقة في اليوم — آخر {days} يومًا",
        "en": "Matching stories per day — last {days} days",
        "fr": "Articles correspondants par jour — {days} derniers jours",
    },
    "stats_summary": {
        "ar": "آخر {days} يومًا: {counts}. أكثر يوم: {peak_day} ({peak} خبرًا).",
        "en": "Last {days} days: {counts}. Busiest day: {peak_day} ({peak} stories).",
        "fr": "{days} derniers jours : {counts}. Jour le plus chargé : {peak_day} ({peak} articles).",
    },
    "stats_none": {
        "ar": "آخر {days} يومًا: {counts}. لا خبر مطابقًا بعد.",
        "en": "Last {days} days: {counts}. No matching story yet.",
        "fr": "{days} derniers jours : {counts}. Aucun article correspondant pour l'instant.",
    },
    "stats_unknown": {
        "ar": "لا أعرف {words}. الممكن: {valid}. مثال: /stats trump 14",
        "en": "Unknown: {words}. Valid: {valid}. Example: /stats trump 14",
        "fr": "Inconnu : {words}. Valides : {valid}. Exemple : /stats trump 14",
    },
    "stats_days": {
        "ar": "عدد الأيام من 1 إلى {max}. مثال: /stats trump 14",
        "en": "Days go from 1 to {max}. Example: /stats trump 14",
        "fr": "Le nombre de jours va de 1 à {max}. Exemple : /stats trump 14",
    },
}


def text(key: str, lang: str, **fields: object) -> str:
    template = _TEXTS[key].get(lang) or _TEXTS[key][texts.DEFAULT_LANG]
    return template.format(**fields)


def keys() -> list[str]:
    return list(_TEXTS)


class DailyCounts(Protocol):
    """What /stats reads: `store.reports.TrendCounts`."""

    async def daily(
        self, labels: Sequence[str], days: int, now: datetime
    ) -> tuple[tuple[date, ...], dict[str, tuple[int, ...]]]: ...


@dataclass(frozen=True)
class StatsReply:
    """The outcome of /stats: `png` and the summary as `text`, or only an error `text`."""

    kind: Literal["chart", "error"]
    text: str
    png: bytes | None = None
    labels: tuple[str, ...] = field(default=())
    days: int = DEFAULT_DAYS


@dataclass(frozen=True)
class StatsPlan:
    """A /stats answer before its chart is drawn."""

    chart: TrendChart
    summary: str
    labels: tuple[str, ...]
    days: int


@dataclass(frozen=True)
class StatsRequest:
    labels: tuple[str, ...]
    days: int


def parse(
    words: Sequence[str], subscriptions: Subscriptions
) -> StatsRequest | tuple[str, ...] | int:
    """The request in `words`; the unknown words (tuple) or a bad day count (int) otherwise."""
    days = DEFAULT_DAYS
    rest = []
    for word in words:
        if word.strip().isdigit():
            days = int(word)
        else:
            rest.append(word)
    ids, unknown = subscriptions.resolve(rest)
    if unknown:
        return tuple(unknown)
    if not 1 <= days <= MAX_DAYS:
        return days
    return StatsRequest(tuple(ids), days)


def _short_day(day: date) -> str:
    return f"{day.day}/{day.month}"


def summary(
    counts: Mapping[str, tuple[int, ...]],
    days: tuple[date, ...],
    names: Mapping[str, str],
    lang: str,
) -> str:
    """One line: each label's total over the days, and the busiest day of them all."""
    parts = [
        f"{FSI}{names.get(label, label)}{PDI} {FSI}{sum(c)}{PDI}" for label, c in counts.items()
    ]
    per_day = [sum(c[i] for c in counts.values()) for i in range(len(days))]
    shown = texts.join(parts, lang)
    if not any(per_day):
        return text("stats_none", lang, days=len(days), counts=shown)
    peak = max(per_day)
    peak_day = days[max(i for i, n in enumerate(per_day) if n == peak)]  # the latest such day
    return text(
        "stats_summary",
        lang,
        days=len(days),
        counts=shown,
        peak_day=f"{FSI}{_short_day(peak_day)}{PDI}",
        peak=f"{FSI}{peak}{PDI}",
    )


class Stats:
    """The /stats decision, shared by every platform."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        counts: DailyCounts,
        clock: Callable[[], datetime],
    ) -> None:
        self._subscriptions = subscriptions
        self._counts = counts
        self._clock = clock

    async def stats(self, chat: Chat, words: Sequence[str], lang: str) -> StatsReply:
        """/stats decided and drawn: the chart with its summary, or the error to show."""
        planned = await self.plan(chat, words, lang)
        if isinstance(planned, StatsReply):
            return planned
        return await self.draw(planned)

    async def plan(self, chat: Chat, words: Sequence[str], lang: str) -> StatsPlan | StatsReply:
        """Everything but the drawing (fast): a platform that must answer within a deadline
        (Discord: 3 s) can refuse bad arguments at once and acknowledge before drawing."""
        parsed = parse(words, self._subscriptions)
        if isinstance(parsed, int):
            return StatsReply("error", text("stats_days", lang, max=MAX_DAYS))
        if isinstance(parsed, tuple):
            valid = ", ".join(info.id for info in self._subscriptions.labels)
            return StatsReply(
                "error", text("stats_unknown", lang, words=texts.echo(parsed, lang), valid=valid)
            )
        labels = parsed.labels or await self._chat_labels(chat)
        days, counts = await self._counts.daily(labels, parsed.days, self._clock())
        by_id = self._subscriptions.by_id
        names = {label: by_id[label].name(lang) for label in labels if label in by_id}
        chart = TrendChart(
            title=text("stats_title", lang, days=parsed.days),
            days=days,
            series=tuple(TrendSeries(names.get(label, label), counts[label]) for label in labels),
        )
        return StatsPlan(chart, summary(counts, days, names, lang), tuple(labels), parsed.days)

    async def draw(self, plan: StatsPlan) -> StatsReply:
        """The chart as PNG, drawn in a thread (cached by value: the same chart draws once)."""
        png = await asyncio.to_thread(render_trend_png, plan.chart)
        return StatsReply("chart", plan.summary, png, plan.labels, plan.days)

    async def _chat_labels(self, chat: Chat) -> tuple[str, ...]:
        sub = await self._subscriptions.current(chat)
        if sub is not None and sub.active:
            chosen = tuple(i for i in sub.labels if i in self._subscriptions.by_id)
            if chosen:
                return chosen
        return tuple(info.id for info in self._subscriptions.labels)
