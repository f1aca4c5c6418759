"""bot.py end to end, as a user runs it: subprocesses against a loopback feed server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from store import tables as t
from tests.feedserver import FeedServer
from tests.helpers import FEEDS, ROOT, free_port, with_new_item, write_config


def bot(
    *args: str,
    config: Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args, "--config", str(config)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "NO_PROXY": "127.0.0.1,localhost",
            **(env or {}),
        },
    )


def loopback_config(
    tmp_path: Path,
    server: FeedServer,
    feeds: dict[str, str],
    extra: str = "",
    database: str = "state/mirsad.db",
) -> Path:
    lines = "\n".join(
        f"  - id: {fid}\n    url: {server.url(path)}\n    language: ar"
        for fid, path in feeds.items()
    )
    body = f"database: {database}\ntimezone: Africa/Casablanca\nfeeds:\n{lines}\nhttp:\n  allow_private_addresses: true\n  total_timeout: 5\n{extra}"
    return write_config(tmp_path, body)


async def lease_names(database_url: str) -> list[str]:
    """The leases held in the database (sender roles of running instances)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [r.name for r in await conn.execute(select(t.leases))]
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_once_alerts_only_new_matching_stories_in_the_terminal(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    # SQLite: a path relative to the config, its folder made on the way; or PostgreSQL
    sqlite = database_url.startswith("sqlite")
    database = "state/mirsad.db" if sqlite else database_url
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-11.xml", etag='"a"')
    config = loopback_config(
        tmp_path,
        feed_server,
        {"hespress_ar": "/hespress.xml"},
        extra="language: en\n",
        database=database,
    )

    first = bot("once", config=config)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""  # the first poll records what is there: no backfill flood
    assert "polled 1 feeds: 1 ok, 0 failed; 10 new stories, 0 alerts" in first.stderr
    assert (tmp_path / "state" / "mirsad.db").exists() == sqlite

    unchanged = bot("once", config=config)
    assert unchanged.stdout == ""
    assert feed_server.requests("/hespress.xml")[-1].headers.get("if-none-match") == '"a"'
    assert "polled 1 feeds: 1 ok, 0 failed; 0 new stories, 0 alerts" in unchanged.stderr
    assert "status=not_modified" not in unchanged.stderr  # a 304 is logged at DEBUG

    feed_server.set(
        "/hespress.xml", with_new_item(FEEDS / "hespress-ar-2026-02-15.xml"), etag='"b"'
    )
    second = bot("once", config=config)
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert out.count("ALERT") == 1
    # the Arabic title in its own right-to-left isolate (RLI ... PDI) inside the English line
    assert "ALERT   \u2067ترمب يوقع أمرا تنفيذيا لتنظيم الذكاء الاصطناعي & الرقائق\u2069" in out
    assert "source  hespress_ar" in out
    assert "\x1b" not in out  # piped: no colours
    assert "time    2026-02-15 09:30 Africa/Casablanca" in out
    assert "link    https://www.hespress.com/trump-ai-order-1700001.html\n" in out  # utm_* removed
    assert "appeared first on" not in out
    assert "summary \u2067وقّع الرئيس الأمريكي دونالد ترامب أمرا تنفيذيا جديدا.\u2069\n" in out
    # label names in the config's `language`
    rli, pdi = "\u2067", "\u2069"
    assert f"labels  Donald Trump: «{rli}ترمب{pdi}» (title), «{rli}ترامب{pdi}» (summary)\n" in out
    assert f"        Artificial Intelligence: «{rli}الذكاء الاصطناعي{pdi}» (title)\n" in out
    assert "        AI Policy: " in out

    again = bot("once", config=config)
    assert again.stdout == ""  # nothing is alerted twice
    if not sqlite:  # each `once` handed its sender lease back: the next one need not wait
        assert asyncio.run(lease_names(database_url)) == []


def test_a_broken_feed_is_reported_and_the_others_go_on(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set("/good.xml", FEEDS / "hespress-ar-2026-02-11.xml")
    feed_server.set(
        "/html.xml",
        b"<html><body>Attention Required! | Cloudflare</body></html>",
        content_type="text/html",
    )
    feed_server.set("/gone.xml", b"", status=404)
    config = loopback_config(
        tmp_path, feed_server, {"good": "/good.xml", "html": "/html.xml", "gone": "/gone.xml"}
    )
    result = bot("once", config=config)
    assert result.returncode == 0
    assert "polled 3 feeds: 1 ok, 2 failed; 10 new stories, 0 alerts" in result.stderr
    assert "feed_failing id=gone error='HTTP 404'" in result.stderr
    assert "feed_failing id=html error='not a feed: HTML page'" in result.stderr
    assert "feeds_checked 3 feeds: 1 reachable, 2 failing, retrying in" in result.stderr
    assert "Traceback" not in result.stderr


def test_once_exits_1_when_the_cycle_cannot_run(tmp_path: Path, feed_server: FeedServer) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    config = write_config(tmp_path, f"database: {blocker}/sub/mirsad.db\nfeeds: []\n")
    result = bot("once", config=config)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: the poll cycle could not run:")


def test_classify_reads_json_lines_and_explains(tmp_path: Path) -> None:
    lines = [
        {"id": "x1", "title": "إيلون ماسك يهاجم أوبن إيه آي", "summary": ""},
        {"id": "x2", "title": "مسك الختام في مهرجان الموسيقى", "summary": "التماسك الاجتماعي"},
        {
            "id": "x3",
            "title": None,
            "summary": "Trump signs an executive order on artificial intelligence",
        },
    ]
    stdin = (
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
        + '{"id": "x4", "title": \n'
    )  # broken JSON; plain text is read as a headline
    result = bot("classify", config=ROOT / "config.yaml", stdin=stdin)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x1", "x2", "x3"]
    assert "musk" in out[0]["labels"] and "ai" in out[0]["labels"]
    assert {"label": "musk", "field": "title", "text": "إيلون ماسك"}.items() <= next(
        e for e in out[0]["evidence"] if e["label"] == "musk"
    ).items()
    assert out[1]["labels"] == []
    assert {"trump", "ai", "ai_policy"} <= set(out[2]["labels"])
    assert result.returncode == 1
    assert "error: line 4:" in result.stderr and "Traceback" not in result.stderr


def test_classify_explain_prints_rules_and_near_misses() -> None:
    lines = [
        # the bare surname with an AI story as its context (no verb of saying next to it:
        # "ماسك يهاجم" would be the phrase rule)
        {"id": "e1", "title": "ماسك ضد أوبن إيه آي", "summary": "التماسك ومسك الختام."},
        {
            "id": "e2",
            "title": "Air India flight AI 171",
            "summary": "Musk ox; Eric Trump",
            "lang": "en",
        },
        {"id": "e3", "title": "ماسك يكشف السر", "summary": ""},
        {"id": "e4", "title": "Des députés veulent encadrer l'IA", "summary": "", "lang": "en"},
    ]
    stdin = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    result = bot("classify", "--explain", config=ROOT / "config.yaml", stdin=stdin)
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("== ")[1:]
    assert [b.split(":")[0] for b in blocks] == ["e1", "e2", "e3", "e4"]
    e1, e2, e3, e4 = blocks
    assert "labels: musk, ai" in e1
    assert "fired musk: ماسك -> «ماسك» (title 0-4)" in e1
    assert "«التماسك» (summary) for 'ماسك': part of a longer word" in e1
    assert "rejected musk: ماسك -> «ومسك» (summary): exclusion phrase «ومسك الختام»" in e1
    assert "labels: (none)" in e2
    assert "a code before a number" in e2
    assert "exclusion phrase «Musk ox»" in e2 and "exclusion phrase «Eric Trump»" in e2
    assert "context missing" in e3
    assert "wrong language (en; the term is for fr)" in e4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_serves_health_and_metrics_and_stops_cleanly_on_sigterm(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-11.xml")
    port = free_port()
    config = loopback_config(
        tmp_path, feed_server, {"hespress_ar": "/hespress.xml"}, extra=f"health:\n  port: {port}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1,localhost"},
    )
    try:
        health = metrics = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = r.read().decode()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    metrics = r.read().decode()
                if 'mirsad_feed_polls_total{status="ok"} 1.0' in metrics and (
                    'mirsad_platform_up{platform="console"} 1.0' in metrics
                ):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert health == "ok\n"
        assert 'mirsad_feed_polls_total{status="ok"} 1.0' in metrics
        assert "mirsad_stories_new_total 10.0" in metrics
        assert "mirsad_poll_duration_seconds_count 1.0" in metrics
        assert 'mirsad_feed_last_success_timestamp_seconds{feed="hespress_ar"} 1.' in metrics
        assert "process_resident_memory_bytes " in metrics and "python_info{" in metrics
        assert 'mirsad_platform_up{platform="console"} 1.0' in metrics  # the terminal is up
        assert "_created" not in metrics
        names = {x.split()[2] for x in metrics.splitlines() if x.startswith("# TYPE")}
        assert all(n.startswith(("mirsad_", "process_", "python_")) for n in names), names
        checked = bot("healthcheck", config=config)  # the Docker health check's command
        assert (checked.returncode, checked.stdout) == (0, "ok\n"), checked.stderr
        proc.send_signal(signal.SIGTERM)
        # within Docker's stop_grace_period (15 s), or docker stop would SIGKILL it; no tighter
        # wall-clock bound: a loaded machine could break one
        _out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        stopped = bot("healthcheck", config=config)
        assert stopped.returncode == 1 and stopped.stdout == ""
        assert stopped.stderr.startswith(
            f"unhealthy: no answer from http://127.0.0.1:{port}/healthz"
        )
        assert "mirsad_ready" in err and "mirsad_stopping" in err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_config_with_errors_never_starts_half_way(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "database: state/m.db\npoll_interval: -5\nfeeds:\n  - id: a\n    url: gopher://x\n",
    )
    for command in ("run", "once"):
        result = bot(command, config=config, timeout=30)
        assert result.returncode == 2
        assert (
            "poll_interval (line 2)" in result.stderr and "feeds[0].url (line 5)" in result.stderr
        )
        assert not (tmp_path / "state").exists()  # nothing was opened or created


def run_with_health_port_taken(
    tmp_path: Path, feed_server: FeedServer, env: dict[str, str]
) -> tuple[int, str]:
    """`bot.py run` while another program listens on its health.port: (exit code, stderr)."""
    feed_server.set("/hespress.xml", FEEDS / "hespress-ar-2026-02-11.xml")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = loopback_config(
            tmp_path,
            feed_server,
            {"hespress_ar": "/hespress.xml"},
            extra=f"health:\n  port: {port}\n",
        )
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1,localhost", **env},
        )
        try:
            deadline = time.monotonic() + 30  # bounds a hang only; a healthy run polls at once
            while proc.poll() is None and not feed_server.hits("/hespress.xml"):
                assert time.monotonic() < deadline, "the bot neither stopped nor polled"
                time.sleep(0.1)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return proc.returncode, err


def test_a_busy_health_port_turns_the_endpoint_off_and_the_bot_runs_on(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    code, err = run_with_health_port_taken(tmp_path, feed_server, {})
    assert code == 0, err
    (line,) = [x for x in err.splitlines() if "health_endpoint_off" in x]
    assert " ERROR " in line and "health.port" in line and "health.enabled: false" in line
    assert "mirsad_ready" in err and "Traceback" not in err
    assert feed_server.hits("/hespress.xml") >= 1  # it polled all the same


def test_a_busy_health_port_stops_the_bot_in_docker_with_one_line(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    code, err = run_with_health_port_taken(tmp_path, feed_server, {"MIRSAD_HEALTH_REQUIRED": "1"})
    assert code == 1
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "CRITICAL" in x]
    assert "cannot listen on 127.0.0.1:" in line and "health.port" in line
    assert "mirsad_ready" not in err


def test_every_command_says_what_it_does_and_the_version_is_shown() -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    overview = cli("--help")
    assert overview.returncode == 0
    for name in ("run", "once", "classify", "check-config", "healthcheck", "latest"):
        assert f"    {name}" in overview.stdout
        detail = cli(name, "--help")
        assert detail.returncode == 0 and "--config FILE" in detail.stdout
        assert len(detail.stdout.split("\n\n")[1]) > 40, detail.stdout  # a sentence, not a name
    assert "plain text" in cli("classify", "--help").stdout
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("mirsad 0.")
    wrong = cli("fly")
    assert wrong.returncode == 2 and "invalid choice: 'fly'" in wrong.stderr


def test_classify_takes_plain_text_lines_as_well_as_json(tmp_path: Path) -> None:
    config = write_config(tmp_path, "feeds: []\n")
    result = bot(
        "classify",
        config=config,
        stdin='ترمب يوقع أمرا تنفيذيا بشأن الذكاء الاصطناعي\n\n{"id": "x", "title": "Elon Musk"}\n',
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == 1 and first["labels"] == ["trump", "ai", "ai_policy"]
    assert second == {"id": "x", "labels": ["musk"], "evidence": second["evidence"]}


def test_the_grafana_dashboard_reads_only_metrics_mirsad_serves() -> None:
    from datetime import UTC, datetime

    from runtime.health import Metrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    served = {
        family.name + suffix
        for family in Metrics(lambda: datetime.now(UTC)).registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for e in exprs for name in re.findall(r"\b(?:mirsad|process)_[a-z_]+", e)}
    assert "mirsad_feed_last_success_timestamp_seconds" in used
    assert used <= served, used - served
