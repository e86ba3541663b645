"""Copying the whole database into another, empty one: SQLite to PostgreSQL, or to a new file.

The target is migrated to head by the same migrations the service runs; every table of the
models is then copied in foreign-key order from one snapshot of the source, ids kept. The search
index's text table (no model: SQLite's FTS5 table, PostgreSQL's trigram-indexed table) is
derived data, so it is rebuilt from the copied feedback by the code that maintains it; the
boards' counts (no model either) are rebuilt by their triggers as the feedback is copied, and
the channels' definition stamps, which the triggers of fields and options replace as those
are copied, are set back to the source's. On PostgreSQL every sequence then continues after
the largest copied id. The target commits only
when each table holds as many rows as the source snapshot did.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

from feedback_service.database import WRITE_OPTION, sqlite_file_path
from feedback_service.extensions import db
from feedback_service.models import FTS_TABLE, Channel, Feedback, Field
from feedback_service.repositories import search_index
from feedback_service.schema import upgrade_to_head

BACKENDS = ("sqlite", "postgresql")
DEFAULT_PORTS = {"postgresql": 5432}
# Rows per INSERT batch, and feedback per batch of rebuilt search rows.
BATCH = 1000


class CopyRefused(Exception):
    """The target cannot receive a copy: unusable URL, unreachable, not empty, the source."""


class CopyFailed(Exception):
    """The copy went wrong; the target's transaction was rolled back (its schema stays)."""


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    # Rows per table, equal in source and target.
    tables: dict[str, int]
    seconds: float


def copy_database(target_url: str) -> CopyResult:
    """Copy the current app's database into the empty database at ``target_url``.

    :raises CopyRefused: :raises CopyFailed:
    """
    started = time.monotonic()
    source = db.engine
    target_app = _app_on(current_app, _parse(target_url))
    with target_app.app_context():
        target = db.engine
        try:
            _refuse_same_database(source.url, target.url)
            _refuse_unless_empty(target)
            upgrade_to_head()
            tables = _copy(source, target)
        finally:
            target.dispose()
    return CopyResult(
        source=_shown(source.url),
        target=_shown(target.url),
        tables=tables,
        seconds=round(time.monotonic() - started, 3),
    )


def _parse(target_url: str) -> URL:
    try:
        url = make_url(target_url)
    except ArgumentError:
        raise CopyRefused(
            f"{target_url!r} is not a database URL "
            "(e.g. postgresql+psycopg://user@host/name or sqlite:////path/to/file.sqlite)"
        ) from None
    if url.get_backend_name() not in BACKENDS:
        raise CopyRefused(
            f"cannot copy to {url.get_backend_name()}: the target must be PostgreSQL or SQLite"
        )
    if url.get_backend_name() == "sqlite" and sqlite_file_path(url) is None:
        raise CopyRefused("the target must be a SQLite file, not an in-memory database")
    return url


def _app_on(source_app: Flask, url: URL) -> Flask:
    """The same application on the target database: the migrations run in its context."""
    # Imported here: the package imports the command line, which imports this module.
    from feedback_service import create_app

    config = {
        **source_app.config,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        # It serves no request.
        "RATELIMIT_ENABLED": False,
    }
    try:
        return create_app(config)
    except (ImportError, NoSuchModuleError) as error:
        raise CopyRefused(
            f"no driver for {url.drivername} ({error}): PostgreSQL URLs start postgresql+psycopg://"
        ) from None


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _identity(url: URL) -> tuple[Any, ...]:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return (backend, os.path.realpath(sqlite_file_path(url) or ""))
    return (
        backend,
        (url.host or "localhost").lower(),
        url.port or DEFAULT_PORTS.get(backend),
        url.database,
    )


def _refuse_same_database(source: URL, target: URL) -> None:
    if _identity(source) == _identity(target):
        raise CopyRefused(f"{_shown(target)} is the database the service uses: copy it elsewhere")


def _refuse_unless_empty(target: Engine) -> None:
    try:
        with target.connect().execution_options(**{WRITE_OPTION: False}) as connection:
            names = inspect(connection).get_table_names()
            revision = None
            if "alembic_version" in names:
                versions = connection.execute(text("SELECT version_num FROM alembic_version"))
                revision = versions.scalar()
    except DBAPIError as error:
        raise CopyRefused(f"cannot use {_shown(target.url)}: {error.orig}") from None
    ours = sorted(
        name for name in names if name in db.metadata.tables or name.startswith(FTS_TABLE)
    )
    if ours or revision is not None:
        held = ", ".join(ours[:5]) + (", ..." if len(ours) > 5 else "")
        raise CopyRefused(
            f"{_shown(target.url)} is not empty ({held or f'schema revision {revision}'}): "
            "copy-db needs a new, empty database"
        )


def _copy(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every table; the row counts. The target commits only when they match."""
    tables = db.metadata.sorted_tables
    snapshot: dict[str, Any] = {WRITE_OPTION: False}
    if source.dialect.name == "postgresql":
        # One snapshot for every table, as SQLite's read transaction gives under WAL.
        snapshot["isolation_level"] = "REPEATABLE READ"
    with (
        source.connect().execution_options(**snapshot) as reading,
        reading.begin(),
        target.connect() as writing,
        writing.begin(),
    ):
        for table in tables:
            _copy_table(table, reading, writing)
        _restore_definition_versions(reading, writing)
        _rebuild_search_text(writing)
        if target.dialect.name == "postgresql":
            _continue_sequences(tables, writing)
        expected = _row_counts(tables, reading)
        copied = _row_counts(tables, writing)
        if copied != expected:
            differ = {name: (expected[name], copied[name]) for name in expected}
            raise CopyFailed(f"row counts differ (source, target): {differ}")
        indexed = writing.execute(text(f"SELECT count(*) FROM {FTS_TABLE}")).scalar_one()
        if indexed != copied[Feedback.__tablename__]:
            raise CopyFailed(f"{indexed} search rows for {copied['feedback']} feedback")
    return copied


def _copy_table(table: Table, reading: Connection, writing: Connection) -> None:
    rows = reading.execute(
        select(table).order_by(*table.primary_key.columns), execution_options={"yield_per": BATCH}
    )
    try:
        for batch in rows.partitions():
            writing.execute(insert(table), [row._asdict() for row in batch])
    except DBAPIError as error:
        raise CopyFailed(f"copying {table.name} failed: {error.orig}") from None


def _restore_definition_versions(reading: Connection, writing: Connection) -> None:
    channels = Channel.__table__
    stamps = reading.execute(select(channels.c.id, channels.c.definition_version)).all()
    if not stamps:
        return
    restore = (
        update(channels)
        .where(channels.c.id == bindparam("channel_id"))
        # Kept as copied (Core would set the column's onupdate time).
        .values(definition_version=bindparam("version"), updated_at=channels.c.updated_at)
    )
    writing.execute(restore, [{"channel_id": id_, "version": version} for id_, version in stamps])


def _rebuild_search_text(writing: Connection) -> None:
    """One search row per copied feedback, built as the service builds it."""
    with Session(bind=writing) as session:
        fields: defaultdict[int, list[Field]] = defaultdict(list)
        for field_ in session.scalars(select(Field).order_by(Field.id)):
            fields[field_.channel_id].append(field_)
        last_id = 0
        while True:
            batch: Sequence[Any] = session.execute(
                select(Feedback.id, Feedback.channel_id, Feedback.data)
                .where(Feedback.id > last_id)
                .order_by(Feedback.id)
                .limit(BATCH)
            ).all()
            if not batch:
                return
            rows = [
                search_index.index_rows(feedback_id, channel_id, data, fields[channel_id])[0]
                for feedback_id, channel_id, data in batch
            ]
            search_index.add_index_rows(session, rows, [])
            last_id = batch[-1].id


def _continue_sequences(tables: Sequence[Table], writing: Connection) -> None:
    """Make each id sequence hand out the id after the largest copied one."""
    quote = writing.dialect.identifier_preparer
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        largest = writing.execute(select(func.max(column))).scalar()
        if largest is not None:
            sequence = func.pg_get_serial_sequence(quote.format_table(table), column.name)
            writing.execute(select(func.setval(sequence, largest)))


def _row_counts(tables: Sequence[Table], connection: Connection) -> dict[str, int]:
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in tables
    }
