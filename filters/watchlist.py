"""Watchlist matching: a story's title and summary -> labels with evidence. Pure and fast.

`Matcher(config)` compiles every configured term once. `Matcher.match` then works in two
steps:

0. a pre-check on the story's distinct words (regex split, cached normalisation, set lookups)
   returns "no match" at once for the many stories that hold none of the watched phrases —
   it is wider than the matcher, never narrower (a fuzz test pins that);
1. otherwise each field is tokenised once (filters.arabic.tokenize) and every word's
   proclitic readings (and, for inflected terms, its stems) are looked up in an index of the
   terms' first words; the rest of each phrase is checked word by word — whole words only, so
   التماسك never yields ماسك.

Then, per entry, after the entries it refers to:

- a term hit counts unless it overlaps an exclusion hit of the same entry (مؤشر ألتمان), its
  case rule fails (AI vs "Ai Weiwei"), its language does not apply, or its context words are
  missing (a bare ماسك needs إيلون/تسلا/... in the story); with `skip_list_only`, a topic
  named once as an item of a list of sectors does not count;
- a topic's compound rule (`all_of`) holds in a unit of text where every signal is present: a
  summary sentence (with scope "sentence" a signal in the title counts for every sentence),
  a field, or the story. A signal is present where one of its terms hit or where a referenced
  entry has evidence.

Evidence quotes the original words (`text`) with offsets into the original field. A Matcher
keeps per-word caches (bounded); they change no result, and only one thread should use a
Matcher at a time (the bot runs in one asyncio loop).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from filters.arabic import (
    AR_SUFFIXES,
    WORD_RE,
    Token,
    inflected_stems,
    normalize,
    term_stem,
    tokenize,
)
from filters.schema import FigureSpec, TermSpec, TopicSpec, WatchlistsConfig, as_term
from models import Evidence, LabelInfo, Match

__all__ = ["Matcher"]

_FIELDS = ("title", "summary")
_CACHE_MAX = 1 << 17  # words remembered by Matcher._candidates before the cache is reset


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A term as a sequence of normalised words (+ the exact spellings for case rules)."""

    words: tuple[str, ...]  # normalised words, or their stems where `inflect` is set
    exact: tuple[str, ...] | None  # NFKC spelling per word when case-sensitive, else None
    inflect: tuple[bool, ...]  # per word: compared by stem (True) or as written (False)


@dataclass(frozen=True, slots=True)
class _Hit:
    phrase: int
    field: str
    first: int  # token index of the first word
    last: int  # token index of the last word (inclusive)
    start: int  # character offsets in the original field
    end: int
    sentence: int


@dataclass(frozen=True, slots=True)
class _Term:
    """A compiled TermSpec: its phrase, options, and its context phrases."""

    text: str
    phrase: int
    languages: frozenset[str]
    context: tuple[int, ...]
    window: int | None
    is_name: bool = False  # a topic's `names` entry (or a figure alias), not an ordinary word


@dataclass(frozen=True, slots=True)
class _Signal:
    name: str
    labels: tuple[str, ...]
    terms: tuple[_Term, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    terms: tuple[_Term, ...]
    exclusions: tuple[int, ...]
    signals: tuple[_Signal, ...] = ()
    scope: str = "sentence"
    skip_list_only: bool = False


@dataclass(slots=True)
class _Story:
    """Per-call scratch state: tokens and phrase hits of each field."""

    texts: dict[str, str]
    tokens: dict[str, list[Token]]
    hits: dict[int, list[_Hit]] = field(default_factory=dict)
    language: str | None = None


@dataclass(frozen=True, slots=True)
class _Found:
    """An accepted hit of an entry, with the configured term that produced it."""

    term: str
    hit: _Hit
    is_name: bool = False


class Matcher:
    """Compiled watchlists. Build once from the config, then call `match` per story."""

    def __init__(self, config: WatchlistsConfig) -> None:
        self._phrases: list[_Phrase] = []
        self._phrase_ids: dict[_Phrase, int] = {}
        self._index: dict[str, list[int]] = {}  # first word -> exact phrases
        self._stem_index: dict[str, list[int]] = {}  # first word's stem -> inflected phrases
        self._cand_cache: dict[tuple[str, ...], tuple[int, ...]] = {}
        self._norms = _NormCache()
        infos: list[LabelInfo] = []
        entries: dict[str, _Entry] = {}
        for fig in config.figures:
            infos.append(LabelInfo(fig.id, "figure", fig.name.ar, fig.name.en, fig.default))
            entries[fig.id] = self._compile_figure(fig)
        for topic in config.topics:
            infos.append(LabelInfo(topic.id, "topic", topic.name.ar, topic.name.en, topic.default))
            entries[topic.id] = self._compile_topic(topic)
        self._labels = tuple(infos)
        self._order = tuple(info.id for info in infos)
        self._eval_order = _dependency_order(entries)
        self._entries = entries
        self._build_precheck()

    @property
    def labels(self) -> tuple[LabelInfo, ...]:
        """Every figure and topic, in config order."""
        return self._labels

    # -- compiling -------------------------------------------------------------------------

    def _phrase(self, text: str, case_sensitive: bool = False, inflect: bool = False) -> int:
        tokens = tokenize(text)
        # Words of one or two letters (جي بي تي, إيه آي, AI) are letters spelt out, not
        # Arabic words: they never inflect, whatever the option says.
        mask = tuple(inflect and not case_sensitive and len(t.norm) > 2 for t in tokens)
        words = tuple(term_stem(t.norm) if m else t.norm for t, m in zip(tokens, mask, strict=True))
        exact = (
            tuple(unicodedata.normalize("NFKC", t.text) for t in tokens) if case_sensitive else None
        )
        phrase = _Phrase(words, exact, mask)
        pid = self._phrase_ids.get(phrase)
        if pid is None:
            pid = len(self._phrases)
            self._phrases.append(phrase)
            self._phrase_ids[phrase] = pid
            index = self._stem_index if mask[0] else self._index
            index.setdefault(words[0], []).append(pid)
        return pid

    def _term(self, spec: TermSpec, inflect_default: bool, is_name: bool = False) -> _Term:
        inflect = inflect_default if spec.inflect is None else spec.inflect
        return _Term(
            text=spec.term,
            phrase=self._phrase(spec.term, spec.case_sensitive, inflect),
            languages=frozenset(lang.lower() for lang in spec.languages),
            context=tuple(self._phrase(c, inflect=inflect) for c in spec.context),
            window=spec.window,
            is_name=is_name,
        )

    def _compile_figure(self, fig: FigureSpec) -> _Entry:
        return _Entry(
            id=fig.id,
            terms=tuple(self._term(as_term(t), False) for t in fig.aliases),
            exclusions=tuple(self._phrase(x) for x in fig.exclusions),
        )

    def _compile_topic(self, topic: TopicSpec) -> _Entry:
        signals = tuple(
            _Signal(
                name=s.name or (s.labels[0] if s.labels else as_term(s.terms[0]).term),
                labels=s.labels,
                terms=tuple(self._term(as_term(t), True) for t in s.terms),
            )
            for s in topic.all_of
        )
        return _Entry(
            id=topic.id,
            terms=(
                *(self._term(as_term(t), False, is_name=True) for t in topic.names),
                *(self._term(as_term(t), True) for t in topic.terms),
            ),
            exclusions=tuple(self._phrase(x, inflect=True) for x in topic.exclusions),
            signals=signals,
            scope=topic.scope,
            skip_list_only=topic.skip_list_only,
        )

    def _trigger_phrases(self) -> set[int]:
        """Phrases of which at least one must occur in a story for any entry to match: every
        alias/term of every entry, and for a compound rule those of its most selective
        signal (every signal is required, so one suffices; `ai` rather than 150 policy
        words)."""
        memo: dict[str, set[int]] = {}

        def entry_phrases(entry_id: str) -> set[int]:
            if entry_id not in memo:
                entry = self._entries[entry_id]
                found = {t.phrase for t in entry.terms}
                if entry.signals:
                    options = [
                        {t.phrase for t in sig.terms}.union(
                            *(entry_phrases(ref) for ref in sig.labels)
                        )
                        for sig in entry.signals
                    ]
                    found |= min(options, key=len)
                memo[entry_id] = found
            return memo[entry_id]

        return set().union(*(entry_phrases(e) for e in self._entries))

    def _build_precheck(self) -> None:
        """For each trigger phrase, the written forms each of its words may take (see
        `_surface_forms`); and an index from any such form to the phrases it belongs to."""
        self._pre_words: list[tuple[frozenset[str], ...]] = []
        self._pre_index: dict[str, list[int]] = {}
        for pid in sorted(self._trigger_phrases()):
            ph = self._phrases[pid]
            forms = tuple(_surface_forms(w, m) for w, m in zip(ph.words, ph.inflect, strict=True))
            k = len(self._pre_words)
            self._pre_words.append(forms)
            # index the phrase under its longest word's forms: fewer stories hold it
            key = max(range(len(forms)), key=lambda i: (len(ph.words[i]), i))
            for form in forms[key]:
                self._pre_index.setdefault(form, []).append(k)
        self._pre_any = frozenset(self._pre_index)

    def _may_match(self, title: str, summary: str) -> bool:
        """Cheap pre-check on the story's words (a regex split, cached normalisation and
        set operations, mostly in C): True when some trigger phrase has all its words in the
        story. Most stories of a feed hold none and need no tokenising at all. Never False
        for a story that would match (the forms are a superset of what the matcher accepts).
        """
        # The story's words, cut exactly as tokenize cuts them and normalised through a
        # per-word cache (map() runs in C; only a word never seen before costs a call).
        words = set(map(self._norms.__getitem__, WORD_RE.findall(f"{title}\n{summary}")))
        hits = words & self._pre_any
        for form in hits:
            for k in self._pre_index[form]:
                if all(not forms.isdisjoint(words) for forms in self._pre_words[k]):
                    return True
        return False

    # -- matching --------------------------------------------------------------------------

    def match(self, title: str, summary: str, language: str | None = None) -> Match:
        """Match one story. `language` ("ar", "fr", "en"...) restricts terms configured with
        `languages`; None means unknown, and every term applies."""
        title, summary = title or "", summary or ""
        if not self._may_match(title, summary):
            return Match()
        return self._match_words(title, summary, language)

    def _match_words(self, title: str, summary: str, language: str | None) -> Match:
        """The matching proper, word by word (`match` without its pre-check)."""
        story = _Story(
            texts={"title": title, "summary": summary},
            tokens={},
            language=language.split("-")[0].lower() if language else None,
        )
        for name in _FIELDS:
            tokens = tokenize(story.texts[name])
            story.tokens[name] = tokens
            self._find(name, tokens, story.hits)
        found: dict[str, list[_Found]] = {}
        if story.hits:
            for entry_id in self._eval_order:
                found[entry_id] = self._evaluate(self._entries[entry_id], story, found)
        labels: list[str] = []
        evidence: list[Evidence] = []
        for entry_id in self._order:
            items = found.get(entry_id)
            if not items:
                continue
            labels.append(entry_id)
            for item in _dedupe(items):
                hit = item.hit
                evidence.append(
                    Evidence(
                        label=entry_id,
                        term=item.term,
                        text=story.texts[hit.field][hit.start : hit.end],
                        field=hit.field,
                        start=hit.start,
                        end=hit.end,
                    )
                )
        return Match(tuple(labels), tuple(evidence))

    def _candidates(self, forms: tuple[str, ...]) -> tuple[int, ...]:
        """Phrases whose first word a text word (given by its proclitic readings) may be:
        exact readings first, then inflected stems. Cached per word: news vocabulary
        repeats, and most words are candidates for nothing."""
        cached = self._cand_cache.get(forms)
        if cached is None:
            found: dict[int, None] = {}
            for form in forms:
                found.update(dict.fromkeys(self._index.get(form, ())))
            if self._stem_index:
                for stem in inflected_stems(forms[0]):
                    found.update(dict.fromkeys(self._stem_index.get(stem, ())))
            cached = tuple(found)
            if len(self._cand_cache) > _CACHE_MAX:
                self._cand_cache.clear()
            self._cand_cache[forms] = cached
        return cached

    def _find(self, name: str, tokens: list[Token], hits: dict[int, list[_Hit]]) -> None:
        for i, tok in enumerate(tokens):
            cands = self._candidates(tok.forms)
            if cands:
                self._extend(cands, name, tokens, i, hits)

    def _extend(
        self,
        cands: tuple[int, ...],
        name: str,
        tokens: list[Token],
        i: int,
        hits: dict[int, list[_Hit]],
    ) -> None:
        """Record each candidate phrase whose remaining words follow token i."""
        for pid in cands:
            ph = self._phrases[pid]
            last = i + len(ph.words) - 1
            if last >= len(tokens):
                continue
            if any(
                (ph.words[k] not in inflected_stems(tokens[i + k].norm))
                if ph.inflect[k]
                else (tokens[i + k].norm != ph.words[k])
                for k in range(1, len(ph.words))
            ):
                continue
            if ph.exact is not None and not _same_case(tokens, i, ph.exact):
                continue
            tok = tokens[i]
            hits.setdefault(pid, []).append(
                _Hit(pid, name, i, last, tok.start, tokens[last].end, tok.sentence)
            )

    def _term_hits(self, term: _Term, excluded: list[_Hit], story: _Story) -> Iterable[_Hit]:
        if term.languages and story.language and story.language not in term.languages:
            return
        for hit in story.hits.get(term.phrase, ()):
            if any(_overlaps(hit, x) for x in excluded):
                continue
            if term.context and not self._has_context(term, hit, story):
                continue
            yield hit

    def _has_context(self, term: _Term, hit: _Hit, story: _Story) -> bool:
        for pid in term.context:
            for other in story.hits.get(pid, ()):
                if _overlaps(other, hit):
                    continue  # the alias itself is no context for itself
                if term.window is None:
                    return True
                if other.field == hit.field and (
                    other.first - hit.last <= term.window and hit.first - other.last <= term.window
                ):
                    return True
        return False

    def _evaluate(
        self, entry: _Entry, story: _Story, done: dict[str, list[_Found]]
    ) -> list[_Found]:
        excluded = [h for pid in entry.exclusions for h in story.hits.get(pid, ())]
        hits = story.hits
        out = [
            _Found(term.text, hit, term.is_name)
            for term in entry.terms
            if term.phrase in hits
            for hit in self._term_hits(term, excluded, story)
        ]
        if entry.skip_list_only and _only_a_list_item(out, story):
            out = []
        if entry.signals:
            out.extend(self._compound(entry, story, done, excluded))
        return out

    def _compound(
        self, entry: _Entry, story: _Story, done: dict[str, list[_Found]], excluded: list[_Hit]
    ) -> list[_Found]:
        per_signal: list[list[_Found]] = []
        for signal in entry.signals:
            items = [
                _Found(f"{signal.name}: {term.text}", hit)
                for term in signal.terms
                if term.phrase in story.hits
                for hit in self._term_hits(term, excluded, story)
            ]
            for ref in signal.labels:
                items.extend(_Found(f"{signal.name}: {f.term}", f.hit) for f in done.get(ref, ()))
            if not items:
                return []
            per_signal.append(items)
        unit_sets = [{_unit(f.hit, entry.scope) for f in items} for items in per_signal]
        # With scope "sentence" the headline frames the whole story: a signal in the title
        # counts in every sentence of the summary.
        joins = entry.scope == "sentence"
        matched = {
            u
            for u in set().union(*unit_sets)
            if all(u in us or (joins and _TITLE in us) for us in unit_sets)
        }
        if not matched:
            return []
        return [
            f
            for items in per_signal
            for f in items
            if _unit(f.hit, entry.scope) in matched or (joins and f.hit.field == "title")
        ]


_TITLE = ("title", 0)


class _NormCache(dict[str, str]):
    """word -> normalize(word), filled on first use, emptied when it grows too big."""

    def __missing__(self, word: str) -> str:
        if len(self) > _CACHE_MAX:
            self.clear()
        norm = self[word] = normalize(word)
        return norm


def _only_a_list_item(found: list[_Found], story: _Story) -> bool:
    """True when a topic's only mention in the story is one item of an enumeration in the
    summary: "... السياحة، والفلاحة، والذكاء الاصطناعي، والطاقة". LABELS.md: a word in a
    list of unrelated items does not make the story about the topic. A mention in the title,
    or a second mention anywhere, always counts."""
    spans = {(f.hit.field, f.hit.first, f.hit.last) for f in found}
    if len(spans) != 1 or any(f.is_name for f in found):
        return False  # a product or company named is never "just a word in a list"
    hit = found[0].hit
    if hit.field != "summary":
        return False
    tokens = story.tokens["summary"]
    text = story.texts["summary"]

    def boundary_before(k: int) -> bool:
        # token k starts a new list item: a comma before it (unless a clause starts there:
        # "، وقال"), or a conjunction at its start (و + a noun with the article, "and", "et")
        if k <= 0 or k >= len(tokens) or tokens[k].sentence != hit.sentence:
            return False
        word = tokens[k].norm
        if word in _LIST_CONJUNCTIONS:
            return True
        if word.startswith("وال"):
            return word not in _NOT_LIST_WORDS
        gap = text[tokens[k - 1].end : tokens[k].start]
        return ("،" in gap or "," in gap) and not word.startswith("و")

    # Follow the chain of item boundaries out from the mention; items are short (at most
    # _MAX_ITEM words), so a boundary further away belongs to something else.
    chain = 0
    left = hit.first
    while left > 0 and tokens[left - 1].norm in _ARTICLES:  # l'intelligence artificielle
        left -= 1
    if boundary_before(left):
        chain += 1
        k = left - 1
        while k > 0 and left - k <= _MAX_ITEM:
            if boundary_before(k):
                chain += 1
                left = k
            k -= 1
    right = hit.last + 1
    if boundary_before(right):
        chain += 1
        k = right + 1
        while k < len(tokens) and k - right <= _MAX_ITEM:
            if boundary_before(k):
                chain += 1
                right = k
            k += 1
    return chain >= 2  # two boundaries around or beside the mention: three items or more


_MAX_ITEM = 4
_ARTICLES = frozenset({"l", "d", "le", "la", "les", "de", "des", "du", "the", "a", "an"})
_LIST_CONJUNCTIONS = frozenset({"and", "et", "or", "ou", "او"})
_NOT_LIST_WORDS = frozenset({"والتي", "والذي", "والذين", "واللذان", "والان"})


def _unit(hit: _Hit, scope: str) -> tuple[str, int]:
    if scope == "story":
        return ("", 0)
    if scope == "field" or hit.field == "title":
        return (hit.field, 0)
    return (hit.field, hit.sentence)


def _same_case(tokens: list[Token], i: int, exact: tuple[str, ...]) -> bool:
    for k, want in enumerate(exact):
        got = unicodedata.normalize("NFKC", tokens[i + k].text)
        if got != want and got != want.upper():
            return False
    return True


def _overlaps(a: _Hit, b: _Hit) -> bool:
    return a.field == b.field and a.first <= b.last and b.first <= a.last


def _dedupe(items: list[_Found]) -> list[_Found]:
    """Drop hits that overlap a longer (or earlier) kept hit of the same label."""
    ordered = sorted(
        items, key=lambda f: (_FIELDS.index(f.hit.field), f.hit.start, -(f.hit.end - f.hit.start))
    )
    kept: list[_Found] = []
    for item in ordered:
        if any(_overlaps(item.hit, k.hit) for k in kept):
            continue
        kept.append(item)
    return kept


def _surface_forms(word: str, inflect: bool) -> frozenset[str]:
    """Every written form a normalised text word may take and still count as `word`: with
    one conjunction (و ف) and one preposition (ب ك ل, لل) in front, and when inflected the
    article and one suffix (filters.arabic.AR_SUFFIXES) too; Latin words as they are,
    inflected ones also with s/es/e. Wider than the matcher on purpose: the pre-check may let
    through a story that then matches nothing, never the other way round."""
    if not _is_arabic_key(word):
        return frozenset([word, *(word + s for s in _LATIN_SUFFIXES)] if inflect else [word])
    out: set[str] = set()
    cores = [word]
    heads = [c + p for c in _CONJ for p in _PREP]
    if inflect:
        cores = [word + s for s in ("", *AR_SUFFIXES)]
        heads += [h + "ال" for h in heads] + [c + "لل" for c in _CONJ]
    elif word.startswith("ال"):
        # ل + ال is written لل: للذكاء is ل + الذكاء
        out.update(c + "ل" + word[1:] for c in _CONJ)
    out.update(h + core for h in heads for core in cores)
    return frozenset(out)


_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ك", "ل")
_LATIN_SUFFIXES = ("s", "es", "e")


def _is_arabic_key(key: str) -> bool:
    return "\u0600" <= key[0] <= "\u06ff"


def _dependency_order(entries: dict[str, _Entry]) -> tuple[str, ...]:
    """Entries after those they refer to (the schema has already rejected cycles)."""
    order: list[str] = []
    placed: set[str] = set()

    def place(entry_id: str) -> None:
        if entry_id in placed:
            return
        placed.add(entry_id)
        for signal in entries[entry_id].signals:
            for ref in signal.labels:
                place(ref)
        order.append(entry_id)

    for entry_id in entries:
        place(entry_id)
    return tuple(order)
