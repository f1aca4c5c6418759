"""core/texts.py (and the other text tables): every reply exists in every language (Arabic,
English, French) with the same fields; none falls back to another language silently."""

from __future__ import annotations

import string

import pytest

from core import stats, texts
from core.commands import Catalogue, Reply
from models import LabelInfo


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TABLES = {
    "core.texts": texts._TEXTS,
    "core.texts descriptions": texts._DESCRIPTIONS,
    "core.stats": stats._TEXTS,
}
ENTRIES = [(table, key) for table, found in TABLES.items() for key in found]


def test_the_languages_are_arabic_english_and_french() -> None:
    assert set(texts.LANGS) == {"ar", "en", "fr"}


@pytest.mark.parametrize(("table", "key"), ENTRIES, ids=[f"{t}:{k}" for t, k in ENTRIES])
def test_every_text_in_every_language_with_the_same_fields(table: str, key: str) -> None:
    found = TABLES[table][key]
    assert set(found) == set(texts.LANGS), f"{table} {key}: {sorted(found)}"
    for lang in texts.LANGS:
        assert found[lang].strip(), f"{table} {key} is empty in {lang}"
        assert fields(found[lang]) == fields(found["ar"]), f"{table} {key} {lang}"
    if table == "core.texts":
        filled = {name: "X" for name in fields(found["ar"])}
        for lang in texts.LANGS:
            assert "{" not in texts.t(key, lang, **filled)


FRENCH_SAME_AS_ENGLISH = {
    "reason_other",  # only a field: nothing to translate
    "console_source",  # "source" is French too
}


@pytest.mark.parametrize(("table", "key"), ENTRIES, ids=[f"{t}:{k}" for t, k in ENTRIES])
def test_french_is_french_not_english_copied(table: str, key: str) -> None:
    found = TABLES[table][key]
    if key not in FRENCH_SAME_AS_ENGLISH:
        assert found["fr"] != found["en"], f"{table} {key}: the French is the English"


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
        (None, "fr", "fr"),
        (None, "fr-CA", "fr"),
        (None, "de", "en"),
        ("ar", "en", "ar"),
        ("en", "ar", "en"),
        ("fr", "ar", "fr"),
        ("xx", "fr", "fr"),
        ("xx", "de", "en"),
    ],
)
def test_pick_lang(chat_lang: str | None, user_lang: str | None, expected: str) -> None:
    assert texts.pick_lang(chat_lang, user_lang) == expected


def test_unknown_language_falls_back_to_arabic() -> None:
    assert texts.t("help", "de") == texts.t("help", "ar")
    assert texts.t("help", "fr").startswith("Commandes :\n/subscribe [ids] — s'abonner")


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
    french = {
        "trump": labels["trump"],
        "ai": LabelInfo("ai", "topic", "الذكاء الاصطناعي", "Artificial Intelligence", name_fr="IA"),
    }
    assert texts.names(["trump", "ai"], french, "fr") == "Donald Trump, IA"  # no name_fr: en
    assert texts.render(topics, "fr", french) == (
        "Personnalités :\n• trump — Donald Trump\n\nSujets :\n✅ ai — IA\n\n"
        "Exemple : /subscribe trump ai"
    )
