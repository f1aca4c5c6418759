"""The default watchlists (config.yaml) on the spellings and near-misses of issue 3.

Each case asserts the labels AND the evidence: the original words, the field they are in, and
offsets that point at those words in the original text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from filters.schema import WatchlistsConfig
from filters.watchlist import Matcher
from models import Match

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path) -> dict[str, object]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    raw = _load(ROOT / "config.yaml")["watchlists"]
    return Matcher(WatchlistsConfig.model_validate(raw))


def _check_offsets(match: Match, title: str, summary: str) -> None:
    for e in match.evidence:
        source = title if e.field == "title" else summary
        assert source[e.start : e.end] == e.text, e


def _quoted(match: Match, label: str) -> set[tuple[str, str]]:
    return {(e.text, e.field) for e in match.evidence_for(label)}


# -- figures: every spelling, with attached prefixes ---------------------------------------

FIGURE_VARIANTS = [
    # (label, title, summary, expected quoted words, field)
    ("trump", "ترامب يفرض رسوما جديدة", "", "ترامب", "title"),
    ("trump", "", "قال الرئيس الأمريكي دونالد ترمب إن", "ترمب", "summary"),
    ("trump", "", "وجهت الصين رسالة لترامب بشأن الرسوم", "لترامب", "summary"),
    ("trump", "", "التقى نتنياهو وترمب في البيت الأبيض", "وترمب", "summary"),
    ("trump", "Trump signe un décret", "", "Trump", "title"),
    ("trump", "TRUMP TARIFFS HIT MARKETS", "", "TRUMP", "title"),
    ("altman", "", "قال سام ألتمان إن الشركة", "ألتمان", "summary"),
    ("altman", "", "أكد سام آلتمان أن النموذج الجديد", "آلتمان", "summary"),
    ("altman", "", "صرح التمان بأن الشركة", "التمان", "summary"),
    ("altman", "", "كتب سام ألتمن على منصة إكس", "ألتمن", "summary"),
    ("altman", "", "وجه ماسك انتقادات لألتمان", "لألتمان", "summary"),
    ("altman", "OpenAI's Sam Altman visits Rabat", "", "Altman", "title"),
    ("musk", "", "أعلن إيلون ماسك أن", "إيلون ماسك", "summary"),
    ("musk", "", "قال ايلون ماسك في منشور", "ايلون ماسك", "summary"),
    ("musk", "", "غرد ايلون مسك صباح اليوم", "ايلون مسك", "summary"),
    ("musk", "", "تعود ملكية الشركة لإيلون ماسك", "لإيلون ماسك", "summary"),
    ("musk", "ترامب وماسك يتبادلان الاتهامات", "", "وماسك", "title"),
    ("musk", "ماسك يعلن دمج تسلا وxAI", "", "ماسك", "title"),
    ("musk", "Elon Musk says X will appeal", "", "Elon Musk", "title"),
    ("musk", "", "la convocation d'Elon Musk par le parquet", "Elon Musk", "summary"),
    ("musk", "", "إيلـون مـاسك يتحدث", "إيلـون مـاسك", "summary"),  # tatweel
]


@pytest.mark.parametrize(("label", "title", "summary", "words", "field"), FIGURE_VARIANTS)
def test_figure_spellings_match_with_evidence(
    matcher: Matcher, label: str, title: str, summary: str, words: str, field: str
) -> None:
    match = matcher.match(title, summary)
    assert label in match.labels
    # the evidence quotes the words, or the full name around them (سام ألتمان)
    assert any(words in text and f == field for text, f in _quoted(match, label))
    _check_offsets(match, title, summary)


# -- topics: AI products and companies in every spelling ------------------------------------

AI_VARIANTS = [
    ("", "تطوير الذكاء الاصطناعي في المغرب", "الذكاء الاصطناعي"),
    ("", "استثمارات في ذكاء اصطناعي محلي", "ذكاء اصطناعي"),
    ("", "ثورة الذكاء الإصطناعي قادمة", "الذكاء الإصطناعي"),
    ("", "مدرسة تعتمد ذكاءً اصطناعياً في التقييم", "ذكاءً اصطناعياً"),
    ("", "مراكز بيانات للذكاء الاصطناعي", "للذكاء الاصطناعي"),
    ("", "الاستثمار بالذكاء الاصطناعي", "بالذكاء الاصطناعي"),
    ("", "الاستثمار في الطاقة والذكاء الاصطناعي", "والذكاء الاصطناعي"),
    ("", "تقنيات الذَّكَاءِ الاصْطِنَاعِيِّ الحديثة", "الذَّكَاءِ الاصْطِنَاعِيِّ"),
    ("", "أعلنت شركة أوبن إيه آي عن نموذج", "أوبن إيه آي"),
    ("", "أعلنت شركة اوبن ايه آي عن نموذج", "اوبن ايه آي"),
    ("", "أعلنت «أوبن أيه آي» عن نموذج", "أوبن أيه آي"),
    ("", "رئيس شركة أوبن إيه.آي يزور المنطقة", "أوبن إيه.آي"),
    ("", "أطلقت OpenAI نموذجا جديدا", "OpenAI"),
    ("", "شركة إكس إيه آي تجمع تمويلا", "إكس إيه آي"),
    ("", "شركة ماسك الناشئة xAI تجمع تمويلا", "xAI"),
    ("", "ظهور تشات جي بي تي غير كل شيء", "تشات جي بي تي"),
    ("", "ظهور شات جي بي تي غير كل شيء", "شات جي بي تي"),
    ("", "ChatGPT يصل إلى مليار مستخدم", "ChatGPT"),
    ("", "روبوت الدردشة Chat GPT", "روبوت الدردشة"),
    ("", "أثار غروك جدلا واسعا", "غروك"),
    ("", "le chatbot Grok de X", "Grok"),
    ("", "مشروع ستارغيت العملاق", "ستارغيت"),
    ("", "مشروع «ستارجيت» للبنية التحتية", "ستارجيت"),
    ("", "the Stargate project in Abu Dhabi", "Stargate"),
    ("", "Les usages de l'intelligence artificielle", "intelligence artificielle"),
    ("", "new rules for artificial intelligence", "artificial intelligence"),
    ("", "Morocco's bet on AI data centres", "AI"),
    ("", "مساعد جوجل الجديد Gemini", "Gemini"),
    ("", "3 شركات تستثمر 500 مليار دولار بمراكز بيانات الذكاء الاصطناع", "الذكاء الاصطناع"),
    ("", "شحنات رقائق إنفيديا إلى الصين", "رقائق إنفيديا"),
]


@pytest.mark.parametrize(("title", "summary", "words"), AI_VARIANTS)
def test_ai_terms_match_with_evidence(
    matcher: Matcher, title: str, summary: str, words: str
) -> None:
    match = matcher.match(title, summary)
    assert "ai" in match.labels
    assert (words, "summary") in _quoted(match, "ai")
    _check_offsets(match, title, summary)


def test_french_ia_matches_in_french_stories(matcher: Matcher) -> None:
    summary = "La stratégie Maroc digital, axée sur l'IA, a suscité des attentes."
    match = matcher.match("", summary, "fr")
    assert "ai" in match.labels
    assert ("IA", "summary") in _quoted(match, "ai")


# -- near-misses: nothing may match --------------------------------------------------------

NEAR_MISSES = [
    ("المسك… توليفة شرقية", "يظل للمسك سحره الخاص في عالم العطور", None),
    ("سعر كيلو المسك الخام", "عطر المسك من أغلى العطور", None),
    ("", "كانت الأغنية مسك ختام المهرجان", None),
    ("", "ليكونوا مسك ختام 9 أيام من الفن", None),
    ("فريق غير متماسك!", "", None),
    ("", "إن التماسك الاجتماعي أساس الدولة", None),
    ("", "صندوق التماسك الاجتماعي يرفع مخصصاته", None),
    ("", "ظل الحارس ماسك الكرة حتى النهاية", None),
    ("", "أفضل ماسك طبيعي للبشرة الجافة", None),
    ("", "دراسة مستوى الذكاء العاطفي لدى الأمهات", None),
    ("", "تنمية الذكاء الوجداني عند الأطفال", None),
    ("", "اعتمد المحلل على مؤشر ألتمان لقياس خطر الإفلاس", None),
    ("", "according to a measure known as the Altman-Z Score", None),
    ("", "انتخب الزعيم الألماني فريدريش ميرتس مستشارا لألمانيا", None),
    ("", "المنتخب الألماني يفوز على نظيره", None),
    ("Artiste et rebelle, Ai Weiwei expose à Paris", "", "fr"),
    ("", "Itissalat Al-Maghrib (IAM) a publié ses résultats", "fr"),
    ("", "The Asian Infrastructure Investment Bank (AIIB) approved loans", "en"),
    ("", "the plan would trump any other proposal", "en"),
    ("", "تستعد أمازون لفيلم عن ميلانيا ترمب وحياة زوجها", None),
    ("", "a woody scent with notes of white musk", "en"),
    ("", "مساعدها الذكي يعمل على الهواتف الذكية", None),
]


@pytest.mark.parametrize(("title", "summary", "language"), NEAR_MISSES)
def test_near_misses_match_nothing(
    matcher: Matcher, title: str, summary: str, language: str | None
) -> None:
    match = matcher.match(title, summary, language)
    assert match.labels == ()
    assert match.evidence == ()


def test_ia_inside_words_and_english_ia_do_not_match(matcher: Matcher) -> None:
    assert matcher.match("", "la DIAspora et l'IAM", "fr").labels == ()
    # in English stories IA is Iowa, not AI
    assert matcher.match("", "Des Moines, IA: farmers protest", "en").labels == ()


def test_trump_family_alone_is_not_trump_but_with_him_it_is(matcher: Matcher) -> None:
    assert "trump" not in matcher.match("", "صرح إريك ترامب بأن المنظمة").labels
    both = matcher.match("", "أكد إريك ترمب أن زيارة الرئيس دونالد ترمب ناجحة")
    assert "trump" in both.labels
    assert [e.text for e in both.evidence_for("trump")] == ["ترمب"]
    assert both.evidence_for("trump")[0].start > 20  # the president, not Eric


def test_bare_musk_needs_context(matcher: Matcher) -> None:
    assert "musk" not in matcher.match("ماسك يكشف السر", "").labels
    assert "musk" in matcher.match("ماسك يكشف السر", "خطة جديدة لشركة تسلا").labels
    # "holding the reins" stays an idiom even when the story gives context
    held = matcher.match("", "بدا ترامب ماسك بزمام الأمور في الحزب")
    assert held.labels == ("trump",)


def test_altman_z_score_is_excluded_but_altman_elsewhere_counts(matcher: Matcher) -> None:
    summary = "حذر سام ألتمان من المبالغة، بينما يعتمد المحللون على مؤشر ألتمان."
    match = matcher.match("", summary)
    assert match.labels == ("altman",)
    assert [e.text for e in match.evidence_for("altman")] == ["سام ألتمان"]
    assert match.evidence_for("altman")[0].start == summary.index("سام ألتمان")


# -- AI as one word in a list of sectors is not an AI story (LABELS.md) --------------------


@pytest.mark.parametrize(
    "summary",
    [
        "يراهن المغرب على قطاعات السيارات، والطيران، والذكاء الاصطناعي، والطاقات المتجددة.",
        "يراهن المغرب على قطاعات السيارات والطيران والطاقات المتجددة والذكاء الاصطناعي.",
        "des secteurs comme le tourisme, l'agriculture, l'intelligence artificielle et l'énergie",
    ],
)
def test_ai_named_once_in_a_list_is_not_ai(matcher: Matcher, summary: str) -> None:
    assert matcher.match("", summary).labels == ()


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("", "تعاون في مجالات الطاقة والذكاء الاصطناعي."),  # two items: not a list
        ("", "يناقش المؤتمر تطبيقات الذكاء الاصطناعي في الطب والتعليم والصناعة."),
        ("", "أعلنت الشركة عن نموذج للذكاء الاصطناعي، وقالت إن النماذج والبيانات جاهزة."),
        # a second mention, or one in the title, makes it an AI story again
        ("الذكاء الاصطناعي في المغرب", "قطاعات السيارات، والطيران، والذكاء الاصطناعي، والطاقة."),
        (
            "",
            "قطاعات السيارات، والطيران، والذكاء الاصطناعي، والطاقة. ويعد الذكاء الاصطناعي أولوية.",
        ),
        # a company named in a list is still named
        ("", "الرئيس التنفيذي لشركة “أوبن إيه.آي”، سام ألتمان، بدأ جولة عالمية."),
    ],
)
def test_ai_outside_lists_still_counts(matcher: Matcher, title: str, summary: str) -> None:
    assert "ai" in matcher.match(title, summary).labels


# -- ai_policy: an AI signal and a policy signal, same sentence or title -------------------


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("", "وقع الرئيس دونالد ترامب أمرا تنفيذيا بشأن الذكاء الاصطناعي."),
        ("", "قرر الاتحاد الأوروبي اعتماد قانون يحد من الذكاء الاصطناعي."),
        ("", "زعمت OpenAI في طلب قدمته إلى المحكمة أن الصحيفة خالفت الشروط."),
        ("", "أكدت الوزيرة أن الحكومة تدعم الذكاء الاصطناعي المسؤول."),
        ("مجلس الأمن.. بلينكن يشيد بالشراكة في مجال الذكاء الاصطناعي", ""),
        ("المغرب يطلق خطة للذكاء الاصطناعي", "تندرج الخطة ضمن استراتيجية وطنية للرقمنة."),
        ("", "Les premières mesures de l'AI Act entrent en vigueur."),
        ("", "Washington tightens export controls on AI chips."),
    ],
)
def test_ai_policy_matches(matcher: Matcher, title: str, summary: str) -> None:
    match = matcher.match(title, summary)
    assert "ai" in match.labels
    assert "ai_policy" in match.labels
    terms = [e.term for e in match.evidence_for("ai_policy")]
    assert any(t.startswith("policy: ") for t in terms) or any("AI Act" in t for t in terms)
    _check_offsets(match, title, summary)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # AI business, research, products: no state actor
        ("", "أطلقت أوبن إيه آي نموذجا جديدا للذكاء الاصطناعي يتفوق في البرمجة."),
        ("", "أقال مجلس إدارة أوبن إيه آي رئيسها التنفيذي سام ألتمان."),
        ("", "ارتفعت أرباح إنفيديا بفضل الطلب على رقائق الذكاء الاصطناعي."),
        # policy-looking words that are a product's business
        ("", "أضافت أوبن إيه آي رقابة أبوية إلى تشات جي بي تي."),
        ("", "يضاعف الذكاء الاصطناعي سرعة الرقائق وفق قانون مور."),
        # a newspaper named after a capital is not its government
        ("", "ذكرت صحيفة واشنطن بوست أن أوبن إيه آي تطور نموذجا للذكاء الاصطناعي."),
    ],
)
def test_ai_without_policy_is_not_ai_policy(matcher: Matcher, title: str, summary: str) -> None:
    match = matcher.match(title, summary)
    assert "ai" in match.labels
    assert "ai_policy" not in match.labels


def test_policy_without_ai_is_not_ai_policy(matcher: Matcher) -> None:
    match = matcher.match("", "تدرس الولايات المتحدة قيود التصدير على رقائق الذاكرة إلى الصين.")
    assert "ai" not in match.labels
    assert "ai_policy" not in match.labels


@pytest.mark.parametrize(
    ("label", "title", "summary"),
    [
        # LABELS.md: family members or the brand named without him are not Trump
        ("trump", "", "Eric Trump said the Trump Organization will build a Trump Tower in Jeddah."),
        ("trump", "", "La famille Trump s'est agrandie, annonce le président américain."),
        ("trump", "", "أعلنت منظمة ترامب عن برج ترامب في الرياض"),
        ("trump", "Trump Media shares fall", ""),
        ("trump", "أسهم ترامب ميديا تتراجع", ""),
        # another person with the surname; a Z-score; an animal; an airline code
        ("altman", "", "Jack Altman's startup raised $50 million from investors."),
        ("altman", "Altman Solon report on telecom mergers", ""),  # a firm, in both scripts
        ("altman", "شركة ألتمان سولون للاستشارات تصدر تقريرا", ""),
        ("musk", "", "Musk oxen roam the Arctic tundra."),
        ("trump", "جاد ترامب يتوج ببطولة العالم للسنوكر", ""),  # the snooker champion
        ("trump", "ماري ترامب تصدر كتابا جديدا", ""),  # his niece
        ("musk", "", "The musk deer is hunted for its scent."),
        ("musk", "كيمبال ماسك شقيق إيلون يفتتح مطعما", ""),  # his brother
        ("musk", "ماسك الوجه بالعسل لبشرة نضرة", ""),  # a face mask
        ("musk", "قال خبراء التجميل إن ماسك الطين ينظف البشرة", ""),  # the verb is not next to it
        ("ai", "", "Air India flight AI 171 crashed after take-off."),
        ("ai", "Amnesty International (AI) slams crackdown on protesters", ""),
    ],
)
def test_namesakes_brands_and_codes_are_not_the_label(
    matcher: Matcher, label: str, title: str, summary: str
) -> None:
    assert label not in matcher.match(title, summary).labels


@pytest.mark.parametrize(
    ("label", "title", "summary"),
    [
        # the rarer transliteration (vowel with waw), and a bare surname with only his AI
        # company or its chatbot as context
        ("musk", "", "قال إيلون موسك إن الشركة"),
        ("musk", "", "رفع ماسك دعوى ضد شركة X.AI المنافسة"),
        ("musk", "", "أطلق ماسك نسخة جديدة من Grok"),
        ("musk", "", "هاجم موسك روبوت الدردشة"),
        ("trump", "", "President Trump met Eric Trump at the White House."),
        ("trump", "طرامب يهدد بفرض رسوم جديدة", ""),  # ت written ط, the first letter too
        # a bare ماسك next to a verb of saying or taking a stand is the man
        # a capitalised function word before a surname is no given name
        ("trump", "The Trump administration unveils AI Action Plan", ""),
        ("musk", "Will Musk sell more Tesla shares?", ""),
        ("trump", "Pourquoi Trump veut le Groenland", ""),
        ("musk", "ماسك ينتقد مشروع قانون الميزانية", ""),
        ("musk", "قال ماسك إن الحكومة تبذر المال", ""),
    ],
)
def test_rarer_spellings_and_context(
    matcher: Matcher, label: str, title: str, summary: str
) -> None:
    assert label in matcher.match(title, summary).labels


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # categories of state action, in French and English (issue 12)
        (
            "",
            "L'Union africaine adopte une stratégie continentale sur l'intelligence artificielle.",
        ),
        ("", "Des députés déposent une proposition de loi pour encadrer l'IA."),
        ("", "Le parquet a perquisitionné les locaux de X à cause de son chatbot Grok."),
        ("", "Attorneys general urged to block OpenAI's restructuring."),
        ("", "Every country needs an AI strategy, says the chief of Nvidia."),
        ("", "The revised chip export rules paved the way for new AI deals."),
        ("", "The authority published guidelines on generative AI."),
        ("", "ChatGPT faces legal action and regulatory scrutiny in Europe."),
        # the state acts in another sentence of the same story (LABELS.md judges the story)
        ("", "Morocco will build an AI data centre. The government signed two agreements."),
        ("", "اتفاق بين البلدين لإنشاء حرم للذكاء الاصطناعي."),
        ("", "تحدث الوزير عن السيادة الرقمية خلال إطلاق مراكز بيانات للذكاء الاصطناعي."),
    ],
)
def test_ai_policy_categories(matcher: Matcher, title: str, summary: str) -> None:
    assert "ai_policy" in matcher.match(title, summary).labels


def test_hard_wrapped_summary_is_one_sentence(matcher: Matcher) -> None:
    summary = "شهد رئيس الدولة توقيع شراكة\nلإطلاق مركز بيانات الذكاء الاصطناعي."
    assert "ai_policy" in matcher.match("", summary).labels


# -- API shape -----------------------------------------------------------------------------


def test_labels_in_config_order_with_names(matcher: Matcher) -> None:
    infos = matcher.labels
    assert [i.id for i in infos] == ["altman", "musk", "trump", "ai", "ai_policy"]
    assert [i.kind for i in infos] == ["figure"] * 3 + ["topic"] * 2
    trump = infos[2]
    assert trump.hashtag_ar == "#ترامب"
    assert infos[3].hashtag_ar == "#الذكاء_الاصطناعي"
    assert all(i.default for i in infos)


def test_match_labels_follow_config_order_and_evidence_is_grouped(matcher: Matcher) -> None:
    title = "إيلون ماسك يرفع دعوى جديدة ضد أوبن إيه آي وسام ألتمان"
    match = matcher.match(title, "")
    assert match.labels == ("altman", "musk", "ai", "ai_policy")
    assert [e.label for e in match.evidence] == sorted(
        (e.label for e in match.evidence), key=list(match.labels).index
    )
    _check_offsets(match, title, "")


def test_empty_story_matches_nothing(matcher: Matcher) -> None:
    assert not matcher.match("", "")
    assert matcher.match("", "", "ar") == Match()


# -- a figure and a topic added by a user in YAML ------------------------------------------


@pytest.fixture(scope="module")
def custom_matcher() -> Matcher:
    base = _load(ROOT / "config.yaml")["watchlists"]
    extra = _load(ROOT / "tests" / "data" / "watchlists_custom.yaml")
    assert isinstance(base, dict)
    merged = {
        "figures": [*base["figures"], *extra["figures"]],  # type: ignore[misc]
        "topics": [*base["topics"], *extra["topics"]],  # type: ignore[misc]
    }
    return Matcher(WatchlistsConfig.model_validate(merged))


def test_user_figure_from_yaml_works(custom_matcher: Matcher) -> None:
    ids = [i.id for i in custom_matcher.labels]
    assert ids[:6] == ["altman", "musk", "trump", "pichai", "mohammed_vi", "huang"]
    title = "ساندر بيتشاي يعلن عن Gemini 3"
    match = custom_matcher.match(title, "قال بيتشاي إن نموذج جوجل الجديد أسرع")
    assert "pichai" in match.labels
    assert {("ساندر بيتشاي", "title"), ("بيتشاي", "summary")} <= _quoted(match, "pichai")
    king = custom_matcher.match("", "ترأس جلالة الملك محمد السادس مجلسا وزاريا")
    assert "mohammed_vi" in king.labels
    assert ("محمد السادس", "summary") in _quoted(king, "mohammed_vi")
    street = custom_matcher.match("", "حادث سير في شارع محمد السادس بالرباط")
    assert "mohammed_vi" not in street.labels
    assert custom_matcher.labels[4].default is False


@pytest.mark.parametrize(
    ("title", "summary", "quoted"),
    [
        ("جنسن هوانغ يزور الرياض", "", "جنسن هوانغ"),  # as configured
        ("", "وقال جنسن هوانج إن الطلب كبير", "جنسن هوانج"),  # غ written ج
        ("", "أكد هوانغ أن الرقائق متوفرة", "هوانغ"),  # the bare surname
        ("", "صرح لهوانج بأن", "لهوانج"),  # with a preposition
        ("Nvidia's Jensen Huang in Riyadh", "", "Jensen Huang"),
        ("Huang says demand is strong", "", "Huang"),
    ],
)
def test_figure_given_only_a_name_gets_spellings(
    custom_matcher: Matcher, title: str, summary: str, quoted: str
) -> None:
    match = custom_matcher.match(title, summary)
    assert "huang" in match.labels
    assert quoted in {text for text, _field in _quoted(match, "huang")}
    _check_offsets(match, title, summary)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("", "ارتفعت بورصة هونغ كونغ"),  # the excluded place
        ("", "حضر ماسك العرض"),  # another figure's name
        ("", "Jackie Huang, a painter, opened a show"),  # another person with that surname
    ],
)
def test_figure_given_only_a_name_near_misses(
    custom_matcher: Matcher, title: str, summary: str
) -> None:
    assert "huang" not in custom_matcher.match(title, summary).labels


def test_user_topic_with_compound_rule(custom_matcher: Matcher) -> None:
    yes = custom_matcher.match("", "يستعمل مستشفى ابن سينا الذكاء الاصطناعي في التشخيص.")
    assert "ai_health" in yes.labels
    no = custom_matcher.match("", "وزارة الصحة تطلق حملة تلقيح.")
    assert "ai_health" not in no.labels


# -- a context word on one side only (issue 12: a state named as the actor) ---------------


@pytest.fixture(scope="module")
def sided_matcher() -> Matcher:
    # "invest" counts with a state's name before it (the state invests), "talks with" with
    # one after it; "fund" with one on either side, as before `side` existed
    states = ["Qatar", "Saudi Arabia", "السعودية"]
    terms = [
        {"term": "invests", "inflect": False, "window": 3, "side": "before", "context": states},
        {"term": "تستثمر", "inflect": False, "window": 3, "side": "before", "context": states},
        {"term": "talks with", "inflect": False, "window": 2, "side": "after", "context": states},
        {"term": "fund", "inflect": False, "window": 2, "context": states},
    ]
    raw = {"topics": [{"id": "state", "name": {"ar": "دولة", "en": "State"}, "terms": terms}]}
    return Matcher(WatchlistsConfig.model_validate(raw))


@pytest.mark.parametrize(
    ("title", "found"),
    [
        ("Qatar invests in chips", True),  # the state acts
        ("Saudi Arabia now invests heavily", True),  # one word between
        ("Nvidia invests in Qatar", False),  # the state is where, after the verb
        ("Qatar, its rivals and partners: Nvidia invests", False),  # too far before
        ("السعودية تستثمر في الرقائق", True),
        ("إنفيديا تستثمر في السعودية", False),
        ("OpenAI in talks with Qatar", True),  # after it
        ("Qatar in talks with OpenAI", False),  # before it
        ("Qatar fund", True),  # either side
        ("fund of Qatar", True),
    ],
)
def test_context_on_one_side(sided_matcher: Matcher, title: str, found: bool) -> None:
    assert ("state" in sided_matcher.match(title, "").labels) is found


def test_a_terms_other_forms_match_as_it_does_and_evidence_names_the_term() -> None:
    term = {
        "term": "invests",
        "forms": ["invested", "يستثمر"],
        "inflect": False,
        "window": 3,
        "side": "before",
        "context": ["Qatar", "قطر"],
    }
    raw = {"topics": [{"id": "state", "name": {"ar": "دولة", "en": "State"}, "terms": [term]}]}
    matcher = Matcher(WatchlistsConfig.model_validate(raw))
    match = matcher.match("Qatar invested in chips", "")
    assert [(e.term, e.text) for e in match.evidence] == [("invests", "invested")]
    assert "state" in matcher.match("قطر يستثمر في الرقائق", "").labels
    assert "state" not in matcher.match("Nvidia invested in Qatar", "").labels  # the side holds
    assert "state" not in matcher.match("Qatar reinvested in chips", "").labels  # whole words


def test_explain_says_on_which_side_the_context_was_missing(sided_matcher: Matcher) -> None:
    lines = sided_matcher.explain("Nvidia invests in Qatar", "")
    assert (
        "  rejected state: invests -> «invests» (title): context missing (none of its context "
        "words before it, within 2 words of it)"
    ) in lines


# The shipped config: a state named as the actor is AI policy (LABELS.md: a government acts,
# "state-backed infrastructure deals", "public contracts and funding"), a state named as a
# place is not. Written for issue 12's kinds of unseen misses, not copied from any story.
NAMED_STATE = [
    ("الإمارات والولايات المتحدة توقعان اتفاقا لبناء حرم للذكاء الاصطناعي", True),
    ("السعودية تستثمر 40 مليار دولار في الذكاء الاصطناعي", True),
    ("أوبن إيه آي تسعى لجذب استثمارات من السعودية في جولة تمويل جديدة", True),
    ("المغرب وفرنسا يوقعان اتفاقية للتعاون في الذكاء الاصطناعي", True),
    ("Saudi Arabia to invest $100 billion in artificial intelligence", True),
    ("France and the UAE agree to build an AI data centre", True),
    ("OpenAI in talks with Saudi Arabia over a new funding round", True),
    ("Texas unveils plan to build AI data centers on state land", True),
    ("La France et les Émirats signent un accord pour un campus d'IA", True),
    ("OpenAI courtise l'Arabie saoudite pour sa prochaine levée de fonds", True),
    ("غوغل تستثمر بالمغرب في مشاريع الذكاء الاصطناعي", False),  # a company, in Morocco
    ("إنفيديا تفتتح مكتبا للذكاء الاصطناعي في الإمارات", False),
    ("شركة ناشئة سعودية تطلق روبوت دردشة بالذكاء الاصطناعي", False),  # a nationality
    ("Amazon to invest $5 billion in Saudi Arabia AI zone", False),
    ("Startups in India sign up for OpenAI's new enterprise tools", False),  # to register
    ("A London startup signs deal with OpenAI", False),  # a city in English: a place
    ("University of Washington researchers build new AI model", False),  # not the seat
    ("Google investit au Maroc dans un centre de données pour l'IA", False),
    ("Une start-up marocaine lance un assistant d'IA", False),
    ("اتصالات المغرب توقع شراكة مع مايكروسوفت في الذكاء الاصطناعي", False),  # a company
    ("Microsoft France investit dans la formation à l'IA", False),  # a company's branch
    ("Air India signs deal with OpenAI for customer service", False),
    ("بنك المغرب يحذر من مخاطر الذكاء الاصطناعي على القطاع المالي", True),  # a regulator
    ("FCC bans AI-generated voices in robocalls", True),  # regulators by name
    ("Council of Europe adopts first treaty on AI", True),  # international bodies
    ("OpenAI officials say GPT-6 is coming", False),  # a company's officials
    ("US officials weigh new limits on AI chips", True),  # a state's
    ("المنتخب الوطني يستعين بالذكاء الاصطناعي لتحليل المباريات", False),  # a team
    ("خبير: الذكاء الاصطناعي سيعزز الاقتصاد الوطني", False),  # "national" alone
    ("دراسة وطنية حول استعمال تشات جي بي تي من طرف الطلبة", False),
    ("المغرب يعتمد الاستراتيجية الرقمية الوطنية للذكاء الاصطناعي", True),  # a national plan
    ("Le programme national d'IA démarre", True),
    ("OpenAI lets developers fine-tune GPT-4o on their own data", False),  # no fine
    ("OpenAI courts developers with cheaper API", False),  # no court
    ("AI judges at the robotics competition picked the winner", False),
    ("La politique de confidentialité de ChatGPT change", False),  # a company's policy
    ("EU fines Meta over AI training data", True),
    ("الذكاء الاصطناعي يساعد في القضاء على الأمراض المزمنة", False),  # to eliminate
    ("Do AI scaling laws still hold? Researchers disagree", False),  # a law of research
    ("Law firms race to adopt generative AI", False),
    ("AI could cut your electricity bill, study finds", False),
    ("Senate passes bill to ban AI deepfakes of candidates", True),
    ("أوبن إيه آي تضع ضوابط جديدة لاستخدام تشات جي بي تي", False),  # a company's controls
    ("القضاء الأمريكي ينظر في دعوى ضد أوبن إيه آي", True),  # the judiciary
    ("هيئة الاتصالات تصدر ضوابط لاستخدام الذكاء الاصطناعي", True),  # a regulator's
    ("Anthropic courts Gulf states for new investment in AI models", True),
    ("IMF says AI will affect 40% of jobs", True),
    ("Microsoft opens AI office in Cairo", False),  # not the EU's AI Office
    ("ماسك يؤسس حزب أمريكا ويعد بدعم مرشحين مؤيدين للذكاء الاصطناعي", True),  # a party
    ("AI industry pours money into the midterms", True),  # elections
    ("EU AI Office publishes code of practice for AI models", True),
    ("La DGSSI alerte sur les cyberattaques dopées à l'IA", True),
    ("La police démantèle un réseau utilisant des voix clonées par l'IA", True),
    ("Une nouvelle police d'assurance couvre les risques liés à l'IA", False),
    ("المجلس الجماعي للدار البيضاء يعتمد الذكاء الاصطناعي لتدبير حركة السير", True),  # local
    ("Le conseil régional de Casablanca-Settat mise sur l'IA", True),  # government
    ("الجماعات الترابية مدعوة إلى اعتماد الذكاء الاصطناعي في تدبير المرافق", True),
    ("القطاع الوصي يطلق منصة رقمية تعتمد الذكاء الاصطناعي", True),  # the ministry in charge
    ("عمال شركة أمازون يحتجون على استخدام الذكاء الاصطناعي", False),  # workers, no prefecture
    ("China's DeepSeek plans new AI model launch", False),  # the country's company acts
    ("Japan's SoftBank invests $40 billion in OpenAI", False),
    ("Japan’s SoftBank invests $40 billion in OpenAI", False),  # a typographic apostrophe
    ("India's ban on Chinese AI apps extended", True),  # the ban is India's
    ("Kenya and Microsoft sign AI deal", True),  # the state and a company
    ("South Korea opens probe into DeepSeek data practices", True),  # a state investigates
    ("إيطاليا تفتح تحقيقا مع ديب سيك", True),
    ("L'Italie ouvre une enquête sur DeepSeek", True),
    ("Researchers probe how ChatGPT handles math", False),
    ("Macron veut faire de la France une puissance de l'IA", True),  # a political figure
    ("Amal El Fallah Seghrouchni présente la feuille de route de l'IA", True),
    ("جامعة القاضي عياض تنظم ندوة حول الذكاء الاصطناعي", False),  # a university, no judge
    ("L'Université Mohammed VI Polytechnique ouvre un centre d'IA", False),
    ("Italy bans DeepSeek over privacy concerns", True),  # a state bans
    ("إيطاليا تحظر ديب سيك", True),
    ("Character.AI bans minors from its chatbots", False),  # a company bans
    ("الصين تطلق نموذجا جديدا للذكاء الاصطناعي ينافس تشات جي بي تي", False),  # a product
    ("مصر تطلق مبادرة لتدريب مليون شاب على الذكاء الاصطناعي", True),  # the state's initiative
    ("ميتا تحظر حسابات مرتبطة بالذكاء الاصطناعي", False),
    # a state after a preposition of place, or "of", is where or another's name, not who acts
    ("Users in Brazil invest time in learning ChatGPT", False),
    ("Firms in the UAE plan to adopt generative AI", False),
    ("في المغرب، تطلق شركة ناشئة نموذجا للذكاء الاصطناعي", False),
    ("Bank of China plans an AI lab for its traders", False),
    ("France plans an AI lab for its civil servants", True),
    # "uses" only with the state opening the clause: companies use AI, with a state's name
    # often before them
    ("المغرب يعتمد الذكاء الاصطناعي في مراقبة الحدود", True),
    ("عاجل | إسرائيل تستخدم الذكاء الاصطناعي في حرب غزة", True),
    ("Drought: Morocco deploys AI to forecast harvests", True),
    ("Le Maroc utilise l'IA pour prévoir les sécheresses", True),
    ("UK startup deploys AI to cut hospital waiting lists", False),
    ("مقاولات المغرب تعتمد الذكاء الاصطناعي بوتيرة بطيئة", False),
    ("بنك مصر يعتمد روبوت دردشة بالذكاء الاصطناعي لخدمة العملاء", False),
    ("Franco-Morocco startup deploys AI", False),
    # a spaced dash ends a clause (a dateline); a hyphen inside a word does not
    ("الرباط - المغرب يعتمد الذكاء الاصطناعي في مراقبة الحدود", True),
    ("Anglo-US deploys AI tools for banks", False),
    ("Exclusive: the US allows Nvidia to sell AI chips to the UAE", True),  # "the" opens
    # a verb-first Arabic sentence puts the act's noun after the state
    ("أعلنت قطر عن استثمار ملياري دولار في شركات الذكاء الاصطناعي", True),
    ("فتحت كوريا الجنوبية تحقيقا في ممارسات ديب سيك للذكاء الاصطناعي", True),
    ("أعلنت الصين حظر تصدير تقنيات الذكاء الاصطناعي", True),
    ("كوريا الجنوبية تحقق في ممارسات ديب سيك للذكاء الاصطناعي", True),  # investigates into
    ("السعودية تحقق أرباحا من الذكاء الاصطناعي", False),  # achieves
    ("استثمار إنفيديا في السعودية يدعم الذكاء الاصطناعي", False),  # the state after it
    ("شركات المغرب استثمار ضعيف في الذكاء الاصطناعي", False),  # Morocco's companies
    # the state deciding: allows, approves, blocks, restricts; "US" in capitals is the state
    ("US allows Nvidia to sell H20 chips to China", True),
    ("The US approves export of advanced AI chips to the UAE", True),
    ("الصين تمنع شركاتها من شراء رقائق إنفيديا", True),
    ("Les États-Unis autorisent la vente de puces d'IA aux Émirats", True),
    ("Apple allows developers to use its on-device AI models", False),
    ("ميتا تسمح للمستخدمين بإنشاء صور بالذكاء الاصطناعي", False),
    ("Let us plan our AI future together, says Nvidia", False),  # "us" is no state
    # a business noun between the state and the act: the company acts
    ("US chipmaker Nvidia plans to invest $5 billion in AI data centres", False),
    ("UK startup Synthesia invests in new AI studio", False),
    ("US startups invest heavily in AI agents", False),
    ("US plans new rules for AI chips", True),
]


@pytest.mark.parametrize(("title", "policy"), NAMED_STATE)
def test_a_state_named_as_the_actor_is_ai_policy(
    matcher: Matcher, title: str, policy: bool
) -> None:
    match = matcher.match(title, "")
    assert "ai" in match.labels
    assert ("ai_policy" in match.labels) is policy, matcher.explain(title, "")


@pytest.mark.parametrize(
    "title",
    [
        "Brussels opens probe into Meta's AI assistant",  # the seats of government in Latin
        "Bruxelles ouvre une enquête sur l'assistant IA de Meta",  # letters, as in Arabic
        "ChatGPT : l'Elysée réunit les patrons de l'IA",  # a capital's accent dropped
        "Les Etats-Unis signent un accord sur l'IA avec le Maroc",
        "شركة إكس إيه آي تقاضي أوبن إيه آي",  # she sues: a company is feminine
    ],
)
def test_more_ways_news_names_the_state_and_the_courts(matcher: Matcher, title: str) -> None:
    assert {"ai", "ai_policy"} <= set(matcher.match(title, "").labels), matcher.explain(title, "")


@pytest.mark.parametrize(
    "title",
    [
        "قمة باريس للذكاء الاصطناعي تجمع قادة العالم",  # heads of state meeting
        "Leaders gather in Paris for the AI Action Summit",
        "توقيف شاب استعمل الذكاء الاصطناعي لفبركة صور فاضحة",  # the police acting
        "الأمن يعتقل عصابة استعملت الذكاء الاصطناعي في النصب",
        "المكتب المغربي لحقوق المؤلف يدرس حماية الأعمال من الذكاء الاصطناعي",  # copyright
        "Getty Images loses key part of UK case against Stability AI",
        "Abu Dhabi's MGX invests in OpenAI",  # a sovereign fund's money is a state's
        "مبادلة تستثمر في شركة ناشئة للذكاء الاصطناعي",
        # French seats, programmes, public banks, councils and services by name
        "IA : Bercy veut taxer les géants du numérique",
        "Matignon présente un plan pour l'intelligence artificielle",
        "Bpifrance investit 10 milliards dans l'IA",
        "France 2030 : 500 millions pour l'IA",
        "Le Conseil constitutionnel saisi sur la vidéosurveillance par IA",
        "La DGSI met en garde contre l'IA chinoise",
        "Le Roi Mohammed VI appelle à un usage responsable de l'IA",
        # officials of a state by their nationality (not a company's)
        "التقى رئيس أوبن إيه آي مسؤولين إماراتيين لمناقشة مركز بيانات",
        # Arabic assemblies and courts, the Arab League as news shortens it, a trade war
        "الكنيست يناقش الذكاء الاصطناعي",
        "مجلس الشورى يقر نظام الذكاء الاصطناعي",
        "الديوان الملكي يعلن عن هيئة للذكاء الاصطناعي",
        "الجامعة العربية تطلق استراتيجية للذكاء الاصطناعي",
        "الحرب التجارية بين الصين وأمريكا تمتد إلى رقائق الذكاء الاصطناعي",
        # English seats, the Federal Reserve, rulers by their initials
        "Downing Street unveils AI opportunities plan",
        "Capitol Hill weighs AI moratorium",
        "The Fed warns AI could hit jobs",
        "MBS launches Humain",
    ],
)
def test_summits_arrests_copyright_and_sovereign_funds_are_ai_policy(
    matcher: Matcher, title: str
) -> None:
    assert {"ai", "ai_policy"} <= set(matcher.match(title, "").labels), matcher.explain(title, "")


@pytest.mark.parametrize(
    "title",
    [
        "Le roi du streaming mise sur l'IA",
        "Fed up with AI slop, users quit",
        "الجامعة العربية المفتوحة تطلق ماستر في الذكاء الاصطناعي",  # a university
        "Un ancien ministre lance un fonds dédié à l'intelligence artificielle",  # former
        "وزير سابق يؤسس شركة ناشئة في الذكاء الاصطناعي",
    ],
)
def test_look_alikes_of_state_words_are_no_state(matcher: Matcher, title: str) -> None:
    assert "ai_policy" not in matcher.match(title, "").labels


@pytest.mark.parametrize(
    ("title", "policy"),
    [
        # the state's administrations by what they do: a public body using AI is the state
        # acting (LABELS.md), as a ministry or the police already were
        ("المديرية العامة للضرائب تعتمد الذكاء الاصطناعي لرصد التهرب الضريبي", True),
        ("إدارة الجمارك توظف الذكاء الاصطناعي في مراقبة الحاويات", True),
        ("الخزينة العامة للمملكة تعتمد الذكاء الاصطناعي في تدبير النفقات", True),
        ("La Direction générale des impôts mise sur l'intelligence artificielle", True),
        ("Le fisc utilise l'IA pour repérer les piscines non déclarées", True),
        ("La CNSS lance un chatbot basé sur l'IA pour ses assurés", True),
        ("The IRS will use artificial intelligence to audit large partnerships", True),
        ("US customs agency uses AI to screen cargo at ports", True),
        ("جماعة طنجة تعتمد الذكاء الاصطناعي لتدبير حركة السير", True),  # a city's commune
        ("جماعة العدل والإحسان تنتقد استعمال الذكاء الاصطناعي", False),  # a movement
        # a company's tax work or a traveller's customs form is not the state
        ("Startup raises $20 million for AI tax-preparation software", False),
        ("Logistics firm uses AI to speed up customs paperwork for clients", False),
        ("Une application d'IA aide les voyageurs à remplir leurs formulaires de douane", False),
        ("La direction générale du groupe mise sur l'intelligence artificielle", False),
    ],
)
def test_the_state_administrations_by_function(matcher: Matcher, title: str, policy: bool) -> None:
    match = matcher.match(title, "")
    assert "ai" in match.labels
    assert ("ai_policy" in match.labels) is policy, matcher.explain(title, "")


@pytest.mark.parametrize(
    ("title", "ai"),
    [
        ("Perplexity offers to buy Chrome for $34.5 billion", True),
        ("آبل تؤجل إطلاق ميزات أبل إنتليجنس في الصين", True),
        ("ميتا تستقطب باحثين لمختبر الذكاء الفائق", True),
        ("Meta releases Llama 4 models", True),
        ("Alibaba's Qwen tops open-source model rankings", True),
        ("Hugging Face raises $235 million", True),
        ("نموذج كلود يتفوق في اختبارات البرمجة", True),  # "model" before the name
        ("كلود فرانسوا يحيي حفلا في الرباط", False),  # a singer
        ("تطبيق سورا يتصدر متجر آبل", True),
        ("إنفيديا تكشف عن رقائق بلاكويل الجديدة", True),
        ("Nvidia resumes H20 sales to China", True),  # its AI chip, with Nvidia named
        ("H20 water bottles recalled", False),  # no Nvidia: no chip
        ("ديب مايند تحقق اختراقا في التنبؤ بالطقس", True),  # Google's AI laboratory
        ("DeepMind's AlphaFold team wins Nobel", True),
        ("Claude Opus 4.5 tops coding benchmarks", True),  # a model's full name
        ("Claude Monet exhibition opens in Paris", False),
        ("ميتا إيه آي تصل إلى واتساب في المغرب", True),  # Meta AI, the assistant
        ("ميتا تستثمر 14 مليار دولار في شركة سكيل إيه آي", True),  # إيه آي: "AI" spoken
        ("إيه، هذا رائع", False),  # an interjection
    ],
)
def test_ai_products_and_chips_by_name(matcher: Matcher, title: str, ai: bool) -> None:
    assert ("ai" in matcher.match(title, "").labels) is ai


@pytest.mark.parametrize(
    ("title", "ai"),
    [
        ("الدردشة الآلية تغزو خدمات البنوك", True),  # automated chat: a chatbot
        ("Un robot conversationnel pour répondre aux usagers de la CNSS", True),
        ("Les agents conversationnels séduisent les banques", True),
        ("تطبيقات الدردشة تتعطل في عدة دول", False),  # chat apps are no AI
        # other names of the technology
        ("نماذج اللغة الكبيرة تثير مخاوف الناشرين", True),
        ("الذكاء التوليدي يغير الإعلام", True),
        ("الشبكات العصبية الاصطناعية تتعلم من البيانات", True),
        ("فيديو ديب فيك لرئيس الحكومة ينتشر", True),
        ("LLMs still hallucinate, study finds", True),
        ("Les réseaux de neurones expliqués simplement", True),
    ],
)
def test_chatbots_by_their_arabic_and_french_names(matcher: Matcher, title: str, ai: bool) -> None:
    assert ("ai" in matcher.match(title, "").labels) is ai


def test_explain_reports_no_near_miss_for_a_word_found_whole(matcher: Matcher) -> None:
    # السعودية has a second key for the لل spelling (لسعودية), which sits inside the word
    # itself: it is no near-miss where the word was found
    lines = matcher.explain("السعودية تستثمر في الذكاء الاصطناعي", "")
    assert not [line for line in lines if "rejected «السعودية»" in line], lines
    # a real near-miss is still reported where a term needs that context word (تستثمر needs
    # a state before it): the adjective is not the country's name
    lines = matcher.explain("المغربية تستثمر في الذكاء الاصطناعي", "")
    assert any("rejected «المغربية» (title) for 'المغرب'" in line for line in lines), lines
    # ...and not in a story where no term needs it (no act word here)
    lines = matcher.explain("الشركة المغربية تطور نموذجا للذكاء الاصطناعي", "")
    assert not [line for line in lines if "rejected «المغربية»" in line], lines
