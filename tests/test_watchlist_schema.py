"""Validation of the `watchlists:` block: clear one-line errors at the right key path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from filters.schema import WatchlistsConfig


def _figure(id_: str = "pichai", *aliases: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "name": {"ar": "بيتشاي", "en": "Pichai"},
        "aliases": list(aliases) or ["ساندر بيتشاي"],
        **extra,
    }


def _topic(id_: str = "chips", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": id_, "name": {"ar": "رقائق", "en": "Chips"}}
    body.update(extra if extra else {"terms": ["رقائق"]})
    return body


def _error(data: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as info:
        WatchlistsConfig.model_validate(data)
    errors = info.value.errors()
    assert len(errors) == 1, errors
    return tuple(errors[0]["loc"]), errors[0]["msg"]


def test_minimal_config_is_valid_and_frozen() -> None:
    cfg = WatchlistsConfig.model_validate({"figures": [_figure()], "topics": [_topic()]})
    assert cfg.figures[0].aliases[0].term == "ساندر بيتشاي"
    assert cfg.figures[0].default is True
    with pytest.raises(ValidationError):
        cfg.figures[0].id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["Trump", "ai-policy", "ترامب", "", "a b"])
def test_bad_id(bad: str) -> None:
    loc, msg = _error({"figures": [_figure(bad)]})
    assert loc == ("figures", 0, "id")
    assert "lowercase" in msg


def test_unknown_key_is_rejected() -> None:
    loc, msg = _error({"figures": [_figure(alias=["x"])]})
    assert loc == ("figures", 0, "alias")
    assert "Extra inputs" in msg


def test_duplicate_id_within_figures() -> None:
    loc, msg = _error({"figures": [_figure("musk"), _figure("musk")]})
    assert loc == ("figures",)
    assert "figures[1]: duplicate id 'musk'" in msg


def test_duplicate_id_across_figures_and_topics() -> None:
    loc, msg = _error({"figures": [_figure("ai")], "topics": [_topic("ai")]})
    assert loc == ("topics",)
    assert "duplicate id 'ai'" in msg


def test_reference_to_unknown_entry() -> None:
    rule = {"all_of": [{"labels": ["ai"]}, {"terms": ["حكومة"]}]}
    loc, msg = _error({"topics": [_topic("ai_policy", **rule)]})
    assert loc == ("topics",)
    assert "unknown id 'ai'" in msg


def test_a_bad_figure_does_not_make_references_to_it_unknown() -> None:
    rule = {"all_of": [{"labels": ["pichai"]}, {"terms": ["حكومة"]}]}
    loc, _msg = _error({"figures": [_figure("pichai", "ال")], "topics": [_topic("p", **rule)]})
    assert loc == ("figures", 0, "aliases", 0, "term")


def test_reference_cycle() -> None:
    a = _topic("a", all_of=[{"labels": ["b"]}])
    b = _topic("b", all_of=[{"labels": ["a"]}])
    loc, msg = _error({"topics": [a, b]})
    assert loc == ("topics",)
    assert "cycle" in msg
    assert "a -> b -> a" in msg


@pytest.mark.parametrize("pattern", ["", "   ", "...", "ًٌٍَُ", "«»", "ـــ"])
def test_pattern_that_can_never_match(pattern: str) -> None:
    loc, msg = _error({"figures": [_figure("x", pattern)]})
    assert loc == ("figures", 0, "aliases", 0, "term")
    assert "can never match" in msg


@pytest.mark.parametrize("pattern", ["ال", "لل", "وال", "في", "من", "the", "de", "x", "م", "في من"])
def test_pattern_that_matches_almost_everything(pattern: str) -> None:
    loc, msg = _error({"figures": [_figure("x", pattern)]})
    assert loc == ("figures", 0, "aliases", 0, "term")
    assert "almost every story" in msg


def test_bad_patterns_are_caught_everywhere() -> None:
    loc, _ = _error({"figures": [_figure("x", exclusions=["ال"])]})
    assert loc == ("figures", 0, "exclusions", 0)
    loc, _ = _error({"figures": [_figure("x", {"term": "ماسك", "context": ["في"]})]})
    assert loc == ("figures", 0, "aliases", 0, "context", 0)
    loc, _ = _error({"topics": [_topic(all_of=[{"terms": ["the"]}])]})
    assert loc == ("topics", 0, "all_of", 0, "terms", 0, "term")


def test_case_sensitive_acronym_is_not_a_stop_word() -> None:
    cfg = WatchlistsConfig.model_validate(
        {"topics": [_topic("un", terms=[{"term": "UN", "case_sensitive": True}])]}
    )
    assert cfg.topics[0].terms[0].term == "UN"
    _loc, msg = _error({"topics": [_topic("un", terms=["UN"])]})
    assert "almost every story" in msg


def test_figure_context_labels_must_exist() -> None:
    data = _figure("x")
    data["context_labels"] = ["nope"]
    _loc, msg = _error({"figures": [data]})
    assert "unknown id 'nope'" in msg


def test_window_without_context() -> None:
    loc, msg = _error({"figures": [_figure("x", {"term": "ماسك", "window": 2})]})
    assert loc == ("figures", 0, "aliases", 0)
    assert "context" in msg


def test_side_without_context() -> None:
    loc, msg = _error({"topics": [_topic(terms=[{"term": "invest", "side": "before"}])]})
    assert loc == ("topics", 0, "terms", 0)
    assert msg == "Value error, side is 'before' but context is empty: give context terms"
    loc, msg = _error({"topics": [_topic(terms=[{"term": "invest", "side": "left"}])]})
    assert loc == ("topics", 0, "terms", 0, "side")
    assert "'either', 'before', 'after' or 'opening'" in msg


def test_a_form_is_checked_like_a_term() -> None:
    loc, msg = _error({"topics": [_topic(terms=[{"term": "invests", "forms": ["the"]}])]})
    assert loc == ("topics", 0, "terms", 0, "forms", 0)
    assert "would match almost every story" in msg


def test_a_long_inflected_name_is_refused_with_what_to_do() -> None:
    # every word inflected: 38,416 spellings, +35 MB and +0.3 s to build the matcher
    long_name = "المديرية العامة لأمن نظم المعلومات"
    loc, msg = _error({"topics": [_topic(terms=[long_name])]})
    assert loc == ("topics", 0)
    assert msg == (
        f"Value error, {long_name!r} would be matched through 38,416 spellings (every word "
        "inflected; at most 1,000): give it inflect: false (a name does not inflect) or "
        "fewer words"
    )
    _error({"topics": [_topic(exclusions=[long_name], terms=["رقائق"])]})  # exclusions too
    named = {"term": long_name, "inflect": False}
    WatchlistsConfig.model_validate({"topics": [_topic(terms=[named])]})
    WatchlistsConfig.model_validate({"topics": [_topic(names=[long_name])]})  # names do not
    alias = {"term": long_name, "inflect": True}
    loc, msg = _error({"figures": [_figure("x", alias)]})
    assert loc == ("figures", 0)
    assert "38,416 spellings" in msg


def test_topic_needs_a_rule_and_signal_needs_content() -> None:
    loc, msg = _error({"topics": [{"id": "t", "name": {"ar": "ت", "en": "T"}}]})
    assert loc == ("topics", 0)
    assert "needs names, terms or an all_of rule" in msg
    loc, msg = _error({"topics": [_topic(all_of=[{"name": "empty"}])]})
    assert loc == ("topics", 0, "all_of", 0)
    assert "labels or terms" in msg


def test_yaml_snippet_validates() -> None:
    snippet = """
figures:
  - id: pichai
    name: {ar: ساندر بيتشاي, en: Sundar Pichai}
    aliases: [ساندر بيتشاي, بيتشاي, Sundar Pichai, {term: Pichai, case_sensitive: true}]
topics: []
"""
    cfg = WatchlistsConfig.model_validate(yaml.safe_load(snippet))
    assert [a.term for a in cfg.figures[0].aliases][-1] == "Pichai"
    assert cfg.figures[0].aliases[-1].case_sensitive is True
