"""What /follow accepts: phrases in quotes, limits, common words refused with a reason."""

from __future__ import annotations

from core.follows import MAX_FOLLOWS, Term, check_terms, read_terms, term_key


def test_quoted_phrases_stay_phrases_and_other_words_split() -> None:
    typed = 'OpenAI «الذكاء الاصطناعي» "data centre", Maroc،  ChatGPT OpenAI'
    assert read_terms(typed) == [
        "OpenAI",
        "الذكاء الاصطناعي",
        "data centre",
        "Maroc",
        "ChatGPT",
    ]


def test_terms_compare_in_matching_form() -> None:
    assert term_key("الذكاءُ   الاصطناعيّ") == term_key("الذكاء الاصطناعي") == "الذكا الاصطناعي"
    assert term_key("Économie") == "economie"
    assert Term("a b", "a b").is_phrase


def test_new_terms_are_added_and_known_ones_reported() -> None:
    followed = [Term("OpenAI", "openai")]
    check = check_terms(["openai", "Anthropic", "أنثروبيك"], followed)
    assert [term.text for term in check.added] == ["Anthropic", "أنثروبيك"]
    assert [term.text for term in check.already] == ["OpenAI"]
    assert check.refused == ()


def test_short_long_common_and_empty_terms_are_refused_with_a_reason() -> None:
    check = check_terms(["ب", "x" * 61, "من", "the", "le la", "!!!", "ذكاء"], [])
    reasons = {refusal.text: refusal.reason for refusal in check.refused}
    assert reasons == {
        "ب": "too_short",
        "x" * 61: "too_long",
        "من": "too_common",
        "the": "too_common",
        "le la": "too_common",
        "!!!": "no_letters",
    }
    assert [term.text for term in check.added] == ["ذكاء"]


def test_a_chat_follows_at_most_twenty_terms() -> None:
    followed = [Term(f"word{i}", f"word{i}") for i in range(MAX_FOLLOWS - 1)]
    check = check_terms(["last", "one more"], followed)
    assert [term.text for term in check.added] == ["last"]
    assert [(r.text, r.reason) for r in check.refused] == [("one more", "limit")]
