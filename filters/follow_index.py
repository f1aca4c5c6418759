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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick_rs

from filters.automaton import (
    _AR,
    _MARKS_RUN,
    _NAME_PREFIXES,
    _WORD_PREFIXES,
    Folded,
    _edges,
    _Key,
    fold_text,
)
from models import FOLLOW_LABEL, Evidence

__all__ = ["FollowHit", "FollowIndex", "by_subscription", "fold_for_follows"]

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
        removed = tuple(m.start() - k for k, m in enumerate(_HAMZA.finditer(low)))
        stages = (*stages, removed)
        low = low.replace("ء", "")
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
        # automaton key j -> its first entry; an entry is (term, edge rule, next entry or -1)
        self._rules: list[_Key] = []
        rule_ids: dict[tuple[bool, bool, str, bool], int] = {}
        first: dict[str, int] = {}
        self._entry_term = array("l")
        self._entry_rule = array("l")
        self._entry_next = array("l")

        def add(pattern: str, term: int, rule: tuple[bool, bool, str, bool]) -> None:
            rule_id = rule_ids.get(rule)
            if rule_id is None:
                rule_id = rule_ids[rule] = len(self._rules)
                self._rules.append(_rule(*rule))
            entry = len(self._entry_term)
            self._entry_term.append(term)
            self._entry_rule.append(rule_id)
            self._entry_next.append(first.get(pattern, -1))
            first[pattern] = entry

        for term, key in enumerate(self._terms):
            words = key.split(" ")
            first_ar, last_ar = _is_arabic(words[0]), _is_arabic(words[-1])
            plural = not last_ar and len(words[-1]) >= _MIN_PLURAL_STEM and words[-1].isalpha()
            if first_ar and words[0].startswith("ال") and len(words[0]) > 3:
                add(key, term, (first_ar, last_ar, "name", plural))
                add(key[1:], term, (first_ar, last_ar, "lam", plural))  # لل + ذكاء: ل + لذكاء
            else:
                add(key, term, (first_ar, last_ar, "word", plural))
        patterns = list(first)
        self._first = array("l", (first[p] for p in patterns))
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

        The cost is one fold and one automaton pass, plus a little per word found: it does
        not grow with the number of chats (the fan-out to each chat's alert is the queue's
        work, as it is for labels)."""
        automaton = self._automaton
        if automaton is None:
            return ()
        source = title + _JOIN + summary
        folded = fold_for_follows(source)
        text = folded.text
        raw = automaton.find_matches_as_indexes(text, overlapping=True)
        if not raw:
            return ()
        n = len(text)
        found: dict[int, tuple[int, int]] = {}  # term -> its first whole-word occurrence
        for index, start, end in raw:
            entry = self._first[index]
            while entry >= 0:
                term = self._entry_term[entry]
                if term not in found:
                    edges = _edges(text, n, start, end, self._rules[self._entry_rule[entry]])
                    if edges is not None:
                        found[term] = edges
                entry = self._entry_next[entry]
        hits = []
        split = len(title)
        for term, (lo, hi) in found.items():
            a, b = folded.original(lo), folded.original(hi - 1) + 1
            if (folded.stages or folded.offsets) and text[hi - 1] in _AR:
                marks = _MARKS_RUN.match(source, b)  # the harakat after a last letter (ذكاءً)
                b = marks.end() if marks else b
            field, base = ("title", 0) if a < split else ("summary", split + 1)
            evidence = Evidence(
                FOLLOW_LABEL, self._terms[term], source[a:b], field, a - base, b - base
            )
            hits.append(
                FollowHit(evidence, self._subs[self._starts[term] : self._starts[term + 1]])
            )
        return tuple(hits)


@dataclass(frozen=True, slots=True)
class FollowHit:
    """A followed word found in a story: where (as evidence labelled `#follow`, the matching
    form as `term`, the story's own words as `text`), and the subscriptions that follow it."""

    evidence: Evidence
    subscriptions: Sequence[int]


def by_subscription(hits: Iterable[FollowHit]) -> dict[int, list[Evidence]]:
    """subscription id -> the evidence of the words it follows among `hits`."""
    out: dict[int, list[Evidence]] = {}
    for hit in hits:
        for sub in hit.subscriptions:
            out.setdefault(sub, []).append(hit.evidence)
    return out


def _rule(first_ar: bool, last_ar: bool, prefixes: str, plural: bool) -> _Key:
    """The edge rule of a key (filters.automaton._edges reads only these four fields)."""
    before = {"word": _WORD_PREFIXES, "name": _NAME_PREFIXES, "lam": _LAM_PREFIXES}[prefixes]
    after = _LATIN_PLURALS if plural else _NOTHING
    return _Key(0, 0, first_ar, last_ar, before if first_ar else frozenset(), after)
