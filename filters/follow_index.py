"""Every chat's /follow words in ONE automaton (issue 13): a story is read once, whatever the
number of chats, and each word found is handed to every chat that follows it.

Pure; built from (subscription id, matching form) pairs (core.follows.term_key: normalised,
casefolded, ء dropped, words joined by one space), read-only once built, so the poller can swap
in a new one when the follows change (feeds/follows.py).

The words are read the Arabic-aware way of the watchlists (filters.automaton): the same folds
(أ إ آ -> ا, ى -> ي, ة -> ه, harakat and tatweel removed, separators inside a phrase read as
one space), whole words only, a phrase stays a phrase. What a followed word may carry:

- before an Arabic first word: one conjunction (و ف), one preposition (ب ك ل) and the article
  (والنفط, للنفط, بالنفط hold نفط); before a word that already has the article, only the
  conjunction and preposition, with ل + ال written لل (للذكاء الاصطناعي holds
  الذكاء الاصطناعي);
- after an Arabic last word: nothing (ماسك is not in التماسك, nor in ماسكة);
- a Latin word: no letter or digit of its script around it, except a plural -s/-es after a
  word of four letters or more (tariff -> tariffs; "ai" is not in "said");
- case, accents and ء do not matter (الذكا = الذكاء, Régulation = regulation).

Memory is what keeps this cheap at 10,000 chats x 20 words: one automaton key per distinct
word (a second one for the لل spelling), the chats of each word in flat integer arrays, and
shared edge rules instead of an object per key (BENCHMARKS.md, "/follow at scale").
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import ahocorasick_rs

from filters.automaton import (
    _AR,
    _MARKS,
    _MARKS_RUN,
    _NAME_PREFIXES,
    _WORD_PREFIXES,
    Folded,
    _Key,
    _remove,
    fold_text,
)
from filters.automaton import _edges as _automaton_edges
from models import FOLLOW_LABEL, Evidence

__all__ = ["FollowHit", "FollowIndex", "by_subscription", "fold_for_follows"]

_new = tuple.__new__
_LATIN_PLURALS = frozenset(("", "s", "es"))
_NOTHING = frozenset(("",))
_LAM_PREFIXES = frozenset(("ل", "ول", "فل"))
_MIN_PLURAL_STEM = 4
_JOIN = "\x00"  # between title and summary: no key holds it, and it is no letter
_HAMZA = re.compile("ء")


def _unaccent_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base != char:
            table[code] = base.lower()
    return table


_UNACCENT = _unaccent_table()
_ACCENTED = re.compile("[" + "".join(map(chr, _UNACCENT)) + "]")


def fold_for_follows(text: str) -> Folded:
    """`fold_text`, then lower case, Latin accents and ء removed, offsets kept: the text in
    the form of the followed words' keys."""
    folded = fold_text(text)
    low = folded.text.lower()
    if len(low) != len(folded.text):  # a letter whose lower case is longer (İ): keep it
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in folded.text)
    if _ACCENTED.search(low):
        low = low.translate(_UNACCENT)
    stages = folded.stages
    if "ء" in low:
        low, removed = _remove(_HAMZA, low)
        stages = (*stages, removed)
    return Folded(low, folded.offsets, stages)


def _is_arabic(word: str) -> bool:
    return bool(word) and word[0] in _AR


class FollowIndex:
    """The automaton of every followed word, and who follows each.

    >>> index = FollowIndex([(1, "ماسك"), (2, "ماسك"), (2, "gaza")])
    >>> [(h.evidence.text, list(h.subscriptions)) for h in index.find("قال لماسك إن التماسك", "")]
    [('لماسك', [1, 2])]
    """

    def __init__(self, follows: Iterable[tuple[int, str]], generation: int = 0) -> None:
        self.generation = generation
        by_key: dict[str, list[int]] = {}
        for sub_id, key in follows:
            if key.strip():
                by_key.setdefault(key, []).append(sub_id)
        self._terms: list[str] = list(by_key)
        # the chats of term i: _subs[_starts[i]:_starts[i + 1]]
        self._starts = array("l", [0])
        self._subs = array("l")
        for key in self._terms:
            self._subs.extend(sorted(set(by_key[key])))
            self._starts.append(len(self._subs))
        del by_key
        # Hits hand out read-only views of _subs, not copies: a word many chats follow has
        # thousands of them, and copying them for every story cost about a fifth of `find`
        # (BENCHMARKS.md, "/follow at scale").
        self._subs_view = memoryview(self._subs).toreadonly()
        # Automaton key j -> what to check for it, one integer: term << _RULE_BITS | rule. The
        # rare key two terms share (an لل spelling that is another term's word) holds -1 - i,
        # its entries in _shared[i]. Flat integers keep 200,000 terms small (BENCHMARKS.md).
        codes: dict[str, int] = {}
        shared: list[list[int]] = []

        def add(pattern: str, term: int, rule: int) -> None:
            code = term << _RULE_BITS | rule
            before = codes.get(pattern)
            if before is None:
                codes[pattern] = code
            elif before >= 0:
                codes[pattern] = -1 - len(shared)
                shared.append([code, before])
            else:
                shared[-1 - before].insert(0, code)  # the latest first, as it always was

        for term, key in enumerate(self._terms):
            words = key.split(" ")
            first_ar, last_ar = _is_arabic(words[0]), _is_arabic(words[-1])
            plural = not last_ar and len(words[-1]) >= _MIN_PLURAL_STEM and words[-1].isalpha()
            if first_ar and words[0].startswith("ال") and len(words[0]) > 3:
                add(key, term, _rule(first_ar, last_ar, _NAME, plural))
                add(key[1:], term, _rule(first_ar, last_ar, _LAM, plural))  # لل + ذكاء: ل + لذكاء
            else:
                add(key, term, _rule(first_ar, last_ar, _WORD, plural))
        patterns = list(codes)
        self._codes = array("q", (codes[p] for p in patterns))
        self._shared = tuple(tuple(entries) for entries in shared)
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                patterns,
                store_patterns=False,
                implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            )
            if patterns
            else None
        )

    def __len__(self) -> int:
        """How many distinct words are followed."""
        return len(self._terms)

    def find(self, title: str, summary: str) -> tuple[FollowHit, ...]:
        """Every followed word this story holds, once each, with the chats that follow it.

        The cost is one fold (shared with the watchlist matcher's, `fold_text` keeps the
        last few) and one automaton pass, plus a little per word found: it does not grow
        with the number of chats (the fan-out to each chat's alert is the queue's work, as
        it is for labels)."""
        automaton = self._automaton
        if automaton is None:
            return ()
        source = title + _JOIN + summary
        folded = fold_for_follows(source)
        text = folded.text
        raw = automaton.find_matches_as_indexes(text, overlapping=True)
        if not raw:
            return ()
        # The loop below runs for every raw occurrence (about 45 a story with 13,000 terms,
        # most of them short Arabic words inside longer ones), so it is written flat: the
        # rules of filters.automaton._edges for the few edge rules a followed word has.
        n = len(text)
        codes = self._codes
        found: dict[int, tuple[int, int]] = {}  # term -> its first whole-word occurrence
        for index, start, end in raw:
            code = codes[index]
            if code < 0:
                for entry in self._shared[-1 - code]:
                    term = entry >> _RULE_BITS
                    if term not in found:
                        edges = _edges(text, n, start, end, entry & _RULE_MASK)
                        if edges is not None:
                            found[term] = edges
                continue
            term = code >> _RULE_BITS
            if term in found:
                continue
            rule = code & _RULE_MASK
            lo = start
            hi = end
            # after the last word: an Arabic word takes nothing (most occurrences that do
            # not count end inside a longer word: checked first), a Latin one maybe a plural
            if end < n:
                c = text[end]
                if rule & _LAST_AR:
                    if c in _AR:
                        continue
                elif c.isalnum() and c not in _AR:
                    if not rule & _PLURAL:
                        continue
                    hi = end + 1
                    while hi < n and (c := text[hi]).isalnum() and c not in _AR:
                        hi += 1
                    if text[end:hi] not in _LATIN_PLURALS:
                        continue
            # before the first word: an Arabic one, only its allowed proclitics (the لل
            # spelling needs one); a Latin one, no Latin letter or digit
            if rule & _FIRST_AR:
                while lo and text[lo - 1] in _AR and start - lo < 5:
                    lo -= 1
                if text[lo:start] not in _PREFIXES[rule >> _PREFIX_SHIFT]:
                    continue
            elif start and (c := text[start - 1]).isalnum() and c not in _AR:
                continue
            found[term] = (lo, hi)
        # Back to the story's own offsets (Folded.original, inlined for its common case:
        # one stage of removed characters, hamza or marks) and its own words as evidence.
        stages = folded.stages
        removed = stages[0] if len(stages) == 1 and folded.offsets is None else None
        moved = bool(stages or folded.offsets)
        original = folded.original
        size = len(source)
        terms = self._terms
        starts = self._starts
        subs = self._subs_view
        split = len(title)
        hits = []
        for term, (lo, hi) in found.items():
            if removed is not None:
                a = lo + bisect_right(removed, lo)
                b = hi + bisect_right(removed, hi - 1)  # original(hi - 1) + 1
            elif moved:
                a, b = original(lo), original(hi - 1) + 1
            else:
                a, b = lo, hi
            if moved and b < size and source[b] in _MARKS and text[hi - 1] in _AR:
                marks = _MARKS_RUN.match(source, b)  # harakat after a last letter (ذكاءً)
                b = marks.end() if marks else b
            # tuple.__new__ is how a named tuple's own _make builds it, without the call
            # through its __new__ (half the cost of a hit)
            if a < split:
                evidence = _new(Evidence, (FOLLOW_LABEL, terms[term], source[a:b], "title", a, b))
            else:
                base = split + 1
                evidence = _new(
                    Evidence,
                    (FOLLOW_LABEL, terms[term], source[a:b], "summary", a - base, b - base),
                )
            hits.append(_new(FollowHit, (evidence, subs[starts[term] : starts[term + 1]])))
        return tuple(hits)


class FollowHit(NamedTuple):
    """A followed word found in a story: where (as evidence labelled `#follow`, the matching
    form as `term`, the story's own words as `text`), and the subscriptions that follow it
    (a read-only view into the index, not a copy). A named tuple: a story makes a dozen or
    more, and it is built faster than a frozen dataclass."""

    evidence: Evidence
    subscriptions: Sequence[int]


def by_subscription(hits: Iterable[FollowHit]) -> dict[int, list[Evidence]]:
    """subscription id -> the evidence of the words it follows among `hits`."""
    out: dict[int, list[Evidence]] = {}
    for hit in hits:
        for sub in hit.subscriptions:
            out.setdefault(sub, []).append(hit.evidence)
    return out


# A key's edge rule, in the low bits of its code: which ends are Arabic, whether a Latin last
# word may take a plural, and which proclitics an Arabic first word may carry.
_FIRST_AR, _LAST_AR, _PLURAL = 1, 2, 4
_PREFIX_SHIFT = 3
_WORD, _NAME, _LAM = 0, 1, 2  # with the article (a bare word), without (it has its own), لل
_PREFIXES = (_WORD_PREFIXES, _NAME_PREFIXES, _LAM_PREFIXES)
_RULE_BITS = 5
_RULE_MASK = (1 << _RULE_BITS) - 1


def _rule(first_ar: bool, last_ar: bool, prefixes: int, plural: bool) -> int:
    return (
        (_FIRST_AR if first_ar else 0)
        | (_LAST_AR if last_ar else 0)
        | (_PLURAL if plural else 0)
        | prefixes << _PREFIX_SHIFT
    )


def _edges(text: str, n: int, start: int, end: int, rule: int) -> tuple[int, int] | None:
    """filters.automaton._edges for a key's rule code (the loop of `find` inlines it)."""
    first_ar, last_ar = bool(rule & _FIRST_AR), bool(rule & _LAST_AR)
    before = _PREFIXES[rule >> _PREFIX_SHIFT] if first_ar else frozenset()
    after = _LATIN_PLURALS if rule & _PLURAL else _NOTHING
    return _automaton_edges(text, n, start, end, _Key(0, first_ar, last_ar, before, after))
