"""What `/follow <words>` accepts: a chat's own keywords and phrases, checked before they reach
the matcher.

Pure. `read_terms` splits what the user typed (a phrase in quotes stays one phrase, other words
are one term each, commas and the Arabic comma also separate) and `check_terms` decides, for
each, whether it is followed or refused and why. The limits protect the matcher: every chat's
terms go into one automaton, so a term that would hit most stories (ال, من, the) or a flood of
terms would cost every story.

A term is compared in its matching form (`filters.arabic.normalize`, words joined by one
space), so `الذكاء  الاصطناعي` and `الذكاءُ الاصطناعي` are the same follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from filters.arabic import WORD_RE, normalize

__all__ = [
    "COMMON_WORDS",
    "MAX_FOLLOWS",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "FollowCheck",
    "Refusal",
    "Term",
    "check_terms",
    "read_terms",
    "term_key",
]

MAX_FOLLOWS = 20
MIN_LENGTH = 2
MAX_LENGTH = 60

RefusalReason = Literal["too_short", "too_long", "too_common", "no_letters", "limit"]

# Words so frequent in news text that following them would alert on nearly every story: the
# article and particles that stand alone in Arabic, and the commonest function words of the
# French and English editions. Compared in matching form.
_COMMON_AR = (
    "ال من في على إلى الى عن مع أن ان إن لا ما لم لن قد هذا هذه ذلك تلك التي الذي الذين كان"
    " كانت هو هي بعد قبل بين كل أو او ثم حتى عند منذ خلال يوم قال وقال وفي وهو أي اي غير"
    " بها به له لها فيه فيها"
)
_COMMON_FR = (
    "le la les de des du un une et en au aux pour sur dans par est que qui pas plus ce ces"
    " cette il elle ils son sa ses avec ne se ou mais"
)
_COMMON_EN = (
    "the a an of to in and for on is at by with from as it its that this be are was were"
    " has have had not or but he she they his her new says said"
)
COMMON_WORDS = frozenset(
    normalize(word) for words in (_COMMON_AR, _COMMON_FR, _COMMON_EN) for word in words.split()
)

# «…», “…”, "…" and '…' hold a phrase; anything else is split into words.
_PHRASE = re.compile(r"«([^»]*)»|“([^”]*)”|\"([^\"]*)\"|'([^']*)'")
_SEPARATORS = re.compile(r"[\s,،;؛]+")


@dataclass(frozen=True)
class Term:
    """One followed word or phrase: as the user wrote it, and its matching form."""

    text: str
    key: str

    @property
    def is_phrase(self) -> bool:
        return " " in self.key


@dataclass(frozen=True)
class Refusal:
    text: str
    reason: RefusalReason


@dataclass(frozen=True)
class FollowCheck:
    """The outcome of `/follow`: what is now followed (new terms only), what was already
    followed, and what was refused with the reason."""

    added: tuple[Term, ...]
    already: tuple[Term, ...]
    refused: tuple[Refusal, ...]


def term_key(text: str) -> str:
    """The matching form of a term: normalised words joined by single spaces."""
    return " ".join(WORD_RE.findall(normalize(text)))


def read_terms(text: str) -> list[str]:
    """Split the argument of `/follow` into terms, in the order typed, without repeats."""
    terms: list[str] = []
    position = 0
    for found in _PHRASE.finditer(text):
        terms.extend(_SEPARATORS.split(text[position : found.start()]))
        terms.append(next(group for group in found.groups() if group is not None))
        position = found.end()
    terms.extend(_SEPARATORS.split(text[position:]))
    cleaned = [" ".join(term.split()) for term in terms]
    return list(dict.fromkeys(term for term in cleaned if term))


def _refusal(text: str, key: str) -> RefusalReason | None:
    if not key:
        return "no_letters"
    if len(key) < MIN_LENGTH:
        return "too_short"
    if len(text) > MAX_LENGTH:
        return "too_long"
    if all(word in COMMON_WORDS for word in key.split()):
        return "too_common"
    return None


def check_terms(wanted: Sequence[str], followed: Iterable[Term]) -> FollowCheck:
    """Decide which of `wanted` a chat that already follows `followed` may add."""
    current = {term.key: term for term in followed}
    added: list[Term] = []
    already: list[Term] = []
    refused: list[Refusal] = []
    for text in wanted:
        key = term_key(text)
        reason = _refusal(text, key)
        if reason is not None:
            refused.append(Refusal(text, reason))
        elif key in current:
            already.append(current[key])
        elif len(current) >= MAX_FOLLOWS:
            refused.append(Refusal(text, "limit"))
        else:
            term = Term(text, key)
            current[key] = term
            added.append(term)
    return FollowCheck(tuple(added), tuple(already), tuple(refused))
