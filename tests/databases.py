"""The database a test runs on: a SQLite file, or a database on a PostgreSQL server.

``pytest --backend postgresql`` runs the whole suite on PostgreSQL (``make test`` runs it after
the SQLite run). Each test gets its own database, cloned from one migrated template per test
process: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.

Tests read rows back through :meth:`TestDatabase.query` (also the object's call), written with
SQLite's ``?`` placeholders. On PostgreSQL, values come back in SQLite's shapes (timestamps and
JSON as the text SQLite stores), so one assertion holds on both.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.adapt import Loader
from sqlalchemy.engine import make_url

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
BACKENDS = (SQLITE, POSTGRESQL)
# The server the PostgreSQL run uses; the user must be allowed to create databases.
POSTGRES_SERVER = os.environ.get(
    "FEEDBACK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Every test database's name starts with this and the test process's pid.
NAME_PREFIX = "feedback_test"

Row = tuple[Any, ...]
# Positional (``?``) or named (``:name``) parameters.
Params = tuple[Any, ...] | Mapping[str, Any]


class TestDatabase(ABC):
    """One database; ``database(statement, params)`` is ``database.query(...)``."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The SQLAlchemy URL the app is configured with."""

    @abstractmethod
    def query(self, statement: str, params: Params = ()) -> list[Row]:
        """Run one statement in its own committed transaction; its rows."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """Every table of the app's schema (the search index's included)."""

    @abstractmethod
    def integrity_problems(self) -> list[str]:
        """What the database's own consistency check finds wrong (nothing: ``[]``)."""

    @abstractmethod
    def column_names(self, table: str) -> list[str]:
        """The table's columns in their order."""

    @abstractmethod
    def clone(self, directory: Path, name: str) -> TestDatabase:
        """A copy of this database (which no one may be connected to)."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the database (safe to repeat)."""

    def __call__(self, statement: str, params: Params = ()) -> list[Row]:
        return self.query(statement, params)


class SqliteFile(TestDatabase):
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def query(self, statement: str, params: Params = ()) -> list[Row]:
        with closing(sqlite3.connect(self.path)) as connection, connection:
            return connection.execute(statement, params).fetchall()

    def table_names(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [name for (name,) in rows]

    def integrity_problems(self) -> list[str]:
        found = [message for (message,) in self.query("PRAGMA integrity_check")]
        return [] if found == ["ok"] else found

    def column_names(self, table: str) -> list[str]:
        return [row[1] for row in self.query(f'PRAGMA table_info("{table}")')]

    def clone(self, directory: Path, name: str) -> SqliteFile:
        # Every connection to the source was closed, so its WAL is checkpointed into the file.
        assert not Path(f"{self.path}-wal").exists(), f"{self.path} is still open"
        copy = directory / f"{name}.sqlite"
        shutil.copyfile(self.path, copy)
        return SqliteFile(copy)

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class _TimestampAsSqliteText(Loader):
    def load(self, data: Any) -> str:
        # As SQLAlchemy stores a datetime in SQLite: always with microseconds.
        stored = datetime.fromisoformat(bytes(data).decode())
        return stored.isoformat(sep=" ", timespec="microseconds")


class _Text(Loader):
    def load(self, data: Any) -> str:
        return bytes(data).decode()


class PostgresDatabase(TestDatabase):
    _names = itertools.count()

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, name: str, template: str = "template1") -> PostgresDatabase:
        _on_server(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        # A test database outlives no crash worth the wait for each commit's flush.
        _on_server(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return cls(name)

    @classmethod
    def unique_name(cls, label: str) -> str:
        return f"{NAME_PREFIX}_{os.getpid()}_{label}_{next(cls._names)}"

    @property
    def url(self) -> str:
        server = make_url(POSTGRES_SERVER)
        return server.set(drivername="postgresql+psycopg", database=self.name).render_as_string(
            hide_password=False
        )

    def query(self, statement: str, params: Params = ()) -> list[Row]:
        with closing(self._connect()) as connection, connection.transaction():
            cursor = connection.execute(_postgres_placeholders(statement), params)
            return cursor.fetchall() if cursor.description else []

    def table_names(self) -> list[str]:
        return [name for (name,) in self.query(_TABLES)]

    def integrity_problems(self) -> list[str]:
        """amcheck's verdict on every B-tree index: each must agree with its table."""
        self.query("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = self.query(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"
        )
        problems = []
        for (index,) in indexes:
            try:
                self.query(f"SELECT bt_index_check('\"{index}\"'::regclass, true)")
            except psycopg.Error as error:
                problems.append(f"{index}: {error}")
        return problems

    def column_names(self, table: str) -> list[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [name for (name,) in rows]

    def clone(self, directory: Path, name: str) -> PostgresDatabase:
        return self.create(self.unique_name(name), template=self.name)

    def empty(self) -> None:
        """Delete every row but the schema revision, and restart every id sequence: the state
        of a clone of the migrated template, in a tenth of the time a clone takes."""
        with closing(self._connect()) as connection, connection.transaction():
            # Rows go in any order: no foreign key is checked while the role is "replica".
            connection.execute("SET LOCAL session_replication_role = replica")
            for (table,) in connection.execute(_TABLES).fetchall():
                if table != "alembic_version":
                    connection.execute(f'DELETE FROM "{table}"')
            sequences = connection.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
            for (sequence,) in sequences:
                connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')

    def drop(self) -> None:
        _on_server(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _connect(self) -> psycopg.Connection[Row]:
        connection = psycopg.connect(POSTGRES_SERVER, dbname=self.name, autocommit=True)
        for type_name in ("timestamp", "timestamptz"):
            connection.adapters.register_loader(type_name, _TimestampAsSqliteText)
        for type_name in ("json", "jsonb"):
            connection.adapters.register_loader(type_name, _Text)
        return connection


_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"


def _postgres_placeholders(statement: str) -> str:
    """SQLite's ``?`` and ``:name`` placeholders as psycopg's ``%s`` and ``%(name)s`` (a
    literal ``%`` doubled). Quoted text and comments are not told apart: a test's statement
    keeps ``?`` and ``:word`` out of its literals (values go in as parameters)."""
    escaped = statement.replace("%", "%%").replace("?", "%s")
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", escaped)


def _on_server(statement: str) -> None:
    with closing(psycopg.connect(POSTGRES_SERVER, autocommit=True)) as connection:
        connection.execute(statement)


def _test_databases() -> list[tuple[str, int]]:
    """``(name, pid of the test process that made it)`` of every test database on the server."""
    with closing(psycopg.connect(POSTGRES_SERVER, autocommit=True)) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{NAME_PREFIX}\\_%",)
        ).fetchall()
    found = []
    for (name,) in rows:
        pid = name.removeprefix(f"{NAME_PREFIX}_").split("_", 1)[0]
        if pid.isdigit():
            found.append((name, int(pid)))
    return found


def drop_abandoned_databases() -> None:
    """Drop test databases left by test processes that no longer run (a killed run's)."""
    for name, pid in _test_databases():
        if not _process_exists(pid):
            PostgresDatabase(name).drop()


def drop_own_databases() -> None:
    """Drop every test database this process made (sites' copies included)."""
    for name, pid in _test_databases():
        if pid == os.getpid():
            PostgresDatabase(name).drop()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
