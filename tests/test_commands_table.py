"""One table of command scenarios, run on BOTH platforms through their real clients (PTB
against tests/fake_telegram.py, discord.py against tests/fake_discord.py): each step must
give the same reply text, the same visibility where the platform has one, and leave the same
subscription behind. The decisions live once, in core/commands.py; these tests hold the
platforms to them (issue 11: the copies had drifted three times)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import discord
import pytest

from core.pause import PauseReason
from core.subscriptions import Subscriptions
from models import Evidence, Match, Story
from platforms.telegram.platform import TelegramPlatform
from store import FeedUpdate, FollowedTerm, Store
from tests.conftest import BACKENDS
from tests.fake_discord import (
    ADMIN_ID,
    CHANNEL_A,
    FakeDiscord,
    mirsad_config,
    running_mirsad,
)
from tests.fake_telegram import FakeTelegram, real_labels, scaled, user
from tests.helpers import FakeClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

GROUP = -1005001  # the Telegram group; its administrator writes in English
ADMIN = 51
T0 = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)


LANGS = ("en", "fr", "ar")


def say(en: str, fr: str, ar: str) -> dict[str, str]:
    """One reply in each language the table runs in."""
    return {"en": en, "fr": fr, "ar": ar}


def same(text: str) -> dict[str, str]:
    """A reply that does not depend on the chat's language (the answer to /lang X is in X)."""
    return say(text, text, text)


@dataclass(frozen=True)
class Step:
    """One command and what must come of it. `args`: the words after the command, as typed in
    Telegram; `options`: the same request as Discord slash-command options."""

    command: str
    args: str = ""
    options: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # the reply by language, exactly
    # (Telegram: its first paragraph; see `Driver.run`)
    public: bool = False  # Discord: shown to the channel (not ephemeral)
    labels: tuple[str, ...] | None = None  # the labels received afterwards, if checked
    discord_text: dict[str, str] | None = None  # where Discord words the same reply its own way
    stories: tuple[str, ...] | None = None  # /latest: the links listed, in order, if checked


@dataclass(frozen=True)
class Setup:
    """A change made directly in the store between commands (what a platform answer or an
    older version left behind)."""

    act: Callable[[Store, str, str], Awaitable[object]]


Scenario = list[Step | Setup]

BIDI_MARKS = "\u200e\u200f"  # the marks Telegram's renderer puts before a line
NOT_SUBSCRIBED = say(
    "This chat is not subscribed. Send /subscribe to subscribe.",
    "Cette conversation n'est pas abonnée. Envoyez /subscribe pour vous abonner.",
    "هذه المحادثة غير مشتركة. اكتب /subscribe للاشتراك.",
)
SUBSCRIBED_TRUMP = say(
    "Subscribed. This chat now receives: Donald Trump",
    "Abonnement enregistré. Cette conversation reçoit désormais : Donald Trump",
    "تم الاشتراك. هذه المحادثة تتلقى الآن: ترامب",
)
ALREADY_TRUMP = say(
    "This chat already receives: Donald Trump",
    "Cette conversation reçoit déjà : Donald Trump",
    "هذه المحادثة مشتركة من قبل في: ترامب",
)
# The answer to `/lang X`, in X whatever the chat's language was.
LANG_SET = {
    "en": "This chat's language is now English.",
    "fr": "La langue de cette conversation est désormais le français.",
    "ar": "لغة هذه المحادثة الآن: العربية.",
}


async def _pause_no_permission(store: Store, platform: str, chat: str) -> object:
    reason = PauseReason("no_permission", "missing permissions")
    return await store.pause_chat(platform, chat, reason.stored(), T0)


async def _follow_only_retired(store: Store, platform: str, chat: str) -> object:
    # a label the config no longer has: nothing this bot knows is followed
    return await store.save_subscription(platform, chat, ["retired_figure"], T0)


async def _follow_19_words(store: Store, platform: str, chat: str) -> object:
    terms = [FollowedTerm(f"word{n:02}", f"word{n:02}") for n in range(1, 20)]
    return await store.add_follows(platform, chat, terms, T0)


async def _ingest_stories(store: Store, platform: str, chat: str) -> object:
    """Seven stories about Trump (one an hour, the newest last) and one about Musk, matched
    and stored as a poll would, without alerts."""
    await store.sync_feeds([("hespress_ar", "http://127.0.0.1/feed", "ar", 60)], T0)
    stories = [
        Story(
            id=f"https://h.test/{i}",
            feed_id="hespress_ar",
            title=f"خبر {i}",
            summary="",
            link=f"https://h.test/{i}",
            published=T0 - timedelta(hours=8 - i),
        )
        for i in range(8)
    ]
    about = {s.id: ("musk" if s.id.endswith("/7") else "trump") for s in stories}
    matches = {
        s.id: Match((about[s.id],), (Evidence(about[s.id], "x", "x", "title"),)) for s in stories
    }
    update = FeedUpdate(next_poll_at=T0)
    return await store.ingest("hespress_ar", stories, matches, update, T0, alert=False)


TOPICS_FOLLOWING_TRUMP = say(
    "Figures:\n• altman — Sam Altman\n• musk — Elon Musk\n✅ trump — Donald Trump\n\n"
    "Topics:\n• ai — Artificial Intelligence\n• ai_policy — AI Policy\n\n",
    "Personnalités :\n• altman — Sam Altman\n• musk — Elon Musk\n✅ trump — Donald Trump\n\n"
    "Sujets :\n• ai — Intelligence artificielle\n• ai_policy — Politique de l'IA\n\n",
    "الشخصيات:\n• altman — سام ألتمان\n• musk — إيلون ماسك\n✅ trump — ترامب\n\n"
    "المواضيع:\n• ai — الذكاء الاصطناعي\n• ai_policy — سياسات الذكاء الاصطناعي\n\n",
)
EXAMPLE = say("Example: ", "Exemple : ", "مثال: ")
LATEST = say(
    "Latest matching stories:", "Derniers articles correspondants :", "آخر الأخبار المطابقة:"
)


def _topics(example: str) -> dict[str, str]:
    return {lang: TOPICS_FOLLOWING_TRUMP[lang] + EXAMPLE[lang] + example for lang in LANGS}


SCENARIOS: dict[str, Scenario] = {
    "subscribe, again, unknown, list": [
        Step(
            "subscribe",
            "Donald Trump",
            {"figure": "Donald Trump"},
            SUBSCRIBED_TRUMP,
            public=True,
            labels=("trump",),
        ),
        Step("subscribe", "trump", {"figure": "trump"}, ALREADY_TRUMP),
        Step("subscribe", "tr\u200bump", {"figure": "tr\u200bump"}, ALREADY_TRUMP),
        Step(
            "subscribe",
            "bogus",
            {"figure": "bogus"},
            say(
                "Unknown: «bogus». Valid ids: altman, musk, trump, ai, ai_policy",
                "Inconnu : «bogus». Identifiants valides : altman, musk, trump, ai, ai_policy",
                "غير معروف: «bogus». المعرّفات الصالحة: altman, musk, trump, ai, ai_policy",
            ),
            labels=("trump",),
        ),
        Step(
            "list",
            text=say(
                "This chat receives alerts about: Donald Trump",
                "Cette conversation reçoit des alertes sur : Donald Trump",
                "هذه المحادثة تتلقى تنبيهات عن: ترامب",
            ),
        ),
    ],
    "unsubscribe, partly and wholly": [
        Step(
            "subscribe",
            "musk ai",
            {"figure": "musk", "topic": "ai"},
            say(
                "Subscribed. This chat now receives: Elon Musk, Artificial Intelligence",
                "Abonnement enregistré. Cette conversation reçoit désormais : Elon Musk, "
                "Intelligence artificielle",
                "تم الاشتراك. هذه المحادثة تتلقى الآن: إيلون ماسك، الذكاء الاصطناعي",
            ),
            public=True,
        ),
        Step(
            "unsubscribe",
            "trump",
            {"figure": "trump"},
            say(
                "This chat does not follow: Donald Trump. It follows: Elon Musk, "
                "Artificial Intelligence",
                "Cette conversation ne suit pas : Donald Trump. Elle suit : Elon Musk, "
                "Intelligence artificielle",
                "هذه المحادثة لا تتابع: ترامب. تتابع: إيلون ماسك، الذكاء الاصطناعي",
            ),
        ),
        Step(
            "unsubscribe",
            "ai",
            {"topic": "ai"},
            say(
                "Removed: Artificial Intelligence. This chat still receives: Elon Musk",
                "Retiré : Intelligence artificielle. Cette conversation reçoit encore : Elon Musk",
                "تم إلغاء: الذكاء الاصطناعي. ما زالت المحادثة تتلقى: إيلون ماسك",
            ),
            public=True,
            labels=("musk",),
        ),
        Step(
            "unsubscribe",
            text=say(
                "Unsubscribed. No more alerts will be sent to this chat.",
                "Désabonnement effectué. Plus aucune alerte ne sera envoyée à cette conversation.",
                "تم إلغاء الاشتراك. لن تصل تنبيهات إلى هذه المحادثة بعد الآن.",
            ),
            public=True,
            labels=(),
        ),
        Step("list", text=NOT_SUBSCRIBED),
        Step("unsubscribe", text=NOT_SUBSCRIBED),
    ],
    "resume after the platform paused the chat": [
        Step("subscribe", "trump", {"figure": "trump"}, SUBSCRIBED_TRUMP, public=True),
        Setup(_pause_no_permission),
        Step(
            "list",
            text=say(
                "The subscription is paused (I lost the permission to post here). "
                "Send /subscribe to resume it.",
                "L'abonnement est suspendu (j'ai perdu l'autorisation de publier ici). "
                "Envoyez /subscribe pour le reprendre.",
                "الاشتراك متوقف (فقدتُ صلاحية النشر هنا). اكتب /subscribe لاستئنافه.",
            ),
            labels=(),
        ),
        # the labels it followed come back, not the defaults
        Step("subscribe", text=SUBSCRIBED_TRUMP, public=True, labels=("trump",)),
    ],
    "no label this bot knows counts as not subscribed": [
        Setup(_follow_only_retired),
        Step("list", text=NOT_SUBSCRIBED),
        Setup(_pause_no_permission),
        Step("list", text=NOT_SUBSCRIBED),
        Step(
            "subscribe",
            "ai",
            {"topic": "ai"},
            say(
                "Subscribed. This chat now receives: Artificial Intelligence",
                "Abonnement enregistré. Cette conversation reçoit désormais : "
                "Intelligence artificielle",
                "تم الاشتراك. هذه المحادثة تتلقى الآن: الذكاء الاصطناعي",
            ),
            public=True,
            labels=("ai",),
        ),
    ],
    "language, including a value no client offers": [
        Step(
            "lang",
            text=say(
                "Current language: English. To change it: /lang ar, /lang fr or /lang en",
                "Langue actuelle : français. Pour la changer : /lang ar, /lang fr ou /lang en",
                "اللغة الحالية: العربية. للتغيير: /lang ar أو /lang fr أو /lang en",
            ),
            discord_text=say(
                "This channel's language: English. Choose another with /lang `language:`.",
                "Langue de ce salon : français. Choisissez-en une autre avec /lang `language:`.",
                "لغة هذه القناة: العربية. لاختيار غيرها: /lang `language:`.",
            ),
        ),
        # Discord's client offers only the choices: a crafted one sends anything (issue 17 item 8)
        Step(
            "lang",
            "xx",
            {"language": "xx"},
            say(
                "Unknown language: «xx». Choose one of: ar, en, fr",
                "Langue inconnue : «xx». Choisissez parmi : ar, en, fr",
                "لغة غير معروفة: «xx». اللغات المتاحة: ar, en, fr",
            ),
        ),
        Step("lang", "en", {"language": "en"}, same(LANG_SET["en"]), public=True),
        Step("lang", "fr", {"language": "fr"}, same(LANG_SET["fr"]), public=True),
        Step("list", text=same(NOT_SUBSCRIBED["fr"])),
        Step("lang", "ar", {"language": "ar"}, same(LANG_SET["ar"]), public=True),
        Step("list", text=same(NOT_SUBSCRIBED["ar"])),
    ],
    # issue 13: the chat's own words
    "follow, refusals, list, unfollow": [
        Step(
            "follow",
            'ترامب "الذكاء الاصطناعي"',
            {"words": 'ترامب "الذكاء الاصطناعي"'},
            say(
                "Now following: «ترامب», «الذكاء الاصطناعي». This chat follows 2 of 20 words.",
                "Désormais suivis : «ترامب», «الذكاء الاصطناعي». Cette conversation suit 2 mots sur 20.",
                "تمت متابعة: «ترامب»، «الذكاء الاصطناعي». تتابع هذه المحادثة 2 من 20 كلمة.",
            ),
            public=True,
        ),
        Step(
            "follow",
            "the",
            {"words": "the"},
            say(
                "Too common to follow (they are in nearly every story): «the»",
                "Trop courants pour être suivis (ils sont dans presque chaque article) : «the»",
                "كلمات شائعة جدًا ترد في كل خبر تقريبًا، لم تُتابَع: «the»",
            ),
        ),
        Step(
            "follow",
            "x ترامب",
            {"words": "x ترامب"},
            say(
                "Already followed: «ترامب»\nToo short to follow (at least 2 letters): «x»",
                "Déjà suivis : «ترامب»\nTrop courts pour être suivis (au moins 2 lettres) : «x»",
                "متابَعة من قبل: «ترامب»\nأقصر من أن تُتابَع (حرفان على الأقل): «x»",
            ),
        ),
        Step(
            "list",
            text=say(
                "This chat receives alerts about: nothing\nWords followed: «ترامب», «الذكاء الاصطناعي»",
                "Cette conversation reçoit des alertes sur : rien\nMots suivis : «ترامب», «الذكاء الاصطناعي»",
                "هذه المحادثة تتلقى تنبيهات عن: لا شيء\nالكلمات المتابَعة: «ترامب»، «الذكاء الاصطناعي»",
            ),
        ),
        Step(
            "unfollow",
            "ترامب",
            {"words": "ترامب"},
            say(
                "No longer following: «ترامب». Still following: «الذكاء الاصطناعي»",
                "Plus suivis : «ترامب». Toujours suivis : «الذكاء الاصطناعي»",
                "أُلغيت متابعة: «ترامب». ما زالت المحادثة تتابع: «الذكاء الاصطناعي»",
            ),
            public=True,
        ),
        Step(
            "unsubscribe",
            text=say(
                "Unsubscribed. No more alerts will be sent to this chat.",
                "Désabonnement effectué. Plus aucune alerte ne sera envoyée à cette conversation.",
                "تم إلغاء الاشتراك. لن تصل تنبيهات إلى هذه المحادثة بعد الآن.",
            ),
            public=True,
            labels=(),
        ),
        Step("list", text=NOT_SUBSCRIBED),
        Step(
            "unfollow",
            "ترامب",
            {"words": "ترامب"},
            say(
                "This chat does not follow: «ترامب». It follows: nothing",
                "Cette conversation ne suit pas : «ترامب». Elle suit : rien",
                "هذه المحادثة لا تتابع: «ترامب». تتابع: لا شيء",
            ),
        ),
    ],
    "the 21st word is refused": [
        Setup(_follow_19_words),
        Step(
            "follow",
            "word20 word21",
            {"words": "word20 word21"},
            say(
                "Now following: «word20». This chat follows 20 of 20 words.\nNot followed, this chat already follows 20 words, the most: «word21». Remove some with /unfollow.",
                "Désormais suivis : «word20». Cette conversation suit 20 mots sur 20.\nNon suivis, cette conversation suit déjà 20 mots, le maximum : «word21». Retirez-en avec /unfollow.",
                "تمت متابعة: «word20». تتابع هذه المحادثة 20 من 20 كلمة.\nلم تُضف، فهذه المحادثة تتابع 20 كلمة وهو الحد الأقصى: «word21». احذف بعضها بـ /unfollow.",
            ),
            public=True,
        ),
    ],
    "mute for a while, unmute": [
        Step(
            "subscribe",
            "trump ai",
            {"figure": "trump", "topic": "ai"},
            say(
                "Subscribed. This chat now receives: Donald Trump, Artificial Intelligence",
                "Abonnement enregistré. Cette conversation reçoit désormais : Donald Trump, Intelligence artificielle",
                "تم الاشتراك. هذه المحادثة تتلقى الآن: ترامب، الذكاء الاصطناعي",
            ),
            public=True,
        ),
        Step(
            "mute",
            "trump 24h",
            {"label": "trump", "duration": "24h"},
            say(
                "Muted until 2026-02-12 12:00 UTC: Donald Trump. The subscription stays; /unmute trump brings the alerts back sooner.",
                "Muet jusqu'au 2026-02-12 12:00 UTC : Donald Trump. L'abonnement reste ; /unmute trump rétablit les alertes plus tôt.",
                "كُتم حتى 2026-02-12 12:00 UTC: ترامب. يبقى الاشتراك، و/unmute trump يعيد التنبيهات قبل ذلك.",
            ),
            public=True,
            labels=("trump", "ai"),
        ),
        Step(
            "list",
            text=say(
                "This chat receives alerts about: Donald Trump, Artificial Intelligence\nMuted: Donald Trump (until 2026-02-12 12:00 UTC)",
                "Cette conversation reçoit des alertes sur : Donald Trump, Intelligence artificielle\nMuets : Donald Trump (jusqu'au 2026-02-12 12:00 UTC)",
                "هذه المحادثة تتلقى تنبيهات عن: ترامب، الذكاء الاصطناعي\nمكتوم: ترامب (حتى 2026-02-12 12:00 UTC)",
            ),
        ),
        Step(
            "mute",
            "musk",
            {"label": "musk"},
            say(
                "This chat does not receive: Elon Musk, so there is nothing to mute. It receives: Donald Trump, Artificial Intelligence",
                "Cette conversation ne reçoit pas : Elon Musk, il n'y a donc rien à rendre muet. Elle reçoit : Donald Trump, Intelligence artificielle",
                "هذه المحادثة لا تتلقى: إيلون ماسك، فلا شيء لكتمه. تتلقى: ترامب، الذكاء الاصطناعي",
            ),
        ),
        Step(
            "mute",
            "ai 5x",
            {"label": "ai", "duration": "5x"},
            say(
                "Unknown duration: «5x». Use minutes, hours, days or weeks, e.g. 30m, 24h, 7d, 2w (a year at most), or nothing to mute until /unmute.",
                "Durée inconnue : «5x». Indiquez des minutes, heures, jours ou semaines, par ex. 30m, 24h, 7d, 2w (un an au plus), ou rien pour rendre muet jusqu'à /unmute.",
                "مدة غير مفهومة: «5x». اكتب دقائق أو ساعات أو أيامًا أو أسابيع، مثل 30m أو 24h أو 7d أو 2w (سنة على الأكثر)، أو لا شيء للكتم حتى /unmute.",
            ),
        ),
        Step(
            "unmute",
            "trump",
            {"label": "trump"},
            say(
                "Alerts are back for: Donald Trump",
                "Les alertes reviennent pour : Donald Trump",
                "عادت التنبيهات عن: ترامب",
            ),
            True,
        ),
        Step(
            "unmute",
            "trump",
            {"label": "trump"},
            say(
                "Not muted: Donald Trump. Muted now: nothing",
                "Pas muets : Donald Trump. Muets en ce moment : rien",
                "غير مكتوم: ترامب. المكتوم الآن: لا شيء",
            ),
        ),
        Step(
            "mute",
            "ai",
            {"label": "ai"},
            say(
                "Muted until /unmute: Artificial Intelligence. The subscription stays; /unmute ai brings the alerts back.",
                "Muet jusqu'à /unmute : Intelligence artificielle. L'abonnement reste ; /unmute ai rétablit les alertes.",
                "كُتم حتى /unmute: الذكاء الاصطناعي. يبقى الاشتراك، و/unmute ai يعيد التنبيهات.",
            ),
            public=True,
            labels=("trump", "ai"),
        ),
    ],
    # issue 13; T0 is 2026-02-11 12:00 UTC, 13:00 in Casablanca (the config's timezone)
    "digest, time zone and quiet hours": [
        Step("subscribe", "trump", {"figure": "trump"}, SUBSCRIBED_TRUMP, public=True),
        Step(
            "digest",
            "daily 07:30",
            {"mode": "daily", "time": "07:30"},
            say(
                "Digest: daily 07:30, Africa/Casablanca time. The next one: 2026-02-12 07:30 (Africa/Casablanca). Stories wait for it; a period without stories sends nothing.",
                "Résumé : daily 07:30, heure de Africa/Casablanca. Le prochain : 2026-02-12 07:30 (Africa/Casablanca). Les articles l'attendent ; une période sans article n'envoie rien.",
                "الموجز: daily 07:30 بتوقيت Africa/Casablanca. التالي: 2026-02-12 07:30 (Africa/Casablanca). تنتظره الأخبار، ولا يُرسل شيء إن لم يكن هناك خبر.",
            ),
            public=True,
        ),
        Step(
            "tz",
            "asia/riyadh",
            {"zone": "asia/riyadh"},
            say(
                "Time zone: Asia/Riyadh. Digest times (now: daily 07:30) and quiet hours (-) are read in it.",
                "Fuseau horaire : Asia/Riyadh. Les heures des résumés (en ce moment : daily 07:30) et les heures calmes (-) s'y lisent.",
                "المنطقة الزمنية: Asia/Riyadh. تُقرأ فيها أوقات الموجز (الآن: daily 07:30) وساعات الهدوء (-).",
            ),
            public=True,
        ),
        Step(
            "quiet",
            "23:00-07:00",
            {"window": "23:00-07:00"},
            say(
                "Quiet hours: 23:00-07:00, Asia/Riyadh time. Alerts in them wait and arrive as one digest when they end.",
                "Heures calmes : 23:00-07:00, heure de Asia/Riyadh. Les alertes pendant ces heures attendent et arrivent en un seul résumé à la fin.",
                "ساعات الهدوء: 23:00-07:00 بتوقيت Asia/Riyadh. التنبيهات خلالها تنتظر وتصل موجزًا واحدًا عند نهايتها.",
            ),
            public=True,
        ),
        Step(
            "list",
            text=say(
                "This chat receives alerts about: Donald Trump\nDelivery: daily 07:30; quiet hours: 23:00-07:00; time zone: Asia/Riyadh",
                "Cette conversation reçoit des alertes sur : Donald Trump\nEnvoi : daily 07:30 ; heures calmes : 23:00-07:00 ; fuseau horaire : Asia/Riyadh",
                "هذه المحادثة تتلقى تنبيهات عن: ترامب\nطريقة التنبيه: daily 07:30؛ ساعات الهدوء: 23:00-07:00؛ المنطقة الزمنية: Asia/Riyadh",
            ),
        ),
        Step(
            "quiet",
            "7pm",
            {"window": "7pm"},
            say(
                "Not a window: «7pm». Write /quiet HH:MM-HH:MM with two different times, e.g. /quiet 23:00-07:00, or /quiet off. Nothing was changed.",
                "Plage inconnue : «7pm». Écrivez /quiet HH:MM-HH:MM avec deux heures différentes, par ex. /quiet 23:00-07:00, ou /quiet off. Rien n'a changé.",
                "ساعات غير مفهومة: «7pm». اكتب /quiet HH:MM-HH:MM بوقتين مختلفين، مثل /quiet 23:00-07:00، أو /quiet off. لم يتغيّر شيء.",
            ),
        ),
        Step(
            "digest",
            "off",
            {"mode": "off"},
            say(
                "Digest off: each story comes at once. What was waiting for a digest is sent now.",
                "Résumé désactivé : chaque article arrive tout de suite. Ce qui attendait un résumé est envoyé maintenant.",
                "الموجز متوقف: يصل كل خبر فورًا. ما كان ينتظر الموجز يُرسل الآن.",
            ),
            public=True,
        ),
    ],
    "topics marks what the chat follows": [
        Step("subscribe", "trump", {"figure": "trump"}, SUBSCRIBED_TRUMP, public=True),
        Step(
            "topics",
            text=_topics("/subscribe altman ai"),
            discord_text=_topics("/subscribe figure:altman topic:ai"),
        ),
    ],
    "latest: nothing yet, every label, then the chat's labels only": [
        Step(
            "latest",
            text=say(
                "No matching stories yet.",
                "Aucun article correspondant pour l'instant.",
                "لا توجد أخبار مطابقة بعد.",
            ),
            stories=(),
        ),
        Setup(_ingest_stories),
        # not subscribed: the last five of every label, newest first
        Step("latest", text=LATEST, stories=tuple(f"https://h.test/{i}" for i in (7, 6, 5, 4, 3))),
        Step("subscribe", "trump", {"figure": "trump"}, SUBSCRIBED_TRUMP, public=True),
        Step("latest", text=LATEST, stories=tuple(f"https://h.test/{i}" for i in (6, 5, 4, 3, 2))),
    ],
}


@dataclass(frozen=True)
class Outcome:
    text: str  # the reply's text (the heading of a list of stories)
    public: bool | None  # None where the platform has no private replies
    stories: tuple[str, ...]  # the links of the stories listed under it


class Driver:
    """Runs a command on one platform as an administrator; returns what the chat saw."""

    platform: str
    chat: str
    store: Store

    async def run(self, step: Step) -> Outcome:
        raise NotImplementedError

    async def labels(self) -> tuple[str, ...] | None:
        sub = await self.store.subscription(self.platform, self.chat, "")
        return None if sub is None else (sub.labels if sub.active else ())


class TelegramDriver(Driver):
    platform = "telegram"
    chat = str(GROUP)

    def __init__(self, fake: FakeTelegram, store: Store) -> None:
        self.fake, self.store = fake, store
        self.group = fake.group(GROUP, admins={ADMIN: "administrator"})

    async def run(self, step: Step) -> Outcome:
        before = len(self.fake.messages(GROUP))
        text = f"/{step.command} {step.args}".strip()
        self.fake.push(self.fake.command(self.group, text, from_user=user(ADMIN, "en")))
        answer = await self.fake.wait_for_message(GROUP, before + 1)
        shown = answer.visible
        if answer.buttons():  # the label buttons, under a paragraph inviting to tap them
            shown = shown.rpartition("\n\n")[0]
        links = tuple(re.findall(r'<a href="([^"]+)">', answer.text))
        if links:  # /latest: a heading line, then the linked stories
            shown = shown.split("\n")[0].strip(BIDI_MARKS)
        return Outcome(shown, None, links)  # Telegram has no private replies here


class DiscordDriver(Driver):
    platform = "discord"
    chat = str(CHANNEL_A)

    def __init__(self, fake: FakeDiscord, store: Store) -> None:
        self.fake, self.store = fake, store

    async def run(self, step: Step) -> Outcome:
        answer = await self.fake.command(step.command, step.options or None, user=ADMIN_ID)
        embeds = answer.data.get("embeds") or []
        if not embeds:
            return Outcome(answer.content, not answer.ephemeral, ())
        [embed] = embeds  # /latest: one embed, its title the heading, a story a line
        links = tuple(re.findall(r"\]\((https?://[^)]+)\)", embed.get("description", "")))
        return Outcome(embed["title"], not answer.ephemeral, links)


@pytest.fixture(params=["telegram", "discord"])
async def driver(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, database_url: str
) -> AsyncIterator[Driver]:
    if request.param == "telegram":
        async with FakeTelegram() as fake:
            store = await Store.open(database_url)
            platform = TelegramPlatform(
                token=fake.token,
                api_base_url=fake.api_base_url,
                # the shipped config's timezone, as the Discord side's app reads it
                subscriptions=Subscriptions(
                    store, real_labels(), clock, zone=ZoneInfo("Africa/Casablanca")
                ),
                store=store,
                tz=ZoneInfo("Africa/Casablanca"),
                clock=clock,
                limiter=scaled(fake, 0.05),
                poll_timeout=0.5,
            )
            await platform.start()
            try:
                yield TelegramDriver(fake, store)
            finally:
                await platform.stop()
                await store.close()
            assert fake.rate_limited == []  # the table never trips Telegram's flood limits
    else:
        saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord_fake = await FakeDiscord().start()
        try:
            async with running_mirsad(
                discord_fake, mirsad_config(tmp_path, discord_fake, database=database_url), clock
            ) as app:
                yield DiscordDriver(discord_fake, app.parts.store)
        finally:
            await discord_fake.close()
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


# Every scenario in every language on SQLite; on PostgreSQL once per scenario (English, which
# includes /lang itself): the store never reads the language, so the other 44 runs (a third
# of the table, each a client start and a fresh database) proved nothing more.
CASES = [
    pytest.param(backend, name, lang, id=f"{backend}-{name}-{lang}")
    for backend in BACKENDS
    for name in SCENARIOS
    for lang in LANGS
    if backend == "sqlite" or lang == "en"
]


@pytest.mark.parametrize(("database_url", "name", "lang"), CASES, indirect=["database_url"])
async def test_both_platforms_decide_the_same(driver: Driver, name: str, lang: str) -> None:
    """Each scenario in each language: the administrator's client is English, so English
    needs nothing first; French and Arabic start with `/lang fr` or `/lang ar`."""
    if lang != "en":
        first = await driver.run(Step("lang", lang, {"language": lang}))
        assert first.text == LANG_SET[lang] and first.public in (None, True)
    for number, item in enumerate(SCENARIOS[name], start=1):
        if isinstance(item, Setup):
            await item.act(driver.store, driver.platform, driver.chat)
            continue
        outcome = await driver.run(item)
        expected = item.text[lang]
        if driver.platform == "discord" and item.discord_text is not None:
            expected = item.discord_text[lang]
        where = f"{name} ({lang}) step {number} /{item.command} {item.args}"
        assert outcome.text == expected, where
        if outcome.public is not None:
            assert outcome.public == item.public, where
        if item.stories is not None:
            assert outcome.stories == item.stories, where
        if item.labels is not None:
            assert await driver.labels() == item.labels, where
