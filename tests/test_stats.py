"""core/stats.py: what /stats decides, whatever platform asked (the platforms' tests check the
photo and the attachment that reach the fakes)."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config import load_settings
from core.stats import Stats
from core.subscriptions import Chat, Subscriptions
from filters.watchlist import Matcher
from store import Store
from store.reports import Reports, TrendCounts
from tests.dashboard_data import seed
from tests.helpers import FakeClock, write_config

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GROUP = Chat("telegram", "-100123")  # subscribed to trump and ai by the seed
NOBODY = Chat("discord", "555")  # no subscription
F, P = "\u2068", "\u2069"  # the isolates around names and numbers


def iso(text: object) -> str:
    return f"{F}{text}{P}"


@pytest.fixture
async def stats(tmp_path: Path, database_url: str) -> AsyncIterator[Stats]:
    url = database_url
    store = await Store.open(url)
    await seed(store, NOW)
    reports = Reports.open(url)
    settings = load_settings(write_config(tmp_path, "feeds: []\n"), env={})
    clock = FakeClock(NOW)
    subscriptions = Subscriptions(store, Matcher(settings.config.watchlists).labels, clock)
    yield Stats(subscriptions, TrendCounts(reports, ZoneInfo("Africa/Casablanca")), clock)
    await reports.close()
    await store.close()


def png_size(png: bytes | None) -> tuple[int, int]:
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


async def test_the_chat_labels_by_default_with_a_one_line_summary(stats: Stats) -> None:
    reply = await stats.stats(GROUP, [], "en")
    assert reply.kind == "chart" and reply.labels == ("trump", "ai") and reply.days == 30
    assert png_size(reply.png) == (800, 420)
    assert reply.text == (
        f"Last 30 days: {iso('Donald Trump')} {iso(2)}, {iso('Artificial Intelligence')} "
        f"{iso(1)}. Busiest day: {iso('30/11')} ({iso(2)} stories)."
    )
    assert "\n" not in reply.text
    arabic = await stats.stats(GROUP, [], "ar")
    assert arabic.text == (
        f"آخر 30 يومًا: {iso('ترامب')} {iso(2)}، {iso('الذكاء الاصطناعي')} {iso(1)}. "
        f"أكثر يوم: {iso('30/11')} ({iso(2)} خبرًا)."
    )


async def test_a_label_and_a_number_of_days(stats: Stats) -> None:
    reply = await stats.stats(GROUP, ["musk", "7"], "en")
    assert reply.labels == ("musk",) and reply.days == 7
    assert reply.text == (
        f"Last 7 days: {iso('Elon Musk')} {iso(1)}. Busiest day: {iso('27/11')} ({iso(1)} stories)."
    )
    by_name = await stats.stats(GROUP, ["ترامب"], "ar")
    assert by_name.labels == ("trump",)


async def test_a_chat_without_subscription_sees_every_label(stats: Stats) -> None:
    reply = await stats.stats(NOBODY, ["3"], "en")
    assert reply.labels == ("altman", "musk", "trump", "ai", "ai_policy")
    quiet = await stats.stats(NOBODY, ["altman", "1"], "en")
    assert quiet.text == f"Last 1 days: {iso('Sam Altman')} {iso(0)}. No matching story yet."
    assert png_size(quiet.png) == (800, 420)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ["bitcoin"],
            "Unknown: «bitcoin». Valid: altman, musk, trump, ai, ai_policy. Example: /stats trump 14",
        ),
        (["trump", "0"], "Days go from 1 to 90. Example: /stats trump 14"),
        (["365"], "Days go from 1 to 90. Example: /stats trump 14"),
    ],
)
async def test_bad_arguments_get_a_one_line_answer_and_no_chart(
    stats: Stats, words: list[str], expected: str
) -> None:
    reply = await stats.stats(GROUP, words, "en")
    assert (reply.kind, reply.text, reply.png) == ("error", expected, None)
