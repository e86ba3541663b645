"""A ``limits`` storage in a SQLite file, so that every worker process on a host shares counts.

``limits`` has no SQLite backend; this one registers the ``sqlite://`` scheme (paths as in
SQLAlchemy URLs: ``sqlite:////abs/path`` or ``sqlite:///relative``). It supports the
fixed-window strategy, whose only write is one atomic upsert per hit. It keeps its own
autocommit connections, opened on first use, one per thread and process, apart from the app's
database sessions: the limiter runs before a request's unit of work and must never join or
block it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any, ClassVar

from limits.storage import Storage

SCHEME = "sqlite"
# Expired counters are deleted on every this many-th hit of a connection.
PURGE_EVERY = 1000

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ratelimit_counter "
    "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID"
)
# One statement: the counter restarts when its window is over, else grows. Assignments read
# the row's old values, so expires_at is judged on the same state as count.
INCREMENT = (
    "INSERT INTO ratelimit_counter (key, count, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END, "
    "expires_at = CASE WHEN expires_at <= :now THEN :expires ELSE expires_at END "
    "RETURNING count"
)


def path_from_uri(uri: str) -> str:
    prefix = f"{SCHEME}:///"
    if not uri.startswith(prefix) or uri == prefix:
        raise ValueError(f"expected {prefix}<path to a file>, got {uri!r}")
    return uri[len(prefix) :]


class SQLiteStorage(Storage):
    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = path_from_uri(uri)
        self.busy_timeout = float(options.get("busy_timeout", 5.0))
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        # A connection must not cross fork(): a worker opens its own.
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            # Counters need no durability across power loss; a lost window only forgives.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(SCHEMA)
            local.connection, local.pid, local.hits = connection, os.getpid(), 0
        return local.connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        connection = self._connection()
        now = time.time()
        self._local.hits += 1
        if self._local.hits % PURGE_EVERY == 0:
            connection.execute("DELETE FROM ratelimit_counter WHERE expires_at <= ?", (now,))
        params = {"key": key, "amount": amount, "expires": now + expiry, "now": now}
        (count,) = connection.execute(INCREMENT, params).fetchone()
        return int(count)

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT count FROM ratelimit_counter WHERE key = ? AND expires_at > ?",
                (key, time.time()),
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = (
            self._connection()
            .execute("SELECT expires_at FROM ratelimit_counter WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM ratelimit_counter").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM ratelimit_counter WHERE key = ?", (key,))
