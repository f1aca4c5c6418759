"""The `watchlists:` block of config.yaml: figures and topics as data (pydantic v2).

A figure is a person, found by any of its aliases::

    - id: musk
      name: {ar: إيلون ماسك, en: Elon Musk}
      aliases:
        - إيلون ماسك
        - Elon Musk
        - {term: ماسك, context: [إيلون, تسلا]}   # bare ماسك only with one of these in the story
        - {term: Musk, case_sensitive: true}
      exclusions: [مسك الختام]                 # an alias inside one of these phrases is no hit

A topic is found by its `names` (products, companies: matched as written), its `terms`
(ordinary words: inflected, حكومة also finds الحكومية), or a compound rule (`all_of`): every
signal present in the same unit of text (`scope`). A signal is a list of terms and/or other
entries' ids::

    - id: ai
      name: {ar: الذكاء الاصطناعي, en: Artificial Intelligence}
      skip_list_only: true          # named once in a list of sectors: not an AI story
      terms: [الذكاء الاصطناعي, ذكاء اصطناعي, intelligence artificielle]
      names: [أوبن إيه آي, OpenAI, {term: AI, case_sensitive: true}]
    - id: ai_policy
      name: {ar: سياسات الذكاء الاصطناعي, en: AI policy}
      all_of:
        - {labels: [ai]}                            # where the `ai` topic matched
        - {name: policy, labels: [trump], terms: [حكومة, قانون]}
      scope: sentence               # same summary sentence; a signal in the title counts for all

Terms are whole words or whole phrases, compared after `filters.arabic.normalize`; an Arabic
word may carry one conjunction (و ف) and one preposition (ب ك ل, لل), and only inflected
terms an article or a suffix. Validation rejects what would silently misbehave: unknown keys,
a bad or duplicate id, a reference to a missing entry or a cycle, and a pattern that can never
match (nothing left after normalisation) or that would match almost everything (one letter, a
bare prefix such as ال, a stop word such as في or the).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from filters.arabic import normalize, tokenize
from filters.automaton import MAX_KEYS, key_count

__all__ = [
    "FigureSpec",
    "Names",
    "Side",
    "Signal",
    "TermSpec",
    "TopicSpec",
    "WatchlistsConfig",
    "check_pattern",
]

_ID_RE = re.compile(r"[a-z0-9_]+")

# Words that occur in nearly every story: a term made only of these would alert on everything.
# Normalised forms (see filters.arabic.normalize), so أن and ان are the same entry.
_STOP_TEXT = (
    # Arabic particles, prepositions, pronouns, bare proclitics
    "ال لل وال بال فال كال ولل و ف ب ك ل في من على إلى الى عن مع أن إن ما لا لم لن قد "
    "كان هذا هذه ذلك تلك التي الذي الذين هو هي هم بعد قبل عند كل أو ثم حتى بين منذ "
    "خلال دون غير ضد عبر لدى "
    # English
    "the a an of in on and or to is are was be for with by at from as it its this that "
    # French
    "le la les l de des du d un une et en au aux à est pour par sur dans que qui ce "
)
_STOP_WORDS = frozenset(normalize(w) for w in _STOP_TEXT.split())


def _check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(f"id {value!r} must be lowercase letters, digits and _ only")
    return value


def check_pattern(value: str, case_sensitive: bool = False) -> str:
    """Reject a term that can never match or would match almost every story.

    A case-sensitive acronym such as `UN` is allowed although `un` is a French stop word:
    written in capitals it no longer matches the common word. Returns `value` unchanged so
    the configured spelling is what evidence shows.
    """
    tokens = tokenize(value)
    if not tokens:
        raise ValueError(
            f"pattern {value!r} can never match: nothing is left after normalisation "
            "(only punctuation, diacritics or spaces)"
        )

    def too_common(text: str, norm: str) -> bool:
        if len(norm) < 2:
            return True
        if case_sensitive and text != text.lower():
            return False
        return norm in _STOP_WORDS

    if all(too_common(t.text, t.norm) for t in tokens):
        raise ValueError(
            f"pattern {value!r} would match almost every story "
            "(a single letter, a bare prefix like ال or a stop word); use a longer phrase"
        )
    return value


def _check_plain_pattern(value: str) -> str:
    return check_pattern(value)


def _term_from_string(value: object) -> object:
    # A plain string in YAML is a term with default options.
    return {"term": value} if isinstance(value, str) else value


Id = Annotated[str, AfterValidator(_check_id)]
# where a term's context word must stand; "opening": before it, opening its clause
Side = Literal["either", "before", "after", "opening"]
Pattern = Annotated[str, AfterValidator(_check_plain_pattern)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Frozen):
    """Display names: used in alerts, hashtags (#ترامب) and /topics."""

    ar: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]
    fr: Annotated[str, Field(min_length=1)] | None = None  # unset: the English name


class TermSpec(_Frozen):
    """A term with options; a plain string in YAML is a TermSpec with the defaults.

    - `case_sensitive`: Latin only. The text must be written as the term is, or all in
      capitals: `AI` finds "AI" but not "Ai Weiwei" nor "ai"; `Musk` finds "Musk", "MUSK".
    - `context`: the term counts only when one of these terms also occurs — within `window`
      words of it in the same field, or anywhere in the story when `window` is null. A
      context word in Latin capitals (US, UAE, DOGE) is an acronym and read as written:
      "US" is not "us".
    - `forms`: other written forms of the same word, matched with the same options: a
      verb's persons and tenses (تستثمر، يستثمر، استثمرت), which `inflect` does not make.
      Evidence names the term; the story's own words are quoted.
    - `side`: where that context word must stand: `either` side of the term (the default),
      only `before` it or only `after` it, in the same field. "Saudi Arabia invests" names
      the state acting, "Nvidia invests in Saudi Arabia" names where: `invests` with the
      states as context `before` it tells the two apart. Before it, a possessive owns the
      next word: "India's ban" counts, "China's DeepSeek plans" does not; after "in", "of"
      or في it is a place or another's name: "firms in India plan" does not count.
      `opening`: before it and opening its title, sentence or clause, as a headline's
      subject does: "المغرب يعتمد" counts, "مقاولات المغرب تعتمد" (Morocco's companies)
      does not.
    - `languages`: only for stories in these languages (stories of unknown language always
      qualify), e.g. the French acronym `IA` only for `fr`.
    - `inflect`: also match inflected forms — each word with or without the article ال and
      with one common suffix (ة ات ي ية يا ين ون ها هم ...; Latin s/es): حكومة finds الحكومية,
      للحكومات, حكومته. Unset means: yes for topic terms, no for figure aliases (names do not
      inflect, and ماسك must not find الماسك), no for topic `names`. Words of one or two
      letters never inflect (جي بي تي). Ignored when `case_sensitive`. `verb`: a Latin
      verb's forms too (regulate: regulates, regulated, regulating; encadrer: encadre,
      encadrent, encadré, encadrée...).
    - `before_number`: false = an occurrence right before a number does not count (the
      airline code in "flight AI 171" is not AI).
    """

    # case_sensitive is declared before term so that term's validator can see it (pydantic
    # validates fields in declaration order) and errors point at the `term` key itself.
    case_sensitive: bool = False
    term: str
    forms: tuple[Pattern, ...] = ()
    inflect: bool | Literal["verb"] | None = None
    before_number: bool = True
    context: tuple[Pattern, ...] = ()
    window: Annotated[int, Field(ge=1)] | None = None
    side: Side = "either"
    languages: tuple[str, ...] = ()

    @field_validator("term")
    @classmethod
    def _usable(cls, value: str, info: ValidationInfo) -> str:
        return check_pattern(value, bool(info.data.get("case_sensitive", False)))

    @model_validator(mode="after")
    def _window_needs_context(self) -> TermSpec:
        if self.window is not None and not self.context:
            raise ValueError("window is set but context is empty: give context terms")
        if self.side != "either" and not self.context:
            raise ValueError(f"side is {self.side!r} but context is empty: give context terms")
        return self


Term = Annotated[TermSpec, BeforeValidator(_term_from_string)]


def as_term(term: TermSpec | str) -> TermSpec:
    """A configured term as a TermSpec (plain strings get the default options)."""
    return term if isinstance(term, TermSpec) else TermSpec(term=term)


class Signal(_Frozen):
    """One ingredient of a compound topic rule: present where any of `terms` occurs or where
    any of the entries named in `labels` matched."""

    name: str | None = None  # shown in evidence ("policy"), defaults to the first label/term
    labels: tuple[Id, ...] = ()
    terms: tuple[Term, ...] = ()
    # Terms sorted by kind (policy: legislate, regulate, court...): the signal holds all of
    # them; evidence names the group ("policy/court: محكمة").
    groups: dict[Id, tuple[Term, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> Signal:
        if not self.labels and not self.terms and not any(self.groups.values()):
            raise ValueError("a signal needs labels or terms")
        return self


class FigureSpec(_Frozen):
    """A person, found by the aliases generated from `name` and any `aliases`, minus
    exclusions.

    From `name` (issue 12): the full name in Arabic (with its spelling variants, see
    filters.spelling) and in Latin letters, and the bare surname (the last word) in both
    scripts, the Latin one case-sensitive. When `context` or `context_labels` is set, the
    bare surname counts only with one of them (or the first name) in the story; a Latin
    surname right after another capitalised given name ("Jack Altman") is another person.

    - `aliases`: more spellings or nicknames, as terms (a term may carry its own context).
      With aliases and no `spelling: true`, nothing is generated from the name.
    - `spelling`: true = also vary the Arabic aliases; false = generate nothing, not even
      from the name; unset = generate from the name only when there are no aliases.
    - `context`: words (companies, products, roles) a bare surname needs.
    - `context_labels`: topics whose match is context too (a bare ماسك in an AI story).
    """

    id: Id
    name: Names
    default: bool = True
    aliases: tuple[Term, ...] = ()
    exclusions: tuple[Pattern, ...] = ()
    context: tuple[Pattern, ...] = ()
    context_labels: tuple[Id, ...] = ()
    spelling: bool | None = None

    @model_validator(mode="after")
    def _compiles_small(self) -> FigureSpec:
        for alias in self.aliases:  # a name does not inflect unless told to
            _check_size(alias, bool(alias.inflect))
        return self


class TopicSpec(_Frozen):
    """A subject, found by any of `names` or `terms`, or by the compound rule `all_of`.

    - `names`: products, companies, places... matched as written, like figure aliases
      (OpenAI, تشات جي بي تي, غروك): a name does not inflect.
    - `terms`: ordinary words, inflected by default (حكومة also finds الحكومية, للحكومات).
    - `all_of`: every signal present in one unit of text, `scope`: "sentence" (a sentence of
      the summary, with the title framing every sentence: a signal in the title counts for
      all of them), "field" (title or summary) or "story".
    - `skip_list_only`: a story whose only mention of the topic is one item of an
      enumeration in the summary ("السياحة، والفلاحة، والذكاء الاصطناعي، والطاقة") does not
      count; a mention in the title or a second mention always does.
    """

    id: Id
    name: Names
    default: bool = True
    names: tuple[Term, ...] = ()
    terms: tuple[Term, ...] = ()
    exclusions: tuple[Pattern, ...] = ()
    all_of: tuple[Signal, ...] = ()
    scope: Literal["sentence", "field", "story"] = "sentence"
    skip_list_only: bool = False

    @model_validator(mode="after")
    def _has_a_rule(self) -> TopicSpec:
        if not self.names and not self.terms and not self.all_of:
            raise ValueError(f"topic {self.id!r} needs names, terms or an all_of rule")
        return self

    @model_validator(mode="after")
    def _compiles_small(self) -> TopicSpec:
        # terms, signals and exclusions inflect unless told not to; names do not
        inflected = [
            *self.terms,
            *(t for signal in self.all_of for t in signal.terms),
            *(t for signal in self.all_of for terms in signal.groups.values() for t in terms),
        ]
        for term in inflected:
            _check_size(term, True if term.inflect is None else bool(term.inflect))
        for term in self.names:
            _check_size(term, bool(term.inflect))
        for phrase in self.exclusions:
            _check_size(TermSpec(term=phrase), True)
        return self


def _check_size(term: TermSpec, inflect: bool) -> None:
    """Refuse a term whose spellings would bloat the automaton (filters.automaton.MAX_KEYS)."""
    for phrase in (term.term, *term.forms):
        n = key_count(phrase, inflect, term.case_sensitive)
        if n > MAX_KEYS:
            raise ValueError(
                f"{phrase!r} would be matched through {n:,} spellings (every word inflected; "
                f"at most {MAX_KEYS:,}): give it inflect: false (a name does not inflect) or "
                "fewer words"
            )


class WatchlistsConfig(_Frozen):
    """Every figure and topic the bot can alert on, in display order.

    Cross-entry checks live in field validators so that pydantic's error `loc` names the list
    ("figures" / "topics") and the message names the index and id.
    """

    figures: tuple[FigureSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = Field(default=(), validate_default=True)

    @field_validator("figures")
    @classmethod
    def _unique_figure_ids(cls, figures: tuple[FigureSpec, ...]) -> tuple[FigureSpec, ...]:
        _check_unique(figures, set(), "figures")
        return figures

    @field_validator("topics")
    @classmethod
    def _topic_ids_and_references(
        cls, topics: tuple[TopicSpec, ...], info: ValidationInfo
    ) -> tuple[TopicSpec, ...]:
        # When `figures` itself failed validation it is missing here: then references to
        # figures cannot be checked, and reporting them as unknown would be a false error.
        figures: tuple[FigureSpec, ...] | None = info.data.get("figures")
        figure_ids = {f.id for f in figures or ()}
        _check_unique(topics, figure_ids, "topics")
        known = figure_ids | {t.id for t in topics}
        deps: dict[str, set[str]] = {}
        for i, fig in enumerate(figures or ()):
            for ref in fig.context_labels:
                if ref not in known:
                    raise ValueError(f"figures[{i}] ({fig.id!r}) refers to unknown id {ref!r}")
            deps[fig.id] = set(fig.context_labels)
        for i, topic in enumerate(topics):
            refs = {ref for signal in topic.all_of for ref in signal.labels}
            for ref in sorted(refs):
                if ref not in known and figures is not None:
                    raise ValueError(f"topics[{i}] ({topic.id!r}) refers to unknown id {ref!r}")
            deps[topic.id] = refs
        _check_acyclic(deps)
        return topics


def _check_unique(entries: Sequence[FigureSpec | TopicSpec], seen: set[str], where: str) -> None:
    seen = set(seen)
    for i, entry in enumerate(entries):
        if entry.id in seen:
            raise ValueError(
                f"{where}[{i}]: duplicate id {entry.id!r} (ids must be unique across figures "
                "and topics)"
            )
        seen.add(entry.id)


def _check_acyclic(deps: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join([*path[path.index(node) :], node])
            raise ValueError(f"topics refer to each other in a cycle: {cycle}")
        state[node] = 1
        for dep in sorted(deps.get(node, ())):
            visit(dep, [*path, node])
        state[node] = 2

    for node in sorted(deps):
        visit(node, [])
