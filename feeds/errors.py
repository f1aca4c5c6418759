"""Errors of feed intake: what can go wrong between a feed URL and its stories.

::

    FeedError            a feed could not be read this time; `reason` says why in one line
     ├── FetchError      the HTTP side: DNS, connect, timeout, HTTP status, size cap,
     │                   redirects, refused address; `retry_after` when the server asked
     └── ParseError      the body is not a feed: empty, HTML page, garbage

Only `feeds/fetch.py` and `feeds/parse.py` raise them, always chained (`raise ... from e`)
to the library error behind them. `feeds/poll.py` treats any `FeedError` as a per-feed
result (count it, store `reason`, back off); anything else escaping intake is a bug.
"""

from __future__ import annotations


class FeedError(Exception):
    """A feed could not be read this time. `reason` is one line for logs and `/status`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchError(FeedError):
    """The HTTP fetch failed.

    `status` is the HTTP status when the server answered (e.g. 404, 429), else None.
    `retry_after` is in seconds, from the Retry-After header of a 429 or 503; the poller
    must not ask again before it.
    """

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


class ParseError(FeedError):
    """The body held nothing usable as a feed."""
