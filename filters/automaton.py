"""Find many phrases in a text in one pass: one Aho-Corasick automaton per term set.

`PhraseAutomaton` is the engine under `filters.watchlist.Matcher`, and is meant to be reused
by any other term set that must be read the same Arabic-aware way (per-chat `/follow` words,
issue 13): add phrases, `compile()`, then `find(text)` gives every whole-word occurrence with
offsets into the *original* text.

How a text is read (the same folds as `filters.arabic.normalize`, done so that offsets stay
those of the original):

- `fold_text` maps أ إ آ ٱ -> ا, ى -> ي, ة -> ه, ؤ -> و, ئ -> ي and line breaks/no-break
  spaces -> space, one character for one, so a position in the folded text is a position in
  the original. Only a text holding rarer characters (harakat, tatweel, zero-width marks,
  Persian letters, Arabic-Indic digits, presentation forms) takes a slower path that removes
  or folds them and keeps a map back to the original offsets.
- ء is kept in the text; every phrase is added with and without its ء, so الذكاء and the
  common typo الذكا both match, as `normalize` (which drops ء) would have it.
- Case is kept in the text; a Latin phrase is added as written, in lower case, in capitals,
  capitalised and title-cased, with and without its accents ("régulation", "Regulation",
  "REGULATION"); a case-sensitive one only as written and in capitals (`AI`, not "Ai").

A raw occurrence of a phrase counts only as whole words: before an Arabic first word, only
one conjunction (و ف) and one preposition (ب ك ل), and for an inflected word also the article
(ال, لل); after an Arabic last word nothing, or for an inflected word one common suffix
(`filters.arabic.AR_SUFFIXES`); around Latin words no letter or digit of the Latin script
(inflected Latin words may add s/es/e). So التماسك never holds ماسك, and "said" never holds
"ai". Words inside a phrase are separated by one space, dot or hyphen.

Pure; a compiled automaton is read-only and may be shared.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, product
from operator import attrgetter
from typing import NamedTuple

import ahocorasick_rs

from filters.arabic import AR_LETTERS, AR_SUFFIXES, FOLDED

__all__ = [
    "MAX_KEYS",
    "Folded",
    "PhraseAutomaton",
    "PhraseHit",
    "Rejected",
    "fold_text",
    "key_count",
]

# -- folding ----------------------------------------------------------------------------------

# Letters folded one for one, as filters.arabic.normalize folds them (one table, there), but
# ء stays in the text (see the module's docstring) and Arabic-Indic digits become ASCII.
# The common letters take the fast path (str.replace, each only when present).
_COMMON: tuple[tuple[str, str], ...] = tuple((c, FOLDED[c]) for c in "أإآىةؤئ")
# The rarer ones the slow path.
_RARE_ONE: dict[str, str] = {
    **{c: f for c, f in FOLDED.items() if f and c not in dict(_COMMON)},
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}
# Removed outright: harakat and tanwin, superscript alef, Quranic marks, tatweel, Arabic
# letter mark, BOM, soft hyphen, zero-width and bidi controls, Latin combining accents.
_REMOVED_CLASS = (
    "\u064b-\u065f\u0670\u0610-\u061a\u06d6-\u06ed\u0640\u061c\ufeff\u00ad"
    "\u200b-\u200f\u202a-\u202e\u2066-\u2069\u0300-\u036f"
)
_REMOVED_RE = re.compile(f"[{_REMOVED_CLASS}]")
_MARKS_RUN = re.compile(f"[{_REMOVED_CLASS}]*")
# Compatibility forms that NFKC rewrites (Arabic presentation forms, Latin ligatures,
# full-width letters): the slowest path, character by character.
_COMPAT_CLASS = "\ufb00-\ufdff\ufe70-\ufefe\uff00-\uffef"
_RARE_RE = re.compile(f"[{_REMOVED_CLASS}{''.join(_RARE_ONE)}{_COMPAT_CLASS}]")
_COMPAT_RE = re.compile(f"[{_COMPAT_CLASS}]")
_RARE_TABLE = str.maketrans(_RARE_ONE)
_RARE_ONE_RE = re.compile(f"[{''.join(_RARE_ONE)}]")


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text and the way back to original offsets: characters were removed in
    `stages` (each: p - k for the k-th character removed at p, sorted), after which folded
    index i is an index into `offsets` (None: the same index) with one entry for the end."""

    text: str
    offsets: tuple[int, ...] | None = None
    stages: tuple[tuple[int, ...], ...] = ()

    def original(self, i: int) -> int:
        stages = self.stages
        if len(stages) == 1:  # the common case: marks or extra spaces removed
            i += bisect_right(stages[0], i)
        else:
            for removed in reversed(stages):
                i += bisect_right(removed, i)
        return i if self.offsets is None else self.offsets[i]


# Separators between the words of a phrase become a space (منصة “إكس”, إيه.آي, l'IA,
# AI-powered, a line break in a hard-wrapped feed); runs of spaces are then folded to one.
_SEPARATOR_RE = re.compile("[\n\r\t\xa0.\\-'’\\[\\]“”«»\"()]")


def _fold_common(text: str) -> str:
    for old, new in _COMMON:
        if old in text:
            text = text.replace(old, new)
    return _SEPARATOR_RE.sub(" ", text)


def _remove(pattern: re.Pattern[str], text: str) -> tuple[str, tuple[int, ...]]:
    """`text` without the characters `pattern` matches (one each), and where they were: p - k
    for the k-th removed character at p, which is the length of the text kept before it."""
    parts = pattern.split(text)
    if len(parts) == 1:
        return text, ()
    return "".join(parts), tuple(accumulate(map(len, parts[:-1])))


# A story is folded for the watchlists, then again for the chats' /follow words
# (filters.follow_index): the same text, so the second fold is the first one kept (issue 13,
# BENCHMARKS.md "/follow at scale"). A Folded is immutable, so sharing it is safe; a few
# entries cover a poll's story-by-story order and threads matching side by side.
@lru_cache(maxsize=16)
def fold_text(text: str) -> Folded:
    """Fold `text` for matching, keeping case and ء, with a map back to original offsets.
    Separators inside a phrase (quotes, brackets, dots, hyphens, apostrophes, line breaks)
    become one space: منصة “إكس” and إيه.آي read as منصة إكس and إيه آي."""
    stages: tuple[tuple[int, ...], ...] = ()
    offsets: tuple[int, ...] | None = None
    if _RARE_RE.search(text):
        if "\u0640" in text:
            text = _STRAY_TATWEEL.sub(_spaces, text)  # one for one: offsets stay exact
        if not _COMPAT_RE.search(text):
            # removals and one-for-one folds: only removed positions need remembering
            text, removed = _remove(_REMOVED_RE, text)
            if removed:
                stages = (removed,)
            for letter in set(_RARE_ONE_RE.findall(text)):
                text = text.replace(letter, _RARE_ONE[letter])
        else:
            chars: list[str] = []
            mapping: list[int] = []
            for i, c in enumerate(text):
                for d in unicodedata.normalize("NFKC", c):
                    if _REMOVED_RE.match(d):
                        continue
                    chars.append(d.translate(_RARE_TABLE))
                    mapping.append(i)
            mapping.append(len(text))
            text, offsets = "".join(chars), tuple(mapping)
    text = _fold_common(text)
    if "  " in text:
        text, removed = _remove(_EXTRA_SPACES, text)
        stages = (*stages, removed)
    return Folded(text, offsets, stages)


# Tatweel draws out the join between two Arabic letters and is removed with the marks; after
# a Latin letter or a digit it joins nothing, and a reader sees a separator there: OpenAIـ42
# names OpenAI, AIـai holds AI twice (removing it would glue them into one word).
_STRAY_TATWEEL = re.compile("(?<=[0-9A-Za-z\u00c0-\u024f])\u0640+")


def _spaces(m: re.Match[str]) -> str:
    return " " * len(m.group())


_EXTRA_SPACES = re.compile("(?<= ) ")  # one match per extra space: positions stay exact


def fold_phrase(text: str) -> str:
    """A configured phrase folded like a text (the same rules, offsets dropped; not kept:
    thousands of phrases would only push the stories out)."""
    return fold_text.__wrapped__(text).text


# -- phrases ----------------------------------------------------------------------------------


def _class_chars(spec: str) -> frozenset[str]:
    """The characters of a regex character class's body (single characters and ranges)."""
    out: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.update(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            out.add(spec[i])
            i += 1
    return frozenset(out)


def _ar_set() -> frozenset[str]:
    return _class_chars(AR_LETTERS) - set(_REMOVED_CLASS)


_AR = _ar_set()
# What _MARKS_RUN reads, as a set: most words have no mark after them, and a set says so
# faster than a regex call.
_MARKS = _class_chars(_REMOVED_CLASS)
_AR_RUN = re.compile(f"[{AR_LETTERS}]*")
_WORD_SPLIT = re.compile(r"[^\W_]+")

_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ك", "ل")
# Proclitics before a name: one conjunction, one preposition.
_NAME_PREFIXES = frozenset(c + p for c in _CONJ for p in _PREP)
# Before an inflected word: also the article, and لل (ل + ال with the alef dropped).
_WORD_PREFIXES = _NAME_PREFIXES | {h + "ال" for h in _NAME_PREFIXES} | {c + "لل" for c in _CONJ}
# before a لل key read as ل + لذكاء (see _keys_for)
_LAM_PREFIXES = frozenset(h + "ل" for h in _CONJ)
_AR_SUFFIX_SET = frozenset(("", *AR_SUFFIXES))
# Suffixes a non-last inflected word may carry inside a phrase (ذكاءً اصطناعياً, أوامر تنفيذية).
_INNER_SUFFIXES = ("", "ه", "ا", "ي", "يه", "يا", "ات")
_LATIN_SUFFIXES = frozenset(("", "s", "es", "e"))
_NO_SUFFIX = frozenset(("",))
_MIN_STEM = 2


def _is_arabic(word: str) -> bool:
    return bool(word) and word[0] in _AR


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _stem(word: str) -> str:
    """An inflected Arabic word's stem: article and final ta marbuta (folded ه) removed."""
    if word.startswith("ال") and len(word) - 2 > _MIN_STEM:
        word = word[2:]
    if word.endswith("ه") and len(word) - 1 >= _MIN_STEM:
        word = word[:-1]
    return word


class PhraseHit(NamedTuple):
    """A whole-word occurrence of a phrase: offsets into the original text. (A named tuple:
    a story makes dozens, and a tuple is built several times faster than a frozen dataclass.)"""

    pattern: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A raw occurrence that did not count, and why (for `classify --explain`)."""

    pattern: int
    start: int
    end: int
    reason: str
    field: int = 0  # which of the texts given to `find_fields`


@dataclass(frozen=True, slots=True)
class _Key:
    """How to check the edges of a raw occurrence of one pattern's keys. Every spelling,
    case and separator of a phrase shares one (a pattern has one or two), and the keys share
    their tuples of them: ~13,000 keys held one object and one list each, ~3 MB (issue 19)."""

    pattern: int
    first_arabic: bool
    last_arabic: bool
    prefixes: frozenset[str]  # allowed Arabic letters before the key (first word Arabic)
    suffixes: frozenset[str]  # allowed letters after it (Arabic or Latin)


class PhraseAutomaton:
    """A set of phrases compiled into one automaton; `find` reads a text once.

    >>> a = PhraseAutomaton()
    >>> musk = a.add("ماسك")
    >>> a.compile()
    >>> [(h.start, h.end) for h in a.find("قال لماسك إن التماسك")]
    [(4, 9)]
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[str, bool, bool], int] = {}
        self._texts: list[str] = []
        self._keys: dict[str, tuple[_Key, ...]] = {}
        self._metas: list[tuple[_Key, ...]] = []
        # Once compiled, the keys are kept as one string (each a str object of its own, with
        # the dict over them, took ~2 MB for the config's 13,000), unpacked again only if a
        # phrase is added after that (issue 19).
        self._packed = ""
        self._shared: dict[tuple[_Key, ...], tuple[_Key, ...]] = {}  # one copy of each tuple
        self._automaton: ahocorasick_rs.AhoCorasick | None = None

    def __len__(self) -> int:
        return len(self._texts)

    @property
    def key_count(self) -> int:
        """How many key strings the automaton holds (spellings x separators x case)."""
        return len(self._metas) if self._packed else len(self._keys)

    def text(self, pattern: int) -> str:
        """The phrase as it was added."""
        return self._texts[pattern]

    def add(self, phrase: str, *, inflect: bool = False, case_sensitive: bool = False) -> int:
        """Add a phrase (a word or words); returns its id. The same phrase with the same
        options gets the same id. `inflect`: Arabic words may take the article and a suffix,
        Latin words s/es/e (words of one or two letters never inflect: جي بي تي).
        `case_sensitive`: Latin words only as written or in capitals."""
        words = _WORD_SPLIT.findall(fold_phrase(phrase))
        if not words:
            raise ValueError(f"phrase {phrase!r} has no word to match")
        ident = (" ".join(words), inflect, case_sensitive)
        found = self._ids.get(ident)
        if found is not None:
            return found
        self._unpack()
        pid = len(self._texts)
        self._ids[ident] = pid
        self._texts.append(phrase)
        self._automaton = None
        for key, meta in _keys_for(pid, words, inflect, case_sensitive):
            metas = self._keys.get(key, ())
            if meta not in metas:
                metas = (*metas, meta)
                self._keys[key] = self._shared.setdefault(metas, metas)
        return pid

    def _unpack(self) -> None:
        """The keys as a dict again (to add to them), from their packed string."""
        if self._packed:
            self._keys = dict(zip(self._packed.split(_JOIN), self._metas, strict=True))
            self._packed = ""

    def compile(self) -> None:
        """Build the automaton (done by the first `find` if not called)."""
        self._unpack()
        self._metas = list(self._keys.values())  # the same tuples, in the keys' order
        self._packed = _JOIN.join(self._keys)
        self._keys = {}
        # The automaton reads each key as UTF-8, which CPython caches on the str itself for
        # good (~40 bytes a key): these strings, split from the packed one, are dropped after.
        keys = self._packed.split(_JOIN) if self._packed else []
        # The contiguous NFA, not the DFA: with the config's ~13,000 keys (Arabic and Latin
        # bytes together) the DFA's transition table takes ~93 MB of RSS against ~9 MB, most
        # of the process's memory, for a scan that costs ~2 us more per story (issue 19).
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                keys,
                store_patterns=False,
                implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            )
            if keys
            else None
        )

    def find(self, text: str, rejected: list[Rejected] | None = None) -> list[PhraseHit]:
        """Every whole-word occurrence of every phrase in `text`, in order of their end.
        With `rejected`, raw occurrences that are not whole words are appended to it."""
        return self.find_fields((text,), rejected)[0]

    def find_fields(
        self, texts: Sequence[str], rejected: list[Rejected] | None = None
    ) -> list[list[PhraseHit]]:
        """`find` for several texts (a story's title and summary) in one fold and one
        automaton pass. Rejected occurrences carry offsets into their own text and its
        index in `Rejected.field`."""
        if self._automaton is None and (self._keys or self._packed):
            self.compile()
        automaton = self._automaton
        results: list[list[PhraseHit]] = [[] for _ in texts]
        if automaton is None:
            return results
        source = texts[0] if len(texts) == 1 else _JOIN.join(texts)
        folded = fold_text(source)
        ftext = folded.text
        raw = automaton.find_matches_as_indexes(ftext, overlapping=True)
        if not raw:
            return results
        starts = [0]  # where each text starts in the joined original
        for t in texts[:-1]:
            starts.append(starts[-1] + len(t) + 1)
        n = len(ftext)
        metas = self._metas
        original = folded.original
        reported = len(rejected) if rejected is not None else 0
        moved = bool(folded.stages or folded.offsets)  # else folded offsets are the original's
        seen: set[tuple[int, int, int]] = set()
        for index, start, end in raw:
            for meta in metas[index]:
                edges = _edges(ftext, n, start, end, meta)
                if edges is not None:
                    ident = (meta.pattern, *edges)
                    if ident in seen:
                        continue
                    seen.add(ident)
                    lo, hi = edges
                    if moved:
                        lo, hi = original(lo), original(hi - 1) + 1
                        if ftext[edges[1] - 1] in _AR:
                            # marks after an Arabic word's last letter belong to it (ذكاءً)
                            marks = _MARKS_RUN.match(source, hi)
                            hi = marks.end() if marks else hi
                    which = bisect_right(starts, lo) - 1
                    base = starts[which]
                    results[which].append(PhraseHit(meta.pattern, lo - base, hi - base))
                elif rejected is not None:
                    # quote the whole words the raw occurrence sits in
                    lo, hi = start, end
                    while lo > 0 and ftext[lo - 1].isalnum():
                        lo -= 1
                    while hi < n and ftext[hi].isalnum():
                        hi += 1
                    lo, hi = original(lo), original(hi)
                    which = bisect_right(starts, lo) - 1
                    base = starts[which]
                    why = "part of a longer word (only و ف ب ك ل before a name, no letter after)"
                    rejected.append(Rejected(meta.pattern, lo - base, hi - base, why, which))
        for i, hits in enumerate(results):
            if len(hits) > 1:
                results[i] = _longest_per_pattern(hits)
        if rejected is not None and len(rejected) > reported:
            # A phrase with several keys (the لل key لسعودية of السعودية sits inside every
            # السعودية) is no near-miss where another of its keys found the word whole.
            rejected[reported:] = [
                r
                for r in rejected[reported:]
                if not any(
                    h.pattern == r.pattern and h.start < r.end and r.start < h.end
                    for h in results[r.field]
                )
            ]
        return results


_JOIN = "\x00"  # between the texts of one scan: no key holds it, and it is no letter


def _edges(text: str, n: int, start: int, end: int, meta: _Key) -> tuple[int, int] | None:
    """The whole words around the raw occurrence [start, end) (with the proclitics before
    and the suffix after it) when they are allowed, else None."""
    lo, hi = start, end
    if meta.first_arabic:
        while lo > 0 and text[lo - 1] in _AR and start - lo < 5:
            lo -= 1
        if text[lo:start] not in meta.prefixes:
            return None
    elif start > 0 and _latin_letter(text[start - 1]):
        return None
    if meta.last_arabic:
        if end < n and text[end] in _AR:
            run = _AR_RUN.match(text, end)
            hi = run.end() if run else end
            if text[end:hi] not in meta.suffixes:
                return None
    elif end < n and _latin_letter(text[end]):
        while hi < n and _latin_letter(text[hi]):
            hi += 1
        if text[end:hi] not in meta.suffixes:
            return None
    return (lo, hi)


def _latin_letter(c: str) -> bool:
    return c.isalnum() and c not in _AR


def _longest_per_pattern(hits: list[PhraseHit]) -> list[PhraseHit]:
    """Of overlapping occurrences of one pattern (keys with and without ء, a prefix read
    two ways), keep the longest."""
    kept = hits
    if len({h.pattern for h in hits}) < len(hits):
        # by pattern and start, the longest first (two stable sorts, C-level keys)
        hits.sort(key=_END, reverse=True)
        hits.sort(key=_PATTERN_START)
        kept = []
        for h in hits:
            if kept and kept[-1].pattern == h.pattern and h.start < kept[-1].end:
                continue
            kept.append(h)
    kept.sort(key=_END_START_PATTERN)
    return kept


_END = attrgetter("end")
_PATTERN_START = attrgetter("pattern", "start")
_END_START_PATTERN = attrgetter("end", "start", "pattern")


def _hamza_variants(word: str) -> tuple[str, ...]:
    bare = word.replace("ء", "")
    return (word, bare) if bare != word and len(bare) >= 1 else (word,)


def _case_variants(key: str, case_sensitive: bool) -> set[str]:
    """The ways a Latin phrase is written: as configured, lower case, capitals, first letter
    capitalised, every word capitalised; each also without accents. Case-sensitive phrases:
    as configured or in capitals only."""
    if case_sensitive:
        return {key, key.upper()}
    forms = {key, key.lower(), key.upper(), key[:1].upper() + key[1:], key.lower().title()}
    forms |= {key.lower()[:1].upper() + key.lower()[1:]}
    return forms | {_strip_accents(f) for f in forms}


# Every word of an inflected phrase is written each way it may be, and the phrase is every
# combination: fine for two or three words (حوكمة الذكاء الاصطناعي: 392 keys), not for a
# body's six-word name (38,416 keys, +35 MB and +0.3 s to build each). A phrase whose keys
# would pass this is refused where the config is checked (filters/schema.py).
MAX_KEYS = 1000


def key_count(phrase: str, inflect: bool, case_sensitive: bool = False) -> int:
    """How many automaton keys `phrase` compiles into, before case variants (the number
    `MAX_KEYS` bounds)."""
    words = _WORD_SPLIT.findall(fold_phrase(phrase))
    count = 1
    for forms in _word_forms(words, inflect, case_sensitive):
        count *= len(forms)
    return count


def _word_forms(words: Sequence[str], inflect: bool, case_sensitive: bool) -> list[list[str]]:
    """The ways each word of a phrase may be written (its keys are every combination)."""
    last = len(words) - 1
    per_word: list[list[str]] = []
    for k, word in enumerate(words):
        inflects = inflect and not case_sensitive and len(word) > 2
        if _is_arabic(word):
            base = _stem(word) if inflects else word
            forms = list(_hamza_variants(base))
            if inflects:
                if k > 0:
                    forms += ["ال" + f for f in forms]
                if k < last:
                    forms = [f + s for f in forms for s in _INNER_SUFFIXES]
        else:
            forms = [word, *([word + "s"] if inflects and k < last else [])]
        per_word.append(forms)
    return per_word


def _keys_for(
    pid: int, words: Sequence[str], inflect: bool, case_sensitive: bool
) -> Iterable[tuple[str, _Key]]:
    """Every key string of one phrase with the edge rules of each."""
    per_word = _word_forms(words, inflect, case_sensitive)
    first_ar, last_ar = _is_arabic(words[0]), _is_arabic(words[-1])
    first_inflects = inflect and not case_sensitive and len(words[0]) > 2
    last_inflects = inflect and not case_sensitive and len(words[-1]) > 2
    prefixes = _WORD_PREFIXES if first_inflects else _NAME_PREFIXES
    if last_ar:
        suffixes = _AR_SUFFIX_SET if last_inflects else _NO_SUFFIX
    else:
        suffixes = _LATIN_SUFFIXES if last_inflects else _NO_SUFFIX
    latin = any(not _is_arabic(w) for w in words)
    meta = _Key(pid, first_ar, last_ar, prefixes, suffixes)
    lam_meta = _Key(pid, True, last_ar, _LAM_PREFIXES, suffixes)
    # Words are joined by one space: the text's separators are folded to one (fold_text).
    for combo in product(*per_word):
        key = " ".join(combo)
        cased = _case_variants(key, case_sensitive) if latin else (key,)
        for form in cased:
            yield form, meta
        if first_ar and combo[0].startswith("ال") and len(combo[0]) > 3 and not first_inflects:
            # ل + ال is written لل: للذكاء holds الذكاء as "ل" + "لذكاء"
            lam_key = " ".join((combo[0][1:], *combo[1:]))
            for form in _case_variants(lam_key, case_sensitive) if latin else (lam_key,):
                yield form, lam_meta


def sentence_ends(text: str) -> list[int]:
    """Offsets where a sentence ends in `text` (for `sentence_of`)."""
    return [m.end() for m in _SENTENCE_END.finditer(text)]


def sentence_of(ends: list[int], offset: int) -> int:
    return bisect_right(ends, offset)


# Sentence boundaries (as filters.arabic.tokenize): . ! ? ؟ ; ؛ … followed by a space, or a
# blank line.
_SENTENCE_END = re.compile(r"[.!?؟;؛…]+[\"'»”’)\]]*\s|\n\s*\n")
