"""Reply texts in Arabic, English and French, shared by the Telegram and Discord handlers.

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
from zoneinfo import ZoneInfo

from core.commands import COMMANDS as COMMANDS  # the command list lives in core.commands
from core.commands import (
    Catalogue,
    Labels,
    LangName,
    Local,
    Mutes,
    Reason,
    Reply,
    Terms,
    When,
    Words,
)
from core.pause import parse as parse_pause
from core.subscriptions import LANGS as LANGS  # re-exported: the languages /lang offers
from models import LabelInfo

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
        "fr": (
            "Bonjour ! Je suis Mirsad : je surveille l'actualité arabe et je vous alerte à "
            "chaque article sur les personnalités et les sujets que vous choisissez.\n"
            "\n"
            "• /subscribe pour les listes de suivi par défaut (ou par ex. /subscribe musk "
            "ai)\n"
            "• /topics pour voir ce que l'on peut suivre\n"
            "• /help pour toutes les commandes"
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
            "/lang ar|fr|en — لغة الردود والتنبيهات\n"
            "/follow كلمات — تابع كلماتك (والعبارة بين علامتي تنصيص)؛ /unfollow لإلغائها\n"
            "/mute معرّف [مدة] — اكتم شخصية أو موضوعًا (24h، 7d…)؛ /unmute لإعادته\n"
            "/digest off|hourly|daily 07:30|weekly mon 08:00 — موجز واحد بدل رسالة لكل خبر\n"
            "/tz Africa/Casablanca — المنطقة الزمنية لأوقات الموجز والهدوء\n"
            "/quiet 23:00-07:00 — ساعات هدوء: تنتظر التنبيهات وتصل موجزًا عند نهايتها؛ /quiet off\n"
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
            "/lang ar|fr|en — language of replies and alerts\n"
            "/follow words — follow your own words (a phrase in quotes); /unfollow to stop\n"
            "/mute id [duration] — silence a figure or topic (24h, 7d…); /unmute to hear it again\n"
            "/digest off|hourly|daily 07:30|weekly mon 08:00 — one digest instead of a message per story\n"
            "/tz Africa/Casablanca — the time zone of digest and quiet-hour times\n"
            "/quiet 23:00-07:00 — quiet hours: alerts wait and come as one digest when they end; /quiet off\n"
            "In groups and channels only administrators can change the subscription."
        ),
        "fr": (
            "Commandes :\n"
            "/subscribe [ids] — s'abonner (sans rien : les listes par défaut, avec des "
            "boutons pour choisir)\n"
            "/unsubscribe [ids] — se désabonner (sans rien : de tout)\n"
            "/list — ce que reçoit cette conversation\n"
            "/topics — les personnalités et les sujets que l'on peut suivre\n"
            "/latest — les 5 derniers articles correspondants\n"
            "/stats [id] [jours] — un graphique des articles correspondants par jour\n"
            "/lang ar|fr|en — langue des réponses et des alertes\n"
            "/follow mots — suivre vos propres mots (une expression entre guillemets) ; "
            "/unfollow pour arrêter\n"
            "/mute id [durée] — faire taire une personnalité ou un sujet (24h, 7d…) ; "
            "/unmute pour le réentendre\n"
            "/digest off|hourly|daily 07:30|weekly mon 08:00 — un résumé au lieu d'un message par article\n"
            "/tz Africa/Casablanca — le fuseau horaire des résumés et des heures calmes\n"
            "/quiet 23:00-07:00 — heures calmes : les alertes attendent et arrivent en un résumé à la fin ; /quiet off\n"
            "Dans les groupes et les canaux, seuls les administrateurs peuvent modifier "
            "l'abonnement."
        ),
    },
    "subscribed": {
        "ar": "تم الاشتراك. هذه المحادثة تتلقى الآن: {labels}",
        "en": "Subscribed. This chat now receives: {labels}",
        "fr": "Abonnement enregistré. Cette conversation reçoit désormais : {labels}",
    },
    "already_subscribed": {
        "ar": "هذه المحادثة مشتركة من قبل في: {labels}",
        "en": "This chat already receives: {labels}",
        "fr": "Cette conversation reçoit déjà : {labels}",
    },
    "choose": {
        "ar": "اضغط لمتابعة شخصية أو موضوع أو إلغاء متابعته:",
        "en": "Tap to follow or unfollow a figure or topic:",
        "fr": "Touchez pour suivre une personnalité ou un sujet, ou pour ne plus le suivre :",
    },
    "unsubscribed": {
        "ar": "تم إلغاء: {labels}. ما زالت المحادثة تتلقى: {remaining}",
        "en": "Removed: {labels}. This chat still receives: {remaining}",
        "fr": "Retiré : {labels}. Cette conversation reçoit encore : {remaining}",
    },
    "unsubscribed_all": {
        "ar": "تم إلغاء الاشتراك. لن تصل تنبيهات إلى هذه المحادثة بعد الآن.",
        "en": "Unsubscribed. No more alerts will be sent to this chat.",
        "fr": "Désabonnement effectué. Plus aucune alerte ne sera envoyée à cette conversation.",
    },
    "not_subscribed": {
        "ar": "هذه المحادثة غير مشتركة. اكتب /subscribe للاشتراك.",
        "en": "This chat is not subscribed. Send /subscribe to subscribe.",
        "fr": "Cette conversation n'est pas abonnée. Envoyez /subscribe pour vous abonner.",
    },
    "not_following": {
        "ar": "هذه المحادثة لا تتابع: {labels}. تتابع: {remaining}",
        "en": "This chat does not follow: {labels}. It follows: {remaining}",
        "fr": "Cette conversation ne suit pas : {labels}. Elle suit : {remaining}",
    },
    "list": {
        "ar": "هذه المحادثة تتلقى تنبيهات عن: {labels}",
        "en": "This chat receives alerts about: {labels}",
        "fr": "Cette conversation reçoit des alertes sur : {labels}",
    },
    "list_paused": {
        "ar": "الاشتراك متوقف ({reason}). اكتب /subscribe لاستئنافه.",
        "en": "The subscription is paused ({reason}). Send /subscribe to resume it.",
        "fr": "L'abonnement est suspendu ({reason}). Envoyez /subscribe pour le reprendre.",
    },
    "topics": {
        "ar": "الشخصيات:\n{figures}\n\nالمواضيع:\n{topics}\n\nمثال: /subscribe {figure} {topic}",
        "en": "Figures:\n{figures}\n\nTopics:\n{topics}\n\nExample: /subscribe {figure} {topic}",
        "fr": (
            "Personnalités :\n"
            "{figures}\n"
            "\n"
            "Sujets :\n"
            "{topics}\n"
            "\n"
            "Exemple : /subscribe {figure} {topic}"
        ),
    },
    "latest": {
        "ar": "آخر الأخبار المطابقة:",
        "en": "Latest matching stories:",
        "fr": "Derniers articles correspondants :",
    },
    "latest_empty": {
        "ar": "لا توجد أخبار مطابقة بعد.",
        "en": "No matching stories yet.",
        "fr": "Aucun article correspondant pour l'instant.",
    },
    "lang_set": {
        "ar": "لغة هذه المحادثة الآن: العربية.",
        "en": "This chat's language is now English.",
        "fr": "La langue de cette conversation est désormais le français.",
    },
    "lang_usage": {
        "ar": "اللغة الحالية: {current}. للتغيير: /lang ar أو /lang fr أو /lang en",
        "en": "Current language: {current}. To change it: /lang ar, /lang fr or /lang en",
        "fr": "Langue actuelle : {current}. Pour la changer : /lang ar, /lang fr ou /lang en",
    },
    "lang_unknown": {
        "ar": "لغة غير معروفة: {words}. اللغات المتاحة: {valid}",
        "en": "Unknown language: {words}. Choose one of: {valid}",
        "fr": "Langue inconnue : {words}. Choisissez parmi : {valid}",
    },
    "unknown_ids": {
        "ar": "غير معروف: {words}. المعرّفات الصالحة: {valid}",
        "en": "Unknown: {words}. Valid ids: {valid}",
        "fr": "Inconnu : {words}. Identifiants valides : {valid}",
    },
    "unknown_command": {
        "ar": "أمر غير معروف. الأوامر: {commands}",
        "en": "Unknown command. Commands: {commands}",
        "fr": "Commande inconnue. Commandes : {commands}",
    },
    "admins_only": {
        "ar": "عذرًا، في المجموعات والقنوات يغيّر الاشتراكَ المشرفون فقط.",
        "en": "Sorry, in groups and channels only administrators can change the subscription.",
        "fr": (
            "Désolé, dans les groupes et les canaux, seuls les administrateurs peuvent "
            "modifier l'abonnement."
        ),
    },
    "channel_needs_admin": {
        "ar": "عذرًا، يجب أن أكون مشرفًا في هذه القناة لأغيّر اشتراكها.",
        "en": "Sorry, I must be an administrator of this channel to change its subscription.",
        "fr": "Désolé, je dois être administrateur de ce canal pour modifier son abonnement.",
    },
    "toggled_on": {
        "ar": "تمت متابعة: {label}",
        "en": "Now following: {label}",
        "fr": "Vous suivez désormais : {label}",
    },
    "toggled_off": {
        "ar": "تم إلغاء متابعة: {label}",
        "en": "No longer following: {label}",
        "fr": "Vous ne suivez plus : {label}",
    },
    "button_expired": {
        "ar": "هذا الزر قديم. اكتب /subscribe من جديد.",
        "en": "This button is out of date. Send /subscribe again.",
        "fr": "Ce bouton n'est plus à jour. Envoyez /subscribe de nouveau.",
    },
    "error": {
        "ar": "حدث خطأ ما. حاول مرة أخرى بعد قليل.",
        "en": "Something went wrong. Please try again in a moment.",
        "fr": "Une erreur s'est produite. Réessayez dans un instant.",
    },
    "digest": {
        "ar": "موجز الأخبار ({count})",
        "en": "News digest ({count})",
        "fr": "Résumé de l'actualité ({count})",
    },
    "digest_own_words": {"ar": "كلماتك", "en": "Your words", "fr": "Vos mots"},
    # issue 14: an alert edited when other outlets report the event, or the feed corrects it
    "also_reported": {
        "ar": "نشرته أيضًا:",
        "en": "Also reported by:",
        "fr": "Également rapporté par :",
    },
    "updated": {"ar": "(محدَّث)", "en": "(updated)", "fr": "(mis à jour)"},
    # an alert's parts: the field naming why it was sent, and a story that has no title
    "why_alert": {"ar": "سبب التنبيه", "en": "Why this alert", "fr": "Pourquoi cette alerte"},
    "no_title": {"ar": "(بلا عنوان)", "en": "(no title)", "fr": "(sans titre)"},
    "nothing": {"ar": "لا شيء", "en": "nothing", "fr": "rien"},
    # the terminal's alert block (platforms/console): the name of each line, and where a word
    # matched ("«ترمب» (title)")
    "console_alert": {"ar": "تنبيه", "en": "ALERT", "fr": "ALERTE"},
    "console_update": {"ar": "تحديث", "en": "UPDATE", "fr": "MISE À JOUR"},
    "console_source": {"ar": "المصدر", "en": "source", "fr": "source"},
    "console_time": {"ar": "الوقت", "en": "time", "fr": "heure"},
    "console_link": {"ar": "الرابط", "en": "link", "fr": "lien"},
    "console_summary": {"ar": "الملخص", "en": "summary", "fr": "résumé"},
    "console_also": {"ar": "أيضًا", "en": "also", "fr": "aussi"},
    "console_labels": {"ar": "التصنيفات", "en": "labels", "fr": "étiquettes"},
    "console_in_title": {"ar": "العنوان", "en": "title", "fr": "titre"},
    "console_in_summary": {"ar": "الملخص", "en": "summary", "fr": "résumé"},
    "lang_name_ar": {"ar": "العربية", "en": "Arabic", "fr": "arabe"},
    "lang_name_fr": {"ar": "الفرنسية", "en": "French", "fr": "français"},
    "lang_name_en": {"ar": "الإنجليزية", "en": "English", "fr": "anglais"},
    # why a subscription is paused, one text per code of core.pause.PauseCode (shown by /list)
    "reason_blocked": {
        "ar": "حُظر البوت في هذه المحادثة",
        "en": "the bot was blocked",
        "fr": "le bot a été bloqué",
    },
    "reason_kicked": {
        "ar": "طُرد البوت من هذه المحادثة",
        "en": "the bot was kicked from this chat",
        "fr": "le bot a été expulsé de cette conversation",
    },
    "reason_removed": {
        "ar": "أُزيل البوت من هذه المحادثة",
        "en": "the bot was removed from this chat",
        "fr": "le bot a été retiré de cette conversation",
    },
    "reason_no_permission": {
        "ar": "فقدتُ صلاحية النشر هنا",
        "en": "I lost the permission to post here",
        "fr": "j'ai perdu l'autorisation de publier ici",
    },
    "reason_no_access": {
        "ar": "لم أعد أستطيع رؤية هذه القناة",
        "en": "I can no longer see this channel",
        "fr": "je ne peux plus voir ce canal",
    },
    "reason_chat_gone": {
        "ar": "حُذفت المحادثة أو القناة",
        "en": "the chat or channel was deleted",
        "fr": "la conversation ou le canal a été supprimé",
    },
    "reason_topic_gone": {
        "ar": "حُذف هذا الموضوع",
        "en": "this topic was deleted",
        "fr": "ce sujet a été supprimé",
    },
    "reason_thread_locked": {
        "ar": "السلسلة مؤرشفة ومقفلة",
        "en": "the thread is archived and locked",
        "fr": "le fil est archivé et verrouillé",
    },
    "reason_cannot_dm": {
        "ar": "لا أستطيع مراسلة هذا المستخدم",
        "en": "I cannot send messages to this user",
        "fr": "je ne peux pas envoyer de messages à cet utilisateur",
    },
    "reason_refused": {
        "ar": "رفضت المنصة رسائلي هنا",
        "en": "the platform refused my messages here",
        "fr": "la plateforme a refusé mes messages ici",
    },
    "reason_unsubscribed": {"ar": "أُلغي الاشتراك", "en": "unsubscribed", "fr": "désabonnement"},
    "reason_migrated": {
        "ar": "انتقلت المجموعة إلى محادثة جديدة",
        "en": "the group moved to a new chat",
        "fr": "le groupe est passé à une nouvelle conversation",
    },
    "reason_replaced": {
        "ar": "أُعدّت منصة دردشة",
        "en": "a chat platform is configured",
        "fr": "une plateforme de discussion est configurée",
    },
    "reason_other": {"ar": "{detail}", "en": "{detail}", "fr": "{detail}"},
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
        "fr": 'Envoyez /follow avec les mots à surveiller, une expression entre guillemets, par ex. /follow Trump "intelligence artificielle". Cette conversation suit : {terms}',
    },
    "followed": {
        "ar": "تمت متابعة: {terms}. تتابع هذه المحادثة {count} من {max} كلمة.",
        "en": "Now following: {terms}. This chat follows {count} of {max} words.",
        "fr": "Désormais suivis : {terms}. Cette conversation suit {count} mots sur {max}.",
    },
    "follow_already": {
        "ar": "متابَعة من قبل: {terms}",
        "en": "Already followed: {terms}",
        "fr": "Déjà suivis : {terms}",
    },
    "follow_refused_too_common": {
        "ar": "كلمات شائعة جدًا ترد في كل خبر تقريبًا، لم تُتابَع: {words}",
        "en": "Too common to follow (they are in nearly every story): {words}",
        "fr": "Trop courants pour être suivis (ils sont dans presque chaque article) : {words}",
    },
    "follow_refused_too_short": {
        "ar": "أقصر من أن تُتابَع (حرفان على الأقل): {words}",
        "en": "Too short to follow (at least 2 letters): {words}",
        "fr": "Trop courts pour être suivis (au moins 2 lettres) : {words}",
    },
    "follow_refused_too_long": {
        "ar": "أطول من أن تُتابَع (60 حرفًا على الأكثر): {words}",
        "en": "Too long to follow (at most 60 characters): {words}",
        "fr": "Trop longs pour être suivis (60 caractères au plus) : {words}",
    },
    "follow_refused_no_letters": {
        "ar": "لا حروف للمتابعة في: {words}",
        "en": "No letters to follow in: {words}",
        "fr": "Aucune lettre à suivre dans : {words}",
    },
    "follow_refused_limit": {
        "ar": "لم تُضف، فهذه المحادثة تتابع {max} كلمة وهو الحد الأقصى: {words}. احذف بعضها بـ /unfollow.",
        "en": "Not followed, this chat already follows {max} words, the most: {words}. Remove some with /unfollow.",
        "fr": "Non suivis, cette conversation suit déjà {max} mots, le maximum : {words}. Retirez-en avec /unfollow.",
    },
    "unfollow_usage": {
        "ar": "اكتب /unfollow ثم الكلمات التي تريد إلغاء متابعتها. تتابع هذه المحادثة: {terms}",
        "en": "Send /unfollow with the words to stop following. This chat follows: {terms}",
        "fr": "Envoyez /unfollow avec les mots à ne plus suivre. Cette conversation suit : {terms}",
    },
    "unfollowed": {
        "ar": "أُلغيت متابعة: {terms}. ما زالت المحادثة تتابع: {remaining}",
        "en": "No longer following: {terms}. Still following: {remaining}",
        "fr": "Plus suivis : {terms}. Toujours suivis : {remaining}",
    },
    "not_followed_words": {
        "ar": "هذه المحادثة لا تتابع: {words}. تتابع: {terms}",
        "en": "This chat does not follow: {words}. It follows: {terms}",
        "fr": "Cette conversation ne suit pas : {words}. Elle suit : {terms}",
    },
    "list_follows": {
        "ar": "الكلمات المتابَعة: {terms}",
        "en": "Words followed: {terms}",
        "fr": "Mots suivis : {terms}",
    },
    "list_mutes": {"ar": "مكتوم: {mutes}", "en": "Muted: {mutes}", "fr": "Muets : {mutes}"},
    "mute_usage": {
        "ar": (
            "اكتب /mute ثم شخصية أو موضوعًا تتلقاه هذه المحادثة، ومدة إن شئت: 30m أو 24h أو 7d "
            "(بدونها: حتى /unmute). مثلًا: /mute trump 24h"
        ),
        "en": (
            "Send /mute with a figure or topic this chat receives and, if you like, for how "
            "long: 30m, 24h, 7d (none: until /unmute). E.g. /mute trump 24h"
        ),
        "fr": "Envoyez /mute avec une personnalité ou un sujet que reçoit cette conversation et, si vous le souhaitez, une durée : 30m, 24h, 7d (sans durée : jusqu'à /unmute). Par ex. /mute trump 24h",
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
        "fr": "Durée inconnue : {words}. Indiquez des minutes, heures, jours ou semaines, par ex. 30m, 24h, 7d, 2w (un an au plus), ou rien pour rendre muet jusqu'à /unmute.",
    },
    "mute_not_followed": {
        "ar": "هذه المحادثة لا تتلقى: {labels}، فلا شيء لكتمه. تتلقى: {remaining}",
        "en": "This chat does not receive: {labels}, so there is nothing to mute. It receives: {remaining}",
        "fr": "Cette conversation ne reçoit pas : {labels}, il n'y a donc rien à rendre muet. Elle reçoit : {remaining}",
    },
    "muted_until": {
        "ar": "كُتم حتى {until}: {labels}. يبقى الاشتراك، و/unmute {id} يعيد التنبيهات قبل ذلك.",
        "en": "Muted until {until}: {labels}. The subscription stays; /unmute {id} brings the alerts back sooner.",
        "fr": "Muet jusqu'au {until} : {labels}. L'abonnement reste ; /unmute {id} rétablit les alertes plus tôt.",
    },
    "muted": {
        "ar": "كُتم حتى /unmute: {labels}. يبقى الاشتراك، و/unmute {id} يعيد التنبيهات.",
        "en": "Muted until /unmute: {labels}. The subscription stays; /unmute {id} brings the alerts back.",
        "fr": "Muet jusqu'à /unmute : {labels}. L'abonnement reste ; /unmute {id} rétablit les alertes.",
    },
    "unmute_usage": {
        "ar": "اكتب /unmute ثم شخصية أو موضوعًا مكتومًا. المكتوم الآن: {mutes}",
        "en": "Send /unmute with a muted figure or topic. Muted now: {mutes}",
        "fr": "Envoyez /unmute avec une personnalité ou un sujet muet. Muets en ce moment : {mutes}",
    },
    "unmuted": {
        "ar": "عادت التنبيهات عن: {labels}",
        "en": "Alerts are back for: {labels}",
        "fr": "Les alertes reviennent pour : {labels}",
    },
    "not_muted": {
        "ar": "غير مكتوم: {labels}. المكتوم الآن: {mutes}",
        "en": "Not muted: {labels}. Muted now: {mutes}",
        "fr": "Pas muets : {labels}. Muets en ce moment : {mutes}",
    },
    "mute_until_time": {"ar": "حتى {until}", "en": "until {until}", "fr": "jusqu'au {until}"},
    "mute_until_unmute": {"ar": "حتى /unmute", "en": "until /unmute", "fr": "jusqu'à /unmute"},
    # -- issue 13: /digest, /tz, /quiet ------------------------------------------------------
    "digest_usage": {
        "ar": (
            "الموجز الآن: {mode} (المنطقة الزمنية {zone}). للتغيير: /digest off (كل خبر فورًا) "
            "أو hourly أو daily 07:30 أو weekly mon 08:00."
        ),
        "en": (
            "Digest now: {mode} (time zone {zone}). To change: /digest off (each story at once), "
            "hourly, daily 07:30 or weekly mon 08:00."
        ),
        "fr": (
            "Résumé en ce moment : {mode} (fuseau {zone}). Pour changer : /digest off (chaque "
            "article tout de suite), hourly, daily 07:30 ou weekly mon 08:00."
        ),
    },
    "digest_bad": {
        "ar": (
            "طريقة غير مفهومة: {words}. اكتب /digest off أو hourly أو daily HH:MM (مثل daily "
            "07:30) أو weekly يوم HH:MM (مثل weekly mon 08:00). لم يتغيّر شيء."
        ),
        "en": (
            "Not a digest mode: {words}. Write /digest off, hourly, daily HH:MM (e.g. daily "
            "07:30) or weekly <day> HH:MM (e.g. weekly mon 08:00). Nothing was changed."
        ),
        "fr": (
            "Mode de résumé inconnu : {words}. Écrivez /digest off, hourly, daily HH:MM (par "
            "ex. daily 07:30) ou weekly <jour> HH:MM (par ex. weekly mon 08:00). Rien n'a "
            "changé."
        ),
    },
    "digest_set": {
        "ar": (
            "الموجز: {mode} بتوقيت {zone}. التالي: {next}. تنتظره الأخبار، ولا يُرسل شيء إن "
            "لم يكن هناك خبر."
        ),
        "en": (
            "Digest: {mode}, {zone} time. The next one: {next}. Stories wait for it; a period "
            "without stories sends nothing."
        ),
        "fr": (
            "Résumé : {mode}, heure de {zone}. Le prochain : {next}. Les articles l'attendent ; "
            "une période sans article n'envoie rien."
        ),
    },
    "digest_off": {
        "ar": "الموجز متوقف: يصل كل خبر فورًا. ما كان ينتظر الموجز يُرسل الآن.",
        "en": "Digest off: each story comes at once. What was waiting for a digest is sent now.",
        "fr": "Résumé désactivé : chaque article arrive tout de suite. Ce qui attendait un résumé est envoyé maintenant.",
    },
    "tz_usage": {
        "ar": "المنطقة الزمنية: {zone}. للتغيير: /tz ثم اسمها، مثل /tz Africa/Casablanca",
        "en": "Time zone: {zone}. To change it: /tz and its name, e.g. /tz Africa/Casablanca",
        "fr": "Fuseau horaire : {zone}. Pour le changer : /tz et son nom, par ex. /tz Europe/Paris",
    },
    "tz_unknown": {
        "ar": (
            "منطقة زمنية غير معروفة: {words}. اكتب اسمًا مثل Africa/Casablanca أو Asia/Riyadh "
            "أو Europe/Paris أو UTC. لم يتغيّر شيء."
        ),
        "en": (
            "Unknown time zone: {words}. Write a name like Africa/Casablanca, Asia/Riyadh, "
            "Europe/Paris or UTC. Nothing was changed."
        ),
        "fr": (
            "Fuseau horaire inconnu : {words}. Écrivez un nom comme Africa/Casablanca, "
            "Asia/Riyadh, Europe/Paris ou UTC. Rien n'a changé."
        ),
    },
    "tz_set": {
        "ar": "المنطقة الزمنية: {zone}. تُقرأ فيها أوقات الموجز (الآن: {mode}) وساعات الهدوء ({window}).",
        "en": "Time zone: {zone}. Digest times (now: {mode}) and quiet hours ({window}) are read in it.",
        "fr": "Fuseau horaire : {zone}. Les heures des résumés (en ce moment : {mode}) et les heures calmes ({window}) s'y lisent.",
    },
    "quiet_usage": {
        "ar": "ساعات الهدوء: {window} (بتوقيت {zone}). للتحديد: /quiet 23:00-07:00، وللإلغاء: /quiet off",
        "en": "Quiet hours: {window} ({zone} time). To set them: /quiet 23:00-07:00; to stop: /quiet off",
        "fr": "Heures calmes : {window} (heure de {zone}). Pour les fixer : /quiet 23:00-07:00 ; pour arrêter : /quiet off",
    },
    "quiet_bad": {
        "ar": (
            "ساعات غير مفهومة: {words}. اكتب /quiet HH:MM-HH:MM بوقتين مختلفين، مثل /quiet "
            "23:00-07:00، أو /quiet off. لم يتغيّر شيء."
        ),
        "en": (
            "Not a window: {words}. Write /quiet HH:MM-HH:MM with two different times, e.g. "
            "/quiet 23:00-07:00, or /quiet off. Nothing was changed."
        ),
        "fr": (
            "Plage inconnue : {words}. Écrivez /quiet HH:MM-HH:MM avec deux heures "
            "différentes, par ex. /quiet 23:00-07:00, ou /quiet off. Rien n'a changé."
        ),
    },
    "quiet_set": {
        "ar": "ساعات الهدوء: {window} بتوقيت {zone}. التنبيهات خلالها تنتظر وتصل موجزًا واحدًا عند نهايتها.",
        "en": "Quiet hours: {window}, {zone} time. Alerts in them wait and arrive as one digest when they end.",
        "fr": "Heures calmes : {window}, heure de {zone}. Les alertes pendant ces heures attendent et arrivent en un seul résumé à la fin.",
    },
    "quiet_off": {
        "ar": "لا ساعات هدوء بعد الآن: تصل التنبيهات في وقتها.",
        "en": "Quiet hours off: alerts come when they happen.",
        "fr": "Heures calmes désactivées : les alertes arrivent quand elles se produisent.",
    },
    "list_rhythm": {
        "ar": "طريقة التنبيه: {mode}؛ ساعات الهدوء: {window}؛ المنطقة الزمنية: {zone}",
        "en": "Delivery: {mode}; quiet hours: {window}; time zone: {zone}",
        "fr": "Envoi : {mode} ; heures calmes : {window} ; fuseau horaire : {zone}",
    },
    "digest_button_off": {"ar": "فورًا", "en": "At once", "fr": "Tout de suite"},
    "digest_button_hourly": {"ar": "كل ساعة", "en": "Hourly", "fr": "Toutes les heures"},
    "digest_button_daily 08:00": {
        "ar": "يوميًا 08:00",
        "en": "Daily 08:00",
        "fr": "Chaque jour 08:00",
    },
    "digest_button_weekly mon 08:00": {
        "ar": "أسبوعيًا الاثنين 08:00",
        "en": "Weekly Mon 08:00",
        "fr": "Chaque lundi 08:00",
    },
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
        "fr": (
            "Personnalités :\n"
            "{figures}\n"
            "\n"
            "Sujets :\n"
            "{topics}\n"
            "\n"
            "Exemple : /subscribe figure:{figure} topic:{topic}"
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
            "/digest `mode:` `time:` `day:` — one digest instead of a message per story\n"
            "/tz `zone:` — the time zone of digest and quiet-hour times\n"
            "/quiet `window:` — quiet hours (23:00-07:00, or off): alerts wait and come as one digest\n"
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
            "/digest `mode:` `time:` `day:` — موجز واحد بدل رسالة لكل خبر\n"
            "/tz `zone:` — المنطقة الزمنية لأوقات الموجز والهدوء\n"
            "/quiet `window:` — ساعات هدوء (23:00-07:00 أو off): تنتظر التنبيهات وتصل موجزًا\n"
            "تصل التنبيهات إلى القناة أو السلسلة التي استُخدم فيها /subscribe، ويتطلب تغييرها "
            "صلاحية «إدارة القنوات»."
        ),
        "fr": (
            "Mirsad surveille l'actualité arabe et publie ici une alerte pour chaque "
            "article sur les personnalités et les sujets que ce salon suit.\n"
            "/subscribe `figure:` `topic:` — suivre (sans choix : les listes par défaut)\n"
            "/unsubscribe `figure:` `topic:` — ne plus suivre (sans choix : tout)\n"
            "/list — ce que suit ce salon\n"
            "/topics — les personnalités et les sujets que l'on peut suivre\n"
            "/latest — les 5 derniers articles correspondants\n"
            "/stats `label:` `days:` — un graphique des articles correspondants par jour\n"
            "/lang — langue des réponses et des alertes dans ce salon\n"
            "/follow `words:` — suivre vos propres mots (une expression entre guillemets) ; "
            "/unfollow pour arrêter\n"
            "/mute `label:` `duration:` — faire taire une personnalité ou un sujet (24h, 7d…) ; "
            "/unmute pour le réentendre\n"
            "/digest `mode:` `time:` `day:` — un résumé au lieu d'un message par article\n"
            "/tz `zone:` — le fuseau horaire des résumés et des heures calmes\n"
            "/quiet `window:` — heures calmes (23:00-07:00, ou off) : les alertes attendent et arrivent en un résumé\n"
            "Les alertes arrivent dans le salon ou le fil où /subscribe a été utilisé. Les "
            "modifier demande la permission « Gérer les salons »."
        ),
    },
    "admins_only@discord": {
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
            "permissions « Voir le salon », « Envoyer des messages » (« Envoyer des "
            "messages dans les fils » pour un fil) et « Intégrer des liens », puis "
            "réessayez. Rien n'a été modifié."
        ),
    },
    "guild_only": {
        "en": "This command works in a server channel or thread.",
        "ar": "هذا الأمر يعمل في قناة أو سلسلة داخل خادم.",
        "fr": "Cette commande fonctionne dans un salon ou un fil d'un serveur.",
    },
    "lang_usage@discord": {
        "en": "This channel's language: {current}. Choose another with /lang `language:`.",
        "ar": "لغة هذه القناة: {current}. لاختيار غيرها: /lang `language:`.",
        "fr": "Langue de ce salon : {current}. Choisissez-en une autre avec /lang `language:`.",
    },
}

# Descriptions for the platform command menus (Telegram setMyCommands, Discord slash commands).
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "start": {
        "ar": "ترحيب وطريقة الاستخدام",
        "en": "Welcome and how to use",
        "fr": "Bienvenue et mode d'emploi",
    },
    "help": {"ar": "كل الأوامر", "en": "All commands", "fr": "Toutes les commandes"},
    "subscribe": {
        "ar": "اشترك في شخصيات ومواضيع",
        "en": "Subscribe to figures and topics",
        "fr": "S'abonner à des personnalités et des sujets",
    },
    "unsubscribe": {"ar": "ألغِ الاشتراك", "en": "Unsubscribe", "fr": "Se désabonner"},
    "list": {
        "ar": "ما تتلقاه هذه المحادثة",
        "en": "What this chat receives",
        "fr": "Ce que reçoit cette conversation",
    },
    "topics": {
        "ar": "ما يمكن متابعته",
        "en": "What can be followed",
        "fr": "Ce que l'on peut suivre",
    },
    "latest": {
        "ar": "آخر 5 أخبار مطابقة",
        "en": "The last 5 matching stories",
        "fr": "Les 5 derniers articles correspondants",
    },
    "lang": {
        "ar": "لغة الردود (ar أو fr أو en)",
        "en": "Reply language (ar, fr or en)",
        "fr": "Langue des réponses (ar, fr ou en)",
    },
    "stats": {
        "ar": "رسم بياني للأخبار في اليوم",
        "en": "Chart of matching stories per day",
        "fr": "Graphique des articles correspondants par jour",
    },
    "follow": {
        "ar": "تابع كلماتك الخاصة",
        "en": "Follow your own words",
        "fr": "Suivre vos propres mots",
    },
    "unfollow": {
        "ar": "ألغِ متابعة كلمات",
        "en": "Stop following words",
        "fr": "Ne plus suivre des mots",
    },
    "mute": {
        "ar": "اكتم شخصية أو موضوعًا لمدة",
        "en": "Silence a figure or topic for a while",
        "fr": "Faire taire une personnalité ou un sujet un moment",
    },
    "unmute": {
        "ar": "أعد شخصية أو موضوعًا مكتومًا",
        "en": "Hear a muted figure or topic again",
        "fr": "Réentendre une personnalité ou un sujet muet",
    },
    "digest": {
        "ar": "موجز بدل رسالة لكل خبر: كل ساعة أو يوميًا أو أسبوعيًا",
        "en": "One digest instead of a message per story: hourly, daily or weekly",
        "fr": "Un résumé au lieu d'un message par article : horaire, quotidien ou hebdomadaire",
    },
    "tz": {
        "ar": "المنطقة الزمنية لأوقات الموجز والهدوء",
        "en": "The time zone of digest and quiet-hour times",
        "fr": "Le fuseau horaire des résumés et des heures calmes",
    },
    "quiet": {
        "ar": "ساعات هدوء: تنتظر التنبيهات وتصل موجزًا",
        "en": "Quiet hours: alerts wait and come as one digest",
        "fr": "Heures calmes : les alertes attendent et arrivent en un résumé",
    },
    # the options of Discord's slash commands, by "command.option"
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
    "follow.words": {
        "en": 'Words to follow, a phrase in quotes: Trump "artificial intelligence"',
        "ar": 'كلمات للمتابعة، والعبارة بين علامتي تنصيص: ترامب "الذكاء الاصطناعي"',
        "fr": 'Mots à suivre, une expression entre guillemets : Trump "intelligence artificielle"',
    },
    "unfollow.words": {
        "en": "Words to stop following",
        "ar": "كلمات لإلغاء متابعتها",
        "fr": "Mots à ne plus suivre",
    },
    "mute.label": {
        "en": "A figure or topic this channel receives",
        "ar": "شخصية أو موضوع تتلقاه القناة",
        "fr": "Une personnalité ou un sujet que reçoit ce salon",
    },
    "mute.duration": {
        "en": "For how long: 30m, 24h, 7d, 2w (none: until /unmute)",
        "ar": "المدة: 30m أو 24h أو 7d أو 2w (بدونها: حتى /unmute)",
        "fr": "Pour combien de temps : 30m, 24h, 7d, 2w (rien : jusqu'à /unmute)",
    },
    "unmute.label": {
        "en": "A muted figure or topic",
        "ar": "شخصية أو موضوع مكتوم",
        "fr": "Une personnalité ou un sujet rendu muet",
    },
    "digest.mode": {
        "en": "off: each story at once; hourly, daily or weekly: one digest",
        "ar": "off: كل خبر فورًا؛ hourly أو daily أو weekly: موجز واحد",
        "fr": "off : chaque article tout de suite ; hourly, daily ou weekly : un résumé",
    },
    "digest.time": {
        "en": "daily and weekly: the time, HH:MM (default 08:00)",
        "ar": "للموجز اليومي والأسبوعي: الوقت HH:MM (الافتراضي 08:00)",
        "fr": "quotidien et hebdomadaire : l'heure, HH:MM (08:00 par défaut)",
    },
    "digest.day": {
        "en": "weekly: the day (default Monday)",
        "ar": "للموجز الأسبوعي: اليوم (الافتراضي الاثنين)",
        "fr": "hebdomadaire : le jour (lundi par défaut)",
    },
    "tz.zone": {
        "en": "A time zone, e.g. Africa/Casablanca",
        "ar": "منطقة زمنية، مثل Africa/Casablanca",
        "fr": "Un fuseau horaire, par ex. Europe/Paris",
    },
    "quiet.window": {
        "en": "HH:MM-HH:MM, e.g. 23:00-07:00, or off",
        "ar": "HH:MM-HH:MM مثل 23:00-07:00، أو off",
        "fr": "HH:MM-HH:MM, par ex. 23:00-07:00, ou off",
    },
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
    (Arabic for `ar*`, French for `fr*`, English for any other), else Arabic."""
    if chat_lang in LANGS:
        return chat_lang
    if user_lang:
        wanted = user_lang.lower()[:2]
        return wanted if wanted in LANGS else "en"
    return DEFAULT_LANG


def join(items: Iterable[str], lang: str) -> str:
    """`a، b، c` in Arabic, `a, b, c` in English and French; "nothing" when empty."""
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


def local_when(at: datetime, zone: str) -> str:
    """A time in a chat's own zone, named: `2026-02-17 08:00 (Africa/Casablanca)`."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") + f" ({zone})"


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
            case Local(at, zone):
                fields[name] = local_when(at, zone)
            case Catalogue(kind, followed):
                fields[name] = catalogue(kind, followed, labels, lang)
            case str():
                fields[name] = value
            case _:
                assert_never(value)
    return t(reply.key, lang, dialect=dialect, **fields)
