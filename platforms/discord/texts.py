"""Discord-only texts: slash-command option descriptions, the Discord help, permission replies
and the reasons a Discord channel's alerts were paused. Everything shared with Telegram
(command descriptions, subscribed/unsubscribed/list/topics replies) is in `core.texts`.

About Arabic on Discord: Discord's locale list (docs.discord.com "Locales", and
`discord.Locale` in discord.py 2.7) has no Arabic, and Discord refuses a command whose
`name_localizations` or `description_localizations` use a locale it does not know. So the
Arabic texts here reach users in two ways that work today: every default description is
bilingual ("English · عربي", within Discord's 100-character limit), and replies are in Arabic
when the channel's /lang (or a locale starting with "ar") says so. The Translator in
`platforms.discord.commands` also serves these texts for any Arabic locale discord.py may learn.

French is one of Discord's locales (`fr`): every command and option description is sent with
its French `description_localizations`, and replies are in French when the channel's /lang
(or a French user or server locale) says so.
"""

from __future__ import annotations

from core.texts import DEFAULT_LANG

DESCRIPTION_LIMIT = 100  # Discord: command and option descriptions are 1-100 characters

# Option descriptions, by "command.option".
OPTIONS: dict[str, dict[str, str]] = {
    "subscribe.figure": {
        "en": "A figure to follow",
        "ar": "شخصية للمتابعة",
        "fr": "Une personnalité à suivre",
    },
    "subscribe.topic": {
        "en": "A topic to follow",
        "ar": "موضوع للمتابعة",
        "fr": "Un sujet à suivre",
    },
    "unsubscribe.figure": {
        "en": "A figure to stop following",
        "ar": "شخصية لإلغاء متابعتها",
        "fr": "Une personnalité à ne plus suivre",
    },
    "unsubscribe.topic": {
        "en": "A topic to stop following",
        "ar": "موضوع لإلغاء متابعته",
        "fr": "Un sujet à ne plus suivre",
    },
    "lang.language": {
        "en": "Arabic, English or French",
        "ar": "العربية أو الإنجليزية أو الفرنسية",
        "fr": "Arabe, anglais ou français",
    },
    "stats.label": {
        "en": "A figure or topic (default: this channel's)",
        "ar": "شخصية أو موضوع (الافتراضي: ما تتابعه القناة)",
        "fr": "Une personnalité ou un sujet (par défaut : ceux du salon)",
    },
    "stats.days": {
        "en": "How many days, 1 to 90 (default 30)",
        "ar": "عدد الأيام من 1 إلى 90 (الافتراضي 30)",
        "fr": "Nombre de jours, de 1 à 90 (30 par défaut)",
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
            "تصل التنبيهات إلى القناة أو السلسلة التي استُخدم فيها /subscribe، ويتطلب تغييرها "
            "صلاحية «إدارة القنوات»."
        ),
        "fr": (
            "Mirsad surveille l'actualité arabe et publie ici une alerte pour chaque article "
            "sur les personnalités et les sujets que ce salon suit.\n"
            "/subscribe `figure:` `topic:` — suivre (sans choix : les listes par défaut)\n"
            "/unsubscribe `figure:` `topic:` — ne plus suivre (sans choix : tout)\n"
            "/list — ce que suit ce salon\n"
            "/topics — les personnalités et les sujets que l'on peut suivre\n"
            "/latest — les 5 derniers articles correspondants\n"
            "/stats `label:` `days:` — un graphique des articles correspondants par jour\n"
            "/lang — langue des réponses et des alertes dans ce salon\n"
            "Les alertes arrivent dans le salon ou le fil où /subscribe a été utilisé. Les "
            "modifier demande la permission « Gérer les salons »."
        ),
    },
    "needs_manage_channels": {
        "en": (
            "Sorry, only members with the Manage Channels permission can change this "
            "channel's alerts. Nothing was changed."
        ),
        "ar": "عذرًا، لا يغيّر تنبيهات هذه القناة إلا من يملك صلاحية «إدارة القنوات». لم يتغيّر شيء.",
        "fr": (
            "Désolé, seuls les membres ayant la permission « Gérer les salons » peuvent "
            "modifier les alertes de ce salon. Rien n'a été modifié."
        ),
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
        "fr": (
            "Je ne peux pas encore publier d'alertes dans ce salon. Donnez-moi ici les "
            "permissions « Voir le salon », « Envoyer des messages » (« Envoyer des messages "
            "dans les fils » pour un fil) et « Intégrer des liens », puis réessayez. Rien n'a "
            "été modifié."
        ),
    },
    "guild_only": {
        "en": "This command works in a server channel or thread.",
        "ar": "هذا الأمر يعمل في قناة أو سلسلة داخل خادم.",
        "fr": "Cette commande fonctionne dans un salon ou un fil d'un serveur.",
    },
    "lang_current": {
        "en": "This channel's language: {current}. Choose another with /lang `language:`.",
        "ar": "لغة هذه القناة: {current}. لاختيار غيرها: /lang `language:`.",
        "fr": "Langue de ce salon : {current}. Choisissez-en une autre avec /lang `language:`.",
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
