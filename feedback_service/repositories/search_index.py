"""Keeping a feedback's search index rows in step with its values.

Callers run these inside the unit of work that writes the feedback, so the index can never
disagree with the data it describes. Deleting feedback removes its value rows by ON DELETE
CASCADE and its text row by the ``feedback_after_delete`` trigger (SQLite's FTS5 table) or by
ON DELETE CASCADE (PostgreSQL's plain table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import column, delete, insert, table
from sqlalchemy.orm import Session

from feedback_service.models import FTS_TABLE, FTS_TEXT_COLUMNS, FeedbackValue, Field, FieldFormat

TEXT_VALUE_FORMATS = (FieldFormat.keyword, FieldFormat.select, FieldFormat.date)
TEXT_COLUMNS = tuple(f"c{n}" for n in range(FTS_TEXT_COLUMNS))
fts = table(FTS_TABLE, column("rowid"), column("channel"), *(column(c) for c in TEXT_COLUMNS))


def channel_marker(channel_id: int) -> str:
    """The ``channel`` column's text: delimited, so ``#1#`` never matches inside ``#12#``."""
    return f"#{channel_id}#"


def text_columns(fields: Iterable[Field]) -> dict[str, str]:
    """Text field key -> FTS column, by field id order (fields are never deleted, so stable)."""
    text_fields = sorted((f for f in fields if f.format is FieldFormat.text), key=lambda f: f.id)
    return {f.key: TEXT_COLUMNS[n] for n, f in enumerate(text_fields)}


def index_rows(
    feedback_id: int, channel_id: int, data: Mapping[str, Any], fields: Sequence[Field]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(FTS row, value rows)`` for a feedback whose values were validated already."""
    columns = text_columns(fields)
    fts_row: dict[str, Any] = dict.fromkeys(TEXT_COLUMNS)
    fts_row.update(rowid=feedback_id, channel=channel_marker(channel_id))
    values: list[dict[str, Any]] = []
    for field_ in fields:
        value = data.get(field_.key)
        if value is None:
            continue
        row = {"feedback_id": feedback_id, "field_id": field_.id, "text_value": None}
        if field_.key in columns:
            # Casefolded, so that matching is Unicode-caseless (see text_match).
            fts_row[columns[field_.key]] = value.casefold()
        elif field_.format in TEXT_VALUE_FORMATS:
            values.append({**row, "text_value": value, "num_value": None})
        elif field_.format is FieldFormat.number:
            values.append({**row, "num_value": value})
        elif field_.format is FieldFormat.multiSelect:
            # Each element once, so a one-value filter yields each feedback once.
            values.extend(
                {**row, "text_value": item, "num_value": None} for item in dict.fromkeys(value)
            )
    return fts_row, values


def add_index_rows(
    session: Session, fts_rows: list[dict[str, Any]], value_rows: list[dict[str, Any]]
) -> None:
    if fts_rows:
        session.execute(insert(fts), fts_rows)
    if value_rows:
        session.execute(insert(FeedbackValue), value_rows)


def index_feedback(
    session: Session,
    feedback_id: int,
    channel_id: int,
    data: Mapping[str, Any],
    fields: Sequence[Field],
) -> None:
    fts_row, values = index_rows(feedback_id, channel_id, data, fields)
    add_index_rows(session, [fts_row], values)


def reindex_feedback(
    session: Session,
    feedback_id: int,
    channel_id: int,
    data: Mapping[str, Any],
    fields: Sequence[Field],
) -> None:
    session.execute(delete(fts).where(fts.c.rowid == feedback_id))
    session.execute(delete(FeedbackValue).where(FeedbackValue.feedback_id == feedback_id))
    index_feedback(session, feedback_id, channel_id, data, fields)
