"""Every chat's /follow words in one automaton (filters/follow_index.py), the poller's copy of
it kept current (feeds/follows.py), and what the queue makes of a match (store/ingest.py):
one alert per story per chat with every reason, muted labels left out, a word unfollowed a
moment ago no longer alerting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.follows import term_key
from feeds.follows import FollowWatch
from filters.follow_index import FollowIndex, by_subscription
from models import FOLLOW_LABEL, Evidence, Match, Story
from store import FeedUpdate, FollowedTerm, Store
from tests.helpers import FakeClock


def index(*follows: tuple[int, str]) -> FollowIndex:
    return FollowIndex([(sub, term_key(words)) for sub, words in follows])


def found(ix: FollowIndex, title: str, summary: str = "") -> dict[int, list[str]]:
    """subscription -> the story's words that matched, as quoted."""
    return {
        sub: [e.text for e in evidence]
        for sub, evidence in by_subscription(ix.find(title, summary)).items()
    }


@pytest.mark.parametrize(
    ("followed", "text", "quoted"),
    [
        ("ماسك", "قال لماسك إن الشركة", "لماسك"),  # a preposition attached
        ("ماسك", "دعوات إلى التماسك", None),  # inside another word
        ("ماسك", "الماسكات الجديدة", None),  # a suffix is not the word
        ("نفط", "ارتفاع أسعار النفط اليوم", "النفط"),  # the article
        ("نفط", "وللنفط أهمية", "وللنفط"),  # و + ل + ال
        ("نفط", "سنفط", None),  # not a proclitic
        ("نفط", "ارتفعت أسعار للنفط", "للنفط"),  # ل + ال
        ("الذكاء الاصطناعي", "مؤتمر للذكاء الاصطناعي", "للذكاء الاصطناعي"),
        ("الذكاء الاصطناعي", "والذكاءِ الاصطناعيِّ", "والذكاءِ الاصطناعيِّ"),  # harakat
        ("الذكاء الاصطناعي", "الذكا الاصطناعي", "الذكا الاصطناعي"),  # ء dropped, as normalize
        ("الذكاء الاصطناعي", "الذكاء والفن الاصطناعي", None),  # a phrase stays a phrase
        ("إسرائيل", "قصف اسرائيلي", None),
        ("إسرائيل", "قالت اسرائيل", "اسرائيل"),  # أ إ آ folded
        ("Trump", "TRUMP says", "TRUMP"),  # case
        ("ai", "he said it", None),  # Latin word inside another
        ("tariff", "new tariffs on steel", "tariffs"),  # a plural
        ("régulation", "la REGULATION de l'IA", "REGULATION"),  # accents and case
        ("l'IA", "la régulation de l’IA", "l’IA"),  # the apostrophe is a separator
    ],
)
def test_words_are_read_the_watchlist_way(followed: str, text: str, quoted: str | None) -> None:
    ix = index((1, followed))
    assert found(ix, text) == ({1: [quoted]} if quoted else {})


def test_a_story_is_read_once_and_each_word_goes_to_every_chat_that_follows_it() -> None:
    ix = index((1, "غزة"), (2, "غزة"), (2, "Gaza"), (3, "ماسك"), (4, "الضفة الغربية"))
    assert len(ix) == 4  # one automaton key per distinct word, whatever the chats
    title = "قصف على غزة"
    summary = "Gaza: the West Bank too. وفي الضفة الغربية أيضا"
    hits = ix.find(title, summary)
    assert sorted((h.evidence.text, list(h.subscriptions)) for h in hits) == [
        ("Gaza", [2]),
        ("الضفة الغربية", [4]),
        ("غزة", [1, 2]),
    ]
    by_sub = by_subscription(hits)
    (gaza,) = by_sub[1]
    assert gaza == Evidence(FOLLOW_LABEL, "غزه", "غزة", "title", 8, 11)
    assert [(e.field, summary[e.start : e.end]) for e in by_sub[4]] == [
        ("summary", "الضفة الغربية")
    ]
    assert 3 not in by_sub
    assert FollowIndex([]).find(title, summary) == ()


async def test_the_poller_s_index_follows_the_store_s_generation(
    store: Store, clock: FakeClock
) -> None:
    watch = FollowWatch(store)
    empty = await watch.current()
    assert len(empty) == 0 and await watch.current() is empty  # nothing changed: same index
    await store.add_follows("telegram", "1", [FollowedTerm("غزة", term_key("غزة"))], clock())
    built = await watch.current()
    assert built is not empty and found(built, "قصف غزة")
    sub = await store.subscription("telegram", "1")
    assert sub is not None and found(built, "قصف غزة") == {sub.id: ["غزة"]}
    await store.remove_follows("telegram", "1", [term_key("غزة")], clock())
    assert found(await watch.current(), "قصف غزة") == {}


STORY = Story(
    id="https://example.org/1",
    feed_id="f",
    title="ترامب يزور غزة",
    summary="",
    link="https://example.org/1",
    published=FakeClock().now - timedelta(hours=1),
)


async def _ingest(store: Store, clock: FakeClock, labels: tuple[str, ...], follows: object) -> int:
    await store.sync_feeds([("f", "http://127.0.0.1/f.xml", "ar", 60)], clock())
    match = Match(
        labels, tuple(Evidence(label, "ترامب", "ترامب", "title", 0, 5) for label in labels)
    )
    result = await store.ingest(
        "f",
        [STORY],
        {STORY.id: match} if labels else {},
        FeedUpdate(next_poll_at=clock() + timedelta(minutes=5)),
        clock(),
        alert=True,
        follows=follows,  # type: ignore[arg-type]
    )
    return result.queued


async def test_one_alert_per_story_per_chat_with_every_reason_and_mutes_apart(
    store: Store, clock: FakeClock
) -> None:
    """A chat that receives trump and follows غزة gets ONE alert for a story holding both,
    carrying the label and #follow; a chat that muted trump still gets the story for its
    word; a chat that muted trump and follows nothing in it gets nothing."""
    both = await store.save_subscription("telegram", "1", ["trump"], clock())
    muted_with_word = await store.save_subscription("telegram", "2", ["trump"], clock())
    muted_only = await store.save_subscription("telegram", "3", ["trump"], clock())
    gaza = FollowedTerm("غزة", term_key("غزة"))
    for chat in ("1", "2"):
        await store.add_follows("telegram", chat, [gaza], clock())
    for chat in ("2", "3"):
        await store.set_mutes("telegram", chat, ["trump"], None, clock())
    word = Evidence(FOLLOW_LABEL, gaza.key, "غزة", "title", 11, 14)
    follows = {STORY.id: {both.id: [word], muted_with_word.id: [word]}}
    assert await _ingest(store, clock, ("trump",), follows) == 2
    deliveries = {d.subscription.id: d for d in await store.next_deliveries(["telegram"], clock())}
    assert set(deliveries) == {both.id, muted_with_word.id}
    assert deliveries[both.id].match.labels == ("trump", FOLLOW_LABEL)
    assert deliveries[both.id].match.evidence_for(FOLLOW_LABEL) == (word,)
    assert muted_only.id not in deliveries


async def test_a_story_with_only_a_followed_word_is_delivered_without_a_label_match(
    store: Store, clock: FakeClock
) -> None:
    sub = await store.save_subscription("discord", "5", [], clock())
    await store.add_follows("discord", "5", [FollowedTerm("غزة", term_key("غزة"))], clock())
    sub_after = await store.subscription("discord", "5")
    assert sub_after is not None and sub_after.active
    word = Evidence(FOLLOW_LABEL, term_key("غزة"), "غزة", "title", 11, 14)
    assert await _ingest(store, clock, (), {STORY.id: {sub.id: [word]}}) == 1
    [delivery] = await store.next_deliveries(["discord"], clock())
    assert delivery.match == Match((FOLLOW_LABEL,), (word,))


async def test_a_word_unfollowed_after_the_index_was_built_does_not_alert(
    store: Store, clock: FakeClock
) -> None:
    gaza = FollowedTerm("غزة", term_key("غزة"))
    await store.add_follows("telegram", "7", [gaza, FollowedTerm("Musk", "musk")], clock())
    sub = await store.subscription("telegram", "7")
    assert sub is not None
    await store.remove_follows("telegram", "7", [gaza.key], clock())  # the index lags behind
    word = Evidence(FOLLOW_LABEL, gaza.key, "غزة", "title", 11, 14)
    assert await _ingest(store, clock, (), {STORY.id: {sub.id: [word]}}) == 0
