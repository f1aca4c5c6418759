"""When to poll a feed next. Pure: the caller passes the time and the random source."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(hours=6)  # a dead feed is still tried four times a day
MAX_HINT = timedelta(hours=6)  # a server's Cache-Control/Retry-After hint is honoured up to this
QUIET_AFTER = timedelta(hours=6)  # no new story for this long: the feed counts as quiet
QUIET_FACTOR = 3  # a quiet feed is polled this many times less often
JITTER = 0.1  # up to +10% (never less: hints are lower bounds), so feeds that share an interval do not all fire on the same second


@dataclass(frozen=True)
class PollTiming:
    interval: int  # configured seconds between polls
    error_count: int  # consecutive failures including this poll (0 after a success)
    last_new_at: datetime | None  # last time the feed had a new story
    hint: float | None = None  # seconds: Cache-Control max-age / Expires / Retry-After
    # when this poll was scheduled for, if the feed already has its phase (a good poll
    # before); None gives it a new, jittered one
    due_at: datetime | None = None


def next_poll_at(timing: PollTiming, now: datetime, rng: random.Random) -> datetime:
    """The next time to poll.

    - healthy and busy: every `interval`;
    - quiet (nothing new for QUIET_AFTER): QUIET_FACTOR x interval, so a feed that publishes
      twice a day is not fetched 700 times for it;
    - failing: exponential backoff, interval x 2^(errors-1), capped at MAX_BACKOFF;
    - a server hint (Retry-After, Cache-Control) is a lower bound, capped at MAX_HINT.

    A healthy busy feed keeps its phase: the next poll is due one interval after this one was
    due, not after it finished, so polls do not drift later by the fetch time and the
    scheduler's tick, and a new story waits at most one interval. The random jitter (up to
    +JITTER) is applied when a feed gets a new phase: its first poll, after a failure, a quiet
    spell or a hint, so feeds sharing an interval do not all fire on the same second.
    """
    base = timedelta(seconds=timing.interval)
    hint = (
        min(timedelta(seconds=timing.hint), MAX_HINT)
        if timing.hint is not None and timing.hint > 0
        else None
    )
    if timing.error_count > 0:
        delay = min(base * (1 << min(timing.error_count - 1, 16)), max(MAX_BACKOFF, base))
    elif timing.last_new_at is not None and now - timing.last_new_at > QUIET_AFTER:
        delay = base * QUIET_FACTOR
    else:
        delay = base
        if timing.due_at is not None and (hint is None or hint <= base):
            missed = max(0, int((now - timing.due_at) / base))  # whole intervals overslept
            return timing.due_at + base * (missed + 1)
    if hint is not None:
        delay = max(delay, hint)
    jitter = delay.total_seconds() * JITTER * rng.random()
    return now + delay + timedelta(seconds=jitter)
