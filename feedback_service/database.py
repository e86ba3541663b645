"""Database plumbing: the declarative base, SQLite connection settings and units of work.

Every service call is one unit of work. A writing unit begins with ``BEGIN IMMEDIATE`` on
SQLite, so it holds the write lock from its first statement: concurrent writers queue on the
busy timeout instead of failing with SQLITE_BUSY_SNAPSHOT when a read would have to be upgraded
to a write, and no read-modify-write can interleave with another writer. Reading units begin
with a plain deferred ``BEGIN`` and never block writers under WAL.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from sqlalchemy import URL, Engine, event
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from feedback_service.errors import AppError, InvalidInput
from feedback_service.extensions import db
from feedback_service.repositories.text_match import python_unicode_contains

WRITE_OPTION = "feedback_service_write"
# SQLite's message when its write lock stayed taken past the busy timeout; the writer queue
# below reports its own timeout the same way, so every surface answers both alike (503).
LOCKED = "database is locked"
# Seconds a client is told to wait (Retry-After) after such a timeout.
BUSY_RETRY_AFTER = 1
# Text PostgreSQL refuses where SQLite stores it: the client's to fix, so answered with 400.
# Its text types cannot hold U+0000; psycopg (before sending) and PostgreSQL (in json) say so.
NUL_REFUSED = "text cannot contain the NUL character (U+0000) on this server's database"
_NUL_ERRORS = ("cannot contain NUL (0x00)", "unsupported Unicode escape sequence")
# It enforces a column's declared length (SQLSTATE 22001, string_data_right_truncation).
TOO_LONG_REFUSED = "a text is longer than its field allows on this server's database"
_TOO_LONG = "22001"
# Per database file, one writer per process asks SQLite for the write lock; the process's
# other writing threads queue on this lock. SQLite's busy handler polls with growing sleeps,
# so among dozens of waiters it can pass one over until its timeout ends (measured: 1 toggle
# in ~1,500 answered 503 with 4 workers x 8 threads); a few processes polling, each with an
# orderly queue behind it, keep every wait close to the work ahead of it.
_writers: dict[str | None, threading.Lock] = {}
_writers_guard = threading.Lock()
# Between processes, the writer each process lets through takes a file lock beside the database
# before asking SQLite: a process waiting on SQLite's busy handler sleeps up to 100 ms between
# tries, so the other process's next writer nearly always wins, and half the requests wait
# (measured with 2 workers x 4 threads and 8 clients: p99 of creates 0.3-0.8 s). Polling the
# file lock every fraction of a millisecond hands the database over within that time.
WRITER_LOCK_SUFFIX = "-writer.lock"
_FILE_LOCK_POLL_SECONDS = (0.0001, 0.001)


def configure_engine(app: Flask) -> None:
    """Attach the listeners of the app's database to its engine."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        install_sqlite_listeners(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    elif engine.dialect.name == "postgresql":
        install_postgresql_listeners(engine)


def install_postgresql_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # psycopg prepares a statement run five times, and PostgreSQL then may plan it once
        # for any parameters: a generic plan cannot see that a search text is too short for
        # the trigram index and scans all of it (measured: 19 ms became 120 ms). Planning
        # each execution for its own values keeps the plan that fits them.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()


def install_sqlite_listeners(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins (see `on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # foreign_keys is a no-op inside a transaction, so it is set here, before any BEGIN.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged write survives power loss, at ~0.15 ms per commit.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()
        dbapi_connection.create_function(
            "unicode_contains", 2, python_unicode_contains, deterministic=True
        )

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _writer_lock(database: str | None) -> threading.Lock:
    with _writers_guard:
        return _writers.setdefault(database, threading.Lock())


def is_busy(error: OperationalError) -> bool:
    """Whether the database (or this process's writer queue) stayed locked past the timeout."""
    return LOCKED in str(error.orig)


def _busy() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(LOCKED))


@contextmanager
def _host_writer_lock(database: str, deadline: float) -> Iterator[None]:
    """The file lock the writers of every process on this host take turns on.

    Opened and closed around each write, so no descriptor crosses fork() or outlives a test's
    database; closing it releases the lock. Read-only suffices for flock(), so a lock file
    created by another user (a command run as root) still opens; it holds nothing.
    """
    descriptor = os.open(database + WRITER_LOCK_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        pause, longest = _FILE_LOCK_POLL_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy() from None
                time.sleep(pause)
                pause = min(pause * 2, longest)
        yield
    finally:
        os.close(descriptor)


def sqlite_file_path(url: URL) -> str | None:
    """The file a SQLite URL names, None for an in-memory database.

    A URI filename (``sqlite:///file:/path/db.sqlite?uri=true``) names its file in the URI's
    path, and ``mode=memory`` makes it an in-memory database.
    """
    database = url.database
    if not database or database == ":memory:":
        return None
    if url.query.get("uri") not in ("true", "1"):
        return database
    if url.query.get("mode") == "memory":
        return None
    return unquote(urlsplit(database).path) or None


@contextmanager
def _writer_slot(session: Session) -> Iterator[None]:
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    database = engine.url.database
    writer = _writer_lock(database)
    timeout = current_app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
    deadline = time.monotonic() + timeout
    if not writer.acquire(timeout=timeout):
        raise _busy()
    path = sqlite_file_path(engine.url)
    try:
        with _host_writer_lock(path, deadline) if path else nullcontext():
            yield
    finally:
        writer.release()


@contextmanager
def unit_of_work(*, write: bool) -> Iterator[Session]:
    """Run one transaction: commit when the block succeeds, roll back when it raises.

    A failed unit detaches every row the session holds, so rows returned by earlier units
    stay readable as they were loaded.

    A unit must start on a fresh transaction: joining one that is already open would keep a
    deferred read transaction that SQLite cannot safely upgrade to a write.
    """
    session = db.session()
    if session.in_transaction():
        raise RuntimeError("a unit of work cannot start inside an open transaction")
    with _writer_slot(session) if write else nullcontext():
        session.connection(execution_options={WRITE_OPTION: write})
        try:
            yield session
            session.commit()
        except BaseException as error:
            # A rollback expires every row the session holds, rows earlier units returned
            # included; reading one afterwards would open a transaction outside any unit and
            # block every later unit. Detached first, they keep what was loaded.
            session.expunge_all()
            session.rollback()
            refusal = refused_text(error) if isinstance(error, DataError) else None
            if refusal is not None:
                raise InvalidInput(refusal) from error
            raise


@contextmanager
def unique_or(conflict: AppError) -> Iterator[None]:
    """Answer ``conflict`` for a unique key taken by a writer that raced past the check made
    before the insert: on PostgreSQL writers do not queue as on SQLite."""
    try:
        yield
    except IntegrityError as error:
        if not _is_unique_violation(error):
            raise
        raise conflict from None


def _is_unique_violation(error: IntegrityError) -> bool:
    # PostgreSQL's SQLSTATE for unique_violation, and SQLite's message.
    return getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(
        error.orig
    )


def refused_text(error: DataError) -> str | None:
    """Why PostgreSQL refused a text a client sent (a NUL, too long), or None."""
    if any(message in str(error.orig) for message in _NUL_ERRORS):
        return NUL_REFUSED
    if getattr(error.orig, "sqlstate", None) == _TOO_LONG:
        return TOO_LONG_REFUSED
    return None
