"""The store's side of /follow and /mute (issue 13), on SQLite and, when
MIRSAD_TEST_POSTGRES_URL is set, PostgreSQL: rows, order, the generation the matcher watches,
the subscription a follow makes or ends, mutes that end by themselves."""

from __future__ import annotations

from datetime import timedelta

from store import FollowedTerm, Mute, Store
from tests.helpers import FakeClock

T = FollowedTerm


async def test_following_makes_a_subscription_and_bumps_the_generation(
    store: Store, clock: FakeClock
) -> None:
    assert await store.follow_generation() == 0
    await store.add_follows("telegram", "42", [T("ترامب", "ترامب"), T("Gaza", "gaza")], clock())
    sub = await store.subscription("telegram", "42")
    assert sub is not None and sub.active and sub.labels == ()
    assert await store.follows("telegram", "42") == [T("ترامب", "ترامب"), T("Gaza", "gaza")]
    assert await store.follow_generation() == 1
    # a word already followed is not added twice; a new one comes after the others
    await store.add_follows("telegram", "42", [T("gaza", "gaza"), T("النفط", "النفط")], clock())
    assert [f.key for f in await store.follows("telegram", "42")] == ["ترامب", "gaza", "النفط"]
    assert await store.follow_generation() == 2
    assert sorted(await store.all_follows()) == sorted(
        [(sub.id, "ترامب"), (sub.id, "gaza"), (sub.id, "النفط")]
    )
    # another chat, and a forum topic of the same chat, have their own words
    await store.add_follows("telegram", "42", [T("Musk", "musk")], clock(), thread_id="7")
    assert await store.follows("telegram", "42", "7") == [T("Musk", "musk")]
    assert await store.follows("discord", "42") == []


async def test_the_last_word_unfollowed_unsubscribes_a_chat_without_labels(
    store: Store, clock: FakeClock
) -> None:
    await store.add_follows("telegram", "1", [T("ترامب", "ترامب"), T("Gaza", "gaza")], clock())
    assert await store.remove_follows("telegram", "1", ["gaza", "absent"], clock()) == [
        T("Gaza", "gaza")
    ]
    sub = await store.subscription("telegram", "1")
    assert sub is not None and sub.active
    assert await store.remove_follows("telegram", "1", ["ترامب"], clock()) == [T("ترامب", "ترامب")]
    sub = await store.subscription("telegram", "1")
    assert sub is not None and not sub.active and sub.paused_reason == "unsubscribed"
    # following again brings it back
    await store.add_follows("telegram", "1", [T("Gaza", "gaza")], clock())
    sub = await store.subscription("telegram", "1")
    assert sub is not None and sub.active


async def test_labels_and_words_keep_each_other_alive(store: Store, clock: FakeClock) -> None:
    await store.save_subscription("telegram", "2", ["trump"], clock())
    await store.add_follows("telegram", "2", [T("Gaza", "gaza")], clock())
    # the last label removed: the words still make it a subscription
    sub = await store.save_subscription("telegram", "2", [], clock())
    assert sub.active and sub.labels == ()
    assert await store.clear_follows("telegram", "2", clock()) == 1
    sub2 = await store.subscription("telegram", "2")
    assert sub2 is not None and not sub2.active
    assert await store.follows("telegram", "2") == []


async def test_a_mute_ends_by_itself_and_unmute_ends_it_sooner(
    store: Store, clock: FakeClock
) -> None:
    await store.save_subscription("discord", "9", ["trump", "ai"], clock())
    until = clock() + timedelta(hours=24)
    assert await store.set_mutes("discord", "9", ["trump"], until, clock())
    assert await store.set_mutes("discord", "9", ["ai"], None, clock())
    assert await store.mutes("discord", "9", clock()) == [Mute("ai", None), Mute("trump", until)]
    later = clock() + timedelta(hours=24, seconds=1)
    assert await store.mutes("discord", "9", later) == [Mute("ai", None)]
    # an expired mute is no longer "muted"; the open-ended one is
    assert await store.remove_mutes("discord", "9", ["trump", "ai"], later) == ["ai"]
    assert await store.mutes("discord", "9", clock()) == []
    # no subscription, nothing to mute
    assert not await store.set_mutes("discord", "10", ["ai"], None, clock())
