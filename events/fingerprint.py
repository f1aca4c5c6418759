"""What a story is about, reduced to keys two stories can share: a `Fingerprint`. Pure.

Two kinds of keys (issue 14: one event reported in Arabic, French and English by several
outlets, with different headlines):

- `words`: the content words of the headline and the lead, normalised as the matcher
  normalises them (filters.arabic) and lightly stemmed, without function words and without
  the stock words of news copy (قال، أعلن، اليوم، president, mardi...). A word is kept with
  every reading of its proclitics (لبوتين -> لبوتين, بوتين), so "بوتين" and "لبوتين" meet;
  `word_count` counts each word of the text once, whatever its readings.
- `concepts`: language-neutral keys: capitalised words in Latin script (names, which the
  Arabic editions often write in Latin too: OpenAI, Grok), the ids of events/concepts.yaml (places, bodies,
  people, companies and kinds of event, named in any of the three languages), the watchlist
  labels the story matched (given by the caller: figures and topics as keys of their own
  kinds, both weighed little, since every story of a chat's alerts has one), and the numbers the story quotes (500,
  13%, 1.5). These are what the Arabic, French and English editions of one story share.
- `skeletons` / `latin_skeletons`: the consonant skeletons of the Arabic words and of the
  Latin names (filters/spelling.py), so a name written in either script meets the other;
  `numbered`: the numbers given as the number of a thing (رقم 3, n° 12).

Only the headline and the first `LEAD_WORDS` words of the summary are read: that is where a
news story says what happened, and it keeps a long summary from outweighing a short one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import load_yaml
from filters.arabic import inflected_stems, normalize, tokenize
from filters.schema import FigureSpec, Names, TermSpec, TopicSpec, WatchlistsConfig
from filters.spelling import latin_name_skeleton, normalized_arabic_skeleton
from filters.watchlist import Matcher

__all__ = [
    "ACTION",
    "FIGURE",
    "LABEL",
    "LATIN",
    "LEAD_WORDS",
    "NAME",
    "NUMBER",
    "PLACE",
    "Fingerprint",
    "Fingerprinter",
    "load_concepts",
]

# Concept keys carry their kind as a prefix (ids are [a-z0-9_], so none can be confused):
PLACE = "p_"  # a country, region or city
NAME = "n_"  # a body, person, company or product
ACTION = "a_"  # a kind of event (visit, summit, order...)
LABEL = "w_"  # a watchlist topic the story matched (ai, ai_policy...)
FIGURE = "f_"  # a watchlist figure the story matched (a person: trump, musk...)
NUMBER = "d_"  # a number quoted by the story
LATIN = "l_"  # a capitalised word in Latin script (a name, in whichever language)

LEAD_WORDS = 45  # words of the summary read after the headline

CONCEPTS_FILE = Path(__file__).with_name("concepts.yaml")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The keys of one story. `words` holds every reading of every content word;
    `word_count` the number of distinct content words (the size used for similarity)."""

    words: frozenset[str]
    word_readings: tuple[frozenset[str], ...]  # per distinct content word, its readings
    concepts: frozenset[str]
    language: str | None = None
    # One name in two scripts (filters/spelling.py): the script-neutral skeletons of the
    # Arabic content words, and the Latin names (their `l_` keys) with their skeletons. A
    # Latin name of one story whose skeleton is among another story's Arabic skeletons is a
    # name both carry (Laftit / لفتيت): events/grouping.py counts it as shared.
    skeletons: frozenset[str] = frozenset()
    latin_skeletons: tuple[tuple[str, str], ...] = ()
    # Numbers the story gives as the number of a thing ("رقم 3", "n° 12", "order No. 5"):
    # a numbered thing is named by its number, so two stories naming different numbered
    # things report different things (events/grouping.py: a veto).
    numbered: frozenset[str] = frozenset()

    @property
    def word_count(self) -> int:
        return len(self.word_readings)


def load_concepts(path: Path = CONCEPTS_FILE) -> WatchlistsConfig:
    """events/concepts.yaml as a watchlist config: `names` become figures (matched as
    written), `actions` topics (inflected terms). Raises ValueError naming the bad entry."""
    raw = load_yaml(path.read_text(encoding="utf-8"))
    figures = [
        FigureSpec(id=f"{prefix}{cid}", name=Names(ar=cid, en=cid), aliases=tuple(_terms(t)))
        for kind, prefix in (("places", PLACE), ("names", NAME))
        for cid, t in raw[kind].items()
    ]
    topics = [
        TopicSpec(id=f"{ACTION}{cid}", name=Names(ar=cid, en=cid), terms=tuple(_terms(t)))
        for cid, t in raw["actions"].items()
    ]
    return WatchlistsConfig(figures=tuple(figures), topics=tuple(topics))


@lru_cache(maxsize=1)
def _shipped_concepts() -> Matcher:
    """events/concepts.yaml compiled, once per process: it never changes while one runs, and
    loading and compiling it costs ~40 ms (every app a process builds has a grouper)."""
    return Matcher(load_concepts())


def _terms(items: list[str | dict[str, object]]) -> list[TermSpec]:
    return [TermSpec.model_validate(t if isinstance(t, dict) else {"term": t}) for t in items]


# Function words and the stock vocabulary of news copy, in the three languages: they are in
# every story, so sharing them says nothing about the event. Normalised on load.
_STOP_TEXT = """
في من على إلى الى عن مع أن إن ان ما لا لم لن قد كان كانت يكون هذا هذه ذلك تلك التي الذي
الذين اللذين هو هي هم هما نحن بعد قبل عند كل أو ثم حتى بين منذ خلال دون غير ضد عبر لدى
حول أي أحد إحدى أكثر أقل أيضا فقط لكن بل إذ إذا كما حيث وفق وفقا نحو مدى ذات عدة بعض
أمس اليوم غدا الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة السبت صباح مساء ليلة
الأسبوع الماضي المقبل الجاري العام عام سنة شهر يوم الساعة
قال قالت يقول أعلن أعلنت يعلن أكد أكدت يؤكد أفاد أفادت ذكر ذكرت أوضح أوضحت أشار أشارت
كشف كشفت أضاف أضافت وأضاف صرح تصريح تصريحات بيان بلاغ مصدر مصادر وكالة صحيفة تقرير تقارير
الرئيس رئيس الرئيس التنفيذي التنفيذي المدير وزير وزيرة الحكومة الدولة الملياردير رجل الأعمال
شركة الشركة شركات جديد جديدة الجديد الجديدة كبير كبيرة أول أولى الأول الثاني خطوة إطار بشأن
le la les l de des du d un une et en au aux à a est sont été être pour par sur dans que qui
ce cette ces son sa ses leur leurs il elle ils elles se s ne pas plus avec sans selon après
avant lors entre mais ou donc comme aussi très tout tous toute toutes été fait
lundi mardi mercredi jeudi vendredi samedi dimanche hier aujourd'hui demain semaine mois année
dit déclaré annoncé annonce selon président ministre gouvernement société entreprise
nouveau nouvelle nouveaux premier première
the a an of in on and or to is are was were be been being for with by at from as it its
this that these those has have had will would can could not no but than then also more
most after before over under about into said says say told announced according report
reports monday tuesday wednesday thursday friday saturday sunday today yesterday week year
president minister government company new first chief executive ceo
"""
_STOP_WORDS = frozenset(normalize(w) for w in _STOP_TEXT.split())

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# A number given as the number of a thing: after رقم (with و ب ل and the article), n°,
# numéro, No., number, #. Small numbers count here (order No. 3), unlike quoted numbers.
# Found number first, then the mark looked for just before it: a pattern that starts with
# the mark tries its alternatives at every letter of the story (~45 us a story against ~9).
_NUMBER_RUN = re.compile(r"\d+(?:[.,/-]\d+)*")
_NUMBER_MARK = re.compile(
    r"(?:(?<!\w)[وبلف]?(?:ال)?رقم|(?<!\w)n[°º]|(?<!\w)numéro|(?<!\w)number|(?<!\w)no\.|#)\Z",
    re.IGNORECASE,
)
_LONGEST_MARK = len("والرقم")
_ARTICLE = "ال"
_MIN_WORD = 3  # shorter words (letters spelt out, particles) carry no event


@lru_cache(maxsize=1 << 16)
def _readings(norm: str, arabic: bool) -> frozenset[str]:
    """The keys one word may stand for: an Arabic word's stems with one proclitic layer,
    the article and one suffix removed (filters.arabic.inflected_stems: مغادرته, المغادرة
    -> مغادر; أمرا -> امر); a Latin word without a plural s."""
    if not arabic:
        if len(norm) > 4 and norm.endswith("s"):
            norm = norm[:-1]
        return frozenset((norm,))
    stems = frozenset(s for s in inflected_stems(norm) if len(s) >= _MIN_WORD)
    return stems or frozenset((norm,))


# A skeleton of fewer consonants matches too many words of the other script (most Arabic
# words have three root consonants, so three is the least that still names a name).
_MIN_SKELETON = 3
_VOWEL_LETTERS = frozenset("اوي")


@lru_cache(maxsize=1 << 16)
def _arabic_skeletons(readings: frozenset[str]) -> frozenset[str]:
    """The script-neutral skeletons of an Arabic word's readings (لفتيت, بلفتيت -> لفتت).
    Only readings that write a vowel after their first letter: a foreign name is written by
    ear, its vowels with alef, waw or ya (لفتيت، زيربي، ماسك), while the bare Arabic words
    that share three consonants with a Latin word usually write none (قرب / Corp, غرب /
    Groupe, سبت / Sept). Readings with the article are left out: a foreign name is written
    without it, and the reading without it is there too (الأمريكي -> أمريكي)."""
    return frozenset(
        sk
        for r in readings
        if not r.startswith(_ARTICLE)
        and _VOWEL_LETTERS.intersection(r[1:])
        and len(sk := normalized_arabic_skeleton(r)) >= _MIN_SKELETON
    )


@lru_cache(maxsize=1 << 16)
def _latin_skeleton(norm: str) -> str:
    """A Latin name's script-neutral skeleton, or "" when too short to name anything."""
    sk = latin_name_skeleton(norm)
    return sk if len(sk) >= _MIN_SKELETON else ""


def _is_stop(forms: tuple[str, ...]) -> bool:
    return any(f in _STOP_WORDS for f in forms)


class Fingerprinter:
    """Builds fingerprints. Compiles the concept table once (a `Matcher` over it)."""

    def __init__(
        self,
        concepts: WatchlistsConfig | None = None,
        figures: Iterable[str] = (),
        figure_names: Iterable[str] = (),
    ) -> None:
        self._concepts = _shipped_concepts() if concepts is None else Matcher(concepts)
        # The watchlist labels that name a person (config.yaml's figures): keys of their own
        # kind (events/grouping.py weighs them like topics: no named thing).
        self._figures = frozenset(figures)
        # Their names in Latin letters (donald, trump): no script-neutral name key. The
        # watchlist matcher finds a figure in both scripts already (its f_ key, weighed
        # little); bridging "Trump" to ترامب would count it again, as a rare name.
        self._figure_names = frozenset(normalize(w) for w in figure_names)

    @classmethod
    def for_watchlists(
        cls, figures: Iterable[FigureSpec], concepts: WatchlistsConfig | None = None
    ) -> Fingerprinter:
        """As the runtime builds it: the config's figures known by id and Latin names."""
        specs = tuple(figures)
        return cls(concepts, [f.id for f in specs], _latin_name_words(specs))

    def fingerprint(
        self,
        title: str,
        summary: str,
        language: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> Fingerprint:
        """The keys of a story. `labels` are the watchlist ids it matched (trump, ai...)."""
        lead = _lead(summary or "")
        text = f"{title or ''}\n{lead}"
        readings: dict[str, frozenset[str]] = {}
        numbers: set[str] = set()
        latin_names: set[str] = set()
        acronyms: set[str] = set()  # OCP, NVDA: said letter by letter, never transliterated
        skeletons: set[str] = set()
        for tok in tokenize(text):
            if tok.norm.isdigit() or _NUMBER.fullmatch(tok.norm):
                numbers.add(_number_key(tok.norm))
                continue
            if len(tok.norm) < _MIN_WORD or _is_stop(tok.forms):
                continue
            if tok.norm not in readings:
                readings[tok.norm] = _readings(tok.norm, tok.arabic)
                if tok.arabic:
                    skeletons.update(_arabic_skeletons(readings[tok.norm]))
            if not tok.arabic and tok.text[:1].isupper() and len(tok.norm) >= 4:
                # A capitalised Latin word is a name in any of the three languages (OpenAI
                # or Igoudar inside Arabic text, Dakhla in French and English): a key the
                # editions share.
                latin_names.add(tok.norm)
                if tok.text.isupper():
                    acronyms.add(tok.norm)
        numbers.discard("")
        found = self._concepts.match(title or "", lead, language)
        # A Latin name already found as a concept (Dakhla -> p_dakhla) is not counted twice.
        latin_names.difference_update(normalize(w) for e in found.evidence for w in e.text.split())
        concepts = {
            *found.labels,
            *(NUMBER + n for n in numbers),
            *((FIGURE if label in self._figures else LABEL) + label for label in labels),
            *(LATIN + n for n in latin_names),
        }
        per_word = _distinct(readings.values())
        return Fingerprint(
            words=frozenset().union(*per_word) if per_word else frozenset(),
            word_readings=tuple(per_word),
            concepts=frozenset(concepts),
            language=language,
            skeletons=frozenset(skeletons),
            numbered=_numbered(text),
            latin_skeletons=tuple(
                sorted(
                    (LATIN + n, sk)
                    for n in latin_names - self._figure_names - acronyms
                    if (sk := _latin_skeleton(n))
                )
            ),
        )


def _latin_name_words(figures: Iterable[FigureSpec]) -> list[str]:
    """The words in Latin letters of the figures' names and aliases (Sam, Altman, Elon...)."""
    texts: list[str] = []
    for f in figures:
        texts += [f.name.en, f.name.fr or ""]
        texts += [a.term for a in f.aliases]
    return [w for t in texts for w in re.findall(r"[A-Za-zÀ-ÿ]+", t)]


def _numbered(text: str) -> frozenset[str]:
    """The numbers given as the number of a thing ("رقم 3", "n° 2797"), "," read as ".".
    The mark may stand apart from its number by spaces; the lookbehind of a mark sees the
    text before `pos` (re searches read the whole string), so "ano. 5" is no mark."""
    found: set[str] = set()
    for run in _NUMBER_RUN.finditer(text):
        end = run.start()
        while end and text[end - 1].isspace():
            end -= 1
        if _NUMBER_MARK.search(text, max(0, end - _LONGEST_MARK), end):
            found.add(run.group().replace(",", "."))
    return frozenset(found)


def _lead(summary: str) -> str:
    """The first LEAD_WORDS words of the summary (cut at a word boundary)."""
    for count, m in enumerate(re.finditer(r"\S+", summary), start=1):
        if count == LEAD_WORDS:
            return summary[: m.end()]
    return summary


def _number_key(norm: str) -> str:
    """A quoted number as a key: 1,5 and 1.5 alike; years, days of the month and other
    small numbers dropped (every story has a date in it)."""
    value = norm.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return ""
    if number.is_integer():
        if number <= 31 or 1990 <= number <= 2040:
            return ""
        return str(int(number))
    return f"{number:g}"


def _distinct(readings: object) -> list[frozenset[str]]:
    """One entry per word: words whose readings overlap (ترامب, لترامب) count once."""
    out: list[frozenset[str]] = []
    seen: set[str] = set()
    for r in readings:  # type: ignore[attr-defined]
        if r & seen:
            continue
        seen |= r
        out.append(r)
    return out
