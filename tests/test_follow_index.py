"""Every chat's /follow words in one automaton (filters/follow_index.py), the poller's copy of
it kept current (feeds/follows.py), and what the queue makes of a match (store/ingest.py):
one alert per story per chat with every reason, muted labels left out, a word unfollowed a
moment ago no longer alerting."""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest

from core.follows import COMMON_WORDS, term_key
from feeds.follows import FollowWatch
from filters.automaton import _AR, _MARKS, _MARKS_RUN, _NAME_PREFIXES, _WORD_PREFIXES, _edges, _Key
from filters.follow_index import FollowIndex, by_subscription, fold_for_follows
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
    assert sorted((evidence.text, list(subs)) for evidence, subs in hits) == [
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


# -- find, against the rules read word by word --------------------------------------------------

_STORIES = Path(__file__).parent / "data" / "matcher" / "stories.jsonl"


def _perturbed(text: str, kind: int) -> str:
    """The story as feeds also write it: harakat and tatweel, decomposed letters and the
    lam-alef ligature, capitals and odd spaces (the fold's slower paths)."""
    if kind == 1:
        marked = "".join(
            c + "\u064e" if "\u0628" <= c <= "\u0647" and i % 3 == 0 else c
            for i, c in enumerate(text)
        )
        return " ".join(w[:2] + "\u0640" + w[2:] if len(w) > 3 else w for w in marked.split(" "))
    if kind == 2:
        return unicodedata.normalize("NFKD", text).replace("لا", "\ufefb")
    if kind == 3:
        spaces = ("  ", "\xa0", "\n", " ")
        parts = text.upper().split(" ")
        return "".join(p + spaces[i % 4] for i, p in enumerate(parts[:-1])) + parts[-1]
    return text


def _reference(
    follows: list[tuple[int, str]], title: str, summary: str
) -> list[tuple[Evidence, list[int]]]:
    """What `FollowIndex.find` must say, read the slow way: every occurrence of each term's
    keys (str.find), checked with the watchlists' own edge rules (filters.automaton._edges),
    the first whole-word one in the order an automaton reports them (by end, the longest
    first), offsets through Folded.original."""
    chats: dict[str, set[int]] = {}
    for sub, key in follows:
        chats.setdefault(key, set()).add(sub)
    source = title + "\x00" + summary
    folded = fold_for_follows(source)
    text, n = folded.text, len(folded.text)
    first: list[tuple[int, int, int, int, int, str]] = []
    for order, key in enumerate(chats):
        words = key.split(" ")
        first_ar, last_ar = words[0][0] in _AR, words[-1][0] in _AR
        after = (
            frozenset(("", "s", "es"))
            if not last_ar and len(words[-1]) >= 4 and words[-1].isalpha()
            else frozenset(("",))
        )
        keys = [(key, _WORD_PREFIXES, 0)]
        if first_ar and words[0].startswith("ال") and len(words[0]) > 3:
            keys = [(key, _NAME_PREFIXES, 0), (key[1:], frozenset(("ل", "ول", "فل")), 1)]
        found = []
        for form, before, lam in keys:
            rule = _Key(0, first_ar, last_ar, before if first_ar else frozenset(), after)
            at = text.find(form)
            while at >= 0:
                edges = _edges(text, n, at, at + len(form), rule)
                if edges is not None:
                    # a key two terms share: the one added last is read first
                    found.append((at + len(form), at, -(2 * order + lam), *edges, key))
                at = text.find(form, at + 1)
        if found:
            first.append(min(found))
    out = []
    for _, _, _, lo, hi, key in sorted(first):
        a, b = folded.original(lo), folded.original(hi - 1) + 1
        if b < len(source) and source[b] in _MARKS and text[hi - 1] in _AR:
            b = _MARKS_RUN.match(source, b).end()  # type: ignore[union-attr]
        field, base = ("title", 0) if a < len(title) else ("summary", len(title) + 1)
        evidence = Evidence(FOLLOW_LABEL, key, source[a:b], field, a - base, b - base)
        out.append((evidence, sorted(chats[key])))
    return out


def test_find_says_what_the_rules_say_word_by_word_on_every_test_story() -> None:
    """The fast path of `find` (one automaton over cp1256 bytes, the edge rules inlined, the
    لل spelling as one key, offsets through one merged table) against `_reference`, on the
    669 test stories and perturbed copies, for words drawn from those stories: the words
    with the article with their لل-spelling neighbours followed too (لذكاء, للذكاء), Latin
    words that may take a plural, phrases, a word outside cp1256, and the edges of a word:
    a phrase broken by punctuation or by the end of the title, a letter outside cp1256
    right after a word, a plural that is itself a followed word."""
    rows = [json.loads(line) for line in _STORIES.read_text(encoding="utf-8").splitlines()]
    rows.append({"id": "cyrillic", "title": "Мир: Gaza мира", "summary": "قال ترامب «мир» в Газе"})
    rows.append({"id": "lam", "title": "فللنفط وللذكاء الاصطناعي", "summary": "للنفط لنفط النفط"})
    # the edges of a word: a phrase's words apart by a comma, by nothing but punctuation, or
    # by the end of the title; a letter outside cp1256 right after a word (Urdu's ٹ,
    # Cyrillic); a plural that is also a followed word, and a double plural
    rows.append({"id": "edges", "title": "النفط،الذكاء ترامبٹ gazaм", "summary": "النفط، الذكاء"})
    rows.append({"id": "split", "title": "سعر النفط", "summary": "الذكاء tariffs tariffses"})
    rows.append({"id": "run", "title": "ترامب.gaza «النفط الذكاء» Gazas", "summary": "tariff-s"})
    vocab: dict[str, None] = {}
    for row in rows[::2]:
        words = term_key(str(row.get("title") or "")).split()
        for i, word in enumerate(words):
            if len(word) > 2 and word not in COMMON_WORDS:
                vocab[word] = None
                if i + 1 < len(words) and len(words[i + 1]) > 2:
                    vocab[f"{word} {words[i + 1]}"] = None
    rng = random.Random(13)
    terms = rng.sample(sorted(vocab), 400)
    article = [t for t in terms if t.startswith("ال") and len(t.split()[0]) > 3]
    terms += [t[1:] for t in article[:15]] + ["ل" + t[1:] for t in article[15:30]]
    extra = ("tariff", "tariffs", "gaza", "trump", "мир", "газе", "النفط", "الذكاء الاصطناعي")
    extra += ("ترامب", "النفط الذكاء")
    terms += [term_key(t) for t in extra]
    follows = [(rng.randrange(50), t) for t in terms for _ in range(rng.randint(1, 3))]
    ix = FollowIndex(follows)
    differ = []
    checked = 0
    for row in rows:
        for kind in range(4):
            title = _perturbed(str(row.get("title") or ""), kind)
            summary = _perturbed(str(row.get("summary") or ""), kind)
            got = [(evidence, list(subs)) for evidence, subs in ix.find(title, summary)]
            checked += len(got)
            if got != _reference(follows, title, summary):
                differ.append(f"{row['id']} form {kind}")
    assert checked > 5000  # the stories do hold the words drawn from them
    assert differ == []
