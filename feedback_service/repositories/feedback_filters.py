"""SQL conditions on feedback for search, each answered from an index.

Most conditions are ``feedback.id IN (<ids from an index table>)``: the FTS5 trigram index
for substrings, ``feedback_value`` for typed equality and ranges, ``feedback_issue`` for
issue links. Values are always bound parameters; field ids come from the channel's fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    false,
    func,
    or_,
    select,
    table,
    true,
    union,
)

from feedback_service.models import FTS_TABLE, Feedback, FeedbackText, FeedbackValue, Issue
from feedback_service.models import feedback_issue as links
from feedback_service.repositories.text_match import contains_ignoring_case

# FTS5 trigram matching needs three characters; shorter text is matched by scanning.
TRIGRAM = 3
fts = table(FTS_TABLE, column("rowid"), column("value"))


def _ids_in(ids: Select[Any]) -> ColumnElement[bool]:
    return Feedback.id.in_(ids)


def any_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """OR that matches nothing when empty (``or_()`` alone would be ambiguous)."""
    if not conditions:
        return false()
    return conditions[0] if len(conditions) == 1 else or_(*conditions)


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(true(), *conditions)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def text_ids(dialect: str, field_ids: Sequence[int], text: str) -> Select[Any]:
    """Ids of feedback whose value in one of ``field_ids`` contains ``text``, any case."""
    stmt = select(FeedbackText.feedback_id).where(FeedbackText.field_id.in_(field_ids))
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        return stmt.join(fts, fts.c.rowid == FeedbackText.id).where(
            fts.c.value.op("MATCH")(_fts_phrase(text))
        )
    return stmt.where(contains_ignoring_case(FeedbackText.value, text))


def text_contains(dialect: str, field_ids: Sequence[int], text: str) -> ColumnElement[bool]:
    return _ids_in(text_ids(dialect, field_ids, text)) if field_ids else false()


def value_ids(field_ids: Sequence[int], value: str) -> Select[Any]:
    return select(FeedbackValue.feedback_id).where(
        FeedbackValue.field_id.in_(field_ids), FeedbackValue.text_value == value
    )


def number_ids(field_ids: Sequence[int], value: float) -> Select[Any]:
    return select(FeedbackValue.feedback_id).where(
        FeedbackValue.field_id.in_(field_ids), FeedbackValue.num_value == value
    )


def value_equals(field_id: int, value: str) -> ColumnElement[bool]:
    return _ids_in(value_ids([field_id], value))


def number_equals(field_id: int, value: float) -> ColumnElement[bool]:
    return _ids_in(number_ids([field_id], value))


def value_between(field_id: int, gte: str | None, lt: str | None) -> ColumnElement[bool]:
    """A date field's value (ISO 8601 UTC text, which sorts by time) within ``[gte, lt)``."""
    stmt = select(FeedbackValue.feedback_id).where(FeedbackValue.field_id == field_id)
    if gte is not None:
        stmt = stmt.where(FeedbackValue.text_value >= gte)
    if lt is not None:
        stmt = stmt.where(FeedbackValue.text_value < lt)
    return _ids_in(stmt)


def union_of(id_sets: Sequence[Select[Any]]) -> ColumnElement[bool]:
    """Feedback in any of the id sets, as one IN over a UNION (one pass, not one per set)."""
    if not id_sets:
        return false()
    return _ids_in(id_sets[0] if len(id_sets) == 1 else union(*id_sets))


def _values_of(field_id: int, values: Sequence[str]) -> Select[Any]:
    return (
        select(FeedbackValue.feedback_id)
        .where(FeedbackValue.field_id == field_id, FeedbackValue.text_value.in_(values))
        .group_by(FeedbackValue.feedback_id)
        .having(func.count(FeedbackValue.text_value.distinct()) == len(set(values)))
    )


def has_all_values(field_id: int, values: Sequence[str]) -> ColumnElement[bool]:
    """A multiSelect field holds every one of ``values`` (and maybe more)."""
    return _ids_in(_values_of(field_id, values)) if values else false()


def has_exactly_values(field_id: int, values: Sequence[str]) -> ColumnElement[bool]:
    """A multiSelect field holds exactly the set ``values``; empty means none (or missing)."""
    held = select(FeedbackValue.feedback_id).where(FeedbackValue.field_id == field_id)
    if not values:
        return ~_ids_in(held)
    extra = held.where(FeedbackValue.text_value.not_in(values))
    return and_(_ids_in(_values_of(field_id, values)), ~_ids_in(extra))


def linked_to_any(issue_ids: Sequence[int]) -> ColumnElement[bool]:
    return _ids_in(select(links.c.feedback_id).where(links.c.issue_id.in_(issue_ids)))


def _linked_to_all(issue_ids: Sequence[int]) -> Select[Any]:
    return (
        select(links.c.feedback_id)
        .where(links.c.issue_id.in_(issue_ids))
        .group_by(links.c.feedback_id)
        .having(func.count() == len(set(issue_ids)))
    )


def linked_to_all(issue_ids: Sequence[int]) -> ColumnElement[bool]:
    """Linked to every one of ``issue_ids`` (and maybe more)."""
    return _ids_in(_linked_to_all(issue_ids)) if issue_ids else true()


def linked_to_exactly(issue_ids: Sequence[int]) -> ColumnElement[bool]:
    """Linked to exactly the set ``issue_ids``; empty means linked to none."""
    linked = select(links.c.feedback_id)
    if not issue_ids:
        return ~_ids_in(linked)
    others = linked.where(links.c.issue_id.not_in(issue_ids))
    return and_(_ids_in(_linked_to_all(issue_ids)), ~_ids_in(others))


def linked_to_issue_named(project_id: int, name: str) -> ColumnElement[bool]:
    named = select(Issue.id).where(Issue.project_id == project_id, Issue.name == name)
    return _ids_in(select(links.c.feedback_id).where(links.c.issue_id.in_(named)))


def images_contain(key: str, values: Sequence[str]) -> ColumnElement[bool]:
    """Every value is a substring of the field's stored URL list (a scan: images are rare
    filters and always come with the channel condition)."""
    stored = Feedback.data[key].as_string()
    return all_of([contains_ignoring_case(stored, value) for value in values])


def sort_value(field_id: int, numeric: bool) -> Any:
    """A number or date field's value, for ORDER BY."""
    value = FeedbackValue.num_value if numeric else FeedbackValue.text_value
    return (
        select(value)
        .where(FeedbackValue.feedback_id == Feedback.id, FeedbackValue.field_id == field_id)
        .limit(1)
        .scalar_subquery()
    )
