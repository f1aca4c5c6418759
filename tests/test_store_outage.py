"""Disk full while alerts go out (issue 17, case 1): never send what cannot be recorded.

The outbox worker runs against a real store whose writes start failing (a seam that raises
ENOSPC like a full disk) and a sender that records what reached each chat. The end state a
user would see: no storm of repeats, delivery stopped and reported while the store refuses
writes, every alert delivered once the store is back, and a clear exit after the limit with
at most one repeat per chat after the restart.
"""

from __future__ import annotations

import asyncio
import errno
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from alerts.outbox import OutboxWorker, Pacing, StoreOutage
from alerts.payloads import NewAlert, Payload, Rendered, RenderedNew, Retry, SendResult, Sent
from store import FeedUpdate, Store, Subscription
from tests.helpers import match, story

CHATS = [str(100 + i) for i in range(8)]
STORIES = 4
DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def utcnow() -> datetime:
    return datetime.now(UTC)


class DiskFills:
    """A real store whose writes raise ENOSPC while `full` is set (reads keep working, as on
    a full disk)."""

    WRITES = ("mark_sent", "mark_retry", "mark_failed", "pause_chat", "migrate_chat")

    def __init__(self, store: Store) -> None:
        self._store = store
        self.full = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if name not in self.WRITES:
            return method

        async def write(*args: Any, **kwargs: Any) -> Any:
            if self.full:
                self.refused += 1
                raise DISK_FULL
            return await method(*args, **kwargs)

        return write


class SlowSender:
    """Records what reached each chat; each send takes a moment, so several are under way
    when the disk fills, as in production."""

    platform = "telegram"
    pacing = Pacing()

    def __init__(self, on_send: Callable[[int], None] = lambda _n: None) -> None:
        self.sent: list[tuple[str, str]] = []  # (chat, story id)
        self._on_send = on_send

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        assert isinstance(payload, NewAlert)
        return RenderedNew(payload.story.id)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        assert isinstance(rendered, RenderedNew)
        await asyncio.sleep(0.01)
        self.sent.append((target.chat_id, rendered.message))
        self._on_send(len(self.sent))
        return Sent((str(len(self.sent)),))


class FakeTime:
    """The worker's monotonic clock and sleep: sleeping moves the clock, nobody waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.naps: list[float] = []
        self.on_nap: Callable[[float], None] = lambda _s: None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds
        self.on_nap(seconds)
        await asyncio.sleep(0)


async def queue(store: Store) -> None:
    now = utcnow()
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
    for chat in CHATS:
        await store.save_subscription("telegram", chat, ["trump"], now)
    stories = [story(i) for i in range(1, STORIES + 1)]
    matches = {s.id: match("trump") for s in stories}
    await store.ingest("f", stories, matches, FeedUpdate(next_poll_at=now), now, alert=True)


def worker(
    disk: DiskFills,
    sender: SlowSender,
    time: FakeTime,
    limit: float = 300,
    clock: Callable[[], datetime] = utcnow,
) -> OutboxWorker:
    return OutboxWorker(
        cast(Store, disk),
        {"telegram": sender},
        clock,
        monotonic=time.monotonic,
        sleep=cast(Callable[[float], Awaitable[None]], time.sleep),
        store_outage_limit=limit,
    )


async def run_until(w: OutboxWorker, done: Callable[[], bool]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    for _ in range(2000):
        if done() or task.done():
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_disk_full_stops_sending_reports_it_and_resumes_without_repeats(
    store: Store,
) -> None:
    await queue(store)
    disk = DiskFills(store)
    time = FakeTime()
    problems: list[str | None] = []

    def fill_after_ten(n: int) -> None:
        if n == 10:
            disk.full = True

    sender = SlowSender(fill_after_ten)
    w = worker(disk, sender, time)

    sent_while_stopped: list[int] = []

    def on_nap(_seconds: float) -> None:
        problems.append(w.problem())
        sent_while_stopped.append(len(sender.sent))
        if len(time.naps) == 4:  # 0.5 + 1 + 2 + 4 s later, space is freed
            disk.full = False

    time.on_nap = on_nap
    await run_until(w, lambda: len(sender.sent) >= len(CHATS) * STORIES and w.problem() is None)

    # while the disk was full nothing new went out: only the sends already under way when the
    # 10th send filled it (one per chat at most) reached the chats
    assert len(set(sent_while_stopped)) == 1
    assert 10 <= sent_while_stopped[0] <= 9 + len(CHATS)
    assert disk.refused > 0
    assert time.naps[:4] == [0.5, 1.0, 2.0, 4.0]
    first = problems[0]
    assert first is not None
    assert first.startswith(
        "delivery stopped: the database refuses writes "
        "(OSError: [Errno 28] No space left on device)"
    )
    assert all(p is not None for p in problems)
    # every alert arrived exactly once: the owed "sent" marks were written when space came back
    got = Counter(sender.sent)
    assert len(got) == len(CHATS) * STORIES
    assert set(got.values()) == {1}
    assert {r["status"] for r in await store.outbox_rows()} == {"sent"}
    assert w.problem() is None


async def test_disk_that_stays_full_exits_after_the_limit_and_a_restart_repeats_at_most_one_per_chat(
    store: Store,
) -> None:
    await queue(store)
    disk = DiskFills(store)
    time = FakeTime()
    sent_when_full: list[int] = []

    def fill_after_ten(n: int) -> None:
        if n == 10:
            disk.full = True
            sent_when_full.append(n)

    sender = SlowSender(fill_after_ten)
    w = worker(disk, sender, time, limit=60)
    stop = asyncio.Event()
    with pytest.raises(StoreOutage, match=r"the database refused writes for 60 s \(OSError"):
        await asyncio.wait_for(w.run(stop), 10)
    assert sum(time.naps) == pytest.approx(60)  # backoff 0.5, 1, 2 ... cut at the limit
    assert max(time.naps) <= 30
    unrecorded = sender.sent[9:]  # the 10th send filled the disk: its own mark failed too
    before = Counter(chat for chat, _ in sender.sent)
    assert len({chat for chat, _ in unrecorded}) == len(unrecorded)  # one per chat at most
    assert len(sender.sent) < len(CHATS) * STORIES  # it stopped; no storm

    # the supervisor restarts Mirsad once space is back: everything arrives, and only the
    # alerts that were sent but not recorded go out a second time
    disk.full = False
    again = SlowSender()
    await run_until(
        worker(disk, again, FakeTime()),
        lambda: len(sender.sent) + len(again.sent) >= len(CHATS) * STORIES + len(unrecorded),
    )
    everything = Counter(sender.sent + again.sent)
    assert len(everything) == len(CHATS) * STORIES
    repeats = Counter(chat for (chat, _), n in everything.items() for _ in range(n - 1))
    assert all(n <= 1 for n in repeats.values())
    assert sum(repeats.values()) == len(unrecorded)
    assert {r["status"] for r in await store.outbox_rows()} == {"sent"}
    assert sum(before.values()) == len(sender.sent)


async def test_a_refused_retry_write_also_stops_sending_and_is_written_later(store: Store) -> None:
    await queue(store)
    disk = DiskFills(store)
    time = FakeTime()

    class FlakyThenFine(SlowSender):
        async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
            if target.chat_id == CHATS[0] and not self.failed_once:
                self.failed_once = True
                disk.full = True  # the disk fills as the platform answers 502
                return Retry("502 Bad Gateway")
            return await super().send(target, rendered)

        failed_once = False

    sender = FlakyThenFine()
    later = timedelta()
    w = worker(disk, sender, time, clock=lambda: utcnow() + later)

    def on_nap(_seconds: float) -> None:
        nonlocal later
        if len(time.naps) == 2:
            disk.full = False
            later = timedelta(minutes=1)  # past the retry's backoff

    time.on_nap = on_nap
    await run_until(w, lambda: len(sender.sent) >= len(CHATS) * STORIES)
    rows = await store.outbox_rows()
    assert {r["status"] for r in rows} == {"sent"}
    first = min((r for r in rows if r["chat_id"] == CHATS[0]), key=lambda r: r["id"])
    assert first["attempts"] == 2  # the owed retry was recorded (1), then the send (2)
    assert set(Counter(sender.sent).values()) == {1}


async def test_every_write_under_way_when_the_disk_fills_is_owed_and_written_later(
    store: Store,
) -> None:
    """Several "sent" marks are being written at once when the disk fills (on SQLite they
    wait their turn at the one writer): each that fails must join the one outage's list of
    owed writes. Found by test_disk_full under load: each failure began an outage of its
    own, dropping the writes the earlier ones owed, and those alerts went out again."""
    await queue(store)

    class WritesTakeTime(DiskFills):
        def __getattr__(self, name: str) -> Any:
            method = super().__getattr__(name)
            if name not in self.WRITES:
                return method

            async def write(*args: Any, **kwargs: Any) -> Any:
                await asyncio.sleep(0.02)  # the write is under way when the disk fills
                return await method(*args, **kwargs)

            return write

    disk = WritesTakeTime(store)
    time = FakeTime()

    class AllAtOnce(SlowSender):
        async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
            result = await super().send(target, rendered)
            if len(self.sent) == len(CHATS):  # every chat's first alert just went out
                disk.full = True
            return result

    sender = AllAtOnce()
    w = worker(disk, sender, time)
    problems: list[str | None] = []

    def on_nap(_seconds: float) -> None:
        problems.append(w.problem())
        if len(time.naps) == 2:
            disk.full = False

    time.on_nap = on_nap
    await run_until(w, lambda: len(sender.sent) >= len(CHATS) * STORIES and w.problem() is None)

    # every chat's mark failed, and every one is owed
    assert problems and (problems[0] or "").endswith(f"; {len(CHATS)} results not recorded yet")
    got = Counter(sender.sent)
    assert len(got) == len(CHATS) * STORIES
    assert set(got.values()) == {1}  # no alert went out twice
    assert {r["status"] for r in await store.outbox_rows()} == {"sent"}
