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
word (a second one for the لل spelling), over cp1256 bytes; the chats of each word in one
shared tuple; edge rules in one integer per key (BENCHMARKS.md, "/follow at scale").
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from codecs import charmap_encode
from collections.abc import Iterable, Sequence
from encodings.cp1256 import encoding_table as _CP1256
from functools import cache
from itertools import accumulate
from operator import itemgetter

import ahocorasick_rs

from filters.automaton import (
    _AR,
    _MARKS,
    _MARKS_RUN,
    _NAME_PREFIXES,
    _WORD_PREFIXES,
    Folded,
    _Key,
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
_BYTES = "cp1256"
# `text.encode(_BYTES, "replace")` is charmap_encode(text, "replace", _CP1256)[0], without the
# codec registry's look-up and the Python-level `Codec.encode` call: a quarter less time on
# a story's text (BENCHMARKS.md, "/follow at scale")
_HAMZA_BYTE = "ء".encode(_BYTES)
_PLURAL_BYTES = frozenset(p.encode() for p in _LATIN_PLURALS)
# every byte but "?" and those of the accented letters cp1256 has (à â ç è é ê ë î ï ô ù û ü)
_NOT_ACCENTED = bytes(
    b for b in range(256) if b != ord("?") and ord(bytes([b]).decode(_BYTES)) not in _UNACCENT
)
# the same without Œ, the one letter above ASCII that str.lower() changes and bytes.lower()
# leaves: the bytes `find` may lower as bytes
_PLAIN = bytes(b for b in _NOT_ACCENTED if b < 128 or (c := bytes([b]).decode(_BYTES)).lower() == c)


def fold_for_follows(text: str) -> Folded:
    """`fold_text`, then lower case, Latin accents and ء removed, offsets kept: the text in
    the form of the followed words' keys."""
    low, offsets, stages, _, _ = _fold(text)
    return Folded(low, offsets, stages)


def _fold(
    text: str,
) -> tuple[str, tuple[int, ...] | None, tuple[tuple[int, ...], ...], bool, bytes]:
    """`fold_for_follows` as a plain tuple (what `find` reads of it, built faster than a
    Folded), whether the original may hold marks that `fold_text` removed, and the folded
    text as cp1256 bytes (one byte a character, "?" for one outside cp1256)."""
    folded = fold_text(text)
    low = folded.text.lower()
    if len(low) != len(folded.text):  # a letter whose lower case is longer (İ): keep it
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in folded.text)
    encoded = charmap_encode(low, "replace", _CP1256)[0]
    # An accented letter is one of the few cp1256 has, or a "?": most stories have
    # neither, and deleting every other byte costs less than the regex's search.
    if encoded.translate(None, _NOT_ACCENTED) and _ACCENTED.search(low):
        low = low.translate(_UNACCENT)
        encoded = charmap_encode(low, "replace", _CP1256)[0]
    stages = folded.stages
    marks = bool(stages or folded.offsets)
    if "ء" in low:  # half the Arabic stories: str.split, not a regex's
        parts = low.split("ء")
        low = "".join(parts)
        stages = (*stages, tuple(accumulate(map(len, parts[:-1]))))
        encoded = encoded.replace(_HAMZA_BYTE, b"")
    return low, folded.offsets, stages, marks, encoded


def _is_arabic(word: str) -> bool:
    return bool(word) and word[0] in _AR


class FollowIndex:
    """The automaton of every followed word, and who follows each.

    >>> index = FollowIndex([(1, "ماسك"), (2, "ماسك"), (2, "gaza")])
    >>> [(e.text, list(subs)) for e, subs in index.find("قال لماسك إن التماسك", "")]
    [('لماسك', [1, 2])]
    """

    def __init__(self, follows: Iterable[tuple[int, str]], generation: int = 0) -> None:
        self.generation = generation
        by_key: dict[str, list[int]] = {}
        for sub_id, key in follows:
            if key.strip():
                by_key.setdefault(key, []).append(sub_id)
        self._terms: list[str] = list(by_key)
        # The chats of each term, as a tuple the hits share (never a copy: a word many chats
        # follow has thousands). One int object per chat and one 1-tuple per chat for the
        # words only that chat follows, so 200,000 follows cost about what flat arrays did
        # (BENCHMARKS.md, "/follow at scale").
        ints: dict[int, int] = {}
        alone: dict[int, tuple[int]] = {}
        self._chats: list[tuple[int, ...]] = []
        for key in self._terms:
            subs = sorted(set(by_key[key]))
            if len(subs) == 1:
                sub = ints.setdefault(subs[0], subs[0])
                self._chats.append(alone.setdefault(sub, (sub,)))
            else:
                self._chats.append(tuple(ints.setdefault(sub, sub) for sub in subs))
        del by_key, ints, alone
        # Automaton key j -> what to check for it, one integer: term << _RULE_BITS | rule. The
        # rare key two terms share holds i << _RULE_BITS | _SHARED, its entries in _shared[i].
        # Flat integers keep 200,000 terms small (BENCHMARKS.md).
        codes: dict[str, int] = {}
        shared: list[list[int]] = []

        def add(pattern: str, term: int, rule: int) -> None:
            code = term << _RULE_BITS | rule
            before = codes.get(pattern)
            if before is None:
                codes[pattern] = code
            elif not before & _SHARED:
                codes[pattern] = len(shared) << _RULE_BITS | _SHARED
                shared.append([code, before])
            else:
                shared[before >> _RULE_BITS].insert(0, code)  # the latest first, as it was

        # A word with the article (الذكاء) is also found after ل, which drops its alef:
        # للذكاء. That spelling's key is the whole للذكا (taking only و or ف before it), not
        # لذكا after a ل: لذكا is inside every الذكا, a raw occurrence to reject in each
        # story that has the word (a sixth of all raw occurrences). Where the short key is
        # another term's key, or the long one is, the short key stays (ل before it, as it
        # always was), so that hits keep their order when two words end at the same letter.
        own: set[str] = set()
        lam: list[int] = []
        for term, key in enumerate(self._terms):
            own.add(key)
            first = key.split(" ", 1)[0]
            if first.startswith("ال") and len(first) > 3 and key[0] in _AR:
                lam.append(term)
        after_lam = {self._terms[t][1:] for t in lam}
        long_lam = {"ل" + self._terms[t][1:] for t in lam}
        whole: set[int] = set()
        for t in lam:
            short = self._terms[t][1:]
            long = "ل" + short
            if not ({short, long} & own or short in long_lam or long in after_lam):
                whole.add(t)
        for term, key in enumerate(self._terms):
            words = key.split(" ")
            first_ar, last_ar = _is_arabic(words[0]), _is_arabic(words[-1])
            plural = not last_ar and len(words[-1]) >= _MIN_PLURAL_STEM and words[-1].isalpha()
            if first_ar and words[0].startswith("ال") and len(words[0]) > 3:
                add(key, term, _rule(first_ar, last_ar, _NAME, plural))
                if term in whole:
                    add("ل" + key[1:], term, _rule(first_ar, last_ar, _LL, plural))
                else:
                    add(key[1:], term, _rule(first_ar, last_ar, _LAM, plural))  # ل + لذكاء
            else:
                add(key, term, _rule(first_ar, last_ar, _WORD, plural))
        del own, lam, after_lam, long_lam, whole
        # The automaton reads the story as cp1256 bytes (one byte a letter, Arabic and
        # Latin): a third of the memory of a UTF-8 automaton, so the scan, right after the
        # matcher's, loses less to the caches, and offsets need no conversion. The rare key
        # with a letter outside cp1256 goes to a second automaton on the text itself, read
        # only for a story that holds such a letter.
        exact = [p for p in codes if "?" not in p and _encodes(p)]
        others = [p for p in codes if "?" in p or not _encodes(p)]
        # The keys whose last word is Arabic first, those whose first word is Arabic too
        # before the others: `find` tells them by their index alone, and drops those found
        # inside a longer word (a third of all occurrences) without reading their code.
        # Which index a key has does not change the order in which the automaton reports
        # occurrences (by end, the longest first).
        # (Three lists, not a sort: a sort key's tuple per key stayed in the allocator's
        # arenas, +0.9 MB resident.)
        ends_arabic = [p for p in exact if codes[p] & _LAST_AR]
        both_arabic = [p for p in ends_arabic if codes[p] & _FIRST_AR]
        exact = [
            *both_arabic,
            *(p for p in ends_arabic if not codes[p] & _FIRST_AR),
            *(p for p in exact if not codes[p] & _LAST_AR),
        ]
        self._last_arabic, self._all_arabic = len(ends_arabic), len(both_arabic)
        del ends_arabic, both_arabic
        self._codes = array("q", (codes[p] for p in (*exact, *others)))
        self._shared = tuple(tuple(entries) for entries in shared)
        self._exact = len(exact)
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick(
                [p.encode(_BYTES) for p in exact],
                implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            )
            if exact
            else None
        )
        self._others = (
            ahocorasick_rs.AhoCorasick(
                others,
                store_patterns=False,
                implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            )
            if others
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
        if not self._codes:
            return ()
        source = title + _JOIN + summary
        # The follow fold (`_fold`) of most stories, for less: when the watchlists' fold
        # (kept from the matcher's pass) is all in cp1256 with no accented letter and no
        # capital but ASCII ones, bytes.lower() of its bytes is the lower case, and the text
        # itself is only read where case does not matter (Arabic letters, letter kinds) but
        # for a shared key with a Latin last word, which lowers it (`low` below).
        folded = fold_text(source)
        text = folded.text
        encoded = charmap_encode(text, "replace", _CP1256)[0]
        # What kind each letter is, one byte a letter read without making a str of it (a
        # fifth of the loop's cost was the one-letter strings `text[i] in _AR` made): 1 for an
        # Arabic letter, else 0, and one 0 after the end, so that [n] and [-1] read as no
        # letter. The same translate tells the bytes the fast path cannot take (`_KINDS`).
        kinds = encoded.translate(_KINDS)
        low: str | None
        if _RULES in kinds:  # a "?", an accent, a capital like Œ: the rules
            text, offsets, stages, marks, encoded = _fold(source)
            lossless = encoded.count(b"?") == text.count("?")  # every character is its byte
            low = text
            if lossless:
                arabic = encoded.translate(_ARABIC_BYTES) + b"\x00"
            else:  # a letter outside cp1256 (a few stories in a hundred): from the text
                arabic = bytes([c in _AR for c in text]) + b"\x00"
        else:
            encoded = encoded.lower()
            offsets, stages = folded.offsets, folded.stages
            marks = bool(stages or offsets)
            if _HAMZA in kinds:  # ء, dropped as in `_fold`
                parts = text.split("ء")
                text = "".join(parts)
                stages = (*stages, tuple(accumulate(map(len, parts[:-1]))))
                encoded = encoded.replace(_HAMZA_BYTE, b"")
                kinds = kinds.replace(_HAMZA_KIND, b"")
            lossless = True
            low = None
            arabic = kinds + b"\x00"
        automaton = self._automaton
        raw = automaton.find_matches_as_indexes(encoded, overlapping=True) if automaton else []
        if self._others is not None and not lossless:
            more = self._others.find_matches_as_indexes(text, overlapping=True)
            if more:
                # one list in the order one automaton gives: by end, the longest first
                exact = self._exact
                raw = sorted([*raw, *((i + exact, a, b) for i, a, b in more)], key=_END_START)
        if not raw:
            return ()
        # Back to the story's own offsets: every removal stage of the fold in one table
        # (stories with harakat, extra spaces and ء have two or three), so that a hit's
        # offsets are one bisect each.
        removed = stages[0] if len(stages) == 1 else _merge(stages) if stages else ()
        moved = bool(removed or offsets)
        removals = len(removed)
        # The loop below runs for every raw occurrence (about 39 a story with 13,000 terms,
        # many of them short Arabic words inside longer ones), so it is written flat: the
        # rules of filters.automaton._edges for the few edge rules a followed word has, and
        # a word's hit built at its first whole-word occurrence.
        # Which letters are of another script (`_latin_letters`) is made only at the first
        # key with a Latin end: 1 story in 6 has one.
        latin: bytes | None = None
        n = len(text)
        codes = self._codes
        terms = self._terms
        chats = self._chats
        split = len(title)
        base = split + 1
        size = len(source)
        seen: set[int] = set()  # terms already found: a word found twice is one hit
        hits: list[FollowHit] = []
        last_arabic, all_arabic = self._last_arabic, self._all_arabic
        for index, start, end in raw:
            # after the last word: an Arabic word takes nothing (most occurrences that do
            # not count end inside a longer word: checked first, by the key's index for
            # those of the cp1256 automaton), a Latin one maybe a plural
            if index < last_arabic:
                if arabic[end]:
                    continue
                code = codes[index]
                hi = end
            elif (code := codes[index]) & _LAST_AR:
                if arabic[end]:
                    continue
                hi = end
            elif code & _SHARED:  # a key two terms share: the general rules, for each
                for entry in self._shared[code >> _RULE_BITS]:
                    term = entry >> _RULE_BITS
                    if term not in seen:
                        # Only a Latin last word's plural reads case: for an Arabic one,
                        # the text as it is (lowering it cost 2 % of `find`: it is met in
                        # half the stories)
                        if entry & _LAST_AR:
                            edges = _edges(text, n, start, end, entry & _RULE_MASK)
                        else:
                            if low is None:
                                low = text.lower()
                            edges = _edges(low, n, start, end, entry & _RULE_MASK)
                        if edges is not None:
                            seen.add(term)
                            hits.append(
                                self._hit(term, *edges, source, text, split, removed, offsets)
                            )
                continue
            else:
                hi = end
                if latin is None:
                    latin = _latin_letters(encoded, text, lossless)
                if latin[end]:
                    if not code & _PLURAL:
                        continue
                    hi = end + 1
                    while latin[hi]:
                        hi += 1
                    if encoded[end:hi] not in _PLURAL_BYTES:  # lower case, as the keys
                        continue
            term = code >> _RULE_BITS
            if term in seen:
                continue
            # before the first word: an Arabic one, only its allowed proclitics (the لل
            # spelling needs one); a Latin one, no Latin letter or digit
            lo = start
            if index < all_arabic or code & _FIRST_AR:
                if arabic[start - 1]:
                    # back to the first letter of the word; a run of 5 letters or more is
                    # no proclitic (none is longer than 4), wherever it starts
                    lo = arabic.rfind(0, start - 5 if start > 5 else 0, start) + 1
                    if text[lo:start] not in _PREFIXES[code & _PREFIX_KIND]:
                        continue
                elif code & _PREFIX_KIND == _LAM:
                    continue
            else:
                if latin is None:
                    latin = _latin_letters(encoded, text, lossless)
                if latin[start - 1]:
                    continue
            seen.add(term)
            # the hit: Folded.original inlined (with the stages merged), and the harakat
            # after a last Arabic letter kept with its word (ذكاءً)
            if moved:
                k = bisect_right(removed, lo)
                a = lo + k
                # original(hi - 1) + 1: the same shift as the start's unless a removed
                # character sat inside the word (most words have none: one bisect, not two)
                if k < removals and removed[k] < hi:
                    k = bisect_right(removed, hi - 1)
                b = hi + k
                if offsets is not None:
                    a, b = offsets[a], offsets[b - 1] + 1
                    if marks and b < size and source[b] in _MARKS and arabic[hi - 1]:
                        b = _after_marks(source, b)
                # a character the fold removed right after the word is removed[k] == hi: the
                # table says so without reading the story (and most removals are spaces)
                elif k < removals and removed[k] == hi and source[b] in _MARKS and arabic[hi - 1]:
                    b = _after_marks(source, b)
            else:
                a, b = lo, hi
            # tuple.__new__ is how a named tuple's own _make builds it, without the call
            # through its __new__ (half the cost of a hit)
            if a < split:
                evidence = _new(Evidence, (FOLLOW_LABEL, terms[term], source[a:b], "title", a, b))
            else:
                evidence = _new(
                    Evidence,
                    (FOLLOW_LABEL, terms[term], source[a:b], "summary", a - base, b - base),
                )
            hits.append((evidence, chats[term]))
        return tuple(hits)

    def _hit(
        self,
        term: int,
        lo: int,
        hi: int,
        source: str,
        text: str,
        split: int,
        removed: Sequence[int],
        offsets: Sequence[int] | None,
    ) -> FollowHit:
        """The hit of `term` found at [lo, hi) of the folded `text` (the rare path of `find`:
        a key two terms share), mapped back to `source` with the fold `find` made (not a
        second fold: it cost as much as the rest of a story's hits)."""
        a = lo + bisect_right(removed, lo)
        b = hi + bisect_right(removed, hi - 1)  # original(hi - 1) + 1
        if offsets is not None:
            a, b = offsets[a], offsets[b - 1] + 1
        if b < len(source) and source[b] in _MARKS and text[hi - 1] in _AR:
            b = _after_marks(source, b)
        field, base = ("title", 0) if a < split else ("summary", split + 1)
        evidence = Evidence(FOLLOW_LABEL, self._terms[term], source[a:b], field, a - base, b - base)
        return evidence, self._chats[term]


def _latin_letters(encoded: bytes, text: str, lossless: bool) -> bytes:
    """1 for each letter or digit of a script other than Arabic in `text` (`encoded`, when
    each of its characters is its byte), else 0, and one 0 after the end."""
    if lossless:
        return encoded.translate(_LATIN_BYTES) + b"\x00"
    return bytes([c.isalnum() and c not in _AR for c in text]) + b"\x00"


def _after_marks(source: str, b: int) -> int:
    """Where the harakat from `source[b]` on end: they belong to the Arabic word before them
    (ذكاءً)."""
    run = _MARKS_RUN.match(source, b)
    return run.end() if run else b


def _encodes(pattern: str) -> bool:
    try:
        pattern.encode(_BYTES)
    except UnicodeEncodeError:
        return False
    return True


# cp1256 byte -> 1 if its letter is Arabic (in _AR), and -> 1 if it is a letter or digit of
# another script: what `find` asks of the letters around a word, for `bytes.translate`.
_ARABIC_BYTES = bytes(bytes([b]).decode(_BYTES) in _AR for b in range(256))
_LATIN_BYTES = bytes(
    (c := bytes([b]).decode(_BYTES)).isalnum() and c not in _AR for b in range(256)
)
# The same with 2 for a byte `find`'s fast path cannot take (not in _PLAIN) and 3 for ء
# (dropped from the text), read before the story is lowered: neither kind changes.
_RULES, _HAMZA = 2, 3
_HAMZA_KIND = bytes([_HAMZA])
_KINDS = bytes(
    _HAMZA if b == _HAMZA_BYTE[0] else _RULES if b not in _PLAIN else _ARABIC_BYTES[b]
    for b in range(256)
)
_END_START = itemgetter(2, 1)


def _merge(stages: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    """One table for several removal stages (`Folded.stages`, the first applied first):
    folded index i is original index i + bisect_right(table, i), as `Folded.original`
    gives it stage by stage. Each removed character's entry is the number of folded
    characters before it."""
    table: list[int] = list(stages[-1])
    for stage in reversed(stages[:-1]):
        # where the later stages' removed characters stood in this stage's output
        at = [v + k for k, v in enumerate(table)]
        table += [v - bisect_left(at, v) for v in stage]
        table.sort()
    return tuple(table)


# A followed word found in a story: (evidence, subscriptions). Where, as evidence labelled
# `#follow` (the matching form as `term`, the story's own words as `text`), and the
# subscriptions that follow it (the index's own tuple, not a copy). A plain pair, not a
# named tuple: a story makes a dozen or more, and a named tuple's tuple.__new__ cost 7 % of
# `find` (BENCHMARKS.md, "/follow at scale").
FollowHit = tuple[Evidence, Sequence[int]]


def by_subscription(hits: Iterable[FollowHit]) -> dict[int, list[Evidence]]:
    """subscription id -> the evidence of the words it follows among `hits`."""
    out: dict[int, list[Evidence]] = {}
    for evidence, subscriptions in hits:
        for sub in subscriptions:
            out.setdefault(sub, []).append(evidence)
    return out


# A key's edge rule, in the low bits of its code: which proclitics an Arabic first word may
# carry (the two lowest bits, so that `find` reads them with one `&`, no shift), which ends
# are Arabic, and whether a Latin last word may take a plural.
# The proclitics: with the article (a bare word), without (it has its own), the لل spelling
# read as ل + لذكاء, or as the whole للذكاء.
_WORD, _NAME, _LL, _LAM = 0, 1, 2, 3
_PREFIX_KIND = 3
_FIRST_AR, _LAST_AR, _PLURAL = 4, 8, 16
_PREFIXES = (_WORD_PREFIXES, _NAME_PREFIXES, frozenset(("", "و", "ف")), _LAM_PREFIXES)
# `find` reads at most 4 letters back for the proclitics
assert max(len(p) for prefixes in _PREFIXES for p in prefixes) < 5
_SHARED = 32  # a key two terms share: its entries in _shared[code >> _RULE_BITS]
_RULE_BITS = 6
_RULE_MASK = (1 << _RULE_BITS) - 1


def _rule(first_ar: bool, last_ar: bool, prefixes: int, plural: bool) -> int:
    return (
        (_FIRST_AR if first_ar else 0)
        | (_LAST_AR if last_ar else 0)
        | (_PLURAL if plural else 0)
        | prefixes
    )


def _edges(text: str, n: int, start: int, end: int, rule: int) -> tuple[int, int] | None:
    """filters.automaton._edges for a key's rule code (the loop of `find` inlines it)."""
    return _automaton_edges(text, n, start, end, _key(rule))


@cache
def _key(rule: int) -> _Key:
    """The edge rules of a rule code as filters.automaton reads them (made once per code: a
    shared key is met in most stories)."""
    first_ar, last_ar = bool(rule & _FIRST_AR), bool(rule & _LAST_AR)
    before = _PREFIXES[rule & _PREFIX_KIND] if first_ar else frozenset()
    after = _LATIN_PLURALS if rule & _PLURAL else _NOTHING
    return _Key(0, first_ar, last_ar, before, after)
