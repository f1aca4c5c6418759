"""Feed health in words: a start-up summary, and whether every feed has been failing too long.

Issue 18 point 3: an operator whose feeds are all unreachable saw eleven WARNING lines at
every retry and a `/healthz` that answered 200. Now (the per-feed lines are the poller's:
one when a feed starts failing or changes its reason, one when it recovers, the rest at
DEBUG) this tracker says once, when every feed has been polled after start, how many are
reachable and when the failing ones are tried again ("11 feeds: 0 reachable, retrying in
2 min"), and `problem()` tells `/healthz` when EVERY feed has been failing for longer than
`intervals` poll intervals (the network or the proxy is down, not one site).

Pure: outcomes and the clock come in, text goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from feeds.poll import PollOutcome

log = logging.getLogger("mirsad.poll")

DEGRADED_AFTER_INTERVALS = 3


class FeedHealth:
    """Follows each feed's latest outcome. `feed_ids`: the feeds polled by this process."""

    def __init__(
        self,
        feed_ids: Iterable[str],
        interval: timedelta,
        clock: Callable[[], datetime],
        *,
        intervals: int = DEGRADED_AFTER_INTERVALS,
    ) -> None:
        self._feeds = set(feed_ids)
        self._limit = interval * intervals
        self._intervals = intervals
        self._clock = clock
        self._failing_since: dict[str, datetime] = {}
        self._next_try: dict[str, datetime | None] = {}
        self._seen: set[str] = set()
        self._summarised = False

    def observe(self, outcome: PollOutcome) -> None:
        """Record one poll's outcome; logs the start-up summary once every feed has one."""
        if outcome.feed_id not in self._feeds:
            return
        now = self._clock()
        self._seen.add(outcome.feed_id)
        if outcome.status == "error":
            self._failing_since.setdefault(outcome.feed_id, now)
            self._next_try[outcome.feed_id] = outcome.next_poll_at
        else:
            self._failing_since.pop(outcome.feed_id, None)
            self._next_try.pop(outcome.feed_id, None)
        if not self._summarised and self._seen >= self._feeds:
            self._summarised = True
            text = self.summary(now)
            if self._failing_since:
                log.warning("feeds_checked %s", text)
            else:
                log.info("feeds_checked %s", text)

    def summary(self, now: datetime) -> str:
        """E.g. "11 feeds: 0 reachable, retrying in 2 min" or "3 feeds: 3 reachable"."""
        total = len(self._feeds)
        failing = len(self._failing_since)
        text = f"{total} feed{'s' if total != 1 else ''}: {total - failing} reachable"
        if failing:
            text += f", {failing} failing"
            upcoming = [t for t in self._next_try.values() if t is not None]
            if upcoming:
                text += f", retrying in {_duration(min(upcoming) - now)}"
        return text

    def problem(self) -> str | None:
        """For /healthz: every feed failing for longer than the limit, else None."""
        if not self._feeds or len(self._failing_since) < len(self._feeds):
            return None
        now = self._clock()
        shortest = now - max(self._failing_since.values())
        if shortest <= self._limit:
            return None
        total = len(self._feeds)
        return (
            f"degraded: all {total} feeds failing for {_duration(shortest)} "
            f"(more than {self._intervals} poll intervals)"
        )


def _duration(span: timedelta) -> str:
    seconds = max(0, round(span.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
