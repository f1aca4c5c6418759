"""The delivery worker: takes pending outbox rows and hands them to platform senders.

Rules (ARCHITECTURE.md "Delivery rules"):
- at-least-once: a row is marked sent right after the platform accepts it; a crash between
  the two repeats at most that one alert, in that one chat;
- per subscription, alerts go out one at a time in publication order (the store only offers
  the head of each queue), so one chat's retry never reorders its alerts;
- pacing: per-chat minimum gaps and an overall per-platform rate, chosen by each sender
  (Telegram: ~1/s per chat, 20/min per group, 30/s overall); a 429's retry_after holds that
  chat (or the whole platform) for exactly that long;
- each row becomes a payload (alerts/payloads.py: a NewAlert today), rendered by the
  platform's Sender, then sent by it;
- outcomes (a tagged union, handled exhaustively): Sent -> message id kept; Retry -> backoff;
  Gone -> the chat's subscriptions are paused with the reason code; Moved -> the chat id is
  rewritten and the alert sent there; Failed -> this alert is given up with the reason (the
  others go on);
- never send what cannot be recorded: when a write fails (disk full, read-only file), the
  worker stops sending on every platform, reports it (`problem`, shown by /healthz), retries
  the writes it owes with backoff and resumes once they are done; if the store does not come
  back within `store_outage_limit`, `run` raises StoreOutage so the process exits for a
  restart. Only the sends already under way when the fault struck are unrecorded: at most one
  per chat, which a restart repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, assert_never
from zoneinfo import ZoneInfo

from alerts.pacing import RateGate
from alerts.payloads import (
    Digest,
    EditAlert,
    Failed,
    Gone,
    Moved,
    NewAlert,
    Payload,
    Rendered,
    Retry,
    SendResult,
    Sent,
)
from alerts.rhythm import Timing, hold_until, read_timing
from models import FOLLOW_LABEL
from store import Delivery, DeliveryStore, Subscription

log = logging.getLogger("mirsad.outbox")

# While more sends than this are under way, a finished one does not trigger a new look at the
# outbox at once (each look reads every pending row): the outbox is read again every
# REQUERY_SECONDS instead. A chat whose send just finished must wait its gap anyway.
REFILL_BELOW = 16
REQUERY_SECONDS = 0.25
MAX_ATTEMPTS = 15  # with the backoff below: about a day of trying before an alert is given up
MAX_BACKOFF = timedelta(hours=2)
# Several instances: how long the sender lease on a platform token and a claim on an outbox row
# last without renewal (a crashed instance's alerts are taken over after at most these).
SENDER_LEASE = timedelta(seconds=10)
OUTBOX_CLAIM = timedelta(seconds=20)
CLAIMED_RECHECK = 0.5  # seconds
OTHERS_QUEUED_RECHECK = 1.0  # seconds
# While the store refuses writes: first retry of the owed writes after this, doubling up to
# STORE_RETRY_MAX; give up (exit for a restart) after STORE_OUTAGE_LIMIT (config
# `delivery.store_outage_limit`).
STORE_RETRY_FIRST = 0.5
STORE_RETRY_MAX = 30.0
STORE_OUTAGE_LIMIT = 300.0

T = TypeVar("T")


@dataclass(frozen=True)
class Pacing:
    """How fast a platform may be sent to. 0 means no limit."""

    overall_per_second: float = 0.0
    chat_gap: float = 0.0  # seconds between two messages to one private chat / channel
    group_gap: float = 0.0  # seconds between two messages to one group (Telegram: 60/20)

    def gap(self, chat_id: str, is_group: bool) -> float:
        return self.group_gap if is_group else self.chat_gap


M = TypeVar("M")


class Sender(Protocol[M]):
    """A platform's renderer and sender. `render` is pure; `send` never raises for platform
    answers: it translates them into a SendResult (unexpected exceptions are retried)."""

    platform: str
    pacing: Pacing

    def is_group(self, chat_id: str) -> bool: ...

    def render(self, payload: Payload, lang: str) -> Rendered[M]: ...

    async def send(self, target: Subscription, rendered: Rendered[M]) -> SendResult: ...


def payload_for(delivery: Delivery) -> Payload | None:
    """What an outbox row asks to deliver: revision 0 is the alert, a later revision an edit
    of the message it became (issue 14: another outlet reported the event, or the feed
    corrected the story); both render the story's latest state and sources. None: an edit
    with no message to edit (the story went out in a digest, or its id was never recorded)."""
    d = delivery
    if d.revision == 0:
        return NewAlert(d.story, d.match, also=d.also, updated=d.updated)
    if d.edit_of is None:
        return None
    return EditAlert(d.story, d.match, d.edit_of, also=d.also, updated=d.updated)


@dataclass(frozen=True)
class Job:
    """One send: the payload, and the outbox rows its outcome is recorded on. An alert or an
    edit is one row (`rows == (head.outbox_id,)`); a digest (issue 13) every alert of the
    subscription that was due."""

    head: Delivery
    payload: Payload
    rows: tuple[int, ...]
    digest: bool = False


def digest_job(head: Delivery, due: list[Delivery], timing: Timing) -> Job:
    """The send for an alert that waited for a digest (`head`), given every row of its
    subscription that is due (`due`, oldest first, `head` among them): the alerts go out in
    one Digest, each in its latest state. Edits (revision > 0: of alerts sent before) are not
    part of it; they stay queued and go out on their own after. A chat without digest mode
    whose quiet hours held one alert only gets that alert as usual."""
    alerts = [d for d in due if d.revision == 0] or [head]
    rows = tuple(d.outbox_id for d in alerts)
    if len(alerts) == 1 and timing.rhythm.kind == "instant":
        alone = NewAlert(head.story, head.match, also=head.also, updated=head.updated)
        return Job(head, alone, rows)
    order = (*head.subscription.labels, FOLLOW_LABEL)
    items = tuple(NewAlert(d.story, d.match, also=d.also, updated=d.updated) for d in alerts)
    return Job(head, Digest(items, order), rows, digest=True)


@dataclass
class DeliveryStats:
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)
    paused: dict[str, int] = field(default_factory=dict)

    def bump(self, table: dict[str, int], platform: str) -> None:
        table[platform] = table.get(platform, 0) + 1


class StoreOutage(Exception):
    """The store refused writes for longer than the limit: delivery stopped for good."""


@dataclass
class _Outage:
    """Writes the store refused, owed in order, and since when (monotonic seconds)."""

    since: float
    reason: str
    owed: list[tuple[str, Callable[[], Awaitable[object]]]] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at MAX_BACKOFF."""
    return min(timedelta(seconds=5 * 2 ** min(attempts, 16)), MAX_BACKOFF)


class OutboxWorker:
    """Delivers pending alerts through the senders it was given (one per platform)."""

    def __init__(
        self,
        store: DeliveryStore,
        senders: Mapping[str, Sender[Any]],
        clock: Callable[[], datetime],
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        concurrency: int = 32,
        batch: int = 100,
        on_result: Callable[[Delivery, SendResult], None] | None = None,
        store_outage_limit: float = STORE_OUTAGE_LIMIT,
        instance: str | None = None,
        zone: ZoneInfo | None = None,
    ) -> None:
        loop_time = monotonic or (lambda: asyncio.get_running_loop().time())
        self._store = store
        self._senders = dict(senders)
        # issue 13: the zone of digest times and quiet hours for a chat that set none (/tz)
        self._zone = zone or ZoneInfo("UTC")
        self._clock = clock
        self._mono = loop_time
        self._sleep = sleep
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._gates = {
            p: RateGate(s.pacing.overall_per_second, loop_time, sleep)
            for p, s in self._senders.items()
        }
        self._chat_ready: dict[
            tuple[str, str], float
        ] = {}  # monotonic time a chat may get the next one
        self._in_flight: set[int] = set()  # subscription ids with a send under way
        self._busy_chats: set[tuple[str, str]] = set()  # chats with a send under way
        self._handled: set[int] = set()  # outbox ids finished since the last query began
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._on_result = on_result
        self._outage_limit = store_outage_limit
        self._outage: _Outage | None = None  # set while the store refuses writes
        self.stats = DeliveryStats()
        # Several instances on one database (issue 16): this one's name on the outbox rows it
        # claims and on the sender leases it holds; None = the only instance (no claims).
        self._instance = instance
        self._sender_until: dict[str, datetime] = {}  # platform -> end of our sender lease

    @property
    def platforms(self) -> list[str]:
        return list(self._senders)

    async def _sending_platforms(self, now: datetime) -> list[str]:
        """The platforms this instance sends on now: all of them when it is the only
        instance; otherwise those whose sender lease it holds (renewed here), so that one
        instance at a time sends on a token and the platform's global rate is never shared
        out twice."""
        if self._instance is None:
            return self.platforms
        held = []
        for platform in self.platforms:
            until = self._sender_until.get(platform)
            if until is None or until - now < SENDER_LEASE / 2:
                if await self._store.acquire_lease(
                    f"sender:{platform}", self._instance, now, SENDER_LEASE
                ):
                    if until is None:
                        log.info("sender_lease_taken platform=%s", platform)
                    until = now + SENDER_LEASE
                else:
                    if until is not None:
                        log.warning("sender_lease_lost platform=%s", platform)
                    until = None
            if until is None:
                self._sender_until.pop(platform, None)
            else:
                self._sender_until[platform] = until
                held.append(platform)
        return held

    async def _heads(self, now: datetime) -> list[Delivery]:
        """The due heads this instance may send now (claimed for it with several instances)."""
        platforms = await self._sending_platforms(now)
        if not platforms:
            return []
        if self._instance is None:
            return await self._store.next_deliveries(platforms, now, self._batch)
        return await self._store.next_deliveries(
            platforms, now, self._batch, owner=self._instance, claim=OUTBOX_CLAIM
        )

    async def release(self) -> None:
        """Shutdown: hand the sender leases over at once instead of letting them run out."""
        if self._instance is None:
            return
        for platform in list(self._sender_until):
            await self._store.release_lease(f"sender:{platform}", self._instance)
        self._sender_until.clear()

    def problem(self) -> str | None:
        """Why delivery is stopped, for /healthz; None while it works."""
        if self._outage is None:
            return None
        waited = int(self._mono() - self._outage.since)
        return (
            f"delivery stopped: the database refuses writes ({self._outage.reason}) "
            f"for {waited} s; {len(self._outage.owed)} results not recorded yet"
        )

    def _stopped(self) -> bool:
        """Whether the store refuses writes: nothing is sent then (a method, not the attribute
        read inline, so that a check after an await is read again, not taken as known)."""
        return self._outage is not None

    def wake(self) -> None:
        """New alerts were queued: look at the outbox now instead of at the next tick."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Deliver everything that is due now, waiting for pacing; return how many were tried.

        Used by `bot.py once`. Alerts that must wait for a retry stay pending for the next run.
        """
        tried = 0
        while True:
            if self._outage is not None:
                await self._recover(None)
                continue
            looked = self._mono()
            started = await self._start_ready()
            tried += started
            if self._tasks:
                await self._wait_for_room(looked)
                continue
            if started:
                continue
            # nothing in flight and nothing startable: is anything due but held by pacing?
            wait = await self._pacing_wait()
            if wait is None:
                return tried
            await self._sleep(wait)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then let the sends in flight finish."""
        while not stop.is_set():
            if self._outage is not None:
                await self._recover(stop)  # returns when the store is back or stop is set
                continue
            _, rows = await self._start_ready_rows()
            wait = await self._pacing_wait(rows)
            # alone, a poll here wakes this worker; with several instances another one may
            # have queued alerts, so look again every second (OTHERS_QUEUED_RECHECK)
            longest = 5.0 if self._instance is None else OTHERS_QUEUED_RECHECK
            idle = longest if wait is None else min(max(wait, 0.01), longest)
            waiters: set[asyncio.Future[object]] = {
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(stop.wait()),
            }
            if len(self._tasks) < REFILL_BELOW:
                waiters.update(self._tasks)  # type: ignore[arg-type]
            else:
                idle = min(idle, REQUERY_SECONDS)
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                if w not in self._tasks and not w.done():
                    w.cancel()
            self._wake.clear()
        await self.drain()
        if self._outage is not None:
            # one last try to record what went out; what stays owed is sent again after a
            # restart (at most one alert per chat: one send at a time per chat)
            await self._recover(stop)
        with contextlib.suppress(Exception):  # best effort: a lease not released runs out
            await self.release()

    async def _wait_for_room(self, looked: float) -> None:
        """Wait for a send to finish; while many are still under way, until REQUERY_SECONDS
        after the last look at the outbox (`looked`)."""
        await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        while len(self._tasks) >= REFILL_BELOW:
            left = looked + REQUERY_SECONDS - self._mono()
            if left <= 0:
                return
            await asyncio.wait(set(self._tasks), timeout=left, return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Wait for the sends in flight (used on shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    async def _pacing_wait(self, rows: list[Delivery] | None = None) -> float | None:
        """Seconds until something pending becomes sendable, or None if nothing is pending now.

        `rows`: the due heads just read by `_start_ready_rows`, to save a second query.
        """
        now = self._clock()
        if rows is None:
            rows = await self._heads(now)
        mono = self._mono()
        waits = [
            self._chat_ready.get((d.subscription.platform, d.subscription.chat_id), 0.0) - mono
            for d in rows
            if d.subscription.id not in self._in_flight
            # a chat with a send under way is woken by that send's end, not by a timer
            and (d.subscription.platform, d.subscription.chat_id) not in self._busy_chats
        ]
        if waits:
            return max(min(waits), 0.0)
        if self._tasks:
            return 0.05
        if self._instance is not None and not self._sender_until:
            return SENDER_LEASE.total_seconds() / 3  # another instance sends: ask again later
        nxt = await self._store.next_delivery_at(self.platforms)
        if nxt is None or nxt - now > timedelta(seconds=30):
            return None if nxt is None or not self._tasks else 0.05
        # With several instances the due row may be another instance's claim (it runs out in
        # OUTBOX_CLAIM): look again shortly rather than spinning on it.
        floor = CLAIMED_RECHECK if self._instance is not None else 0.0
        return max((nxt - now).total_seconds(), floor)

    async def _start_ready(self) -> int:
        started, _ = await self._start_ready_rows()
        return started

    async def _start_ready_rows(self) -> tuple[int, list[Delivery]]:
        """Start a send for every due head whose chat may take one now.

        Returns how many started and the heads read, the started ones left out.
        """
        now = self._clock()
        mono = self._mono()
        started = 0
        self._handled.clear()
        rows = await self._heads(now)
        waiting: list[Delivery] = []
        for delivery in rows:
            if self._outage is not None:
                break  # a send that just finished found the store refusing writes
            sub = delivery.subscription
            key = (sub.platform, sub.chat_id)
            if delivery.outbox_id in self._handled:
                continue  # finished while the query ran: the row we read is already stale
            if sub.id in self._in_flight:
                continue
            if self._chat_ready.get(key, 0.0) > mono or key in self._busy_chats:
                # paced, or one message at a time per chat even across forum topics
                waiting.append(delivery)
                continue
            sender = self._senders[sub.platform]
            self._in_flight.add(sub.id)
            self._busy_chats.add(key)
            task = asyncio.create_task(self._deliver(sender, delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started, waiting

    def _timing(self, delivery: Delivery) -> Timing:
        r = delivery.rhythm
        return read_timing(r.digest, r.tz, r.quiet, self._zone)

    async def _held(self, delivery: Delivery) -> bool:
        """Issue 13: an alert a chat hears later (its digest time, the end of its quiet hours)
        is held until then instead of sent: True. Edits are never held (an edit is silent)
        and an alert already held is due now."""
        if delivery.revision > 0 or delivery.digest_at is not None:
            return False
        until = hold_until(self._timing(delivery), self._clock())
        if until is None:
            return False
        await self._record(
            f"hold outbox={delivery.outbox_id}",
            lambda: self._store.hold_for_digest(delivery.outbox_id, until),
        )
        sub = delivery.subscription
        log.info(
            "alert_held platform=%s chat=%s story=%s until=%s",
            sub.platform,
            sub.chat_id,
            delivery.story.id,
            until.isoformat(),
        )
        return True

    async def _job(self, delivery: Delivery) -> Job | None:
        """What to send for a due head: its alert or edit, or the digest it waited for. None
        when there is nothing to send (an edit with no message of its own: cancelled)."""
        if delivery.digest_at is not None:
            due = await self._store.digest_deliveries(delivery.subscription.id, self._clock())
            return digest_job(delivery, due, self._timing(delivery))
        payload = payload_for(delivery)
        if payload is None:
            reason = "no message of its own to edit (sent in a digest, or its id is unknown)"
            await self._record(
                f"cancel outbox={delivery.outbox_id}",
                lambda: self._store.mark_cancelled(delivery.outbox_id, reason),
            )
            return None
        return Job(delivery, payload, (delivery.outbox_id,))

    async def _deliver(self, sender: Sender[Any], delivery: Delivery) -> None:
        sub = delivery.subscription
        key = (sub.platform, sub.chat_id)
        try:
            if await self._held(delivery):
                return  # before pacing: holding sends nothing
            async with self._slots:
                await self._gates[sub.platform].wait()
                if self._stopped():
                    return  # the store refuses writes: do not send what cannot be recorded
                # the chat's next message may start one gap after this one starts
                gap = sender.pacing.gap(sub.chat_id, sender.is_group(sub.chat_id))
                self._chat_ready[key] = max(self._chat_ready.get(key, 0.0), self._mono() + gap)
                job = await self._job(delivery)
                if job is None:
                    return  # nothing to send: already recorded
                if self._stopped():
                    return  # it began while a digest's stories were read: the same rule
                try:
                    rendered = sender.render(job.payload, sub.lang)
                    result: SendResult = await sender.send(sub, rendered)
                except Exception as exc:  # a sender bug or an unexpected network error: retry
                    log.error(
                        "alert_send_error platform=%s chat=%s outbox=%d",
                        sub.platform,
                        sub.chat_id,
                        delivery.outbox_id,
                        exc_info=True,
                    )
                    result = Retry(f"{type(exc).__name__}: {exc}")
                await self._apply(job, result)
        finally:
            self._handled.add(delivery.outbox_id)
            self._busy_chats.discard(key)
            self._in_flight.discard(sub.id)

    async def _apply(self, job: Job, result: SendResult) -> None:
        delivery = job.head
        sub = delivery.subscription
        if self._on_result is not None:
            self._on_result(delivery, result)
        match result:
            case Sent() if job.digest:
                await self._digest_sent(job, result)
            case Sent():
                await self._sent(delivery, result)
            case Retry():
                await self._retry(delivery, result)
            case Moved():
                new_chat, now = result.new_chat_id, self._clock()
                await self._record(
                    f"migrate chat={sub.chat_id}",
                    lambda: self._store.migrate_chat(sub.platform, sub.chat_id, new_chat, now),
                )
                log.info(
                    "chat_migrated platform=%s from=%s to=%s",
                    sub.platform,
                    sub.chat_id,
                    result.new_chat_id,
                )
            case Gone():
                await self._gone(delivery, result)
            case Failed():
                for outbox_id in job.rows:  # a digest that cannot be sent fails whole
                    await self._failed(replace(delivery, outbox_id=outbox_id), result.reason)
            case _:
                assert_never(result)

    async def _digest_sent(self, job: Job, result: Sent) -> None:
        sub = job.head.subscription
        now = self._clock()
        await self._record(
            f"digest sent outbox={job.head.outbox_id}",
            lambda: self._store.mark_digest_sent(job.rows, now),
        )
        self.stats.bump(self.stats.sent, sub.platform)
        log.info(
            "digest_sent platform=%s chat=%s stories=%d messages=%d",
            sub.platform,
            sub.chat_id,
            len(job.rows),
            len(result.message_ids),
        )

    async def _sent(self, d: Delivery, result: Sent) -> None:
        sub = d.subscription
        now = self._clock()
        await self._record(
            f"sent outbox={d.outbox_id}",
            lambda: self._store.mark_sent(d.outbox_id, result.message_id, now),
        )
        self.stats.bump(self.stats.sent, sub.platform)
        log.info(
            "alert_sent platform=%s chat=%s story=%s message=%s",
            sub.platform,
            sub.chat_id,
            d.story.id,
            result.message_id,
        )

    async def _retry(self, d: Delivery, result: Retry) -> None:
        sub = d.subscription
        now = self._clock()
        platform = sub.platform
        store = self._store
        if result.retry_after is not None:
            hold = result.retry_after
            if result.scope == "platform":
                self._gates[platform].hold(hold)
            key = (platform, sub.chat_id)
            self._chat_ready[key] = max(self._chat_ready.get(key, 0.0), self._mono() + hold)
            # a rate limit is not the alert's fault: it does not count as an attempt
            await self._record(
                f"retry outbox={d.outbox_id}",
                lambda: store.mark_retry(
                    d.outbox_id,
                    result.reason or "rate limited",
                    now + timedelta(seconds=hold),
                    count_attempt=False,
                ),
            )
        elif d.attempts + 1 >= MAX_ATTEMPTS:
            await self._failed(d, f"gave up after {MAX_ATTEMPTS} attempts: {result.reason}")
            return
        else:
            retry_at = now + backoff(d.attempts)
            await self._record(
                f"retry outbox={d.outbox_id}",
                lambda: store.mark_retry(d.outbox_id, result.reason, retry_at),
            )
        self.stats.bump(self.stats.retried, platform)
        log.warning(
            "alert_retry platform=%s chat=%s story=%s reason=%r",
            platform,
            sub.chat_id,
            d.story.id,
            result.reason,
        )

    async def _gone(self, d: Delivery, result: Gone) -> None:
        sub = d.subscription
        now = self._clock()
        store = self._store
        reason = result.reason.stored()
        if result.scope == "subscription":
            await self._record(
                f"pause subscription={sub.id}",
                lambda: store.pause_subscription(sub.id, reason, now),
            )
            self.stats.bump(self.stats.paused, sub.platform)
            log.warning(
                "subscription_paused platform=%s chat=%s thread=%s reason=%r",
                sub.platform,
                sub.chat_id,
                sub.thread_id,
                reason,
            )
            return
        paused = await self._record(
            f"pause chat={sub.chat_id}",
            lambda: store.pause_chat(sub.platform, sub.chat_id, reason, now),
        )
        self.stats.bump(self.stats.paused, sub.platform)
        log.warning(
            "chat_paused platform=%s chat=%s subscriptions=%s reason=%r",
            sub.platform,
            sub.chat_id,
            paused,
            reason,
        )

    async def _failed(self, d: Delivery, reason: str) -> None:
        sub = d.subscription
        await self._record(
            f"failed outbox={d.outbox_id}", lambda: self._store.mark_failed(d.outbox_id, reason)
        )
        self.stats.bump(self.stats.failed, sub.platform)
        log.error(
            "alert_failed platform=%s chat=%s story=%s reason=%r",
            sub.platform,
            sub.chat_id,
            d.story.id,
            reason,
        )

    # --- the store refusing writes ---------------------------------------------------------

    async def _record(self, what: str, write: Callable[[], Awaitable[T]]) -> T | None:
        """Write the outcome of a send. If the store refuses, stop all sending (the next
        "sent" could not be recorded either) and owe the write, to be retried in order."""
        if self._outage is None:
            try:
                return await write()
            except Exception as exc:
                # Other writes may have been under way beside this one (waiting their turn
                # at the store) and fail with it: they join the outage the first one began,
                # and the writes it owes, in the order they failed.
                if self._outage is None:
                    reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                    self._outage = _Outage(since=self._mono(), reason=reason)
                    log.error("delivery_stopped reason=%r first_unrecorded=%r", reason, what)
                    self._wake.set()
        self._outage.owed.append((what, write))
        return None

    async def _recover(self, stop: asyncio.Event | None) -> bool:
        """Retry the owed writes with backoff until the store takes them all (True), `stop` is
        set (False), or the outage outlasts the limit (StoreOutage)."""
        outage = self._outage
        assert outage is not None
        await self.drain()  # the sends under way end; the ones that sent owe their record too
        delay = STORE_RETRY_FIRST
        while outage.owed:
            what, write = outage.owed[0]
            try:
                await write()
            except Exception as exc:
                outage.reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                down = self._mono() - outage.since
                if down >= self._outage_limit:
                    log.critical(
                        "delivery_gave_up down=%ds unrecorded=%d reason=%r",
                        down,
                        len(outage.owed),
                        outage.reason,
                    )
                    raise StoreOutage(
                        f"the database refused writes for {int(down)} s ({outage.reason}); "
                        f"{len(outage.owed)} sent alerts could not be recorded and will be "
                        f"sent again after the restart"
                    ) from exc
                log.warning(
                    "delivery_still_stopped down=%ds unrecorded=%d next=%r retry_in=%.1fs "
                    "reason=%r",
                    down,
                    len(outage.owed),
                    what,
                    delay,
                    outage.reason,
                )
                if await self._rest(min(delay, self._outage_limit - down), stop):
                    log.error("delivery_stopped_unrecorded unrecorded=%d", len(outage.owed))
                    return False
                delay = min(delay * 2, STORE_RETRY_MAX)
                continue
            outage.owed.pop(0)
        log.warning("delivery_resumed down=%ds", self._mono() - outage.since)
        self._outage = None
        return True

    async def _rest(self, seconds: float, stop: asyncio.Event | None) -> bool:
        """Sleep `seconds`; True if `stop` was set meanwhile (it cuts the sleep short)."""
        if stop is None:
            await self._sleep(seconds)
            return False
        nap = asyncio.ensure_future(self._sleep(seconds))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({nap, stopped}, return_when=asyncio.FIRST_COMPLETED)
        nap.cancel()
        stopped.cancel()
        return stop.is_set()
