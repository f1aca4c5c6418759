"""Reply texts in Arabic and English, shared by the Telegram and Discord handlers.

Plain text with `{fields}`: each platform escapes or formats the result itself (Telegram
sends replies without a parse mode, Discord as message content), so nothing here is markup.
Use `t("subscribed", lang, labels=names(ids, infos, lang))`. Every message id exists in every
language (a test checks it), and `t` falls back to Arabic, the default language.

One table for every platform. A platform that words a text its own way (Discord's slash
commands take named options, its permission is Manage Channels) has a variant `key@platform`
with the same fields, used when it renders (`t(key, lang, dialect="discord")`); a text only
one platform sends is an ordinary key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import assert_never

from core.commands import COMMANDS as COMMANDS  # the command list lives in core.commands
from core.commands import Catalogue, Labels, LangName, Mutes, Reason, Reply, Terms, When, Words
from core.pause import parse as parse_pause
from models import LabelInfo

LANGS = ("ar", "en")
DEFAULT_LANG = "ar"
MAX_ECHO = 32  # longest user word we repeat back (a 4,000-character argument is not echoed)
MAX_ECHO_WORDS = 5

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "ar": (
            "مرحبًا! أنا مرصاد: أتابع الأخبار العربية وأنبّهك بكل خبر عن الشخصيات والمواضيع التي "
            "تختارها.\n\n"
            "• /subscribe للاشتراك في القوائم الافتراضية (أو مثلًا: /subscribe musk ai)\n"
            "• /topics لعرض ما يمكن متابعته\n"
            "• /help لكل الأوامر"
        ),
        "en": (
            "Hello! I am Mirsad: I watch Arabic news and alert you to every story about the "
            "figures and topics you choose.\n\n"
            "• /subscribe for the default watchlists (or e.g. /subscribe musk ai)\n"
            "• /topics to see what can be followed\n"
            "• /help for every command"
        ),
    },
    "help": {
        "ar": (
            "الأوامر:\n"
            "/subscribe [معرّفات] — اشترك (بدونها: القوائم الافتراضية وأزرار للاختيار)\n"
            "/unsubscribe [معرّفات] — ألغِ الاشتراك (بدونها: كل شيء)\n"
            "/list — ما تتلقاه هذه المحادثة\n"
            "/topics — الشخصيات والمواضيع المتاحة\n"
            "/latest — آخر 5 أخبار مطابقة\n"
            "/stats [معرّف] [أيام] — رسم بياني لعدد الأخبار في اليوم\n"
            "/lang ar|en — لغة الردود والتنبيهات\n"
            "/follow كلمات — تابع كلماتك (والعبارة بين علامتي تنصيص)؛ /unfollow لإلغائها\n"
            "/mute معرّف [مدة] — اكتم شخصية أو موضوعًا (24h، 7d…)؛ /unmute لإعادته\n"
            "في المجموعات والقنوات يغيّر الاشتراكَ المشرفون فقط."
        ),
        "en": (
            "Commands:\n"
            "/subscribe [ids] — subscribe (none: the default watchlists, with buttons to choose)\n"
            "/unsubscribe [ids] — unsubscribe (none: everything)\n"
            "/list — what this chat receives\n"
            "/topics — the figures and topics you can follow\n"
            "/latest — the last 5 matching stories\n"
            "/stats [id] [days] — a chart of matching stories per day\n"
            "/lang ar|en — language of replies and alerts\n"
            "/follow words — follow your own words (a phrase in quotes); /unfollow to stop\n"
            "/mute id [duration] — silence a figure or topic (24h, 7d…); /unmute to hear it again\n"
            "In groups and channels only administrators can change the subscription."
        ),
    },
    "subscribed": {
        "ar": "تم الاشتراك. هذه المحادثة تتلقى الآن: {labels}",
        "en": "Subscribed. This chat now receives: {labels}",
    },
    "already_subscribed": {
        "ar": "هذه المحادثة مشتركة من قبل في: {labels}",
        "en": "This chat already receives: {labels}",
    },
    "choose": {
        "ar": "اضغط لمتابعة شخصية أو موضوع أو إلغاء متابعته:",
        "en": "Tap to follow or unfollow a figure or topic:",
    },
    "unsubscribed": {
        "ar": "تم إلغاء: {labels}. ما زالت المحادثة تتلقى: {remaining}",
        "en": "Removed: {labels}. This chat still receives: {remaining}",
    },
    "unsubscribed_all": {
        "ar": "تم إلغاء الاشتراك. لن تصل تنبيهات إلى هذه المحادثة بعد الآن.",
        "en": "Unsubscribed. No more alerts will be sent to this chat.",
    },
    "not_subscribed": {
        "ar": "هذه المحادثة غير مشتركة. اكتب /subscribe للاشتراك.",
        "en": "This chat is not subscribed. Send /subscribe to subscribe.",
    },
    "not_following": {
        "ar": "هذه المحادثة لا تتابع: {labels}. تتابع: {remaining}",
        "en": "This chat does not follow: {labels}. It follows: {remaining}",
    },
    "list": {
        "ar": "هذه المحادثة تتلقى تنبيهات عن: {labels}",
        "en": "This chat receives alerts about: {labels}",
    },
    "list_paused": {
        "ar": "الاشتراك متوقف ({reason}). اكتب /subscribe لاستئنافه.",
        "en": "The subscription is paused ({reason}). Send /subscribe to resume it.",
    },
    "topics": {
        "ar": "الشخصيات:\n{figures}\n\nالمواضيع:\n{topics}\n\nمثال: /subscribe {figure} {topic}",
        "en": "Figures:\n{figures}\n\nTopics:\n{topics}\n\nExample: /subscribe {figure} {topic}",
    },
    "latest": {
        "ar": "آخر الأخبار المطابقة:",
        "en": "Latest matching stories:",
    },
    "latest_empty": {
        "ar": "لا توجد أخبار مطابقة بعد.",
        "en": "No matching stories yet.",
    },
    "lang_set": {
        "ar": "لغة هذه المحادثة الآن: العربية.",
        "en": "This chat's language is now English.",
    },
    "lang_usage": {
        "ar": "اللغة الحالية: {current}. للتغيير: /lang ar أو /lang en",
        "en": "Current language: {current}. To change it: /lang ar or /lang en",
    },
    "lang_unknown": {
        "ar": "لغة غير معروفة: {words}. اللغات المتاحة: {valid}",
        "en": "Unknown language: {words}. Choose one of: {valid}",
    },
    "unknown_ids": {
        "ar": "غير معروف: {words}. المعرّفات الصالحة: {valid}",
        "en": "Unknown: {words}. Valid ids: {valid}",
    },
    "unknown_command": {
        "ar": "أمر غير معروف. الأوامر: {commands}",
        "en": "Unknown command. Commands: {commands}",
    },
    "admins_only": {
        "ar": "عذرًا، في المجموعات والقنوات يغيّر الاشتراكَ المشرفون فقط.",
        "en": "Sorry, in groups and channels only administrators can change the subscription.",
    },
    "channel_needs_admin": {
        "ar": "عذرًا، يجب أن أكون مشرفًا في هذه القناة لأغيّر اشتراكها.",
        "en": "Sorry, I must be an administrator of this channel to change its subscription.",
    },
    "toggled_on": {"ar": "تمت متابعة: {label}", "en": "Now following: {label}"},
    "toggled_off": {"ar": "تم إلغاء متابعة: {label}", "en": "No longer following: {label}"},
    "button_expired": {
        "ar": "هذا الزر قديم. اكتب /subscribe من جديد.",
        "en": "This button is out of date. Send /subscribe again.",
    },
    "error": {
        "ar": "حدث خطأ ما. حاول مرة أخرى بعد قليل.",
        "en": "Something went wrong. Please try again in a moment.",
    },
    "digest": {"ar": "موجز الأخبار ({count})", "en": "News digest ({count})"},
    # issue 14: an alert edited when other outlets report the event, or the feed corrects it
    "also_reported": {"ar": "نشرته أيضًا:", "en": "Also reported by:"},
    "updated": {"ar": "(محدَّث)", "en": "(updated)"},
    "nothing": {"ar": "لا شيء", "en": "nothing"},
    "lang_name_ar": {"ar": "العربية", "en": "Arabic"},
    "lang_name_en": {"ar": "الإنجليزية", "en": "English"},
    # why a subscription is paused, one text per code of core.pause.PauseCode (shown by /list)
    "reason_blocked": {"ar": "حُظر البوت في هذه المحادثة", "en": "the bot was blocked"},
    "reason_kicked": {"ar": "طُرد البوت من هذه المحادثة", "en": "the bot was kicked from this chat"},
    "reason_removed": {
        "ar": "أُزيل البوت من هذه المحادثة",
        "en": "the bot was removed from this chat",
    },
    "reason_no_permission": {
        "ar": "فقدتُ صلاحية النشر هنا",
        "en": "I lost the permission to post here",
    },
    "reason_no_access": {
        "ar": "لم أعد أستطيع رؤية هذه القناة",
        "en": "I can no longer see this channel",
    },
    "reason_chat_gone": {"ar": "حُذفت المحادثة أو القناة", "en": "the chat or channel was deleted"},
    "reason_topic_gone": {"ar": "حُذف هذا الموضوع", "en": "this topic was deleted"},
    "reason_thread_locked": {
        "ar": "السلسلة مؤرشفة ومقفلة",
        "en": "the thread is archived and locked",
    },
    "reason_cannot_dm": {
        "ar": "لا أستطيع مراسلة هذا المستخدم",
        "en": "I cannot send messages to this user",
    },
    "reason_refused": {
        "ar": "رفضت المنصة رسائلي هنا",
        "en": "the platform refused my messages here",
    },
    "reason_unsubscribed": {"ar": "أُلغي الاشتراك", "en": "unsubscribed"},
    "reason_migrated": {
        "ar": "انتقلت المجموعة إلى محادثة جديدة",
        "en": "the group moved to a new chat",
    },
    "reason_replaced": {"ar": "أُعدّت منصة دردشة", "en": "a chat platform is configured"},
    "reason_other": {"ar": "{detail}", "en": "{detail}"},
    # issue 13: the chat's own words (/follow) and silenced labels (/mute)
    "follow_usage": {
        "ar": (
            "اكتب /follow ثم الكلمات التي تريد متابعتها، والعبارة بين علامتي تنصيص، مثلًا: "
            '/follow ترامب "الذكاء الاصطناعي". تتابع هذه المحادثة: {terms}'
        ),
        "en": (
            "Send /follow with the words to watch for, a phrase in quotes, e.g. "
            '/follow Trump "artificial intelligence". This chat follows: {terms}'
        ),
    },
    "followed": {
        "ar": "تمت متابعة: {terms}. تتابع هذه المحادثة {count} من {max} كلمة.",
        "en": "Now following: {terms}. This chat follows {count} of {max} words.",
    },
    "follow_already": {"ar": "متابَعة من قبل: {terms}", "en": "Already followed: {terms}"},
    "follow_refused_too_common": {
        "ar": "كلمات شائعة جدًا ترد في كل خبر تقريبًا، لم تُتابَع: {words}",
        "en": "Too common to follow (they are in nearly every story): {words}",
    },
    "follow_refused_too_short": {
        "ar": "أقصر من أن تُتابَع (حرفان على الأقل): {words}",
        "en": "Too short to follow (at least 2 letters): {words}",
    },
    "follow_refused_too_long": {
        "ar": "أطول من أن تُتابَع (60 حرفًا على الأكثر): {words}",
        "en": "Too long to follow (at most 60 characters): {words}",
    },
    "follow_refused_no_letters": {
        "ar": "لا حروف للمتابعة في: {words}",
        "en": "No letters to follow in: {words}",
    },
    "follow_refused_limit": {
        "ar": "لم تُضف، فهذه المحادثة تتابع {max} كلمة وهو الحد الأقصى: {words}. احذف بعضها بـ /unfollow.",
        "en": "Not followed, this chat already follows {max} words, the most: {words}. Remove some with /unfollow.",
    },
    "unfollow_usage": {
        "ar": "اكتب /unfollow ثم الكلمات التي تريد إلغاء متابعتها. تتابع هذه المحادثة: {terms}",
        "en": "Send /unfollow with the words to stop following. This chat follows: {terms}",
    },
    "unfollowed": {
        "ar": "أُلغيت متابعة: {terms}. ما زالت المحادثة تتابع: {remaining}",
        "en": "No longer following: {terms}. Still following: {remaining}",
    },
    "not_followed_words": {
        "ar": "هذه المحادثة لا تتابع: {words}. تتابع: {terms}",
        "en": "This chat does not follow: {words}. It follows: {terms}",
    },
    "list_follows": {"ar": "الكلمات المتابَعة: {terms}", "en": "Words followed: {terms}"},
    "list_mutes": {"ar": "مكتوم: {mutes}", "en": "Muted: {mutes}"},
    "mute_usage": {
        "ar": (
            "اكتب /mute ثم شخصية أو موضوعًا تتلقاه هذه المحادثة، ومدة إن شئت: 30m أو 24h أو 7d "
            "(بدونها: حتى /unmute). مثلًا: /mute trump 24h"
        ),
        "en": (
            "Send /mute with a figure or topic this chat receives and, if you like, for how "
            "long: 30m, 24h, 7d (none: until /unmute). E.g. /mute trump 24h"
        ),
    },
    "mute_bad_duration": {
        "ar": (
            "مدة غير مفهومة: {words}. اكتب دقائق أو ساعات أو أيامًا أو أسابيع، مثل 30m أو 24h "
            "أو 7d أو 2w (سنة على الأكثر)، أو لا شيء للكتم حتى /unmute."
        ),
        "en": (
            "Unknown duration: {words}. Use minutes, hours, days or weeks, e.g. 30m, 24h, 7d, "
            "2w (a year at most), or nothing to mute until /unmute."
        ),
    },
    "mute_not_followed": {
        "ar": "هذه المحادثة لا تتلقى: {labels}، فلا شيء لكتمه. تتلقى: {remaining}",
        "en": "This chat does not receive: {labels}, so there is nothing to mute. It receives: {remaining}",
    },
    "muted_until": {
        "ar": "كُتم حتى {until}: {labels}. يبقى الاشتراك، و/unmute {id} يعيد التنبيهات قبل ذلك.",
        "en": "Muted until {until}: {labels}. The subscription stays; /unmute {id} brings the alerts back sooner.",
    },
    "muted": {
        "ar": "كُتم حتى /unmute: {labels}. يبقى الاشتراك، و/unmute {id} يعيد التنبيهات.",
        "en": "Muted until /unmute: {labels}. The subscription stays; /unmute {id} brings the alerts back.",
    },
    "unmute_usage": {
        "ar": "اكتب /unmute ثم شخصية أو موضوعًا مكتومًا. المكتوم الآن: {mutes}",
        "en": "Send /unmute with a muted figure or topic. Muted now: {mutes}",
    },
    "unmuted": {"ar": "عادت التنبيهات عن: {labels}", "en": "Alerts are back for: {labels}"},
    "not_muted": {
        "ar": "غير مكتوم: {labels}. المكتوم الآن: {mutes}",
        "en": "Not muted: {labels}. Muted now: {mutes}",
    },
    "mute_until_time": {"ar": "حتى {until}", "en": "until {until}"},
    "mute_until_unmute": {"ar": "حتى /unmute", "en": "until /unmute"},
    # -- Discord's wording, and texts only Discord sends --------------------------------------
    "topics@discord": {
        "ar": (
            "الشخصيات:\n{figures}\n\nالمواضيع:\n{topics}\n\n"
            "مثال: /subscribe figure:{figure} topic:{topic}"
        ),
        "en": (
            "Figures:\n{figures}\n\nTopics:\n{topics}\n\n"
            "Example: /subscribe figure:{figure} topic:{topic}"
        ),
    },
    "help@discord": {
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
    "admins_only@discord": {
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
    "lang_usage@discord": {
        "en": "This channel's language: {current}. Choose another with /lang `language:`.",
        "ar": "لغة هذه القناة: {current}. لاختيار غيرها: /lang `language:`.",
    },
}

# Descriptions for the platform command menus (Telegram setMyCommands, Discord slash commands).
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "start": {"ar": "ترحيب وطريقة الاستخدام", "en": "Welcome and how to use"},
    "help": {"ar": "كل الأوامر", "en": "All commands"},
    "subscribe": {"ar": "اشترك في شخصيات ومواضيع", "en": "Subscribe to figures and topics"},
    "unsubscribe": {"ar": "ألغِ الاشتراك", "en": "Unsubscribe"},
    "list": {"ar": "ما تتلقاه هذه المحادثة", "en": "What this chat receives"},
    "topics": {"ar": "ما يمكن متابعته", "en": "What can be followed"},
    "latest": {"ar": "آخر 5 أخبار مطابقة", "en": "The last 5 matching stories"},
    "lang": {"ar": "لغة الردود (ar أو en)", "en": "Reply language (ar or en)"},
    "stats": {"ar": "رسم بياني للأخبار في اليوم", "en": "Chart of matching stories per day"},
    "follow": {"ar": "تابع كلماتك الخاصة", "en": "Follow your own words"},
    "unfollow": {"ar": "ألغِ متابعة كلمات", "en": "Stop following words"},
    "mute": {"ar": "اكتم شخصية أو موضوعًا لمدة", "en": "Silence a figure or topic for a while"},
    "unmute": {"ar": "أعد شخصية أو موضوعًا مكتومًا", "en": "Hear a muted figure or topic again"},
    # the options of Discord's slash commands, by "command.option"
    "subscribe.figure": {"en": "A figure to follow", "ar": "شخصية للمتابعة"},
    "subscribe.topic": {"en": "A topic to follow", "ar": "موضوع للمتابعة"},
    "unsubscribe.figure": {"en": "A figure to stop following", "ar": "شخصية لإلغاء متابعتها"},
    "unsubscribe.topic": {"en": "A topic to stop following", "ar": "موضوع لإلغاء متابعته"},
    "lang.language": {"en": "Arabic or English", "ar": "العربية أو الإنجليزية"},
    "stats.label": {
        "en": "A figure or topic (default: this channel's)",
        "ar": "شخصية أو موضوع (الافتراضي: ما تتابعه القناة)",
    },
    "stats.days": {
        "en": "How many days, 1 to 90 (default 30)",
        "ar": "عدد الأيام من 1 إلى 90 (الافتراضي 30)",
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
}


def t(key: str, lang: str, *, dialect: str = "", **fields: object) -> str:
    """The text `key` in `lang` (Arabic if the language is unknown), with `fields` filled in;
    a platform's own wording of it (`key@dialect`) where the table has one."""
    texts = _TEXTS.get(f"{key}@{dialect}") or _TEXTS[key]
    template = texts.get(lang) or texts[DEFAULT_LANG]
    return template.format(**fields) if fields else template


def keys() -> list[str]:
    return list(_TEXTS)


def description(command: str, lang: str) -> str:
    """Menu description of a command (see COMMANDS) or of a slash-command option
    (`subscribe.figure`)."""
    texts = _DESCRIPTIONS[command]
    return texts.get(lang) or texts[DEFAULT_LANG]


def pick_lang(chat_lang: str | None, user_lang: str | None) -> str:
    """The language of a reply: the chat's `/lang` if set, else the user's client language
    (Arabic for `ar*`, English for any other), else Arabic."""
    if chat_lang in LANGS:
        return chat_lang
    if user_lang:
        return "ar" if user_lang.lower().startswith("ar") else "en"
    return DEFAULT_LANG


def join(items: Iterable[str], lang: str) -> str:
    """`a، b، c` in Arabic, `a, b, c` in English; "nothing" when empty."""
    items = list(items)
    if not items:
        return t("nothing", lang)
    return ("، " if lang == "ar" else ", ").join(items)


def names(ids: Iterable[str], labels: Mapping[str, LabelInfo], lang: str) -> str:
    """The display names of label ids, joined for `lang`."""
    return join((labels[i].name(lang) if i in labels else i for i in ids), lang)


def echo(words: Sequence[str], lang: str) -> str:
    """User words repeated back safely: a few of them, each cut short, quoted."""
    shown = []
    for word in list(words)[:MAX_ECHO_WORDS]:
        word = "".join(ch for ch in word if ch.isprintable())  # format characters too
        shown.append(f"«{word[:MAX_ECHO]}{'…' if len(word) > MAX_ECHO else ''}»")
    if len(words) > MAX_ECHO_WORDS:
        shown.append("…")
    return join(shown, lang)


def catalogue(
    kind: str, followed: Iterable[str], labels: Mapping[str, LabelInfo], lang: str
) -> str:
    """`/topics`: every label of one kind, one a line with its id and name, followed ones
    marked."""
    marked = set(followed)
    found = [
        f"{'✅' if info.id in marked else '•'} {info.id} — {info.name(lang)}"
        for info in labels.values()
        if info.kind == kind
    ]
    return "\n".join(found) or "• " + t("nothing", lang)


def pause_reason(stored: str | None, lang: str) -> str:
    """A stored pause reason (core.pause) in the reader's language."""
    reason = parse_pause(stored)
    if reason is None:
        return ""
    if reason.code == "other":
        return t("reason_other", lang, detail=reason.detail)
    return t(f"reason_{reason.code}", lang)


def lang_name(lang: str, in_lang: str) -> str:
    return t(f"lang_name_{lang}", in_lang) if f"lang_name_{lang}" in _TEXTS else lang


def terms(texts: Sequence[str], lang: str) -> str:
    """A chat's followed words, each whole and quoted («الذكاء الاصطناعي», «Trump»)."""
    return join((f"«{text}»" for text in texts), lang)


def when(at: datetime) -> str:
    """A time as commands show it: `2026-02-12 12:00 UTC`."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def mutes(
    items: Sequence[tuple[str, datetime | None]], labels: Mapping[str, LabelInfo], lang: str
) -> str:
    """Muted labels with the end of each mute: `Donald Trump (until 2026-02-12 12:00 UTC)`."""
    shown = []
    for label, until in items:
        end = (
            t("mute_until_unmute", lang)
            if until is None
            else t("mute_until_time", lang, until=when(until))
        )
        shown.append(f"{names([label], labels, lang)} ({end})")
    return join(shown, lang)


def render(reply: Reply, lang: str, labels: Mapping[str, LabelInfo], *, dialect: str = "") -> str:
    """A command's Reply (core.commands) as plain text in `lang` (or the reply's own), in
    the platform's own wording where it has one (`dialect`), its further lines (`more`)
    each on a line of its own."""
    lang = reply.lang or lang
    text = _render_one(reply, lang, labels, dialect)
    return "\n".join([text, *(_render_one(part, lang, labels, dialect) for part in reply.more)])


def _render_one(reply: Reply, lang: str, labels: Mapping[str, LabelInfo], dialect: str) -> str:
    fields: dict[str, str] = {}
    for name, value in reply.fields.items():
        match value:
            case Labels(ids):
                fields[name] = names(ids, labels, lang)
            case Words(words):
                fields[name] = echo(words, lang)
            case Reason(stored):
                fields[name] = pause_reason(stored, lang)
            case LangName(code):
                fields[name] = lang_name(code, lang)
            case Terms(texts):
                fields[name] = terms(texts, lang)
            case When(at):
                fields[name] = when(at)
            case Mutes(items):
                fields[name] = mutes(items, labels, lang)
            case Catalogue(kind, followed):
                fields[name] = catalogue(kind, followed, labels, lang)
            case str():
                fields[name] = value
            case _:
                assert_never(value)
    return t(reply.key, lang, dialect=dialect, **fields)
