"""Normalisation and tokenising of Arabic and Latin news text, for matching only.

Pure functions. The matcher compares *normalised* forms but always reports the
*original* words, so every token keeps its offsets into the text it came from.

What `normalize` folds (see ../shared/notes/feeds-and-arabic.md, "Normalization"):

- Unicode NFKC (presentation forms such as ﻻ or ﺍﻟﺩﺭﺍﺴﺔ become ordinary letters);
- harakat/tanwin, superscript alef, Quranic marks, tatweel, zero-width and bidi marks removed;
- alef forms أ إ آ ٱ -> ا; alef maqsura ى -> ي; ta marbuta ة -> ه; hamza carriers ؤ -> و,
  ئ -> ي; a standalone ء is dropped (so الذكاء and the common typo الذكا fold together);
- Persian/Urdu/Maghrebi letters (ی ې ک گ ە ۀ پ چ ژ ڤ ڨ) folded to the nearest Arabic letter;
- Arabic-Indic and Persian digits -> 0-9;
- Latin: accents removed, then casefold.

Attached proclitics are handled by `Token.forms`: one optional conjunction (و ف), then one
optional preposition (ب ك ل), with ل + ال written لل. The article ال is *kept*: a name never
takes it, so المسك / الماسك / التماسك can never turn into مسك / ماسك.

Ordinary words (topic terms such as حكومة, تنظيمي) may also be compared by stem:
`term_stem` of the configured word against `inflected_stems` of the text word, which adds the
article and one common suffix (للحكومات, الحكومية, حكومته -> حكوم). Names never are.

Results are cached per word (functools.lru_cache): news vocabulary repeats a lot.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "AR_LETTERS",
    "AR_SUFFIXES",
    "WORD_RE",
    "Token",
    "inflected_stems",
    "normalize",
    "proclitic_forms",
    "term_stem",
    "tokenize",
]

# Characters removed outright: harakat and tanwin (064B-065F), superscript alef (0670),
# Quranic annotation marks (0610-061A, 06D6-06ED), tatweel (0640), Arabic letter mark (061C),
# zero-width and bidi controls, BOM.
_REMOVED = [
    *range(0x064B, 0x0660),
    0x0670,
    *range(0x0610, 0x061B),
    *range(0x06D6, 0x06EE),
    0x0640,
    0x061C,
    0xFEFF,
    0x00AD,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]

FOLDED: dict[str, str] = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ء": "",
    "ی": "ي",
    "ې": "ي",
    "ۍ": "ي",
    "ک": "ك",
    "گ": "ك",
    "ڪ": "ك",
    "ە": "ه",
    "ۀ": "ه",
    "ہ": "ه",
    "ھ": "ه",
    "پ": "ب",  # Persian pe, che, zhe and the Maghrebi ve (ڤانس = فانس)
    "چ": "ج",
    "ژ": "ز",
    "ڤ": "ف",
    "ڨ": "ق",
}

_REMOVED_RE = re.compile("[" + "".join(map(chr, _REMOVED)) + "]")
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    *FOLDED.items(),
    *((chr(0x0660 + i), str(i)) for i in range(10)),  # Arabic-Indic digits
    *((chr(0x06F0 + i), str(i)) for i in range(10)),  # Persian digits
)
# Latin letters with accents, or combining accents: only then is a decomposition needed.
_LATIN_ACCENTED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")


def normalize(text: str) -> str:
    """Return the matching form of `text` (see the module docstring for every fold).

    The result is for comparison only; it is not length-preserving, so never use offsets
    into it to quote the story — use `tokenize` for that.
    """
    # NFKC costs little on text that is already in that form (a quick check), but one
    # no-break space or ellipsis — in nearly every feed — makes it do the full work; their
    # NFKC forms are put in first, so the result is the same.
    text = text.replace("\xa0", " ").replace("…", "...")
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _REMOVED_RE.sub("", text)
    # str.replace per folded letter present is several times faster than str.translate with
    # a dict table on non-Latin text, and normalize runs on every story.
    for old, new in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    if _LATIN_ACCENTED.search(text):
        text = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))  # é -> e
        text = unicodedata.normalize("NFC", text)
    return text.casefold()


# Letters and marks of the Arabic blocks, without Arabic punctuation (، ؛ ؟ ٪ ٫ ٬ ۔ ﴾ ﴿) and
# without the Arabic-Indic digits: digits are normalised to 0-9, so they belong with the
# other non-Arabic word characters ("AI٢٠" is one word, as "AI20" is).
AR_LETTERS = (
    "\u0610-\u061a\u0620-\u065f\u066e-\u06d3\u06d5-\u06ef\u06fa-\u06ff\u0750-\u077f"
    "\u08a0-\u08ff\ufb50-\ufd3d\ufd50-\ufdff\ufe70-\ufefe"
)
_AR = AR_LETTERS
# Invisible characters that may sit inside an Arabic word (ZWNJ/ZWJ, bidi marks).
_IN_WORD = "\u200b-\u200f\u061c\u00ad"
_AR_WORD = rf"[{_AR}]+(?:[{_IN_WORD}]+[{_AR}]+)*"  # an Arabic word
_OTHER_WORD = rf"[^\W_{_AR}]+(?:[\u0300-\u036f]+[^\W_{_AR}]*)*"  # Latin (other script), number
_TOKEN_RE = re.compile(rf"(?P<ar>{_AR_WORD})|(?P<other>{_OTHER_WORD})")
# The same words, without the groups (for quick scans with findall).
WORD_RE = re.compile(rf"{_AR_WORD}|{_OTHER_WORD}")


class Token(NamedTuple):
    """One word of the original text. (A named tuple: texts make many, and a tuple is built
    several times faster than a frozen dataclass.)

    `text` is `original[start:end]`; `norm` its normalised form; `forms` the normalised forms
    it may stand for once one layer of proclitics is removed (Arabic only; `norm` first);
    `arabic` tells the script; `sentence` numbers the sentence the word sits in.
    """

    text: str
    start: int
    end: int
    norm: str
    forms: tuple[str, ...]
    arabic: bool
    sentence: int = 0


_CONJ = ("و", "ف")
_PREP = ("ب", "ك", "ل")
_MIN_STEM = 2  # never leave a stem shorter than this after stripping


def proclitic_forms(norm: str) -> tuple[str, ...]:
    """All readings of a normalised Arabic word with at most one conjunction (و ف) and one
    preposition (ب ك ل) removed; ل + ال (written لل) also yields the ال form.

    >>> proclitic_forms("وللذكا")
    ('وللذكا', 'للذكا', 'الذكا', 'لذكا')
    """
    out = [norm]
    heads = [norm]
    if len(norm) > _MIN_STEM and norm[0] in _CONJ:
        heads.append(norm[1:])
    for head in heads:
        if head is not norm and head not in out:
            out.append(head)
        if len(head) > _MIN_STEM and head[0] in _PREP:
            rest = head[1:]
            if head[0] == "ل" and rest.startswith("ل") and len(rest) > _MIN_STEM:
                # لل = ل + ال with the alef dropped: للذكاء -> الذكاء
                definite = "ا" + rest
                if definite not in out:
                    out.append(definite)
            if rest not in out:
                out.append(rest)
    return tuple(out)


# Inflection (for topic words such as حكومة, تنظيم, قانون; never for names). Normalised forms,
# so ة is ه and ى is ي. A stem must keep at least _MIN_STEM letters.
AR_SUFFIXES = (
    "ه",
    "ها",
    "هم",
    "هما",
    "هن",
    "ك",
    "كم",
    "نا",
    "ا",  # ta marbuta, pronouns, accusative
    "ي",
    "يه",
    "يا",
    "ين",
    "ون",
    "يين",
    "يون",  # nisba adjective, sound plurals
    "ان",
    "تان",
    "تين",
    "ات",
    "يات",
    "اته",
    "اتها",
    "اتهم",  # duals, feminine plurals
    "ته",
    "تها",
    "تهم",
    "تنا",
    "تي",  # ta marbuta before a pronoun (حكومته)
)
_LATIN_SUFFIXES = ("s", "es", "e")  # plurals; French feminine (nationale)
_ARTICLE = "ال"


def term_stem(norm: str) -> str:
    """The stem an inflected term word is compared by: the article and a final ta marbuta
    removed (الحكومة -> حكوم, قانون -> قانون); Latin words are left as they are."""
    if not norm or not _is_arabic_word(norm):
        return norm
    if norm.startswith(_ARTICLE) and len(norm) - 2 > _MIN_STEM:
        norm = norm[2:]
    if norm.endswith("ه") and len(norm) - 1 >= _MIN_STEM:
        norm = norm[:-1]
    return norm


@lru_cache(maxsize=65536)
def inflected_stems(norm: str) -> frozenset[str]:
    """Every stem a normalised text word may have, for comparison with `term_stem`: each
    proclitic reading, with or without the article, with or without one suffix
    (للحكومات -> حكوم, تنظيميا -> تنظيم, regulations -> regulation)."""
    if not _is_arabic_word(norm):
        out = {norm}
        out.update(norm[: -len(s)] for s in _LATIN_SUFFIXES if norm.endswith(s) and len(norm) > 3)
        return frozenset(out)
    stems: set[str] = set()
    for form in proclitic_forms(norm):
        cores = [form]
        if form.startswith(_ARTICLE) and len(form) - 2 >= _MIN_STEM:
            cores.append(form[2:])
        for core in cores:
            stems.add(core)
            for suffix in AR_SUFFIXES:
                if core.endswith(suffix) and len(core) - len(suffix) >= _MIN_STEM:
                    stems.add(core[: -len(suffix)])
    return frozenset(stems)


def _is_arabic_word(norm: str) -> bool:
    return "\u0600" <= norm[0] <= "\u06ff"


# Sentence boundaries between two tokens: . ! ? ؟ ; ؛ … followed by a space, or a blank line.
# A dot with no space after it ("إيه.آي", "1.9", "X.AI") and a single line break (feeds
# hard-wrap their text mid-sentence) do not end a sentence.
_SENTENCE_END = re.compile(r"[.!?؟;؛…]+[\"'»”’)\]]*\s|\n\s*\n")


def tokenize(text: str) -> list[Token]:
    """Split `text` into words with offsets into `text` itself.

    A word is a run of letters/digits of one script: "لـOpenAI" gives "لـ" and "OpenAI";
    punctuation and spaces separate words ("إيه.آي" gives "إيه" and "آي"). Diacritics,
    tatweel and zero-width marks inside an Arabic word stay part of it.
    """
    tokens: list[Token] = []
    # Sentence ends found in one pass; a token's sentence is the number of ends before it
    # (ends before the first word do not count).
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    n_ends = len(ends)
    next_end = 0
    sentence = 0
    append = tokens.append
    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        while next_end < n_ends and ends[next_end] <= start:
            next_end += 1
            if tokens:
                sentence += 1
        raw = m.group()
        arabic = m.lastgroup == "ar"
        norm, forms = _analyse(raw, arabic)
        if norm:
            append(Token(raw, start, end, norm, forms, arabic, sentence))
    return tokens


@lru_cache(maxsize=1 << 17)
def _analyse(raw: str, arabic: bool) -> tuple[str, tuple[str, ...]]:
    # News vocabulary repeats a lot: caching the per-word work makes tokenising cheap.
    norm = normalize(raw)
    return norm, (proclitic_forms(norm) if arabic and norm else (norm,))
