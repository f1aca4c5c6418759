"""The outbox worker with digests and quiet hours (issue 13), on SQLite and PostgreSQL: what
is held, when it goes out, and what a refused, failed or repeated digest leaves behind."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.outbox import OutboxWorker, Pacing
from alerts.payloads import (
    Digest,
    Failed,
    NewAlert,
    Payload,
    Rendered,
    RenderedDigest,
    RenderedNew,
    Retry,
    SendResult,
    Sent,
)
from store import ChatRhythm, FeedUpdate, Store, Subscription
from tests.helpers import FakeClock, match, story

CHAT = "7"
START = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)  # the stories are published 10:01, 10:02...


class RecordingSender:
    """Renders a single alert as its story id, a digest as `digest:` and its story ids in the
    order the digest shows them; answers from a script, else takes it."""

    platform = "telegram"

    def __init__(self) -> None:
        self.pacing = Pacing()
        self.sent: list[str] = []
        self.script: list[SendResult] = []

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        if isinstance(payload, Digest):
            ids = [a.story.id.rsplit("/", 1)[1] for a in payload.items]
            return RenderedDigest(("digest:" + ",".join(ids),))
        assert isinstance(payload, NewAlert)
        return RenderedNew(payload.story.id.rsplit("/", 1)[1])

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        if self.script:
            return self.script.pop(0)
        assert isinstance(rendered, RenderedDigest | RenderedNew)
        message = rendered.messages[0] if isinstance(rendered, RenderedDigest) else rendered.message
        self.sent.append(message)
        return Sent((str(len(self.sent)),))


async def queue(store: Store, clock: FakeClock, numbers: range, *, first: bool = True) -> None:
    now = clock()
    if first:
        await store.sync_feeds([("f", "https://example.org/feed", None, 60)], now)
        await store.ingest("f", [], {}, FeedUpdate(next_poll_at=now), now, alert=False)
        await store.save_subscription("telegram", CHAT, ["trump"], now)
    stories = [story(i) for i in numbers]
    await store.ingest(
        "f",
        stories,
        {s.id: match("trump") for s in stories},
        FeedUpdate(next_poll_at=now),
        now,
        alert=True,
    )


def worker(store: Store, sender: RecordingSender, clock: FakeClock) -> OutboxWorker:
    return OutboxWorker(
        store,
        {"telegram": sender},
        clock,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        zone=ZoneInfo("UTC"),
    )


async def chat_with(
    store: Store, clock: FakeClock, rhythm: ChatRhythm, numbers: range
) -> tuple[RecordingSender, OutboxWorker]:
    """A chat with `rhythm`, stories `numbers` queued for it, and a worker to deliver them."""
    await store.set_chat_rhythm("telegram", CHAT, rhythm, clock(), release_at=clock())
    await queue(store, clock, numbers)
    sender = RecordingSender()
    return sender, worker(store, sender, clock)


async def deliver(w: OutboxWorker) -> None:
    # a worker that spun on rows waiting behind a held alert would never return
    await asyncio.wait_for(w.deliver_due(), 10)


async def test_alerts_wait_for_the_daily_digest_and_go_out_in_it_once(store: Store) -> None:
    clock = FakeClock(START)
    sender, w = await chat_with(store, clock, ChatRhythm(digest="daily 08:00"), range(1, 4))
    await deliver(w)
    assert sender.sent == []
    rows = await store.outbox_rows()
    assert [r["status"] for r in rows] == ["pending"] * 3
    assert rows[0]["digest_at"] == datetime(2026, 2, 12, 8, 0, tzinfo=UTC)
    clock.now = datetime(2026, 2, 12, 7, 59, tzinfo=UTC)
    await deliver(w)
    assert sender.sent == []
    clock.now = datetime(2026, 2, 12, 8, 0, tzinfo=UTC)
    await deliver(w)
    await deliver(w)
    assert sender.sent == ["digest:1,2,3"]
    rows = await store.outbox_rows()
    assert [(r["status"], r["message_id"]) for r in rows] == [("sent", None)] * 3
    # the next story waits for the next morning
    await queue(store, clock, range(4, 5), first=False)
    await deliver(w)
    assert sender.sent == ["digest:1,2,3"]
    clock.now = datetime(2026, 2, 13, 8, 0, tzinfo=UTC)
    await deliver(w)
    assert sender.sent == ["digest:1,2,3", "digest:4"]  # a digest of one is still a digest


async def test_a_refused_digest_is_tried_again_whole_and_a_failed_one_fails_each_story(
    store: Store,
) -> None:
    clock = FakeClock(START)
    sender, w = await chat_with(store, clock, ChatRhythm(digest="hourly"), range(1, 3))
    await deliver(w)
    clock.now = datetime(2026, 2, 11, 13, 0, tzinfo=UTC)
    sender.script = [Retry("HTTP 502 from the platform")]
    await deliver(w)  # refused, then tried again after its backoff (the fake clock's sleep)
    assert sender.sent == ["digest:1,2"]
    rows = await store.outbox_rows()
    assert [r["status"] for r in rows] == ["sent", "sent"]

    await queue(store, clock, range(3, 5), first=False)
    await deliver(w)
    clock.now = datetime(2026, 2, 11, 14, 0, tzinfo=UTC)
    sender.script = [Failed("Bad Request: message is too long")]
    await deliver(w)
    rows = await store.outbox_rows()
    assert [(r["status"], r["last_error"]) for r in rows[2:]] == [
        ("failed", "Bad Request: message is too long")
    ] * 2


async def test_quiet_hours_release_one_held_alert_as_itself_and_several_as_a_digest(
    store: Store,
) -> None:
    clock = FakeClock(datetime(2026, 2, 11, 23, 30, tzinfo=UTC))
    sender, w = await chat_with(store, clock, ChatRhythm(quiet="23:00-07:00"), range(1, 2))
    await deliver(w)
    clock.now = datetime(2026, 2, 12, 7, 0, tzinfo=UTC)
    await deliver(w)
    assert sender.sent == ["1"]  # one story: its usual alert
    rows = await store.outbox_rows()
    assert rows[0]["message_id"] == "1"  # its own message: a correction can edit it

    clock.now = datetime(2026, 2, 12, 23, 5, tzinfo=UTC)
    await queue(store, clock, range(2, 4), first=False)
    await deliver(w)
    clock.now = datetime(2026, 2, 13, 7, 0, tzinfo=UTC)
    await deliver(w)
    assert sender.sent == ["1", "digest:2,3"]


async def test_a_correction_of_a_story_shown_in_a_digest_edits_nothing_and_is_not_a_failure(
    store: Store,
) -> None:
    clock = FakeClock(START)
    sender, w = await chat_with(store, clock, ChatRhythm(digest="hourly"), range(1, 3))
    await deliver(w)
    clock.now += timedelta(hours=1)
    await deliver(w)
    assert sender.sent == ["digest:1,2"]
    fixed = replace(story(1), title="title 1, corrected")
    result = await store.ingest(
        "f",
        [fixed],
        {},
        FeedUpdate(next_poll_at=clock()),
        clock(),
        alert=True,
        corrections={fixed.id: match("trump")},
    )
    assert result.edits == 1
    await deliver(w)
    assert sender.sent == ["digest:1,2"]  # a digest message is not the story's to edit
    edit = (await store.outbox_rows())[-1]
    assert edit["revision"] == 1 and edit["status"] == "cancelled"
    assert edit["last_error"].startswith("no message of its own to edit")


async def test_a_migrated_group_keeps_its_rhythm(store: Store) -> None:
    clock = FakeClock(START)
    rhythm = ChatRhythm(digest="weekly fri 09:00", tz="Asia/Riyadh", quiet="23:00-07:00")
    await store.set_chat_rhythm("telegram", "-5", rhythm, clock(), release_at=clock())
    await store.save_subscription("telegram", "-5", ["trump"], clock())
    await store.migrate_chat("telegram", "-5", "-1005", clock())
    assert await store.chat_rhythm("telegram", "-1005") == rhythm
    assert await store.chat_rhythm("telegram", "-5") == ChatRhythm()


class RefusesWritesWhileADigestIsRead:
    """A real store whose disk fills the moment a digest's stories are read: the "sent" mark
    of another chat's alert, written just then, is refused (and the worker's outage begins)
    before the read returns. Reads keep working, as on a full disk; the disk is freed once
    the read has returned."""

    WRITES = ("mark_sent", "mark_digest_sent", "mark_retry", "mark_failed", "hold_for_digest")

    def __init__(self, store: Store) -> None:
        self._store = store
        self.full = False
        self.refused = 0
        self._reading = asyncio.Event()

    async def digest_deliveries(self, *args: object, **kwargs: object) -> object:
        self.full = True
        self._reading.set()
        for _ in range(400):  # until the other chat's mark has been refused
            if self.refused:
                break
            await asyncio.sleep(0.005)
        rows = await self._store.digest_deliveries(*args, **kwargs)  # type: ignore[arg-type]
        self.full = False
        return rows

    def __getattr__(self, name: str) -> object:
        method = getattr(self._store, name)
        if name not in self.WRITES:
            return method

        async def write(*args: object, **kwargs: object) -> object:
            if name == "mark_sent":  # the other chat's mark waits for the digest's read
                await asyncio.wait_for(self._reading.wait(), 5)
            if self.full:
                self.refused += 1
                raise OSError(28, "No space left on device")
            return await method(*args, **kwargs)

        return write


async def test_a_digest_read_as_the_store_starts_refusing_writes_waits_for_the_store(
    store: Store,
) -> None:
    """Nothing goes out that cannot be recorded (issue 17), digests included: the worker
    checks for an outage before a send, but a digest first reads its stories, and the outage
    can begin during that read. The digest must then wait for the store, and go out once."""
    clock = FakeClock(START)
    sender, w = await chat_with(store, clock, ChatRhythm(digest="daily 08:00"), range(1, 3))
    await deliver(w)  # held for tomorrow's digest
    await store.save_subscription("telegram", "8", ["musk"], clock())  # hears at once
    clock.now = datetime(2026, 2, 12, 8, 0, tzinfo=UTC)
    musk = story(3)
    await store.ingest(
        "f", [musk], {musk.id: match("musk")}, FeedUpdate(next_poll_at=clock()), clock(), alert=True
    )
    disk = RefusesWritesWhileADigestIsRead(store)
    w = worker(disk, sender, clock)  # type: ignore[arg-type]
    sent_in_outage: list[str] = []
    send = sender.send

    async def noting(target: Subscription, rendered: Rendered[str]) -> SendResult:
        if w.problem() is not None:
            sent_in_outage.append(target.chat_id)
        return await send(target, rendered)

    sender.send = noting  # type: ignore[method-assign]
    await deliver(w)
    await deliver(w)

    assert disk.refused >= 1  # the outage did begin while the digest was read
    assert sent_in_outage == []
    assert sorted(sender.sent) == ["3", "digest:1,2"]  # each once, after the store came back
    assert {r["status"] for r in await store.outbox_rows()} == {"sent"}
