"""The web dashboard over HTTP (aiohttp's test client): pages, escaping, headers, access token,
cross-site protection of the two feed controls, and the database rows those controls change.
The same pages in a real browser: tests/test_zz_dashboard_browser.py."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from config import ConfigError, load_settings
from filters.watchlist import Matcher
from runtime.app import AppOptions, Parts, run_forever
from store import Store
from store.reports import Reports
from tests.dashboard_data import ARABIC_TITLE, FAILING_ERROR, NAMES, seed
from tests.helpers import FakeClock, write_config
from web import Dashboard, DashboardError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TOKEN = "s3cret-dashboard-token"


@pytest.fixture
def labels(tmp_path: Path) -> Matcher:
    settings = load_settings(write_config(tmp_path, "feeds: []\n"), env={})
    return Matcher(settings.config.watchlists)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[tuple[Store, Reports]]:
    url = database_url
    store = await Store.open(url)
    await seed(store, NOW)
    reports = Reports.open(url)
    yield store, reports
    await reports.close()
    await store.close()


@pytest.fixture
def make_client(
    db: tuple[Store, Reports], labels: Matcher
) -> Callable[..., TestClient[object, object]]:
    clients: list[TestClient[object, object]] = []

    def make(token: str | None = None) -> TestClient[object, object]:
        dashboard = Dashboard(
            db[1],
            feed_names=NAMES,
            labels=labels.labels,
            clock=FakeClock(NOW + timedelta(minutes=1)),
            zone=ZoneInfo("Africa/Casablanca"),
            host="127.0.0.1",
            port=0,
            token=token,
        )
        client: TestClient[object, object] = TestClient(TestServer(dashboard.app()))
        clients.append(client)
        return client

    return make


@pytest.fixture
async def client(
    make_client: Callable[..., TestClient[object, object]],
) -> AsyncIterator[TestClient[object, object]]:
    c = make_client()
    await c.start_server()
    yield c
    await c.close()


async def csrf_of(client: TestClient[object, object]) -> str:
    page = await (await client.get("/")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def origin(client: TestClient[object, object]) -> str:
    return f"http://127.0.0.1:{client.port}"


async def next_poll(store: Store, feed_id: str) -> datetime:
    return next(f.next_poll_at for f in await store.feeds() if f.id == feed_id)


async def paused(store: Store, feed_id: str) -> bool:
    return next(f.paused for f in await store.feeds() if f.id == feed_id)


async def test_the_first_page_lists_every_feed_by_id_and_name_and_flags_the_failing_one(
    client: TestClient[object, object],
) -> None:
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    for feed_id in NAMES:
        assert f'id="feed-{feed_id}"' in page
    assert "هسبريس" in page and "Hespress FR" in page
    row = page[page.index('id="feed-broken_feed"') :]
    row = row[: row.index("</tr>")]
    assert page.count('class="failing') == 1
    assert (
        'class="failing"' in page[page.rindex("<tr", 0, page.index('id="feed-broken_feed"')) :][:80]
    )
    assert "⚠ failing: 2" in row and FAILING_ERROR in row
    assert "1 failing" in page
    ar_row = page[page.index('id="feed-hespress_ar"') :]
    ar_row = ar_row[: ar_row.index("</tr>")]
    assert '<td class="num">2</td>' in ar_row  # a1 and a3 are within 24 h; a2 is not


async def test_feed_text_is_escaped_everywhere(client: TestClient[object, object]) -> None:
    feeds = await (await client.get("/")).text()
    stories = await (await client.get("/stories")).text()
    assert "<script>alert('name')</script>" not in feeds + stories
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in feeds
    assert "<img src=x" not in stories
    assert "&lt;img src=x onerror=alert(1)&gt;" in stories
    assert "<script" not in feeds + stories  # no script of any kind: the pages need none


async def test_every_answer_carries_the_security_headers(
    client: TestClient[object, object],
) -> None:
    for path in ("/", "/stories", "/subscriptions", "/trends", "/trends.png", "/nope"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/nope")).status == 404


async def test_stories_show_labels_evidence_and_links_and_filter_by_label_and_source(
    client: TestClient[object, object],
) -> None:
    page = await (await client.get("/stories")).text()
    assert ARABIC_TITLE in page
    assert 'dir="rtl" lang="ar"' in page
    assert 'href="https://news.example/a1"' in page
    assert '<q dir="rtl">ترامب</q> in the title' in page
    assert "weather" not in page and "خبر عن الطقس" not in page  # unmatched stories are not listed

    musk = await (await client.get("/stories", params={"label": "musk"})).text()
    assert "ماسك يطلق" in musk and ARABIC_TITLE not in musk and "Trump et l" not in musk
    french = await (await client.get("/stories", params={"source": "hespress_fr"})).text()
    assert "Trump et l&#39;IA" in french and ARABIC_TITLE not in french
    none = await (await client.get("/stories", params={"label": "trump", "source": "x"})).text()
    assert "No matched story with these filters yet." in none


async def test_unsafe_story_links_are_not_rendered_as_links(
    db: tuple[Store, Reports], client: TestClient[object, object]
) -> None:
    from models import Evidence, Match, Story
    from store import FeedUpdate

    story = Story("js", "hespress_ar", "ترامب رابط", "", "javascript:alert(1)", NOW, None, "ar")
    await db[0].ingest(
        "hespress_ar",
        [story],
        {"js": Match(("trump",), (Evidence("trump", "ترامب", "ترامب", "title"),))},
        FeedUpdate(next_poll_at=NOW),
        NOW,
        alert=False,
    )
    page = await (await client.get("/stories")).text()
    assert "ترامب رابط" in page and "javascript:" not in page


async def test_subscriptions_by_platform_with_labels_and_pause_reason(
    client: TestClient[object, object],
) -> None:
    page = await (await client.get("/subscriptions")).text()
    assert page.index("Discord") < page.index("Telegram")
    assert "-100123" in page and "9001" in page and "server 77" in page
    assert "إيلون ماسك" in page  # label names, not ids
    # issue 13: each chat's own /follow words, in the order it added them, and its mutes
    discord = page[page.index("<code>9001</code>") :]
    assert "follows:</span> غزة, OpenAI" in discord[:1500]
    assert "muted:</span> ai_policy until " in discord[:1500]
    # and when it hears its alerts; a chat that chose nothing hears each at once
    assert "digest:</span> daily 07:30" in discord[:1500]
    assert "quiet hours:</span> 23:00-07:00" in discord[:1500]
    assert "time zone:</span> Asia/Riyadh" in discord[:1500]
    telegram = page[page.index("<code>-100123</code>") :]
    assert "instant" in telegram[:800]
    paused = page[page.index("<code>42</code>") :]
    assert (
        "paused" in paused[:600] and "the bot was blocked" in paused[:600]
    )  # the code, translated


async def test_trends_page_shows_totals_and_a_png_chart(
    client: TestClient[object, object],
) -> None:
    page = await (await client.get("/trends")).text()
    assert 'src="/trends.png?' in page
    totals = re.findall(r'<td dir="rtl">([^<]+)</td><td class="num">(\d+)</td>', page)
    assert ("ترامب", "2") in totals and ("إيلون ماسك", "1") in totals
    image = await client.get("/trends.png")
    body = await image.read()
    assert image.content_type == "image/png"
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(body) < 500_000


async def test_poll_now_pause_and_resume_change_the_feed_in_the_store(
    db: tuple[Store, Reports], client: TestClient[object, object]
) -> None:
    store = db[0]
    csrf = await csrf_of(client)
    headers = {"Origin": origin(client)}
    now = NOW + timedelta(minutes=1)

    r = await client.post(
        "/feeds/hespress_ar/poll", data={"csrf": csrf}, headers=headers, allow_redirects=False
    )
    assert r.status == 303 and r.headers["Location"] in (
        "/?done=poll:hespress_ar",
        "/?done=poll%3Ahespress_ar",
    )
    assert await next_poll(store, "hespress_ar") == now
    assert [f.id for f in await store.due_feeds(now)] == ["aljazeera_ar", "hespress_ar"]

    r = await client.post("/feeds/hespress_ar/pause", data={"csrf": csrf}, headers=headers)
    assert r.status == 200 and "Feed <code>hespress_ar</code> is paused." in await r.text()
    assert await paused(store, "hespress_ar")
    assert await next_poll(store, "hespress_ar") == now  # kept, shown as "paused"
    assert "hespress_ar" not in [f.id for f in await store.due_feeds(now + timedelta(days=365))]
    page = await (await client.get("/")).text()
    assert "1 paused" in page and 'action="/feeds/hespress_ar/resume"' in page

    r = await client.post(
        "/feeds/hespress_ar/poll", data={"csrf": csrf}, headers=headers, allow_redirects=False
    )
    assert r.status == 409  # a paused feed is resumed, not polled behind the operator's back

    r = await client.post(
        "/feeds/hespress_ar/resume", data={"csrf": csrf}, headers=headers, allow_redirects=False
    )
    assert r.status == 303
    assert not await paused(store, "hespress_ar")
    assert await next_poll(store, "hespress_ar") == now

    r = await client.post("/feeds/nosuch/pause", data={"csrf": csrf}, headers=headers)
    assert r.status == 409


@pytest.mark.parametrize(
    ("headers", "with_csrf", "reason"),
    [
        ({"Origin": "http://evil.example"}, True, "the form was sent from another site"),
        ({"Referer": "http://evil.example/page"}, True, "the form was sent from another site"),
        ({}, True, "no Origin or Referer header"),
        ({"Origin": "null"}, True, "no Origin or Referer header"),
        ("same", False, "missing or wrong CSRF token"),
    ],
)
async def test_a_cross_site_or_tokenless_post_is_refused_and_changes_nothing(
    db: tuple[Store, Reports],
    client: TestClient[object, object],
    headers: dict[str, str] | str,
    with_csrf: bool,
    reason: str,
) -> None:
    csrf = await csrf_of(client)
    before = await next_poll(db[0], "hespress_ar")
    sent = {"Origin": origin(client)} if headers == "same" else headers
    assert isinstance(sent, dict)
    r = await client.post(
        "/feeds/hespress_ar/pause",
        data={"csrf": csrf if with_csrf else "forged"},
        headers=sent,
        allow_redirects=False,
    )
    assert r.status == 403
    assert reason in await r.text()
    assert await next_poll(db[0], "hespress_ar") == before


async def test_with_a_token_every_page_needs_it(
    make_client: Callable[..., TestClient[object, object]],
) -> None:
    client = make_client(TOKEN)
    await client.start_server()
    try:
        for path in ("/", "/stories", "/trends.png", "/static/style.css"):
            r = await client.get(path)
            assert r.status == 401
            assert r.headers["WWW-Authenticate"].startswith("Basic ")
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        wrong = base64.b64encode(b"admin:guess").decode()
        assert (await client.get("/", headers={"Authorization": f"Basic {wrong}"})).status == 401
        basic = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
        assert (await client.get("/", headers={"Authorization": f"Basic {basic}"})).status == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/stories", headers=bearer)).status == 200
        # a POST without the token is refused before anything else is looked at
        r = await client.post("/feeds/hespress_ar/pause", headers={"Origin": origin(client)})
        assert r.status == 401
    finally:
        await client.close()


def test_the_dashboard_refuses_to_listen_off_loopback_without_a_token(
    tmp_path: Path, labels: Matcher
) -> None:
    path = write_config(tmp_path, "feeds: []\ndashboard:\n  enabled: true\n  host: 0.0.0.0\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    (problem,) = caught.value.problems
    assert str(problem) == (
        "dashboard.host (line 4): '0.0.0.0' is not loopback: set MIRSAD_DASHBOARD_TOKEN "
        "(or MIRSAD_DASHBOARD_TOKEN_FILE) in the environment, or listen on 127.0.0.1"
    )
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    settings = load_settings(path, env={"MIRSAD_DASHBOARD_TOKEN_FILE": str(token_file)})
    assert settings.secrets.dashboard_token == TOKEN
    assert TOKEN in settings.secrets.values()  # redacted from logs like the bot tokens
    assert TOKEN not in repr(settings.secrets)
    for host in ("127.0.0.1", "localhost", "::1"):
        body = f"feeds: []\ndashboard:\n  enabled: true\n  host: '{host}'\n"
        assert load_settings(write_config(tmp_path, body), env={}).config.dashboard.host == host
    with pytest.raises(DashboardError, match="is not loopback"):
        Dashboard(
            Reports.open("sqlite+aiosqlite://"),
            feed_names={},
            labels=labels.labels,
            clock=FakeClock(NOW),
            zone=UTC,
            host="192.0.2.1",
            port=0,
            token=None,
        )


def test_the_dashboard_is_off_by_default(tmp_path: Path) -> None:
    config = load_settings(write_config(tmp_path, "feeds: []\n"), env={}).config
    assert (config.dashboard.enabled, config.dashboard.host, config.dashboard.port) == (
        False,
        "127.0.0.1",
        8081,
    )


async def test_feeds_sort_by_any_column(client: TestClient[object, object]) -> None:
    def order(page: str) -> list[str]:
        return re.findall(r'<tr id="feed-([a-z_]+)"', page)

    assert order(await (await client.get("/")).text()) == sorted(NAMES)
    by_errors = await (await client.get("/", params={"sort": "errors", "dir": "desc"})).text()
    assert order(by_errors)[0] == "broken_feed"
    by_stories = await (await client.get("/", params={"sort": "stories", "dir": "desc"})).text()
    assert order(by_stories)[0] == "hespress_ar"
    assert 'href="/?sort=stories"' in by_stories  # the sorted column's link flips the order
    junk = await (await client.get("/", params={"sort": "<x>"})).text()
    assert order(junk) == sorted(NAMES)


async def test_run_serves_the_dashboard_when_enabled(tmp_path: Path) -> None:
    body = (
        "feeds:\n  - id: local\n    name: محلي\n    url: http://127.0.0.1:9/feed.xml\n"
        "health:\n  port: 0\ndashboard:\n  enabled: true\n  port: 0\n"
    )
    settings = load_settings(write_config(tmp_path, body), env={})
    ready: list[Parts] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_forever(settings, AppOptions(stream=io.StringIO(), on_ready=ready.append), stop)
    )
    try:
        for _ in range(250):
            if ready:
                break
            await asyncio.sleep(0.02)
        assert ready and ready[0].dashboard_port
        async with ClientSession() as session:
            url = f"http://127.0.0.1:{ready[0].dashboard_port}/"
            async with session.get(url) as response:
                page = await response.text()
        assert response.status == 200
        assert 'id="feed-local"' in page and "محلي" in page
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
