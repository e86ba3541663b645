"""Keeping a feedback's search index rows in step with its values.

Callers run these inside the unit of work that writes the feedback, so the index can never
disagree with the data it describes. Deleting feedback removes its rows by ON DELETE CASCADE,
and on SQLite the FTS5 triggers follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from feedback_service.models import FeedbackText, FeedbackValue, Field, FieldFormat

TEXT_VALUE_FORMATS = (FieldFormat.keyword, FieldFormat.select, FieldFormat.date)


def index_rows(
    feedback_id: int, data: Mapping[str, Any], fields: Iterable[Field]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(text rows, value rows)`` for a feedback whose values were validated already."""
    texts: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for field_ in fields:
        value = data.get(field_.key)
        if value is None:
            continue
        row = {"feedback_id": feedback_id, "field_id": field_.id}
        if field_.format is FieldFormat.text and value:
            texts.append({**row, "value": value})
        elif field_.format in TEXT_VALUE_FORMATS:
            values.append({**row, "text_value": value, "num_value": None})
        elif field_.format is FieldFormat.number:
            values.append({**row, "text_value": None, "num_value": value})
        elif field_.format is FieldFormat.multiSelect:
            values.extend({**row, "text_value": item, "num_value": None} for item in value)
    return texts, values


def add_index_rows(
    session: Session, texts: list[dict[str, Any]], values: list[dict[str, Any]]
) -> None:
    if texts:
        session.execute(insert(FeedbackText), texts)
    if values:
        session.execute(insert(FeedbackValue), values)


def index_feedback(
    session: Session, feedback_id: int, data: Mapping[str, Any], fields: Iterable[Field]
) -> None:
    add_index_rows(session, *index_rows(feedback_id, data, fields))


def reindex_feedback(
    session: Session, feedback_id: int, data: Mapping[str, Any], fields: Iterable[Field]
) -> None:
    session.execute(delete(FeedbackText).where(FeedbackText.feedback_id == feedback_id))
    session.execute(delete(FeedbackValue).where(FeedbackValue.feedback_id == feedback_id))
    index_feedback(session, feedback_id, data, fields)
