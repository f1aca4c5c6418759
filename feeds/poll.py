"""One poll cycle: fetch due feeds, keep what is new, match it, store and queue alerts.

A failing feed is a result, not a crash (STYLE.md habit 8): its error count rises, the
reason is stored and logged, its next poll backs off, and the other feeds go on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from events.grouper import EventGrouper
from feeds.errors import FeedError, FetchError, ParseError
from feeds.fetch import Fetcher, FetchResult
from feeds.follows import FollowWatch
from feeds.incremental import ItemMemory, Reading, read_feed
from feeds.parse import MAX_ITEMS
from feeds.schedule import PollTiming, next_poll_at
from filters.follow_index import by_subscription
from filters.watchlist import Matcher
from models import Evidence, Match
from store import FeedState, FeedUpdate, PollStore

log = logging.getLogger("mirsad.poll")

# A new story with the title of one this feed listed within this window is the same story
# under a new link. Longer would swallow recurring titles ("morning briefing").
RELINK_WINDOW = timedelta(hours=48)
# A parse runs in a worker thread (issue 17: a 60,000-item feed parsed on the event loop froze
# /healthz and every other feed for 30 s); past this it counts as a failed poll. Items are
# capped before parsing, so no honest feed comes near it.
PARSE_TIMEOUT = 30.0


@dataclass(frozen=True)
class PollOutcome:
    feed_id: str
    status: str  # "ok" | "not_modified" | "error"
    new: int = 0
    matched: int = 0
    queued: int = 0
    ms: int = 0
    error: str | None = None
    first_poll: bool = False
    labels: tuple[str, ...] = ()  # labels of the new matches, one entry per match label
    grouped: int = 0  # new stories that joined an event already alerted (issue 14)
    edits: int = 0  # edits of sent alerts queued (another source, a corrected story)
    next_poll_at: datetime | None = None  # when the feed is polled next (set for failures)


class Poller:
    """Polls feeds through one Fetcher and records the results in the Store."""

    def __init__(
        self,
        store: PollStore,
        fetcher: Fetcher,
        matcher: Matcher,
        clock: Callable[[], datetime],
        *,
        rng: random.Random | None = None,
        # Polls in flight at once. A slow feed holds its slot for up to the total timeout while
        # the loop idles, so 16 left a 1,000-feed cycle waiting on slots (BENCHMARKS.md); each
        # slot may buffer up to http.max_bytes, which bounds the memory under attack.
        max_parallel: int = 32,
        on_outcome: Callable[[PollOutcome], None] | None = None,
        max_items: int = MAX_ITEMS,
        parse_timeout: float = PARSE_TIMEOUT,
        grouper: EventGrouper | None = None,
        # Several instances on one database: this one's name on the feeds it claims, and the
        # shortest claim (a claim lasts the feed's interval; see Store.claim_due_feeds).
        instance: str = "local",
        min_claim: timedelta = timedelta(minutes=2),
        # issue 13: every chat's /follow words, matched on each new story (None: not used)
        follows: FollowWatch | None = None,
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._matcher = matcher
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(max_parallel)
        # Claimed feeds held at once: the polls running and three times as many waiting for a
        # slot, so a slot coming free starts the next poll at once while more are claimed
        # (dispatch_due). In a busy 300-feed cycle one claim took 0.1-0.3 s (the loop busy
        # parsing); with as few waiting as running, slots were seen standing empty meanwhile.
        self._window = 4 * max_parallel
        # Claim more due feeds as soon as this many places are free, not only at the next tick;
        # _top_up is that claim in flight, _closed stops it at shutdown.
        self._top_up_at = max_parallel
        self._top_up: asyncio.Task[None] | None = None
        # The last claim found fewer due feeds than it asked for: none was left, so finishing
        # polls claim nothing more until the next dispatch_due from outside (the scheduler's
        # tick, every second), which would find what has come due since. In the steady state
        # (issue 19) each finishing poll otherwise ran one claim, a write transaction that
        # mostly found nothing or one feed: more claims than polls, a fifth of the CPU.
        self._drained = False
        self._closed = False
        self._on_outcome = on_outcome
        self._instance = instance
        self._min_claim = min_claim
        self._running: dict[str, asyncio.Task[None]] = {}  # feed id -> its poll (dispatch_due)
        self._max_items = max_items
        self._parse_timeout = parse_timeout
        self._grouper = grouper
        self._follows = follows
        # One thread: parses are pure Python and share the GIL, so more threads would not
        # parse faster, only take more turns from the event loop. The thread ends with the
        # poller (the executor is collected) or at interpreter exit.
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirsad-parse")
        # A feed's raw items' digests and ids at its last stored poll (parse only what is new)
        # live with the feed's row alone (FeedState.item_memory), read with the feed when it
        # is due: a copy kept here too held ~3 KB per feed for good (3 MB at 1,000 feeds,
        # issue 19) to save unpacking ~1 KB (~20 us) per changed poll.

    async def poll_due(self) -> list[PollOutcome]:
        """Poll every feed whose next poll time has come."""
        return await self.poll(await self._claim_due())

    async def dispatch_due(self) -> int:
        """Start polls of due feeds, up to 4 x the parallel polls, without waiting for them.

        Each outcome goes to `on_outcome` as soon as it is known, so one slow feed holds back
        neither the alerts of the others nor the next feeds' turns. Returns how many started.

        Only what can start soon is claimed, and more as polls finish (_poll_in_background):
        an instance that claimed every due feed at its tick left nothing to the other
        instances on the database, which then only competed for the CPU (BENCHMARKS.md,
        Several instances), and a crash held all those claims for an interval.
        """
        free = self._window - len(self._running)
        if free <= 0:
            return 0
        started = 0
        claimed = await self._claim_due(limit=free)
        # (with several instances on SQLite a feed another one took in between also counts
        # as fewer: then what is still due waits for the tick, at most a second)
        self._drained = len(claimed) < free
        for feed in claimed:
            if feed.id not in self._running:
                self._running[feed.id] = asyncio.create_task(
                    self._poll_in_background(feed), name=f"poll-{feed.id}"
                )
                started += 1
        return started

    async def tick(self) -> bool:
        """The scheduler's tick: `dispatch_due`. False when the store refused the claim
        (logged): the cycle did not run, so /healthz sees it stale when that lasts."""
        return await self._dispatch_logged() is not None

    async def _dispatch_logged(self) -> int | None:
        """`dispatch_due`, with the store's refusal (locked past its busy timeout on a loaded
        machine, a full disk) logged in one line and None returned, instead of raised into
        the scheduler (a traceback every second) or a top-up task. The next tick asks again."""
        try:
            return await self.dispatch_due()
        except Exception as exc:
            log.warning("feed_claim_failed error=%r (the next tick tries again)", exc)
            return None

    async def _claim_due(self, limit: int | None = None) -> list[FeedState]:
        if limit is None:
            return await self._store.claim_due_feeds(
                self._clock(), self._instance, min_lease=self._min_claim
            )
        return await self._store.claim_due_feeds(
            self._clock(), self._instance, min_lease=self._min_claim, limit=limit
        )

    async def _poll_in_background(self, feed: FeedState) -> None:
        try:
            # outcomes go to on_outcome. One feed: awaited directly, as poll([feed]) would
            # through gather, without gather's task and future for a single poll (issue 19)
            await self._poll_guarded(feed)
        except Exception as exc:  # poll()'s handling: the failure could not even be recorded
            log.error("feed_poll_unrecorded id=%s error=%r", feed.id, exc)
        finally:
            self._running.pop(feed.id, None)
            self._start_top_up()

    def _start_top_up(self) -> None:
        """Slots came free: claim more due feeds now, so a long cycle keeps them busy.

        Not once a claim has come back short (the due feeds ran out): feeds coming due after
        it are claimed by the next tick, as they were before top-ups existed.
        """
        if self._closed or self._drained:
            return
        if self._top_up is not None and not self._top_up.done():
            return
        if self._window - len(self._running) < self._top_up_at:
            return
        self._top_up = asyncio.create_task(self._top_up_now(), name="poll-top-up")

    async def _top_up_now(self) -> None:
        while (
            not self._closed
            and not self._drained
            and self._window - len(self._running) >= self._top_up_at
        ):
            if not await self._dispatch_logged():  # none left, or the store refused
                return

    async def finish_running(self, grace: float) -> bool:
        """Shutdown: let the polls in flight finish for up to `grace` seconds, then cancel the
        rest (their feeds are simply polled again after restart). True if all finished."""
        self._closed = True  # no more claims as slots come free
        if self._top_up is not None:
            await asyncio.gather(self._top_up, return_exceptions=True)
        tasks = set(self._running.values())
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:  # their feeds are free for another instance (or this one after restart)
            await self._store.release_feed_claims(self._instance)
        return not pending

    async def poll_all(self) -> list[PollOutcome]:
        """Poll every enabled feed now, whatever its schedule (`bot.py once`)."""
        return await self.poll(await self._store.feeds())

    async def poll(self, feeds: Sequence[FeedState]) -> list[PollOutcome]:
        # return_exceptions: one feed whose failure could not even be recorded (the database
        # gone) must not cancel the polls of the others half-way
        results = await asyncio.gather(
            *(self._poll_guarded(f) for f in feeds), return_exceptions=True
        )
        outcomes: list[PollOutcome] = []
        for feed, result in zip(feeds, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancelled or interrupted: stop, do not paper over it
            if isinstance(result, Exception):
                log.error("feed_poll_unrecorded id=%s error=%r", feed.id, result)
                result = PollOutcome(feed.id, "error", error=f"not recorded: {result!r}")
            outcomes.append(result)
        return outcomes

    async def _poll_guarded(self, feed: FeedState) -> PollOutcome:
        async with self._slots:
            started = time.perf_counter()
            try:
                outcome = await self.poll_feed(feed)
            except FeedError as exc:
                outcome = await self._failed(
                    feed, exc.reason, getattr(exc, "retry_after", None), started
                )
            except Exception as exc:  # a bug, not a bad feed: loud, but the other feeds go on
                log.critical("feed_poll_bug id=%s", feed.id, exc_info=True)
                outcome = await self._failed(
                    feed, f"internal error: {type(exc).__name__}", None, started
                )
        self._log(feed, outcome)
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome

    async def poll_feed(self, feed: FeedState) -> PollOutcome:
        """Fetch, parse, match and store one feed. Raises FeedError for a bad feed."""
        started = time.perf_counter()
        result = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        now = self._clock()
        if result.not_modified:
            update = self._success_update(
                feed,
                now,
                result.etag or feed.etag,
                result.last_modified or feed.last_modified,
                result.min_interval,
                False,
                not_modified=True,
            )
            await self._store.record_not_modified(feed.id, update, now)
            return PollOutcome(feed.id, "not_modified", ms=_ms(started))

        reading, packed = await self._parse(feed, result, now)
        if reading.unchanged and feed.initialized:
            # The very body of last time: the same list as a 304 (new validators kept).
            update = self._success_update(
                feed,
                now,
                result.etag or feed.etag,
                result.last_modified or feed.last_modified,
                result.min_interval,
                False,
                not_modified=True,
            )
            await self._store.record_not_modified(feed.id, update, now)
            return PollOutcome(feed.id, "not_modified", ms=_ms(started))
        parsed = reading.parsed
        if parsed.dropped:
            log.warning(
                "feed_items_capped id=%s kept=%d dropped=%d (the oldest; max_items_per_feed)",
                feed.id,
                len(parsed.stories),
                parsed.dropped,
            )
        if reading.ids_only:  # a first poll read for ids alone: nothing to match or compare
            return await self._record_ids(feed, result, reading, packed, now, started)
        # the known texts, the titles this feed listed lately and the follow generation, in
        # one read (issue 19); the titles asked are every parsed one, since which are new is
        # known only after: a new story's title is found exactly as if asked alone
        lookups = await self._store.poll_lookups(
            feed.id,
            [s.id for s in parsed.stories],
            [s.title for s in parsed.stories if s.title.strip()],
            now - RELINK_WINDOW,
        )
        known = lookups.known
        new = [s for s in parsed.stories if s.id not in known]
        # Issue 14: a known story whose title or summary the feed changed is a correction;
        # the store edits the alerts already sent for it (a story that left the feed is
        # never touched: only what the feed lists now is compared).
        corrections: dict[str, Match] = {}
        if feed.initialized:
            for story in parsed.stories:
                before = known.get(story.id)
                if before is None or (story.title, story.summary) == before:
                    continue
                if before == ("", ""):
                    continue  # recorded by id alone on its feed's first poll: never alerted
                if not (story.title.strip() or story.summary.strip()):
                    continue  # a feed that lost an item's text is not a correction
                corrections[story.id] = self._matcher.match(
                    story.title, story.summary, story.language
                )
        # A story that changed its link gets a new id; its title gives it away. It is stored
        # (so it stays known) but not alerted again.
        seen_titles = lookups.titles
        matched: dict[str, Match] = {}
        followed: dict[str, dict[int, list[Evidence]]] = {}
        # issue 13: the chats' own words, one automaton for all of them (a first poll alerts
        # nobody, and a poll with no new story matches nothing: neither needs it)
        follow_index = (
            await self._follows.current(lookups.generation)
            if self._follows is not None and feed.initialized and new
            else None
        )
        for story in new:
            if story.title.strip() and story.title in seen_titles:
                log.info("story_relinked feed=%s link=%s", feed.id, story.link)
                continue
            seen_titles.add(story.title)  # and the same title twice in one poll alerts once
            match = self._matcher.match(story.title, story.summary, story.language)
            if match:
                matched[story.id] = match
            if follow_index is not None:
                hits = follow_index.find(story.title, story.summary)
                if hits:
                    followed[story.id] = by_subscription(hits)
        # Issue 14: a new alert that reports an event alerted in the last hours joins it.
        groups: dict[str, str] = {}
        if self._grouper is not None and feed.initialized:
            for story in new:
                if story.id in matched:
                    head = self._grouper.assign(story, matched[story.id].labels, now)
                    if head is not None:
                        groups[story.id] = head
        update = self._success_update(
            feed,
            now,
            result.etag,
            result.last_modified,
            result.min_interval,
            bool(new),
            item_memory=packed,
        )
        # The first good poll only records what the feed already holds: no backfill flood.
        ingest = await self._store.ingest(
            feed.id,
            parsed.stories,
            matched,
            update,
            now,
            alert=feed.initialized,
            groups=groups,
            corrections=corrections,
            listed=reading.listed,
            follows=followed,
        )
        for warning in parsed.warnings[:3]:
            log.info("feed_warning id=%s warning=%r", feed.id, warning)
        return PollOutcome(
            feed.id,
            "ok",
            new=ingest.new_stories,
            matched=ingest.matched,
            queued=ingest.queued,
            ms=_ms(started),
            first_poll=not feed.initialized,
            labels=tuple(label for m in matched.values() for label in m.labels),
            grouped=ingest.grouped,
            edits=ingest.edits,
        )

    async def _record_ids(
        self,
        feed: FeedState,
        result: FetchResult,
        reading: Reading,
        packed: bytes,
        now: datetime,
        started: float,
    ) -> PollOutcome:
        """A first poll read for ids alone: record the stories as seen, alert nobody."""
        stories = reading.parsed.stories
        update = self._success_update(
            feed,
            now,
            result.etag,
            result.last_modified,
            result.min_interval,
            bool(stories),
            item_memory=packed,
        )
        ingest = await self._store.ingest(feed.id, stories, {}, update, now, alert=False)
        return PollOutcome(feed.id, "ok", new=ingest.new_stories, ms=_ms(started), first_poll=True)

    async def _parse(
        self, feed: FeedState, result: FetchResult, now: datetime
    ) -> tuple[Reading, bytes]:
        """read_feed in the worker thread, so the event loop never waits for a big feed: the
        reading and its memory packed for the feed's row.

        The memory is the one stored with the feed at its last poll; a stored one that does
        not unpack is no memory (a full parse)."""
        stored = feed.item_memory if feed.initialized else None
        read = functools.partial(
            read_feed,
            result.body,
            result.headers,
            feed_id=feed.id,
            url=result.url,
            language=feed.language,
            now=now,
            max_items=self._max_items,
            first=not feed.initialized,
        )
        job = functools.partial(_read, read, feed.id, stored)
        running = asyncio.get_running_loop().run_in_executor(self._parser, job)
        try:
            return await asyncio.wait_for(running, self._parse_timeout)
        except TimeoutError as e:
            raise ParseError(f"parsing took longer than {self._parse_timeout:g}s") from e

    def _success_update(
        self,
        feed: FeedState,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        hint: float | None,
        found_new: bool,
        *,
        not_modified: bool = False,
        item_memory: bytes | None = None,
    ) -> FeedUpdate:
        timing = PollTiming(
            interval=feed.interval,
            error_count=0,
            last_new_at=now if found_new else feed.last_new_at,
            hint=hint,
            due_at=feed.next_poll_at if feed.initialized and feed.error_count == 0 else None,
        )
        return FeedUpdate(
            next_poll_at=next_poll_at(timing, now, self._rng),
            etag=etag,
            last_modified=last_modified,
            not_modified=not_modified,
            item_memory=item_memory,
        )

    async def _failed(
        self, feed: FeedState, reason: str, retry_after: float | None, started: float
    ) -> PollOutcome:
        now = self._clock()
        timing = PollTiming(
            interval=feed.interval,
            error_count=feed.error_count + 1,
            last_new_at=feed.last_new_at,
            hint=retry_after,
        )
        update = FeedUpdate(next_poll_at=next_poll_at(timing, now, self._rng), error=reason)
        await self._store.record_feed_failure(feed.id, update, now)
        return PollOutcome(
            feed.id, "error", ms=_ms(started), error=reason, next_poll_at=update.next_poll_at
        )

    def _log(self, feed: FeedState, o: PollOutcome) -> None:
        """One line per change of a feed's state at WARNING/INFO (issue 18: eleven WARNING
        lines at every retry, and a 304 INFO line per poll, hid what mattered); the routine
        polls at DEBUG."""
        if o.status == "error":
            retry = ""
            if o.next_poll_at is not None:
                retry = (
                    f" retry_in={max(0, int((o.next_poll_at - self._clock()).total_seconds()))}s"
                )
            if feed.error_count == 0 or feed.last_error != o.error:
                log.warning(
                    "feed_failing id=%s error=%r%s%s",
                    o.feed_id,
                    o.error,
                    retry,
                    f" was={feed.last_error!r}" if feed.error_count else "",
                )
            else:
                log.debug(
                    "feed_polled id=%s status=error error=%r failures=%d%s",
                    o.feed_id,
                    o.error,
                    feed.error_count + 1,
                    retry,
                )
            return
        if feed.error_count:
            log.info(
                "feed_recovered id=%s status=%s after=%d failures last_error=%r",
                o.feed_id,
                o.status,
                feed.error_count,
                feed.last_error,
            )
        level = logging.INFO if o.new or o.first_poll else logging.DEBUG
        log.log(
            level,
            "feed_polled id=%s status=%s new=%d matched=%d queued=%d ms=%d%s",
            o.feed_id,
            o.status,
            o.new,
            o.matched,
            o.queued,
            o.ms,
            " first_poll=yes" if o.first_poll else "",
        )


def _read(
    read: Callable[..., Reading], feed_id: str, stored: bytes | None
) -> tuple[Reading, bytes]:
    """Poller._parse's job, in the parse thread: unpack the stored memory, `read` the body with
    it (read_feed with everything else bound), and pack the new memory for the feed's row."""
    memory = ItemMemory.unpack(stored) if stored is not None else None
    if stored is not None and memory is None:
        log.info("feed_item_memory_unreadable id=%s (this poll parses it whole)", feed_id)
    reading: Reading = read(memory=memory)
    return reading, b"" if reading.unchanged else reading.memory.pack()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


__all__ = ["FetchError", "PollOutcome", "Poller"]
