"""Platform-neutral subscription logic, including fuzzed input from people."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_settings
from core.subscriptions import Chat, Subscriptions
from filters.watchlist import Matcher
from store import Store
from tests.helpers import ROOT, FakeClock

LABELS = Matcher(load_settings(ROOT / "config.yaml", env={}).config.watchlists).labels
CHAT = Chat("telegram", "42")


def service(store: Store, clock: FakeClock) -> Subscriptions:
    return Subscriptions(store, LABELS, clock)


async def test_subscribe_defaults_then_ids_names_and_unsubscribe(
    store: Store, clock: FakeClock
) -> None:
    subs = service(store, clock)
    result = await subs.subscribe(CHAT)
    assert result.ok and result.subscription is not None
    assert (
        result.subscription.labels
        == subs.default_ids
        == ("altman", "musk", "trump", "ai", "ai_policy")
    )
    removed = await subs.unsubscribe(CHAT, ["MUSK", "#ترامب"])
    assert removed.removed == ("musk", "trump")
    assert removed.subscription is not None and removed.subscription.labels == (
        "altman",
        "ai",
        "ai_policy",
    )
    again = await subs.subscribe(CHAT, ["musk"])
    assert again.added == ("musk",)
    everything = await subs.unsubscribe(CHAT)
    assert everything.subscription is not None and not everything.subscription.active
    assert everything.subscription.paused_reason == "unsubscribed"


async def test_unknown_ids_change_nothing_and_are_named(store: Store, clock: FakeClock) -> None:
    subs = service(store, clock)
    await subs.subscribe(CHAT, ["ai"])
    result = await subs.subscribe(CHAT, ["ai_policy", "bitcoin"])
    assert not result.ok and result.unknown == ("bitcoin",)
    current = await subs.current(CHAT)
    assert current is not None and current.labels == ("ai",)


async def test_toggle_flips_one_label(store: Store, clock: FakeClock) -> None:
    subs = service(store, clock)
    on = await subs.toggle(CHAT, "trump")
    assert on.subscription is not None and on.subscription.labels == ("trump",)
    off = await subs.toggle(CHAT, "trump")
    assert off.subscription is not None and not off.subscription.active


async def test_lang_only_ar_en_or_fr(store: Store, clock: FakeClock) -> None:
    subs = service(store, clock)
    assert await subs.set_lang(CHAT, "en")
    assert not await subs.set_lang(CHAT, "de")
    assert await subs.lang(CHAT) == "en"
    assert await subs.set_lang(CHAT, "fr")
    assert await subs.lang(CHAT) == "fr"


words = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "musk",
                "TRUMP",
                "ai_policy",
                "ترامب",
                "'; DROP TABLE subscriptions; --",
                "<b>x</b>",
                "\u202e",
                "#ai",
                "all",
                "",
                " ",
                "٣",
            ]
        ),
    ),
    max_size=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=words)
async def test_fuzzed_arguments_never_raise_and_only_valid_ones_change_anything(
    store: Store, clock: FakeClock, words: list[str]
) -> None:
    subs = service(store, clock)
    chat = Chat("telegram", "fuzz")
    await subs.subscribe(chat, ["ai"])
    before = await subs.current(chat)
    result = await subs.subscribe(chat, words)
    after = await subs.current(chat)
    assert after is not None and before is not None
    if not result.ok:
        assert after.labels == before.labels  # a bad argument changes nothing
    else:
        assert set(after.labels) >= set(before.labels)
        assert set(after.labels) <= {info.id for info in LABELS}
    await subs.unsubscribe(chat, words)
    assert await store.subscriptions("telegram", "fuzz")


def test_names_of_several_words_resolve_as_topics_shows_them(
    store: Store, clock: FakeClock
) -> None:
    # issue 17 item 8: `/subscribe Donald Trump` answered "Unknown: «Donald»"
    subs = service(store, clock)
    assert subs.resolve(["Donald", "Trump"]) == (["trump"], [])
    assert subs.resolve(["Donald Trump", "ai"]) == (["trump", "ai"], [])  # one Discord option
    assert subs.resolve(["سام", "ألتمان", "AI", "Policy"]) == (["altman", "ai_policy"], [])
    assert subs.resolve(["artificial", "intelligence,", "musk"]) == (["musk", "ai"], [])
    assert subs.resolve(["Donald"]) == ([], ["Donald"])  # half a name is not a name
    assert subs.resolve(["Donald", "Duck"]) == ([], ["Donald", "Duck"])


def test_invisible_characters_are_dropped_before_resolving(store: Store, clock: FakeClock) -> None:
    # issue 17 item 8: `tr<zero-width space>ump` was refused and echoed as «trump»
    subs = service(store, clock)
    assert subs.resolve(["tr\u200bump"]) == (["trump"], [])
    assert subs.resolve(["\u2067musk\u2069", "\ufeffai"]) == (["musk", "ai"], [])
    assert subs.resolve(["bo\u200bgus"]) == ([], ["bogus"])  # echoed as typed, minus the invisible
