"""The outbox worker: order, pacing, retry_after, pause, migrate, failures, restart."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

from alerts.outbox import OutboxWorker, Pacing
from alerts.payloads import (
    Failed,
    Gone,
    Moved,
    NewAlert,
    Payload,
    Rendered,
    RenderedNew,
    Retry,
    SendResult,
    Sent,
)
from core.pause import PauseReason
from store import FeedUpdate, Store, Subscription
from tests.helpers import FakeClock, match, story


def utcnow() -> datetime:
    return datetime.now(UTC)


class FakeSender:
    """Records each send with its loop time; answers from a per-chat script."""

    platform = "telegram"

    def __init__(self, pacing: Pacing | None = None) -> None:
        self.pacing = pacing or Pacing()
        self.sent: list[tuple[str, str, float]] = []  # (chat, story id, loop time)
        self.script: dict[str, list[SendResult | Exception]] = {}

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        assert isinstance(payload, NewAlert)
        return RenderedNew(payload.story.id)

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        assert isinstance(rendered, RenderedNew)
        chat = target.chat_id
        queue = self.script.get(chat)
        if queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            if not isinstance(answer, Sent):
                return answer
        self.sent.append((chat, rendered.message, asyncio.get_running_loop().time()))
        return Sent((str(len(self.sent)),))


async def queue_stories(
    store: Store, chats: list[str], n: int, labels: tuple[str, ...] = ("trump",)
) -> None:
    now = utcnow()
    await store.sync_feeds([("f", "https://example.org/feed", None, 60)], now)
    await store.ingest("f", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
    for chat in chats:
        await store.save_subscription("telegram", chat, list(labels), now)
    stories = [story(i) for i in range(1, n + 1)]
    await store.ingest(
        "f",
        stories,
        {s.id: match(*labels) for s in stories},
        FeedUpdate(next_poll_at=now),
        now,
        alert=True,
    )


async def test_every_alert_sent_once_in_publication_order(store: Store) -> None:
    await queue_stories(store, ["1", "2", "3"], 4)
    sender = FakeSender()
    worker = OutboxWorker(store, {"telegram": sender}, utcnow)
    assert await worker.deliver_due() == 12
    for chat in ("1", "2", "3"):
        assert [s for c, s, _ in sender.sent if c == chat] == [story(i).id for i in range(1, 5)]
    rows = await store.outbox_rows()
    assert {r["status"] for r in rows} == {"sent"}
    assert len({r["message_id"] for r in rows}) == 12
    assert await worker.deliver_due() == 0  # nothing is sent twice


async def test_per_chat_and_group_gaps_and_overall_rate(store: Store) -> None:
    await queue_stories(store, ["7", "-8"], 3)
    sender = FakeSender(Pacing(overall_per_second=50, chat_gap=0.1, group_gap=0.3))
    await OutboxWorker(store, {"telegram": sender}, utcnow).deliver_due()
    for chat, gap in (("7", 0.1), ("-8", 0.3)):
        times = [t for c, _, t in sender.sent if c == chat]
        assert len(times) == 3
        assert all(b - a >= gap * 0.95 for a, b in itertools.pairwise(times))
    everything = sorted(t for _, _, t in sender.sent)
    assert all(b - a >= 0.019 for a, b in itertools.pairwise(everything))  # 50/s


async def test_retry_after_is_honoured_and_not_counted_as_an_attempt(store: Store) -> None:
    await queue_stories(store, ["1"], 2)
    sender = FakeSender()
    sender.script["1"] = [Retry("429 Too Many Requests", retry_after=0.4)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    await OutboxWorker(store, {"telegram": sender}, utcnow).deliver_due()
    assert [s for _, s, _ in sender.sent] == [story(1).id, story(2).id]  # order kept
    assert sender.sent[0][2] - started >= 0.4
    rows = await store.outbox_rows()
    assert [r["attempts"] for r in rows] == [1, 1]


async def test_gone_pauses_the_chat_with_the_reason(store: Store) -> None:
    await queue_stories(store, ["1", "2"], 3)
    sender = FakeSender()
    sender.script["1"] = [Gone(PauseReason("blocked", "Forbidden: bot was blocked by the user"))]
    await OutboxWorker(store, {"telegram": sender}, utcnow).deliver_due()
    assert {c for c, _, _ in sender.sent} == {"2"}
    sub = await store.subscription("telegram", "1")
    assert sub is not None and not sub.active
    assert sub.paused_reason == "blocked: Forbidden: bot was blocked by the user"
    statuses = [(r["chat_id"], r["status"]) for r in await store.outbox_rows()]
    assert statuses.count(("1", "cancelled")) == 3 and statuses.count(("2", "sent")) == 3


async def test_moved_rewrites_the_chat_and_sends_there(store: Store) -> None:
    await queue_stories(store, ["-5"], 2)
    sender = FakeSender()
    sender.script["-5"] = [Moved("-1005", reason="migrated")]
    await OutboxWorker(store, {"telegram": sender}, utcnow).deliver_due()
    assert [(c, s) for c, s, _ in sender.sent] == [("-1005", story(1).id), ("-1005", story(2).id)]
    assert await store.subscription("telegram", "-5") is None


async def test_failed_alert_is_given_up_and_the_next_goes_on(store: Store) -> None:
    await queue_stories(store, ["1"], 2)
    sender = FakeSender()
    sender.script["1"] = [Failed("Bad Request: message is too long")]
    await OutboxWorker(store, {"telegram": sender}, utcnow).deliver_due()
    assert [s for _, s, _ in sender.sent] == [story(2).id]
    rows = await store.outbox_rows()
    assert [(r["status"], r["last_error"]) for r in rows] == [
        ("failed", "Bad Request: message is too long"),
        ("sent", None),
    ]


async def test_unexpected_error_is_retried_later_not_lost(store: Store) -> None:
    await queue_stories(store, ["1"], 1)
    sender = FakeSender()
    sender.script["1"] = [ConnectionResetError("reset by peer")]
    clock = FakeClock(utcnow())
    seen: list[tuple[float, str, int, str]] = []

    async def sleep(seconds: float) -> None:  # what the store holds while the worker waits
        (row,) = await store.outbox_rows()
        seen.append((seconds, row["status"], row["attempts"], row["last_error"] or ""))
        await clock.sleep(seconds)

    worker = OutboxWorker(
        store, {"telegram": sender}, clock, monotonic=clock.monotonic, sleep=sleep
    )
    await asyncio.wait_for(worker.deliver_due(), 10)
    _, status, attempts, error = seen[0]
    assert (status, attempts) == ("pending", 1) and "reset by peer" in error
    assert 4.9 <= sum(s for s, *_ in seen) <= 10.1  # the backoff is waited out, then it is sent
    (row,) = await store.outbox_rows()
    assert row["status"] == "sent" and len(sender.sent) == 1


async def test_restart_resumes_pending_without_repeats(database_url: str) -> None:
    url = database_url
    first = await Store.open(url)
    await queue_stories(first, ["1", "2"], 5)
    sender = FakeSender(Pacing(chat_gap=0.05))
    worker = OutboxWorker(first, {"telegram": sender}, utcnow)
    task = asyncio.create_task(worker.deliver_due())
    while len(sender.sent) < 4:
        await asyncio.sleep(0.01)
    task.cancel()  # the process stops mid-burst
    await asyncio.gather(task, return_exceptions=True)
    await worker.drain()
    await first.close()

    second = await Store.open(url)
    try:
        await OutboxWorker(second, {"telegram": sender}, utcnow).deliver_due()
        pairs = [(c, s) for c, s, _ in sender.sent]
        assert sorted(set(pairs)) == sorted(
            (c, story(i).id) for c in ("1", "2") for i in range(1, 6)
        )
        assert len(pairs) - len(set(pairs)) <= 2  # at most one repeat per chat at the stop
        assert {r["status"] for r in await second.outbox_rows()} == {"sent"}
    finally:
        await second.close()


async def test_run_loop_delivers_when_woken_and_stops(store: Store) -> None:
    sender = FakeSender()
    worker = OutboxWorker(store, {"telegram": sender}, utcnow)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await queue_stories(store, ["1"], 2)
    worker.wake()
    for _ in range(200):
        if len(sender.sent) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert len(sender.sent) == 2
