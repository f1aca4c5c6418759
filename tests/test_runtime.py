"""run_forever in-process: platforms that fail to start, logs without secrets."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import runtime.app as app
from alerts.outbox import Pacing
from alerts.payloads import Payload, Rendered, RenderedNew, SendResult, Sent
from config import LoggingConfig, load_settings
from runtime.app import AppOptions, Parts, run_forever
from runtime.logs import setup_logging
from store import Store, Subscription
from tests.helpers import refuse_once, write_config


class FlakyPlatform:
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts = 0
        self.stopped = False
        self.sender = self

    pacing = Pacing()
    platform = "flaky"

    def is_group(self, chat_id: str) -> bool:
        return False

    def render(self, payload: Payload, lang: str) -> Rendered[str]:
        return RenderedNew("")

    async def send(self, target: Subscription, rendered: Rendered[str]) -> SendResult:
        return Sent(("1",))

    async def start(self) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise ConnectionError("api.example unreachable")

    async def stop(self) -> None:
        self.stopped = True


async def test_a_platform_that_fails_to_start_is_retried_and_the_rest_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app, "PLATFORM_RETRY_FIRST", 0.05)
    settings = load_settings(write_config(tmp_path, "feeds: []\nhealth:\n  port: 0\n"), env={})
    platform = FlakyPlatform(failures=2)
    ready: list[Parts] = []
    stop = asyncio.Event()
    caplog.set_level(logging.INFO)

    options = AppOptions(
        platform_factories=(("flaky", lambda parts: platform),), on_ready=ready.append
    )
    task = asyncio.create_task(run_forever(settings, options, stop))
    for _ in range(200):
        if platform.starts >= 3:
            break
        await asyncio.sleep(0.02)
    assert ready and ready[0].health_port  # the rest was up while the platform was failing
    assert platform.starts == 3
    failures = [r.getMessage() for r in caplog.records if "platform_start_failed" in r.getMessage()]
    assert len(failures) == 2
    assert "name=flaky error='ConnectionError: api.example unreachable'" in failures[0]
    stop.set()
    await asyncio.wait_for(task, 10)
    assert platform.stopped


def test_secrets_are_redacted_from_every_log_line_and_traceback() -> None:
    token = "123456789:AAH-secret-token-value"
    stream = io.StringIO()
    setup_logging(LoggingConfig(), [token], stream=stream)
    try:
        logging.getLogger("httpx").warning(
            "HTTP Request: POST https://api.telegram.org/bot%s/getMe", token
        )
        try:
            raise RuntimeError(f"bad token {token}")
        except RuntimeError:
            logging.getLogger("mirsad").exception("failed")
        setup_logging(LoggingConfig.model_validate({"json": True}), [token], stream=stream)
        logging.getLogger("mirsad").error("json line with %s", token)
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert token not in text
    assert text.count("[REDACTED]") == 3
    assert '"message": "json line with [REDACTED]"' in text


async def test_a_prune_the_store_refuses_is_one_line_and_the_next_prune_runs(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 6-hourly prune on a store that refuses (locked, full disk): a warning, not an
    exception into the scheduler (a job traceback), and the next prune does the work."""
    now = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
    refuse_once(monkeypatch, store, "prune", OSError("database is locked"))
    with caplog.at_level(logging.WARNING, logger="mirsad"):
        assert await app.prune_logged(store, now, timedelta(days=30)) is False
    assert [r.getMessage() for r in caplog.records] == [
        "prune_failed error=OSError('database is locked') (the next prune tries again)"
    ]
    assert await app.prune_logged(store, now, timedelta(days=30)) is True


async def _stop_while_held(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    method: str,
) -> list[str]:
    """Run the bot, hold the first call of `Store.<method>` made once it is ready, stop the
    bot while that call is held, then release it. Returns how the held call ended
    ("finished" or "cancelled"); asserts that the stop logged no error."""
    settings = load_settings(
        write_config(tmp_path, "feeds: []\nhealth:\n  enabled: false\n"), env={}
    )
    ready: list[Parts] = []
    stop = asyncio.Event()
    entered, release = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []
    real = getattr(Store, method)

    async def held(self: Store, *args: object, **kwargs: object) -> object:
        if ready and not entered.is_set():
            entered.set()
            try:
                await release.wait()
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise
            outcome.append("finished")
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(Store, method, held)
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(run_forever(settings, AppOptions(on_ready=ready.append), stop))
    await asyncio.wait_for(entered.wait(), 10)
    stop.set()
    await asyncio.sleep(0.2)  # the shutdown is under way while the call is still held
    release.set()
    await asyncio.wait_for(task, 10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    return outcome


async def test_stopping_lets_the_tick_in_flight_finish_its_claim_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM while a tick is claiming feeds. APScheduler's asyncio executor cancels the jobs
    still running when it shuts down, so the tick died inside the claim and the scheduler
    logged an ERROR with a CancelledError traceback (seen in CI, test_database_file). The
    tick in flight now finishes first; then the scheduler shuts down."""
    outcome = await _stop_while_held(tmp_path, monkeypatch, caplog, "claim_due_feeds")
    assert outcome == ["finished"]
    assert "shutdown_tick_cut_short" not in caplog.text


async def test_stopping_lets_the_prune_in_flight_finish_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The same for the prune of old stories: stopped while it trims, it finishes first."""
    monkeypatch.setattr(app, "PRUNE_SECONDS", 0.2)  # not every 6 h: now
    monkeypatch.setattr(app, "PRUNE_JITTER_SECONDS", 0)
    outcome = await _stop_while_held(tmp_path, monkeypatch, caplog, "prune")
    assert outcome == ["finished"]
    assert "shutdown_prune_cut_short" not in caplog.text
