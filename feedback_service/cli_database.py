"""Commands that copy the whole database: ``backup`` (SQLite) and ``copy-db``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from feedback_service import backups, database_copies
from feedback_service.cli_support import emit, json_option, needs_current_schema
from feedback_service.extensions import db


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
def backup_command(file: Path, force: bool, as_json: bool) -> None:
    """Copy the SQLite database into FILE while the service runs.

    FILE is one complete database file, checked with PRAGMA integrity_check. To restore it,
    stop the service, move the database and its -wal and -shm files aside and put FILE in its
    place (see docs/operations.md).
    """
    try:
        source = backups.sqlite_file(db.engine.url)
        result = backups.backup_sqlite(
            source,
            file,
            force=force,
            busy_timeout_ms=current_app.config["SQLITE_BUSY_TIMEOUT_MS"],
        )
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    payload = {
        "path": str(result.path),
        "bytes": result.bytes,
        "pages": result.pages,
        "seconds": result.seconds,
    }
    emit(as_json, payload, f"backed up {source} to {result.path} ({result.bytes} bytes)")


@click.command("copy-db")
@with_appcontext
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="An empty database, e.g. postgresql+psycopg://user@host/feedback.",
)
@json_option
@needs_current_schema
def copy_db_command(target_url: str, as_json: bool) -> None:
    """Copy every table into an empty database (migrated first), then compare row counts."""
    try:
        result = database_copies.copy_database(target_url)
    except (database_copies.CopyRefused, database_copies.CopyFailed) as error:
        raise click.ClickException(str(error)) from None
    payload = {
        "source": result.source,
        "target": result.target,
        "tables": result.tables,
        "seconds": result.seconds,
    }
    rows = "\n".join(f"  {name}: {count}" for name, count in result.tables.items())
    emit(
        as_json,
        payload,
        f"copied {sum(result.tables.values())} rows from {result.source} to {result.target} "
        f"in {result.seconds} s; rows per table, equal in both:\n{rows}",
    )
