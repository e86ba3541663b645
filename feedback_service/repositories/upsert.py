"""INSERT ... ON CONFLICT DO NOTHING for whichever database the session is bound to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert one row unless its key exists; True when a row was inserted."""
    insert = _INSERTS[session.get_bind().dialect.name]
    # RETURNING, not the row count: psycopg reports -1 for an INSERT ... ON CONFLICT.
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(literal_column("1"))
    return session.execute(stmt).first() is not None
