"""Watchlist matching: a story's title and summary -> labels with evidence. Pure and fast.

`Matcher(config)` compiles every configured phrase — aliases, spelling variants generated
from figures' names (filters.spelling), topic terms, context words, exclusions — into one
`PhraseAutomaton` (filters.automaton). `Matcher.match` reads each field once with it, so the
cost of a story does not depend on how many terms are watched; most stories yield no
occurrence at all and cost a fold and one automaton pass.

Then, per entry, after the entries it refers to (ai_policy after ai; a figure after the topics
its context names):

- an occurrence counts unless it overlaps an exclusion of the same entry (مؤشر ألتمان, Trump
  Tower), its language does not apply, its context is missing (a bare surname needs the
  figure's first name, companies or products in the story), or it is a namesake (a Latin
  surname right after another capitalised given name: "Jack Altman"); with
  `skip_list_only`, a topic named once as an item of a list of sectors does not count;
- a topic's compound rule (`all_of`) holds in a unit of text where every signal is present: a
  summary sentence (with scope "sentence" a signal in the title counts for every sentence),
  a field, or the story.

`Matcher.explain` returns the same decision as readable lines: every rule that fired and
every near-miss rejected, with the reason (inside another word, exclusion, context missing,
wrong language, list item, signal missing).

Evidence quotes the original words (`text`) with offsets into the original field.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from filters.arabic import WORD_RE, normalize, tokenize
from filters.automaton import PhraseAutomaton, Rejected, sentence_ends, sentence_of
from filters.schema import (
    FigureSpec,
    Names,
    Side,
    Signal,
    TermSpec,
    TopicSpec,
    WatchlistsConfig,
    as_term,
)
from filters.spelling import name_variants, phrase_variants
from models import Evidence, LabelInfo, Match

__all__ = ["Matcher", "compiled_matcher"]

_FIELDS = ("title", "summary")


class _Hit(NamedTuple):  # named tuples: built per occurrence, cheaper than dataclasses
    phrase: int
    field: str
    start: int  # character offsets in the original field
    end: int


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class _Term:
    """A compiled term: its phrase and the rules an occurrence must pass."""

    text: str
    phrases: tuple[int, ...]  # the phrase and its generated spellings
    languages: frozenset[str]
    context: tuple[int, ...]
    context_labels: tuple[str, ...]
    window: int | None
    side: Side = "either"  # where a context word must stand
    before_number: bool = True  # False: an occurrence right before a number does not count
    is_name: bool = False  # a topic's `names` entry (or a figure alias), not an ordinary word
    surname: bool = False  # a figure's bare surname: another capitalised given name before
    first_names: frozenset[str] = frozenset()  # it is a namesake


@dataclass(frozen=True, slots=True)
class _Signal:
    name: str
    labels: tuple[str, ...]
    terms: tuple[_Term, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    terms: tuple[_Term, ...]
    exclusions: frozenset[int]
    signals: tuple[_Signal, ...] = ()
    scope: str = "sentence"
    skip_list_only: bool = False

    def refs(self) -> set[str]:
        out = {ref for s in self.signals for ref in s.labels}
        out.update(ref for t in self.terms for ref in t.context_labels)
        return out


@dataclass(slots=True)
class _Story:
    """Per-call scratch state: texts, occurrences per phrase, sentence ends (lazily)."""

    texts: dict[str, str]
    hits: dict[int, list[_Hit]]
    # (entry, slot) -> the terms with hits, each with its phrases that occur
    active: dict[tuple[str, int], dict[_Term, list[int]]]
    language: str | None = None
    _ends: dict[str, list[int]] = field(default_factory=dict)

    def ends(self, name: str) -> list[int]:
        found = self._ends.get(name)
        if found is None:
            found = self._ends[name] = sentence_ends(self.texts[name])
        return found

    def sentence(self, hit: _Hit) -> int:
        return sentence_of(self.ends(hit.field), hit.start)


class _Found(NamedTuple):
    """An accepted occurrence of an entry, with the configured term that produced it."""

    term: str
    hit: _Hit
    is_name: bool = False


class _Notes:
    """Collects the explanation lines of one story (Matcher.explain)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


class Matcher:
    """Compiled watchlists. Build once from the config, then call `match` per story."""

    def __init__(self, config: WatchlistsConfig) -> None:
        self._automaton = PhraseAutomaton()
        infos = label_infos(config)
        entries: dict[str, _Entry] = {}
        for fig in config.figures:
            entries[fig.id] = self._compile_figure(fig)
        for topic in config.topics:
            entries[topic.id] = self._compile_topic(topic)
        self._automaton.compile()
        # phrase -> the terms it serves: (entry id, signal index or -1 for the entry's own
        # terms, term). A story then only visits the terms it holds.
        self._by_phrase: dict[int, list[tuple[str, int, _Term]]] = {}
        # context phrase -> the terms that need it (`explain` reports its near-misses only
        # where one of them occurs)
        self._context_of: dict[int, list[_Term]] = {}
        for entry in entries.values():
            slots = [(-1, entry.terms), *((i, s.terms) for i, s in enumerate(entry.signals))]
            for slot, terms in slots:
                for term in terms:
                    for pid in term.phrases:
                        self._by_phrase.setdefault(pid, []).append((entry.id, slot, term))
                    for pid in term.context:
                        self._context_of.setdefault(pid, []).append(term)
        self._entries = entries
        self._triggers = frozenset(self._trigger_phrases())
        self._labels = tuple(infos)
        self._order = tuple(info.id for info in infos)
        self._eval_order = _dependency_order(entries)

    @property
    def labels(self) -> tuple[LabelInfo, ...]:
        """Every figure and topic, in config order."""
        return self._labels

    @property
    def automaton(self) -> PhraseAutomaton:
        """The compiled phrases (read-only use)."""
        return self._automaton

    # -- compiling -------------------------------------------------------------------------

    def _phrase(self, text: str, case_sensitive: bool = False, inflect: bool = False) -> int:
        return self._automaton.add(text, inflect=inflect, case_sensitive=case_sensitive)

    def _term(
        self,
        spec: TermSpec,
        inflect_default: bool,
        is_name: bool = False,
        spellings: Iterable[str] = (),
        extra_context: Iterable[str] = (),
        context_labels: tuple[str, ...] = (),
        surname: bool = False,
        first_names: frozenset[str] = frozenset(),
        group: str | None = None,
    ) -> _Term:
        inflect = inflect_default if spec.inflect is None else bool(spec.inflect)
        spellings = [*spellings, *spec.forms]
        if spec.inflect == "verb":
            spellings = [*spellings, *verb_forms(spec.term)]
        main = self._phrase(spec.term, spec.case_sensitive, inflect)
        phrases = dict.fromkeys(
            [main, *(self._phrase(s, spec.case_sensitive, inflect) for s in spellings)]
        )
        context = dict.fromkeys(
            self._phrase(c, case_sensitive=bool(_ACRONYM.match(c)), inflect=inflect)
            for c in (*spec.context, *extra_context)
        )
        return _Term(
            text=f"{group}: {spec.term}" if group else spec.term,
            phrases=tuple(phrases),
            before_number=spec.before_number,
            languages=frozenset(lang.lower() for lang in spec.languages),
            context=tuple(context),
            context_labels=context_labels,
            window=spec.window,
            side=spec.side,
            is_name=is_name,
            surname=surname,
            first_names=first_names,
        )

    def _compile_figure(self, fig: FigureSpec) -> _Entry:
        terms: list[_Term] = []
        generate = fig.spelling is not False
        for alias in fig.aliases:
            spec = as_term(alias)
            spellings = phrase_variants(spec.term) if fig.spelling and _arabic(spec.term) else []
            terms.append(self._term(spec, False, spellings=spellings))
        if not fig.aliases or fig.spelling:
            terms.extend(self._name_terms(fig, generate))
        exclusions: dict[int, None] = {}
        for x in fig.exclusions:
            spellings = phrase_variants(x) if generate and _arabic(x) else []
            exclusions.update(dict.fromkeys([self._phrase(x), *map(self._phrase, spellings)]))
        return _Entry(id=fig.id, terms=tuple(terms), exclusions=frozenset(exclusions))

    def _name_terms(self, fig: FigureSpec, generate: bool) -> list[_Term]:
        """Aliases generated from the figure's names (issue 12): the full name in each
        script with its spelling variants, and the bare surname, which needs the figure's
        context (first name, companies, products) when the figure has one."""
        out: list[_Term] = []
        first_names: set[str] = set()
        surnames: list[tuple[str, bool]] = []  # (surname, Latin)
        for full, latin in ((fig.name.ar, False), (fig.name.en, True)):
            words = full.split()
            spell = generate and not latin and _arabic(full)
            variants = phrase_variants(full) if spell else [full]
            out.append(
                self._term(TermSpec(term=full), False, spellings=variants[1:] if spell else ())
            )
            if len(words) > 1:
                first = " ".join(words[:-1])
                first_names.update(phrase_variants(first) if spell else [first])
                surnames.append((words[-1], latin))
        context = (*fig.context, *sorted(first_names))
        for surname, latin in surnames:
            spec = TermSpec(term=surname, case_sensitive=latin)
            spellings = name_variants(surname)[1:] if generate and not latin else []
            # Arabic has no capitals: a bare ماسك may be "holder"; a capitalised Latin Musk
            # is the name (namesakes aside), so only the Arabic surname needs context.
            needs_context = not latin and bool(fig.context or fig.context_labels)
            out.append(
                self._term(
                    spec,
                    False,
                    spellings=spellings,
                    extra_context=context if needs_context else (),
                    context_labels=fig.context_labels if needs_context else (),
                    surname=latin,
                    first_names=frozenset(w.casefold() for w in first_names),
                )
            )
        return out

    def _compile_topic(self, topic: TopicSpec) -> _Entry:
        signals = tuple(
            _Signal(
                name=s.name or (s.labels[0] if s.labels else _first_term(s)),
                labels=s.labels,
                terms=(
                    *(self._term(as_term(t), True) for t in s.terms),
                    *(
                        self._term(as_term(t), True, group=group)
                        for group, terms in s.groups.items()
                        for t in terms
                    ),
                ),
            )
            for s in topic.all_of
        )
        return _Entry(
            id=topic.id,
            terms=(
                *(self._term(as_term(t), False, is_name=True) for t in topic.names),
                *(self._term(as_term(t), True) for t in topic.terms),
            ),
            exclusions=frozenset(self._phrase(x, inflect=True) for x in topic.exclusions),
            signals=signals,
            scope=topic.scope,
            skip_list_only=topic.skip_list_only,
        )

    def _trigger_phrases(self) -> set[int]:
        """Phrases of which at least one must occur in a story for any entry to match: every
        term of every entry, and for a compound rule those of its most selective signal
        (every signal is required, so one suffices: `ai` rather than 300 policy words)."""
        memo: dict[str, set[int]] = {}

        def entry_phrases(entry_id: str) -> set[int]:
            if entry_id not in memo:
                entry = self._entries[entry_id]
                found = {p for t in entry.terms for p in t.phrases}
                if entry.signals:
                    options = [
                        {p for t in sig.terms for p in t.phrases}.union(
                            *(entry_phrases(ref) for ref in sig.labels)
                        )
                        for sig in entry.signals
                    ]
                    found |= min(options, key=len)
                memo[entry_id] = found
            return memo[entry_id]

        return set().union(*(entry_phrases(e) for e in self._entries))

    # -- matching --------------------------------------------------------------------------

    def match(self, title: str, summary: str, language: str | None = None) -> Match:
        """Match one story. `language` ("ar", "fr", "en"...) restricts terms configured with
        `languages`; None means unknown, and every term applies."""
        return self._run(title or "", summary or "", language, None)

    def explain(self, title: str, summary: str, language: str | None = None) -> list[str]:
        """Why a story gets its labels: every rule that fired and every near-miss rejected,
        with the reason, as lines for an operator (`bot.py classify --explain`)."""
        notes = _Notes()
        match = self._run(title or "", summary or "", language, notes)
        out = [f"labels: {', '.join(match.labels) or '(none)'}"]
        for e in match.evidence:
            out.append(f"  fired {e.label}: {e.term} -> «{e.text}» ({e.field} {e.start}-{e.end})")
        out.extend(f"  rejected {line}" for line in notes.lines)
        return out

    def _near_miss(self, pattern: int, hits: dict[int, list[_Hit]]) -> bool:
        """A phrase found only inside a longer word is worth an `explain` line when it is a
        term's own, or the context of a term the story holds: المغربية for المغرب beside
        "تطلق", not in every story that writes المغربية."""
        if pattern in self._by_phrase:
            return True
        return any(
            pid in hits for term in self._context_of.get(pattern, ()) for pid in term.phrases
        )

    def _run(self, title: str, summary: str, language: str | None, notes: _Notes | None) -> Match:
        rejected: list[Rejected] | None = [] if notes is not None else None
        found_per_field = self._automaton.find_fields((title, summary), rejected)
        triggers = self._triggers
        if notes is None and not any(
            h.pattern in triggers for found_here in found_per_field for h in found_here
        ):
            return _NO_MATCH  # e.g. only policy words, in a story that is not about AI
        texts = {"title": title, "summary": summary}
        hits: dict[int, list[_Hit]] = {}
        for name, found_here in zip(_FIELDS, found_per_field, strict=True):
            for h in found_here:
                hits.setdefault(h.pattern, []).append(_Hit(h.pattern, name, h.start, h.end))
        if notes is not None and rejected:
            for r in rejected:
                if not self._near_miss(r.pattern, hits):
                    continue
                name = _FIELDS[r.field]
                notes.add(
                    f"«{texts[name][r.start : r.end]}» ({name}) for "
                    f"{self._automaton.text(r.pattern)!r}: {r.reason}"
                )
        if not hits:
            return Match()
        active: dict[tuple[str, int], dict[_Term, list[int]]] = {}
        for pid in hits:
            for entry_id, slot, term in self._by_phrase.get(pid, ()):
                active.setdefault((entry_id, slot), {}).setdefault(term, []).append(pid)
        story = _Story(
            texts=texts,
            hits=hits,
            active=active,
            language=language.split("-")[0].lower() if language else None,
        )
        found: dict[str, list[_Found]] = {}
        for entry_id in self._eval_order:
            found[entry_id] = self._evaluate(self._entries[entry_id], story, found, notes)
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
                        text=texts[hit.field][hit.start : hit.end],
                        field=hit.field,
                        start=hit.start,
                        end=hit.end,
                    )
                )
        return Match(tuple(labels), tuple(evidence))

    def _term_hits(
        self,
        entry: _Entry,
        term: _Term,
        present: list[int],
        excluded: list[_Hit],
        story: _Story,
        done: dict[str, list[_Found]],
        notes: _Notes | None,
    ) -> Iterable[_Hit]:
        """The accepted occurrences of `term`, whose phrases `present` occur in the story."""
        if len(present) > 1:
            present = sorted(present, key=term.phrases.index)  # in the term's order
        for pid in present:
            for hit in story.hits[pid]:
                why = self._rejection(term, hit, excluded, story, done)
                if why is None:
                    yield hit
                elif notes is not None:
                    quoted = story.texts[hit.field][hit.start : hit.end]
                    notes.add(f"{entry.id}: {term.text} -> «{quoted}» ({hit.field}): {why}")

    def _rejection(
        self,
        term: _Term,
        hit: _Hit,
        excluded: list[_Hit],
        story: _Story,
        done: dict[str, list[_Found]],
    ) -> str | None:
        if term.languages and story.language and story.language not in term.languages:
            return f"wrong language ({story.language}; the term is for {', '.join(sorted(term.languages))})"
        if not term.before_number and _NUMBER_AFTER.match(story.texts[hit.field], hit.end):
            return "a code before a number (flight AI 171), not the term"
        for x in excluded:
            if _overlaps(hit, x):
                quoted = story.texts[x.field][x.start : x.end]
                return f"exclusion phrase «{quoted}»"
        if term.surname and _namesake(story.texts[hit.field], hit.start, term.first_names):
            return "another person (another given name before the surname)"
        if (term.context or term.context_labels) and not self._has_context(
            term, hit, excluded, story, done
        ):
            return f"context missing (none of its context words {_context_place(term)})"
        return None

    def _has_context(
        self,
        term: _Term,
        hit: _Hit,
        excluded: list[_Hit],
        story: _Story,
        done: dict[str, list[_Found]],
    ) -> bool:
        if any(done.get(ref) for ref in term.context_labels):
            return True
        for pid in term.context:
            for other in story.hits.get(pid, ()):
                if _overlaps(other, hit):
                    continue  # the alias itself is no context for itself
                if any(_overlaps(other, x) for x in excluded):
                    continue  # inside an exclusion phrase: not that word (اتصالات المغرب)
                if term.side != "either" and not _on_side(other, hit, term.side):
                    continue
                if term.window is not None and (
                    other.field != hit.field
                    or _words_between(story.texts[hit.field], hit, other) >= term.window
                ):
                    continue
                if term.side in _BEFORE and not _acts(story.texts[hit.field], other, hit):
                    continue
                if term.side == "opening" and not _opens_clause(story.texts[hit.field], other):
                    continue
                return True
        return False

    def _evaluate(
        self, entry: _Entry, story: _Story, done: dict[str, list[_Found]], notes: _Notes | None
    ) -> list[_Found]:
        own = story.active.get((entry.id, -1))
        if own is None and not entry.signals:
            return []
        exclusions = entry.exclusions
        excluded = (
            []
            if exclusions.isdisjoint(story.hits)
            else [h for pid, hs in story.hits.items() if pid in exclusions for h in hs]
        )
        out = [
            _Found(term.text, hit, term.is_name)
            for term, present in (own or {}).items()
            for hit in self._term_hits(entry, term, present, excluded, story, done, notes)
        ]
        if entry.skip_list_only and out and _only_a_list_item(out, story):
            if notes is not None:
                notes.add(f"{entry.id}: named once, as one item of a list of sectors")
            out = []
        if entry.signals:
            out.extend(self._compound(entry, story, done, excluded, notes))
        return out

    def _compound(
        self,
        entry: _Entry,
        story: _Story,
        done: dict[str, list[_Found]],
        excluded: list[_Hit],
        notes: _Notes | None,
    ) -> list[_Found]:
        per_signal: list[list[_Found]] = []
        for i, signal in enumerate(entry.signals):
            items = [
                _Found(f"{signal.name}: {term.text}", hit)
                for term, present in story.active.get((entry.id, i), {}).items()
                for hit in self._term_hits(entry, term, present, excluded, story, done, notes)
            ]
            for ref in signal.labels:
                items.extend(_Found(f"{signal.name}: {f.term}", f.hit) for f in done.get(ref, ()))
            if not items:
                if notes is not None and any(per_signal):
                    notes.add(f"{entry.id}: signal {signal.name!r} missing from the story")
                return []
            per_signal.append(items)
        units = [{self._unit(f.hit, entry.scope, story) for f in items} for items in per_signal]
        # With scope "sentence" the headline frames the whole story: a signal in the title
        # counts in every sentence of the summary.
        joins = entry.scope == "sentence"
        matched = {
            u
            for u in set().union(*units)
            if all(u in us or (joins and _TITLE in us) for us in units)
        }
        if not matched:
            if notes is not None:
                names = ", ".join(s.name for s in entry.signals)
                notes.add(f"{entry.id}: signals ({names}) present but not in one {entry.scope}")
            return []
        return [
            f
            for items in per_signal
            for f in items
            if self._unit(f.hit, entry.scope, story) in matched
            or (joins and f.hit.field == "title")
        ]

    @staticmethod
    def _unit(hit: _Hit, scope: str, story: _Story) -> tuple[str, int]:
        if scope == "story":
            return ("", 0)
        if scope == "field" or hit.field == "title":
            return (hit.field, 0)
        return (hit.field, story.sentence(hit))


_TITLE = ("title", 0)
_NUMBER_AFTER = re.compile(r"[ \-#]?\d")
_NO_MATCH = Match()
_WORD = re.compile(r"[^\W_]+")
_GIVEN_NAME = re.compile(r"([^\W\d_]+) \Z")
# Function words and auxiliaries that open a sentence or a headline: "The Trump
# administration", "Will Musk sell?", "Pourquoi Trump..." name no other person.
_OPENING_WORDS = (
    "the a an this that these but or if while because despite amid during about into "
    "between without through toward towards will would can could should may might must "
    "does did do is was has had have are were not new then now again also only even "
    "here there where who which exclusive breaking watch analysis opinion report "
    "une un pour par avec sur dans selon contre quand comment pourquoi mais ou si "
    "après avant chez sans entre sous vers comme like leader rival ally critic team camp era rally"
)
# Capitalised words that stand before a surname without being another person's given name:
# titles and roles, and the opening words above.
_TITLES = frozenset(
    [
        "president",
        "président",
        "presidente",
        "former",
        "ex",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "sir",
        "madame",
        "monsieur",
        "m",
        "mme",
        "ceo",
        "boss",
        "chief",
        "billionaire",
        "milliardaire",
        "tycoon",
        "magnate",
        "senator",
        "sénateur",
        "candidate",
        "candidat",
        "us",
        "u.s",
        "american",
        "américain",
        "tech",
        "le",
        "la",
        "les",
        "de",
        "du",
        "des",
        "by",
        "with",
        "and",
        "et",
        "says",
        "said",
        "dit",
        "ask",
        "asks",
        "when",
        "why",
        "how",
        "what",
        "as",
        "after",
        "before",
        "under",
        "over",
        "from",
        "for",
        "to",
        "of",
        "in",
        "on",
        "at",
        "against",
        "versus",
        "vs",
    ]
) | frozenset(_OPENING_WORDS.split())


def _namesake(text: str, start: int, first_names: frozenset[str]) -> bool:
    """True when a Latin surname at `start` follows another capitalised given name
    ("Jack Altman", "Eric Trump"): LABELS.md, "another person" / "family members". Not in a
    Title Case headline, where every word is capitalised."""
    m = _GIVEN_NAME.search(text, max(0, start - 40), start)
    if m is None:
        return False
    prev = m.group(1)
    if not prev[:1].isupper() or not prev.isalpha() or prev.isupper() or len(prev) < 3:
        return False
    if prev.casefold() in first_names or prev.casefold() in _TITLES:
        return False
    latin_words = [w for w in _WORD.findall(text) if w.isascii() and w.isalpha() and len(w) > 3]
    capitalised = sum(1 for w in latin_words if w[0].isupper())
    return not (latin_words and capitalised / len(latin_words) > 0.6)


def _context_place(term: _Term) -> str:
    """Where a term's context word must be, in the words of `--explain`."""
    side = _SIDE_WORDS[term.side]
    if term.window is None:
        return "in the story" if term.side == "either" else f"{side} in the same field"
    between = term.window - 1  # words allowed between the two
    near = (
        "right next to it"
        if between == 0
        else f"within {between} word{'s' if between > 1 else ''} of it"
    )
    return near if term.side == "either" else f"{side}, {near}"


_SIDE_WORDS: dict[Side, str] = {
    "either": "",
    "before": "before it",
    "after": "after it",
    "opening": "before it and opening its clause",
}


def _on_side(other: _Hit, hit: _Hit, side: Side) -> bool:
    """`other` stands on `side` ("before" or "opening": before; "after") of `hit`, in the
    same field."""
    if other.field != hit.field:
        return False
    return other.end <= hit.start if side in _BEFORE else other.start >= hit.end


_BEFORE = frozenset(("before", "opening"))
# a context word in Latin capitals is an acronym, read as written: "US" is not "us"
_ACRONYM = re.compile(r"[A-Z][A-Z.]{1,4}\Z")


def _opens_clause(text: str, word: _Hit) -> bool:
    """Nothing but a clause's punctuation stands between `word` and the start of its text,
    sentence or clause: "المغرب يعتمد", "Drought: Morocco uses", "عاجل | المغرب"."""
    # "The US approves": an English article before the name opens with it (the French names
    # carry their own: "la Chine")
    before = _TRAILING_THE.sub("", text[max(0, word.start - _LOOKBACK) : word.start])
    head = before.rstrip()
    if not head:
        return True
    # a hyphen ends a clause only with a space after it ("الرباط - المغرب"), not "Franco-"
    return head[-1] in _CLAUSE_ENDS or (head[-1] == "-" and head != before)


def _owns_another(text: str, owner: _Hit, hit: _Hit) -> bool:
    """The context word before `hit` is a possessive that owns another word first: in
    "China's DeepSeek plans" the actor is DeepSeek, in "India's ban" the ban is India's."""
    gap = text[owner.end : hit.start]
    return gap[:2] in _POSSESSIVE and bool(_WORD.search(gap, 2))


_POSSESSIVE = frozenset(("'s", "’s"))


def _acts(text: str, before: _Hit, hit: _Hit) -> bool:
    """The context word before `hit` names who acts: not a possessive owning another word,
    not a place or part of another's name, not a company's origin or owner ("شركات المغرب":
    in Arabic the owned noun comes first)."""
    previous = _previous_word(text, before)
    return not (
        _owns_another(text, before, hit)
        or previous in _PLACE_PREPOSITIONS
        or previous in _COMPANY_WORDS
        or _a_company_between(text, before, hit)
    )


def _a_company_between(text: str, before: _Hit, hit: _Hit) -> bool:
    """A noun of another actor (a company, its users or investors) stands between the
    context word and the hit: they act, the state's name only says where they are from ("US
    chipmaker Nvidia plans", "UK startup Synthesia invests", "US startups invest")."""
    between = text[before.end : hit.start]
    return any(w.lower() in _COMPANY_WORDS for w in _WORD.findall(between))


_COMPANY_WORDS = (
    frozenset(("startup", "startups", "firm", "firms", "company", "companies", "chipmaker"))
    | frozenset(("giant", "group", "maker", "lab", "unicorn", "banks", "investors", "users"))
    | frozenset(("entreprise", "entreprises", "société", "sociétés", "groupe", "géant"))
    | frozenset(("شركة", "شركات", "مقاولة", "مقاولات", "مجموعة"))
)


def _previous_word(text: str, word: _Hit) -> str:
    """The word right before `word`, lowered, an English article skipped ("in the UAE"):
    after "in", "of", في… the name is where ("Users in Brazil invest", "في المغرب، تطلق شركة
    ناشئة") or part of another's name ("National Bank of Egypt deploys"), not who acts;
    "France and the UAE sign" has both acting."""
    words = _WORD.findall(text, max(0, word.start - _LOOKBACK), word.start)[-2:]
    if words and words[-1].lower() == "the":
        words.pop()
    return words[-1].lower() if words else ""


_LOOKBACK = 40  # characters: the two words before, whatever punctuation follows them
_TRAILING_THE = re.compile(r"(?<!\w)the\s*\Z", re.IGNORECASE)
_CLAUSE_ENDS = frozenset('.:;!?|«»"“”(–—،؛؟')
_PLACE_PREPOSITIONS = (
    frozenset(("in", "at", "across", "inside", "throughout", "of"))
    | frozenset(("en", "au", "aux", "à", "dans"))
    | frozenset(("في", "داخل"))
)


def _words_between(text: str, a: _Hit, b: _Hit) -> int:
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return len(_WORD.findall(text[lo:hi])) if hi > lo else 0


def _only_a_list_item(found: list[_Found], story: _Story) -> bool:
    """True when a topic's only mention in the story is one item of an enumeration in the
    summary: "... السياحة، والفلاحة، والذكاء الاصطناعي، والطاقة". LABELS.md: a word in a
    list of unrelated items does not make the story about the topic. A mention in the title,
    or a second mention anywhere, always counts."""
    spans = {(f.hit.field, f.hit.start, f.hit.end) for f in found}
    if len(spans) != 1 or any(f.is_name for f in found):
        return False  # a product or company named is never "just a word in a list"
    hit = found[0].hit
    if hit.field != "summary":
        return False
    # Only the mention's sentence decides (a boundary in another sentence never counts), and
    # the word before it: tokenize from the previous sentence that holds a word, not the whole
    # summary.
    summary = story.texts["summary"]
    lo, hi = _sentence_window(story.ends("summary"), summary, hit.start)
    text = summary[lo:hi]
    tokens = tokenize(text)
    start, end = hit.start - lo, hit.end - lo
    inside = [k for k, t in enumerate(tokens) if t.start >= start and t.end <= end]
    if not inside:
        return False
    first, last = inside[0], inside[-1]
    sentence = tokens[first].sentence

    def boundary_before(k: int) -> bool:
        # token k starts a new list item: a comma before it (unless a clause starts there:
        # "، وقال"), or a conjunction at its start (و + a noun with the article, "and", "et")
        if k <= 0 or k >= len(tokens) or tokens[k].sentence != sentence:
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
    left = first
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
    right = last + 1
    if boundary_before(right):
        chain += 1
        k = right + 1
        while k < len(tokens) and k - right <= _MAX_ITEM:
            if boundary_before(k):
                chain += 1
                right = k
            k += 1
    return chain >= 2  # two boundaries around or beside the mention: three items or more


def _sentence_window(ends: list[int], text: str, offset: int) -> tuple[int, int]:
    """[lo, hi) of `text`: the sentence holding `offset`, and before it the sentences back to
    the last one that holds a word (so the word before the sentence's first is in)."""
    j = bisect_right(ends, offset)
    hi = ends[j] if j < len(ends) else len(text)
    k = j - 1
    while k > 0 and not _holds_token(text[ends[k - 1] : ends[k]]):
        k -= 1
    return (ends[k - 1] if k > 0 else 0), hi


def _holds_token(text: str) -> bool:
    return any(normalize(w) for w in WORD_RE.findall(text))


_MAX_ITEM = 4
_ARTICLES = frozenset({"l", "d", "le", "la", "les", "de", "des", "du", "the", "a", "an"})
_LIST_CONJUNCTIONS = frozenset({"and", "et", "or", "ou", "او"})
_NOT_LIST_WORDS = frozenset({"والتي", "والذي", "والذين", "واللذان", "والان"})


# Compiled watchlists by their content (the config as JSON), a few at a time. A Matcher is
# read-only once built and compiling one takes ~50 ms of CPU: a process that builds its parts
# again (the tests build one app per test, `bot.py` commands build one each) reuses it.
_COMPILED: dict[str, Matcher] = {}
_COMPILED_KEPT = 4


def compiled_matcher(config: WatchlistsConfig) -> Matcher:
    """The Matcher of `config`, compiled once per process for equal watchlists."""
    key = config.model_dump_json()
    matcher = _COMPILED.pop(key, None) or Matcher(config)
    _COMPILED[key] = matcher  # newest last
    while len(_COMPILED) > _COMPILED_KEPT:
        del _COMPILED[next(iter(_COMPILED))]
    return matcher


def label_infos(config: WatchlistsConfig) -> list[LabelInfo]:
    """What users see of each figure and topic (ids, names), without compiling the matcher."""

    def info(label: str, kind: str, name: Names, default: bool) -> LabelInfo:
        return LabelInfo(label, kind, name.ar, name.en, default, name_fr=name.fr or "")

    return [info(f.id, "figure", f.name, f.default) for f in config.figures] + [
        info(topic.id, "topic", topic.name, topic.default) for topic in config.topics
    ]


def _first_term(signal: Signal) -> str:
    for t in (*signal.terms, *(t for ts in signal.groups.values() for t in ts)):
        return as_term(t).term
    return "signal"


def verb_forms(verb: str) -> list[str]:
    """The forms of a Latin verb (its last word) a news text uses: French -er verbs
    (encadrer: encadre, encadrent, encadré, encadrée, encadrés, encadrées, encadrant), else
    English (regulate: regulates, regulated, regulating; ban: bans, banned, banning)."""
    head, _, last = verb.rpartition(" ")
    head = head + " " if head else ""
    if last.endswith("er") and len(last) > 4 and _french(last):
        stem = last[:-2]
        ends = ("e", "es", "ent", "é", "ée", "és", "ées", "ant", "ons", "ez")
        return [head + stem + e for e in ends]
    if last.endswith("e"):
        forms = [last + "s", last + "d", last[:-1] + "ing"]
    elif len(last) <= 4 and last[-1] not in "aeiouwy" and last[-2] in "aeiou":
        forms = [last + "s", last + last[-1] + "ed", last + last[-1] + "ing"]  # ban, banned
    else:
        forms = [last + "s", last + "es", last + "ed", last + "ing"]
    return [head + f for f in forms]


def _french(word: str) -> bool:
    # English verbs in -er are few and short (enter, offer, cover); French infinitives in -er
    # are the rule. A word is read as French when it is not one of those English ones.
    return word.lower() not in _ENGLISH_ER


_ENGLISH_ER = frozenset({"enter", "offer", "cover", "deliver", "consider", "order", "filter"})


def _arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)


def _overlaps(a: _Hit, b: _Hit) -> bool:
    return a.field == b.field and a.start < b.end and b.start < a.end


def _dedupe(items: list[_Found]) -> list[_Found]:
    """Drop hits that overlap a longer (or earlier) kept hit of the same label."""
    if len(items) == 1:
        return items
    ordered = sorted(items, key=_dedupe_key)
    kept: list[_Found] = []
    last: _Hit | None = None
    for item in ordered:
        # kept hits of a field do not overlap and come by start, so their ends rise too: the
        # last one kept is the only one a later hit can overlap
        if last is not None and _overlaps(item.hit, last):
            continue
        kept.append(item)
        last = item.hit
    return kept


def _dedupe_key(f: _Found) -> tuple[int, int, int]:
    return (_FIELD_INDEX[f.hit.field], f.hit.start, f.hit.start - f.hit.end)


_FIELD_INDEX = {name: i for i, name in enumerate(_FIELDS)}


def _dependency_order(entries: dict[str, _Entry]) -> tuple[str, ...]:
    """Entries after those they refer to (the schema has already rejected cycles)."""
    order: list[str] = []
    placed: set[str] = set()

    def place(entry_id: str) -> None:
        if entry_id in placed:
            return
        placed.add(entry_id)
        for ref in sorted(entries[entry_id].refs()):
            if ref in entries:
                place(ref)
        order.append(entry_id)

    for entry_id in entries:
        place(entry_id)
    return tuple(order)
