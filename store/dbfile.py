"""The SQLite database file: noticing when it is new, lost, replaced or damaged.

A database deleted under a running bot goes on living in the unlinked file, and a restart
would then silently start from an empty one: no subscriptions, so new stories alert nobody.
Three guards stop that (issue 17, case 4):

- a marker file beside the database (`<database>.marker`, e.g. `data/mirsad.db.marker`),
  written once the database has been created, says that a database lived there; opening finds
  no database (or an empty file) while the marker exists -> DatabaseMissing, unless the
  operator asked for a new database (`bot.py run --new-database`);
- creating a database is logged loudly (WARNING, with its path);
- `DatabaseWatch` compares the file's device and inode with those seen at open, on a timer its
  caller runs: a file deleted or replaced while running is reported, and the bot stops.

PostgreSQL (and `:memory:`) have no file: none of this applies to them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("mirsad.store")

NEW_DATABASE_FLAG = "--new-database"


class DatabaseFileError(RuntimeError):
    """The database file cannot be used as it is; the message names the file and the fix."""


class DatabaseMissing(DatabaseFileError):
    pass


class DatabaseLost(DatabaseFileError):
    pass


class DatabaseDamaged(DatabaseFileError):
    pass


@dataclass(frozen=True)
class DatabaseFile:
    path: Path

    @classmethod
    def from_url(cls, url: str) -> DatabaseFile | None:
        """The file of a SQLite URL; None for a server database or an in-memory one."""
        parsed = make_url(url)
        if not parsed.drivername.startswith("sqlite"):
            return None
        if not parsed.database or parsed.database == ":memory:":
            return None
        return cls(Path(parsed.database).absolute())

    @property
    def marker(self) -> Path:
        return self.path.with_name(self.path.name + ".marker")

    def is_empty(self) -> bool:
        """No database yet: no file, or an empty one (SQLite has not written its header)."""
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def refuse_unwritable(self) -> None:
        """Raise DatabaseFileError, naming the folder or file and the fix, when this process
        may not create or write the database there: a host folder mounted in place of the
        Docker volume is owned by root while the image runs as uid 10001 (issue 18)."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._not_writable(folder, exc.strerror or str(exc)) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise self._not_writable(folder, "permission denied")
        for path in (self.path, *self.companions()):
            if path.exists() and not os.access(path, os.R_OK | os.W_OK):
                raise self._not_writable(path, "permission denied")

    def companions(self) -> tuple[Path, ...]:
        """The files SQLite and Mirsad keep beside the database, which must be writable too."""
        return tuple(
            self.path.with_name(self.path.name + suffix)
            for suffix in ("-wal", "-shm", ".marker", ".migrate-lock")
        )

    def _not_writable(self, where: Path, reason: str) -> DatabaseFileError:
        folder, uid = self.path.parent, os.getuid()
        return DatabaseFileError(
            f"Mirsad (uid {uid}) cannot write the database folder {folder} ("
            f"{'' if where == folder else f'{where}: '}{reason.lower()}): give it to that user, chown -R {uid} {folder}; for a host "
            f"folder mounted there in Docker, run sudo chown -R 10001:10001 on that folder "
            f"on the host (README: Self-hosting in Docker)"
        )

    def refuse_lost(self) -> None:
        """Raise DatabaseMissing if the database is empty but the marker says one lived here."""
        if not self.is_empty() or not self.marker.exists():
            return
        raise DatabaseMissing(
            f"the database {self.path} is missing or empty, but {self.marker} says one was "
            f"created there before: restore it (from a backup), or start with "
            f"{NEW_DATABASE_FLAG} to begin again with an empty database (no subscriptions)"
        )

    def set_aside_leftovers(self) -> None:
        """Before creating a database where one was lost: its write-ahead log and shared
        memory files would be replayed into the new, empty file. They are renamed, not
        deleted (the WAL may hold the last writes of the lost database)."""
        for suffix in ("-wal", "-shm"):
            leftover = self.path.with_name(self.path.name + suffix)
            if leftover.exists():
                aside = leftover.with_name(leftover.name + ".orphaned")
                leftover.replace(aside)
                log.warning("database_leftover_set_aside path=%s to=%s", leftover, aside)

    def record_created(self) -> None:
        """Log the new database loudly and leave the marker beside it."""
        log.warning(
            "database_created path=%s marker=%s (a new, empty database: no subscriptions yet; "
            "if you expected your existing data, stop Mirsad and check the path or volume)",
            self.path,
            self.marker,
        )
        self.write_marker()

    def write_marker(self) -> None:
        """The marker (its modification time says when the database was created)."""
        text = (
            f"Mirsad created the database {self.path.name} in this folder.\n"
            f"While this file exists, Mirsad refuses to start on a missing or empty "
            f"{self.path.name} (run with {NEW_DATABASE_FLAG} to start a new one).\n"
        )
        temporary = self.marker.with_name(self.marker.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(self.marker)

    def unusable(self, error: BaseException) -> DatabaseFileError:
        """The error for a file SQLite could not open or read, naming it and the fix."""
        orig = getattr(error, "orig", None) or error
        reason = str(orig).splitlines()[0]
        if isinstance(orig, sqlite3.OperationalError):  # permissions, a folder, a full disk
            return DatabaseFileError(
                f"the database {self.path} cannot be opened ({reason}): check that the file "
                f"and its folder exist and that Mirsad's user may write them"
            )
        return DatabaseDamaged(  # "file is not a database", "database disk image is malformed"
            f"the database {self.path} is damaged or not a Mirsad database ({reason}): "
            f"restore it from a backup, or move it away and start with {NEW_DATABASE_FLAG}"
        )


class DatabaseWatch:
    """Notices the database file deleted or replaced (another device/inode at its path)."""

    def __init__(self, file: DatabaseFile) -> None:
        self.file = file
        st = file.path.stat()
        self._identity = (st.st_dev, st.st_ino)

    def problem(self) -> str | None:
        try:
            st = self.file.path.stat()
        except FileNotFoundError:
            return (
                f"the database {self.file.path} was deleted while Mirsad was running: "
                f"restore it from a backup before starting again"
            )
        except OSError as exc:
            return f"the database {self.file.path} cannot be checked: {exc.strerror}"
        if (st.st_dev, st.st_ino) != self._identity:
            return (
                f"the database {self.file.path} was replaced by another file while Mirsad was "
                f"running: start Mirsad again to use the new file"
            )
        return None
