"""core/texts.py: every reply exists in both languages with the same fields."""

from __future__ import annotations

import string

import pytest

from core import texts
from core.commands import Catalogue, Reply
from models import LabelInfo


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", texts.keys())
def test_every_text_in_both_languages_with_the_same_fields(key: str) -> None:
    ar, en = texts._TEXTS[key]["ar"], texts._TEXTS[key]["en"]
    assert ar.strip() and en.strip()
    assert fields(ar) == fields(en)
    filled = {name: "X" for name in fields(ar)}
    assert "{" not in texts.t(key, "ar", **filled) and "{" not in texts.t(key, "en", **filled)


@pytest.mark.parametrize("key", [k for k in texts._TEXTS if "@" in k])
def test_a_platform_wording_has_the_fields_of_the_text_it_rewords(key: str) -> None:
    base = key.partition("@")[0]
    assert base in texts._TEXTS  # a text only one platform sends has a plain key
    for lang in texts.LANGS:
        assert fields(texts._TEXTS[key][lang]) == fields(texts._TEXTS[base][lang])


def test_every_command_has_menu_descriptions() -> None:
    for command in texts.COMMANDS:
        for lang in texts.LANGS:
            assert 1 <= len(texts.description(command, lang)) <= 100


@pytest.mark.parametrize(
    ("chat_lang", "user_lang", "expected"),
    [
        (None, None, "ar"),
        (None, "ar", "ar"),
        (None, "ar-EG", "ar"),
        (None, "en", "en"),
        (None, "fr", "en"),
        ("ar", "en", "ar"),
        ("en", "ar", "en"),
        ("xx", "fr", "en"),
    ],
)
def test_pick_lang(chat_lang: str | None, user_lang: str | None, expected: str) -> None:
    assert texts.pick_lang(chat_lang, user_lang) == expected


def test_unknown_language_falls_back_to_arabic() -> None:
    assert texts.t("help", "fr") == texts.t("help", "ar")


def test_echo_repeats_little_and_safely() -> None:
    shown = texts.echo(["a" * 100, "b\x00c", "3", "4", "5", "6", "7"], "en")
    assert shown == "«" + "a" * 32 + "…», «bc», «3», «4», «5», …"


def test_names_and_join() -> None:
    labels = {
        "trump": LabelInfo("trump", "figure", "ترامب", "Donald Trump"),
        "ai": LabelInfo("ai", "topic", "الذكاء الاصطناعي", "Artificial Intelligence"),
    }
    assert texts.names(["trump", "ai"], labels, "ar") == "ترامب، الذكاء الاصطناعي"
    assert texts.names(["trump", "gone"], labels, "en") == "Donald Trump, gone"
    assert texts.names([], labels, "en") == "nothing"
    topics = Reply(
        "topics",
        fields={
            "figures": Catalogue("figure", ("ai",)),
            "topics": Catalogue("topic", ("ai",)),
            "figure": "trump",
            "topic": "ai",
        },
    )
    assert texts.render(topics, "en", labels) == (
        "Figures:\n• trump — Donald Trump\n\nTopics:\n✅ ai — Artificial Intelligence\n\n"
        "Example: /subscribe trump ai"
    )
    assert texts.render(topics, "en", labels, dialect="discord").endswith(
        "Example: /subscribe figure:trump topic:ai"
    )
