"""The database file lost, replaced, damaged or new (issue 17, case 4, and the corrupt-file
message of case 8).

Before: a database deleted under a running bot went on in the unlinked file, and a restart
silently created an empty one (no subscriptions, new stories alerted nobody, nothing logged).
Now the bot stops with a line naming the file, a restart refuses the empty database while the
marker beside it says one existed (unless --new-database), creating one is a WARNING, and a
damaged file is named.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from config import load_settings
from runtime.app import AppOptions, Parts, run_forever
from store import Store
from store.dbfile import DatabaseFile, DatabaseLost, DatabaseMissing, DatabaseWatch
from tests.feedserver import FeedServer
from tests.helpers import ROOT, rss, write_config

pytestmark = pytest.mark.sqlite_only("the database file lost, replaced or damaged")


def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "database: state/m.db\nfeeds: []\nhealth:\n  enabled: false\n")


def bot(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def a_database_with_a_subscription(path: Path) -> None:
    store = await Store.open(url(path))
    await store.save_subscription("telegram", "42", ["trump"], datetime.now(UTC))
    await store.close()


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def test_creating_a_database_warns_with_its_path_and_leaves_a_marker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "state" / "m.db"
    store = await Store.open(url(db))
    await store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"database_created path={db} marker={db}.marker" in w for w in warnings)
    assert (tmp_path / "state" / "m.db.marker").exists()
    caplog.clear()
    store = await Store.open(url(db))  # opening it again is quiet
    await store.close()
    assert not [r for r in caplog.records if "database_created" in r.getMessage()]


async def test_a_lost_database_is_refused_while_its_marker_exists(tmp_path: Path) -> None:
    db = tmp_path / "state" / "m.db"
    await a_database_with_a_subscription(db)
    remove_database(db)
    with pytest.raises(DatabaseMissing) as info:
        await Store.open(url(db))
    assert str(info.value) == (
        f"the database {db} is missing or empty, but {db}.marker says one was created there "
        "before: restore it (from a backup), or start with --new-database to begin again "
        "with an empty database (no subscriptions)"
    )
    assert not db.exists()  # nothing was created
    db.touch()  # an empty file is no database either
    with pytest.raises(DatabaseMissing):
        await Store.open(url(db))
    store = await Store.open(url(db), new_database=True)
    assert await store.subscriptions("telegram", "42") == []
    await store.close()


async def test_a_new_database_sets_the_lost_ones_write_ahead_log_aside(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    await a_database_with_a_subscription(db)
    db.unlink()
    wal = tmp_path / "m.db-wal"
    wal.write_bytes(b"left over from the lost database")
    store = await Store.open(url(db), new_database=True)
    await store.close()
    assert (tmp_path / "m.db-wal.orphaned").read_bytes() == b"left over from the lost database"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_run_refuses_an_empty_database_where_one_lived_and_new_database_accepts_it(
    tmp_path: Path,
) -> None:
    path = config(tmp_path)
    db = tmp_path / "state" / "m.db"
    asyncio.run(a_database_with_a_subscription(db))
    remove_database(db)

    refused = bot("run", "--config", str(path))
    assert refused.returncode == 1
    (line,) = [x for x in refused.stderr.splitlines() if "mirsad_stopped" in x]
    assert line.endswith(
        f"CRITICAL mirsad mirsad_stopped error='the database {db} is missing or empty, but "
        f"{db}.marker says one was created there before: restore it (from a backup), or start "
        "with --new-database to begin again with an empty database (no subscriptions)'"
    )
    assert "Traceback" not in refused.stderr
    assert not db.exists()

    accepted = bot("once", "--new-database", "--config", str(path))
    assert accepted.returncode == 0, accepted.stderr
    assert f"WARNING mirsad.store database_created path={db}" in accepted.stderr
    assert db.exists()


def _without_root_overrides() -> None:
    """In the child, if root: drop from the capability bounding set what lets root ignore a
    file's mode (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER), so that after
    exec a root-owned folder with mode 0555 refuses writes, as it does to the image's uid
    10001. Tests run as root in CI, where a mode alone would not bite."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (0, 1, 2, 3):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("unwritable", ["folder", "file"])
def test_a_database_folder_mirsad_may_not_write_stops_it_with_one_line_naming_the_fix(
    tmp_path: Path, unwritable: str
) -> None:
    """A host folder mounted in place of the Docker volume, owned by root while the image
    runs as uid 10001: one line naming the folder and the chown, exit 1, no traceback (it
    used to be a PermissionError traceback, and a restart loop under `restart:`)."""
    path = config(tmp_path)
    folder = tmp_path / "state"
    folder.mkdir()
    db = folder / "m.db"
    if unwritable == "file":  # a database left by a run as another user
        db.write_bytes(b"")
        db.chmod(0o444)
    else:
        folder.chmod(0o555)
    where = "" if unwritable == "folder" else f"{db}: "
    uid = os.getuid()
    expected = (
        f"Mirsad (uid {uid}) cannot write the database folder {folder} ({where}permission "
        f"denied): give it to that user, chown -R {uid} {folder}; for a host folder mounted "
        "there in Docker, run sudo chown -R 10001:10001 on that folder on the host (README: "
        "Self-hosting in Docker)"
    )
    try:
        run = subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), "run", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            preexec_fn=_without_root_overrides,
        )
    finally:
        folder.chmod(0o755)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].endswith(
        f"CRITICAL mirsad mirsad_stopped error='{expected}'"
    ), run.stderr
    assert not db.with_name("m.db.migrate-lock").exists()  # stopped before touching the folder


def test_a_damaged_database_is_named(tmp_path: Path) -> None:
    path = config(tmp_path)
    db = tmp_path / "state" / "m.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a SQLite file, it was overwritten by mistake\n" * 100)
    expected = (
        f"the database {db} is damaged or not a Mirsad database (file is not a database): "
        "restore it from a backup, or move it away and start with --new-database"
    )
    run = bot("run", "--config", str(path))
    assert run.returncode == 1
    assert f"CRITICAL mirsad mirsad_stopped error='{expected}'" in run.stderr
    assert "Traceback" not in run.stderr
    once = bot("once", "--config", str(path))
    assert once.returncode == 1
    assert once.stderr.strip().endswith(f"error: the poll cycle could not run: {expected}")


def test_the_watch_notices_a_deleted_or_replaced_file(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    db.write_bytes(b"x")
    file = DatabaseFile(db)
    watch = DatabaseWatch(file)
    assert watch.problem() is None
    other = tmp_path / "restored.db"
    other.write_bytes(b"y")
    other.replace(db)  # a backup copied over it: same path, another inode
    assert watch.problem() == (
        f"the database {db} was replaced by another file while Mirsad was running: "
        "start Mirsad again to use the new file"
    )
    db.unlink()
    assert watch.problem() == (
        f"the database {db} was deleted while Mirsad was running: restore it from a backup "
        "before starting again"
    )


async def test_run_stops_when_the_database_is_replaced_under_it(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path), env={})
    db = tmp_path / "state" / "m.db"
    ready: list[Parts] = []
    options = AppOptions(on_ready=ready.append, database_check_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(settings, options, stop))
    for _ in range(200):
        if ready:
            break
        await asyncio.sleep(0.02)
    assert ready
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    copy.replace(db)
    with pytest.raises(DatabaseLost, match=r"was replaced by another file while Mirsad"):
        await asyncio.wait_for(task, 10)
    assert stop.is_set()  # the watch stopped the bot; the test never set it


@pytest.mark.slow
@pytest.mark.timeout(150)  # a hang guard: a loaded machine takes seconds
async def test_bot_run_exits_1_naming_the_file_when_the_database_is_deleted(
    tmp_path: Path,
) -> None:
    path = config(tmp_path)
    db = tmp_path / "state" / "m.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        "run",
        "--config",
        str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        async for raw in proc.stderr:
            lines.append(raw.decode().rstrip())
            if "mirsad_ready" in lines[-1]:
                break
        db.unlink()
        _, rest = await asyncio.wait_for(proc.communicate(), 90)  # checked every 5 s
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
    lines += rest.decode().splitlines()
    assert proc.returncode == 1
    expected = (
        f"the database {db} was deleted while Mirsad was running: restore it from a backup "
        "before starting again"
    )
    assert any(line.endswith(f"CRITICAL mirsad database_lost {expected}") for line in lines), (
        "\n".join(lines)
    )
    assert any(line.endswith(f"mirsad_stopped error='{expected}'") for line in lines)
    # and a restart does not silently begin again with an empty database
    refused = bot("run", "--config", str(path))
    assert refused.returncode == 1
    assert f"the database {db} is missing or empty, but {db}.marker" in refused.stderr


def _trump_story(n: int) -> tuple[str, str, str]:
    title = f"دونالد ترامب يوقع الأمر التنفيذي رقم {n}"
    return title, f"https://www.hespress.com/trump-{n}.html", format_datetime(datetime.now(UTC))


def _read_with_sqlite(db: Path) -> subprocess.CompletedProcess[str]:
    """What an operator's sqlite3 shell does: open the live file, read, close."""
    script = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "print(conn.execute('SELECT count(*) FROM stories').fetchone()[0])\n"
        "conn.close()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_reading_the_live_database_from_other_processes_leaves_the_running_bot_alone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """`bot.py latest` and a sqlite3 reader open the file while `bot.py run` works on it.

    Before: the running bot held no SQLite lock on its file (its second engine's file check
    had opened and closed the file, which drops a process's POSIX locks), so the first
    reader to close took itself for the last connection and deleted the write-ahead log.
    The bot then either stopped at its next query with "disk I/O error" (exit 1) or went on
    writing into the deleted log, where no reader saw its stories and a restart lost them."""
    first, second = _trump_story(1), _trump_story(2)
    feed_server.set("/ar.xml", rss([first]), etag='"1"')
    path = write_config(
        tmp_path,
        f"""\
        database: state/m.db
        feeds:
          - id: hespress_ar
            url: {feed_server.url("/ar.xml")}
            language: ar
            interval: 1
        http:
          allow_private_addresses: true
        health:
          enabled: false
        """,
    )
    db = tmp_path / "state" / "m.db"
    log = tmp_path / "bot.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1,localhost"}
    with log.open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, str(ROOT / "bot.py"), "run", "--config", str(path)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
            env=env,
        )

    def bot_log() -> str:
        return log.read_text(encoding="utf-8")

    try:
        while "mirsad_ready" not in bot_log() or feed_server.hits("/ar.xml") == 0:
            assert proc.returncode is None, bot_log()
            await asyncio.sleep(0.1)
        for _ in range(3):  # readers come and go while the bot polls every second
            read = await asyncio.to_thread(_read_with_sqlite, db)
            assert read.returncode == 0, read.stderr
            latest = await asyncio.to_thread(bot, "latest", "--config", str(path))
            assert latest.returncode == 0, latest.stderr

        # the bot goes on recording what it finds, in the file the others read: a new story,
        # alerted (on the console) once it is stored, then shown by `latest`
        feed_server.set("/ar.xml", rss([second, first]), etag='"2"')
        while f"alert_sent platform=console chat=stdout story={second[1]}" not in bot_log():
            assert proc.returncode is None, f"the bot stopped:\n{bot_log()}"
            await asyncio.sleep(0.1)
        latest = await asyncio.to_thread(bot, "latest", "--config", str(path))
        assert latest.returncode == 0, latest.stderr
        assert second[0] in latest.stdout, latest.stdout
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, bot_log()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    with contextlib.closing(sqlite3.connect(db)) as conn:  # in the file, not a deleted log
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 2
    assert "disk I/O error" not in bot_log()
    assert "Traceback" not in bot_log()
