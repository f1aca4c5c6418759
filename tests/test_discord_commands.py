"""Slash commands: the real discord.py client, built by runtime.app, against the fake Discord.

Each command is run as a member would run it, and the test looks at what the member sees
(the interaction answer) and at what changed in the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import Evidence, Match, Story
from store import FeedUpdate
from tests.fake_discord import (
    ADMIN_ID,
    BOT_PERMISSIONS,
    CHANNEL_A,
    CHANNEL_B,
    GUILD_ID,
    MEMBER_ID,
    P_SEND_MESSAGES,
    THREAD_A,
    FakeDiscord,
    Mirsad,
    fake_discord,  # noqa: F401
    mirsad_config,
    running_mirsad,
)
from tests.helpers import FakeClock


@pytest.fixture
async def app(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    clock: FakeClock,
    database_url: str,
) -> AsyncIterator[Mirsad]:
    config = mirsad_config(tmp_path, fake_discord, database=database_url)
    async with running_mirsad(fake_discord, config, clock) as app:
        yield app


async def test_commands_are_synced_to_the_guild_with_permissions(app: Mirsad) -> None:
    fake = app.fake
    assert [guild for guild, _ in fake.command_puts] == [GUILD_ID]
    names = {c["name"]: c for c in fake.commands[GUILD_ID]}
    assert set(names) == {
        "subscribe",
        "unsubscribe",
        "list",
        "topics",
        "latest",
        "lang",
        "help",
        "stats",
        "follow",
        "unfollow",
        "mute",
        "unmute",
        "digest",
        "tz",
        "quiet",
    }
    # Manage Channels (1 << 4) hides the changing commands from other members by default.
    changing = ("subscribe", "unsubscribe", "lang", "follow", "unfollow", "mute", "unmute")
    for name in (*changing, "digest", "tz", "quiet"):
        assert names[name]["default_member_permissions"] == "16"
    for name in ("list", "topics", "latest", "help"):
        assert names[name]["default_member_permissions"] is None
    # English with the Arabic beside it (Discord has no Arabic locale to localise into).
    assert "Subscribe" in names["subscribe"]["description"]
    assert "اشترك" in names["subscribe"]["description"]
    assert fake.identifies == 1 and fake.ready.is_set()


async def test_subscribe_with_manage_channels_saves_the_channel(app: Mirsad) -> None:
    answer = await app.fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
    assert not answer.ephemeral  # the whole channel should know what it will receive
    assert "Donald Trump" in answer.content
    assert await app.sub() == (("trump",), True)
    assert await app.sub(CHANNEL_B) is None  # only where the command was used


async def test_subscribe_without_option_takes_the_defaults(app: Mirsad) -> None:
    await app.fake.command("subscribe", user=ADMIN_ID)
    found = await app.sub()
    assert found is not None
    assert set(found[0]) == set(app.parts.subscriptions.default_ids)


async def test_member_without_manage_channels_is_refused_and_nothing_changes(app: Mirsad) -> None:
    fake = app.fake
    answer = await fake.command("subscribe", {"topic": "ai"}, user=MEMBER_ID)
    assert answer.ephemeral
    assert "Manage Channels" in answer.content
    assert await app.sub() is None

    await fake.command("subscribe", {"figure": "trump"}, user=ADMIN_ID)
    for name, options in (
        ("unsubscribe", {}),
        ("lang", {"language": "ar"}),
        ("follow", {"words": "Trump"}),
        ("unfollow", {"words": "Trump"}),
        ("mute", {"label": "trump"}),
        ("unmute", {"label": "trump"}),
        ("digest", {"mode": "hourly"}),
        ("tz", {"zone": "UTC"}),
        ("quiet", {"window": "23:00-07:00"}),
    ):
        refused = await fake.command(name, options, user=MEMBER_ID)
        assert refused.ephemeral and "Manage Channels" in refused.content
    assert await app.sub() == (("trump",), True)
    assert await app.parts.store.follows("discord", str(CHANNEL_A)) == []
    assert await app.parts.store.mutes("discord", str(CHANNEL_A), app.parts.clock()) == []
    assert await app.parts.store.chat_lang("discord", str(CHANNEL_A)) is None


async def test_refusal_is_in_arabic_for_an_arabic_channel(app: Mirsad) -> None:
    await app.fake.command("lang", {"language": "ar"}, user=ADMIN_ID)
    answer = await app.fake.command("subscribe", user=MEMBER_ID)
    assert "إدارة القنوات" in answer.content
    assert await app.sub() is None


async def test_subscribe_refused_when_the_bot_cannot_post_there(app: Mirsad) -> None:
    answer = await app.fake.command(
        "subscribe", user=ADMIN_ID, app_permissions=BOT_PERMISSIONS & ~P_SEND_MESSAGES
    )
    assert answer.ephemeral and "Send Messages" in answer.content
    assert await app.sub() is None


async def test_subscribe_in_a_thread_belongs_to_the_thread(app: Mirsad) -> None:
    await app.fake.command("subscribe", {"topic": "ai"}, user=ADMIN_ID, channel=THREAD_A)
    assert await app.sub(THREAD_A) == (("ai",), True)
    assert await app.sub(CHANNEL_A) is None


async def test_unknown_option_value_is_a_polite_reply_and_changes_nothing(app: Mirsad) -> None:
    answer = await app.fake.command(
        "subscribe", {"figure": "@everyone <@&1300000000000000031> x" * 40}, user=ADMIN_ID
    )
    assert answer.ephemeral
    assert "Unknown" in answer.content and "trump" in answer.content
    assert "@everyone" not in answer.content  # echoed words are neutralised
    assert await app.sub() is None


async def test_unsubscribe_one_then_everything(app: Mirsad) -> None:
    fake = app.fake
    await fake.command("subscribe", {"figure": "trump", "topic": "ai"}, user=ADMIN_ID)
    assert await app.sub() == (("trump", "ai"), True)

    partial = await fake.command("unsubscribe", {"topic": "ai"}, user=ADMIN_ID)
    assert "Removed" in partial.content and "Donald Trump" in partial.content
    assert await app.sub() == (("trump",), True)

    everything = await fake.command("unsubscribe", user=ADMIN_ID)
    assert "Unsubscribed" in everything.content
    assert await app.sub() == ((), False)

    again = await fake.command("unsubscribe", user=ADMIN_ID)
    assert again.ephemeral and "not subscribed" in again.content


async def test_list_shows_labels_or_the_pause_reason(app: Mirsad) -> None:
    fake = app.fake
    empty = await fake.command("list", user=MEMBER_ID)
    assert empty.ephemeral and "not subscribed" in empty.content

    await fake.command("subscribe", {"figure": "musk"}, user=ADMIN_ID)
    listed = await fake.command("list", user=MEMBER_ID)  # reading needs no permission
    assert listed.ephemeral and "Elon Musk" in listed.content

    await app.parts.store.pause_chat(
        "discord", str(CHANNEL_A), "missing permissions (Discord 50013)", datetime.now(UTC)
    )
    paused = await fake.command("list", user=MEMBER_ID)
    assert "paused" in paused.content and "I lost the permission to post here" in paused.content


async def test_topics_lists_every_label_and_marks_the_followed(app: Mirsad) -> None:
    await app.fake.command("subscribe", {"figure": "altman"}, user=ADMIN_ID)
    answer = await app.fake.command("topics", user=MEMBER_ID)
    assert answer.ephemeral
    for info in app.parts.subscriptions.labels:
        assert info.id in answer.content
    assert "\n✅ altman — Sam Altman\n" in answer.content
    assert "\n• trump — Donald Trump\n" in answer.content
    assert answer.content.endswith("Example: /subscribe figure:altman topic:ai")


async def test_latest_shows_stored_matches_as_an_embed(app: Mirsad, clock: FakeClock) -> None:
    store = app.parts.store
    await store.sync_feeds([("hespress_ar", "http://127.0.0.1/feed", "ar", 60)], clock())
    story = Story(
        id="https://example.com/a",
        feed_id="hespress_ar",
        title="ترامب [يتحدث](https://evil.example) عن @everyone",
        summary="",
        link="https://example.com/a",
        published=datetime(2026, 2, 11, 9, 0, tzinfo=UTC),
    )
    match = Match(("trump",), (Evidence("trump", "ترامب", "ترامب", "title"),))
    await store.ingest(
        "hespress_ar",
        [story],
        {story.id: match},
        FeedUpdate(next_poll_at=clock()),
        clock(),
        alert=False,
    )
    answer = await app.fake.command("latest", user=MEMBER_ID)
    assert answer.ephemeral
    [embed] = answer.data["embeds"]
    assert "(https://example.com/a)" in embed["description"]
    # The feed's own masked link stays literal text: its brackets are escaped.
    assert r"\[يتحدث\](https://evil.example)" in embed["description"]
    assert "@everyone" not in embed["description"]


async def test_lang_sets_the_channel_language_for_replies(app: Mirsad) -> None:
    fake = app.fake
    current = await fake.command("lang", user=MEMBER_ID)
    assert current.ephemeral and "English" in current.content

    changed = await fake.command("lang", {"language": "ar"}, user=ADMIN_ID)
    assert not changed.ephemeral and "العربية" in changed.content
    assert await app.parts.store.chat_lang("discord", str(CHANNEL_A)) == "ar"

    helped = await fake.command("help", user=MEMBER_ID)
    assert "مرصاد" in helped.content  # the channel's language wins over the user's locale


async def test_replies_follow_an_arabic_locale(app: Mirsad) -> None:
    answer = await app.fake.command("help", user=MEMBER_ID, locale="ar")
    assert "مرصاد" in answer.content
    assert answer.content.count("\n") >= 7  # one line per command, not one long paragraph
    english = await app.fake.command("help", user=MEMBER_ID, locale="de")
    assert "Mirsad watches" in english.content


async def test_french_locale_gets_french_replies_and_command_descriptions(app: Mirsad) -> None:
    answer = await app.fake.command("help", user=MEMBER_ID, locale="fr")
    assert answer.content.startswith("Mirsad surveille l'actualité arabe")
    listed = await app.fake.command("list", user=ADMIN_ID, locale="fr")
    assert listed.content == (
        "Cette conversation n'est pas abonnée. Envoyez /subscribe pour vous abonner."
    )
    # Discord has a French locale: each description is localised in the synced payload
    commands = {c["name"]: c for c in app.fake.commands[GUILD_ID]}
    subscribe = commands["subscribe"]
    assert subscribe["description_localizations"] == {
        "fr": "S'abonner à des personnalités et des sujets"
    }
    figure = next(o for o in subscribe["options"] if o["name"] == "figure")
    assert figure["description_localizations"] == {"fr": "Une personnalité à suivre"}
    lang = next(o for o in commands["lang"]["options"] if o["name"] == "language")
    assert [c["value"] for c in lang["choices"]] == ["ar", "en", "fr"]
    assert all(c.get("description_localizations", {}).get("fr") for c in commands.values())


async def test_autocomplete_offers_matching_labels(app: Mirsad) -> None:
    fake = app.fake
    interaction = await fake.interact(
        "subscribe", {"figure": "ترا"}, user=ADMIN_ID, autocomplete="figure"
    )
    answer = await fake.answer(interaction)
    assert answer.type == 8
    assert [c["value"] for c in answer.data["choices"]] == ["trump"]
    assert await app.sub() is None  # completing is not subscribing


async def test_changing_commands_are_offered_in_servers_only(app: Mirsad) -> None:
    contexts = {c["name"]: c.get("contexts") for c in app.fake.commands[GUILD_ID]}
    for name in ("subscribe", "unsubscribe", "lang", "list"):
        assert contexts[name] == [0]  # guild only: a DM has no channel to alert


HOSTILE_INPUTS = [
    "",
    "   ",
    "x" * 6000,  # Discord's longest string option
    "TRUMP",
    "#ترامب",
    "trump, ai",
    "'; DROP TABLE subscriptions; --",
    "@everyone",
    "<@&1300000000000000031>",
    "\u202eevil\u202c",
    "\x00\x1b[31m",
    "ترامبtrump",
    "../../etc/passwd",
    "{labels}{0}%s",
]


async def test_any_option_text_gets_a_clear_answer_and_only_admins_change_anything(
    app: Mirsad,
) -> None:
    fake, store = app.fake, app.parts.store
    for text in HOSTILE_INPUTS:
        for name in ("subscribe", "unsubscribe"):
            before = await app.sub()
            refused = await fake.command(name, {"figure": text}, user=MEMBER_ID)
            assert refused.ephemeral and "Manage Channels" in refused.content
            assert await app.sub() == before

            answer = await fake.command(name, {"figure": text, "topic": text}, user=ADMIN_ID)
            assert answer.content, (name, text)
            assert "went wrong" not in answer.content  # never the generic error reply
            assert len(answer.content) <= 2000
            assert "@everyone" not in answer.content and "<@&" not in answer.content
    # Only real label names ever reached the store.
    subs = await store.subscriptions("discord")
    assert all(set(s.labels) <= set(app.parts.subscriptions.by_id) for s in subs)


async def test_a_failing_command_answers_politely_and_logs_the_details(
    app: Mirsad, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(chat: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(app.parts.subscriptions, "current", broken)
    answer = await app.fake.command("list", user=MEMBER_ID)
    assert answer.ephemeral
    assert answer.content == "Something went wrong. Please try again in a moment."
    assert "database is locked" not in answer.content
    assert "discord_command_error command=list" in caplog.text
    assert "database is locked" in caplog.text
