"""Discord-only texts: slash-command option descriptions, the Discord help, permission replies
and the reasons a Discord channel's alerts were paused. Everything shared with Telegram
(command descriptions, subscribed/unsubscribed/list/topics replies) is in `core.texts`.

About Arabic on Discord: Discord's locale list (docs.discord.com "Locales", and
`discord.Locale` in discord.py 2.7) has no Arabic, and Discord refuses a command whose
`name_localizations` or `description_localizations` use a locale it does not know. So the
Arabic texts here reach users in two ways that work today: every default description is
bilingual ("English · عربي", within Discord's 100-character limit), and replies are in Arabic
when the channel's /lang (or a locale starting with "ar") says so. The Translator in
`platforms.discord.platform` also serves these texts for any Arabic locale discord.py may learn.
"""

from __future__ import annotations

from core.texts import DEFAULT_LANG

DESCRIPTION_LIMIT = 100  # Discord: command and option descriptions are 1-100 characters

# Option descriptions, by "command.option".
OPTIONS: dict[str, dict[str, str]] = {
    "subscribe.figure": {"en": "A figure to follow", "ar": "شخصية للمتابعة"},
    "subscribe.topic": {"en": "A topic to follow", "ar": "موضوع للمتابعة"},
    "unsubscribe.figure": {"en": "A figure to stop following", "ar": "شخصية لإلغاء متابعتها"},
    "unsubscribe.topic": {"en": "A topic to stop following", "ar": "موضوع لإلغاء متابعته"},
    "lang.language": {"en": "Arabic or English", "ar": "العربية أو الإنجليزية"},
    "stats.label": {
        "en": "A figure or topic (default: this channel's)",
        "ar": "شخصية أو موضوع (الافتراضي: ما تتابعه القناة)",
    },
    "follow.words": {
        "en": 'Words to follow, a phrase in quotes: Trump "artificial intelligence"',
        "ar": 'كلمات للمتابعة، والعبارة بين علامتي تنصيص: ترامب "الذكاء الاصطناعي"',
    },
    "unfollow.words": {"en": "Words to stop following", "ar": "كلمات لإلغاء متابعتها"},
    "mute.label": {
        "en": "A figure or topic this channel receives",
        "ar": "شخصية أو موضوع تتلقاه القناة",
    },
    "mute.duration": {
        "en": "For how long: 30m, 24h, 7d, 2w (none: until /unmute)",
        "ar": "المدة: 30m أو 24h أو 7d أو 2w (بدونها: حتى /unmute)",
    },
    "unmute.label": {"en": "A muted figure or topic", "ar": "شخصية أو موضوع مكتوم"},
    "stats.days": {
        "en": "How many days, 1 to 90 (default 30)",
        "ar": "عدد الأيام من 1 إلى 90 (الافتراضي 30)",
    },
}

_TEXTS: dict[str, dict[str, str]] = {
    "help": {
        "en": (
            "Mirsad watches Arabic news and posts an alert here for every story about the "
            "figures and topics this channel follows.\n"
            "/subscribe `figure:` `topic:` — follow (nothing chosen: the default watchlists)\n"
            "/unsubscribe `figure:` `topic:` — stop following (nothing chosen: everything)\n"
            "/list — what this channel follows\n"
            "/topics — the figures and topics you can follow\n"
            "/latest — the last 5 matching stories\n"
            "/stats `label:` `days:` — a chart of matching stories per day\n"
            "/lang — language of replies and alerts in this channel\n"
            "/follow `words:` — follow your own words (a phrase in quotes); /unfollow to stop\n"
            "/mute `label:` `duration:` — silence a figure or topic (24h, 7d…); /unmute to hear it again\n"
            "Alerts go to the channel or thread where /subscribe was used. Changing them needs "
            "the Manage Channels permission."
        ),
        "ar": (
            "مرصاد يتابع الأخبار العربية وينشر هنا تنبيهًا بكل خبر عن الشخصيات والمواضيع التي "
            "تتابعها هذه القناة.\n"
            "/subscribe `figure:` `topic:` — متابعة (بدون اختيار: القوائم الافتراضية)\n"
            "/unsubscribe `figure:` `topic:` — إلغاء المتابعة (بدون اختيار: كل شيء)\n"
            "/list — ما تتابعه هذه القناة\n"
            "/topics — الشخصيات والمواضيع المتاحة\n"
            "/latest — آخر 5 أخبار مطابقة\n"
            "/stats `label:` `days:` — رسم بياني لعدد الأخبار في اليوم\n"
            "/lang — لغة الردود والتنبيهات في هذه القناة\n"
            "/follow `words:` — تابع كلماتك (والعبارة بين علامتي تنصيص)؛ /unfollow لإلغائها\n"
            "/mute `label:` `duration:` — اكتم شخصية أو موضوعًا (24h، 7d…)؛ /unmute لإعادته\n"
            "تصل التنبيهات إلى القناة أو السلسلة التي استُخدم فيها /subscribe، ويتطلب تغييرها "
            "صلاحية «إدارة القنوات»."
        ),
    },
    "needs_manage_channels": {
        "en": (
            "Sorry, only members with the Manage Channels permission can change this "
            "channel's alerts. Nothing was changed."
        ),
        "ar": "عذرًا، لا يغيّر تنبيهات هذه القناة إلا من يملك صلاحية «إدارة القنوات». لم يتغيّر شيء.",
    },
    "bot_cannot_post": {
        "en": (
            "I cannot post alerts in this channel yet. Please give me View Channel, Send "
            "Messages (Send Messages in Threads for a thread) and Embed Links here, then try "
            "again. Nothing was changed."
        ),
        "ar": (
            "لا أستطيع نشر التنبيهات في هذه القناة بعد. امنحني هنا صلاحيات «عرض القناة» "
            "و«إرسال الرسائل» («إرسال الرسائل في السلاسل» للسلسلة) و«تضمين الروابط» ثم أعد "
            "المحاولة. لم يتغيّر شيء."
        ),
    },
    "guild_only": {
        "en": "This command works in a server channel or thread.",
        "ar": "هذا الأمر يعمل في قناة أو سلسلة داخل خادم.",
    },
    "lang_current": {
        "en": "This channel's language: {current}. Choose another with /lang `language:`.",
        "ar": "لغة هذه القناة: {current}. لاختيار غيرها: /lang `language:`.",
    },
}


def dt(key: str, lang: str, **fields: object) -> str:
    """A Discord-only text in `lang` (the default language if unknown), fields filled in."""
    texts = _TEXTS[key]
    template = texts.get(lang) or texts[DEFAULT_LANG]
    return template.format(**fields) if fields else template


def keys() -> list[str]:
    return list(_TEXTS)


def bilingual(en: str, ar: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`English · عربي` when it fits Discord's limit, else the English alone."""
    both = f"{en} · {ar}"
    return both if len(both) <= limit else en[:limit]


def option_description(key: str, lang: str | None = None) -> str:
    """An option's description: in `lang`, or bilingual when `lang` is None."""
    texts = OPTIONS[key]
    if lang is None:
        return bilingual(texts["en"], texts["ar"])
    return texts.get(lang) or texts[DEFAULT_LANG]
