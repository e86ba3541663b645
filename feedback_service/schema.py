"""Schema migrations: where they live, upgrading to head, and whether a database is current."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from feedback_service.database import WRITE_OPTION
from feedback_service.extensions import db
from feedback_service.models import BOARD_COUNT_TABLE, FTS_TABLE

MIGRATIONS_DIRECTORY = Path(__file__).parent / "migrations"
# Revision 0006 names its expression indexes (alembic cannot compare those) with this prefix.
TRIGRAM_INDEX_PREFIX = "trgm_"


def described_by_models(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` filter: migrations create by hand, with no model, the search
    index table (on SQLite an FTS5 table with its shadow tables), PostgreSQL's trigram
    indexes over casefolded columns, and the boards' counts."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE) and name != BOARD_COUNT_TABLE
    return not (type_ == "index" and name.startswith(TRIGRAM_INDEX_PREFIX))


def upgrade_to_head() -> None:
    """Bring an empty or older database to the latest revision; a current one is untouched."""
    flask_migrate.upgrade(directory=str(MIGRATIONS_DIRECTORY))


def _script() -> ScriptDirectory:
    config = current_app.extensions["migrate"].migrate.get_config(str(MIGRATIONS_DIRECTORY))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def current_revisions() -> set[str]:
    with db.engine.connect().execution_options(**{WRITE_OPTION: False}) as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_is_current() -> bool:
    return current_revisions() == set(_script().get_heads())
