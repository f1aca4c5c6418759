"""The pipeline's side of same-event grouping (issue 14): which event a new alert belongs to.

`EventGrouper` fingerprints each new matched story and looks it up in an `EventWindow` of the
stories matched in the last `window` (default 12 hours); the answer is the id of the story
whose alert carries the event, or None for a new event. The story is added to the window at
once, in the same step, so two feeds polled side by side that bring the same event cannot
both start it. After a restart `warm` refills the window from the store.

Pure apart from its own state: no clock (every call takes `now`), no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from events.fingerprint import Fingerprinter
from events.grouping import EventWindow
from models import Story

__all__ = ["DEFAULT_WINDOW", "EventGrouper"]

DEFAULT_WINDOW = timedelta(hours=12)


class EventGrouper:
    """Assigns new alerted stories to events."""

    def __init__(
        self, window: timedelta = DEFAULT_WINDOW, fingerprinter: Fingerprinter | None = None
    ) -> None:
        self.window = window
        self._fingerprinter = fingerprinter or Fingerprinter()
        self._events = EventWindow(window=window)

    def __len__(self) -> int:
        return len(self._events)

    def assign(self, story: Story, labels: tuple[str, ...], now: datetime) -> str | None:
        """The id of the story whose alert reports the same event as `story`, or None (a new
        event, which `story` now heads). `labels`: the watchlist ids it matched."""
        fp = self._fingerprinter.fingerprint(story.title, story.summary, story.language, labels)
        event = self._events.find(fp, now)
        self._events.add(story.id, now, fp, event)
        return event

    def warm(
        self, stories: Iterable[tuple[Story, tuple[str, ...], str | None, datetime]], now: datetime
    ) -> None:
        """Refill the window with stories matched earlier: (story, labels, event, matched at),
        oldest first; those older than the window are skipped."""
        for story, labels, event, at in stories:
            if at < now - self.window:
                continue
            fp = self._fingerprinter.fingerprint(story.title, story.summary, story.language, labels)
            self._events.add(story.id, at, fp, event)
