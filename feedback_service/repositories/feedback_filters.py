"""Search filters on a channel's feedback, each answered from an index.

A filter is a ``Match``: always a SQL condition on ``feedback``, and, when the whole filter
is one set of ids read from an index in id order (the FTS5 table, or ``feedback_value`` for
one field), that id query too, so a page and its exact total come straight from the index
without materialising every matching id (see ``repositories.feedback_search``).

Values are always bound parameters; field ids and FTS column names come from the channel's
fields, never from client text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)

from feedback_service.models import FTS_TABLE, Feedback, FeedbackValue, Issue
from feedback_service.models import feedback_issue as links
from feedback_service.repositories.search_index import channel_marker, fts
from feedback_service.repositories.text_match import (
    LIKE_ESCAPE,
    contains_ignoring_case,
    like_pattern,
)

# FTS5 trigram matching needs three characters; shorter text is matched by scanning.
TRIGRAM = 3


@dataclass(frozen=True)
class Match:
    condition: ColumnElement[bool]
    # This channel's matching feedback ids, one row each, readable in id order from an index.
    ids: Select[Any] | None = None
    unfiltered: bool = False


EVERYTHING = Match(true(), unfiltered=True)
NOTHING = Match(false())


def _ids(stmt: Select[Any]) -> Match:
    return Match(Feedback.id.in_(stmt), stmt)


def all_of(matches: Sequence[Match]) -> Match:
    filters = [m for m in matches if not m.unfiltered]
    if not filters:
        return EVERYTHING
    if len(filters) == 1:
        return filters[0]
    return Match(and_(*(m.condition for m in filters)))


def any_of(matches: Sequence[Match]) -> Match:
    if any(m.unfiltered for m in matches):
        return EVERYTHING
    if not matches:
        return NOTHING
    if len(matches) == 1:
        return matches[0]
    return Match(or_(*(m.condition for m in matches)))


def condition(expression: ColumnElement[bool]) -> Match:
    return Match(expression)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def text_contains(dialect: str, channel_id: int, columns: dict[str, str], text: str) -> Match:
    """One of the text fields ``columns`` (key -> FTS column) contains ``text``, any case."""
    if not columns:
        return NOTHING
    folded = text.casefold()
    in_channel = fts.c.channel == channel_marker(channel_id)
    if dialect != "sqlite":
        # PostgreSQL text cannot hold a NUL, so no stored text contains one.
        if "\x00" in folded:
            return NOTHING
        pattern = like_pattern(folded)
        found = [fts.c[column].like(pattern, escape=LIKE_ESCAPE) for column in columns.values()]
        return _ids(select(fts.c.rowid).where(in_channel, or_(*found)))
    # A NUL would end the FTS5 query string early; short or NUL-holding text is matched by
    # scanning the index's own (casefolded) copy of the channel's text, newest first.
    if len(folded) < TRIGRAM or "\x00" in folded:
        scanned = [contains_ignoring_case(fts.c[column], folded) for column in columns.values()]
        return _ids(select(fts.c.rowid).where(in_channel, or_(*scanned)))
    query = (
        f"channel : {_fts_phrase(channel_marker(channel_id))} AND "
        f"{{{' '.join(columns.values())}}} : {_fts_phrase(folded)}"
    )
    return _ids(select(fts.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(query)))


def value_ids(field_ids: Sequence[int], value: str) -> Select[Any]:
    return select(FeedbackValue.feedback_id).where(
        FeedbackValue.field_id.in_(field_ids), FeedbackValue.text_value == value
    )


def number_ids(field_ids: Sequence[int], value: float) -> Select[Any]:
    return select(FeedbackValue.feedback_id).where(
        FeedbackValue.field_id.in_(field_ids), FeedbackValue.num_value == value
    )


def value_equals(field_id: int, value: str) -> Match:
    return _ids(value_ids([field_id], value))


def value_in(field_id: int, values: Sequence[str]) -> Match:
    """A keyword, select or date field holds one of ``values``."""
    stmt = select(FeedbackValue.feedback_id).where(
        FeedbackValue.field_id == field_id, FeedbackValue.text_value.in_(values)
    )
    return _ids(stmt)


def number_equals(field_id: int, value: float) -> Match:
    return _ids(number_ids([field_id], value))


def union_of(id_sets: Sequence[Select[Any]]) -> Match:
    """Feedback in any of the id sets (of this channel's fields)."""
    if not id_sets:
        return NOTHING
    if len(id_sets) == 1:
        return _ids(id_sets[0])
    return Match(or_(*(Feedback.id.in_(ids) for ids in id_sets)))


def value_between(field_id: int, gte: str | None, lt: str | None) -> Match:
    """A date field's value (ISO 8601 UTC text, which sorts by time) within ``[gte, lt)``."""
    stmt = select(FeedbackValue.feedback_id).where(FeedbackValue.field_id == field_id)
    if gte is not None:
        stmt = stmt.where(FeedbackValue.text_value >= gte)
    if lt is not None:
        stmt = stmt.where(FeedbackValue.text_value < lt)
    return _ids(stmt)


def _values_of(field_id: int, values: Sequence[str]) -> Select[Any]:
    return (
        select(FeedbackValue.feedback_id)
        .where(FeedbackValue.field_id == field_id, FeedbackValue.text_value.in_(values))
        .group_by(FeedbackValue.feedback_id)
        .having(func.count(FeedbackValue.text_value.distinct()) == len(set(values)))
    )


def has_all_values(field_id: int, values: Sequence[str]) -> Match:
    """A multiSelect field holds every one of ``values`` (and maybe more)."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        # Elements are indexed once each: one value is a plain, streamable index lookup.
        return value_equals(field_id, distinct[0])
    return _ids(_values_of(field_id, distinct)) if distinct else NOTHING


def has_exactly_values(field_id: int, values: Sequence[str]) -> Match:
    """A multiSelect field holds exactly the set ``values``; empty means none (or missing)."""
    held = select(FeedbackValue.feedback_id).where(FeedbackValue.field_id == field_id)
    if not values:
        return Match(Feedback.id.not_in(held))
    extra = held.where(FeedbackValue.text_value.not_in(values))
    return Match(and_(Feedback.id.in_(_values_of(field_id, values)), Feedback.id.not_in(extra)))


def linked_to_any(issue_ids: Sequence[int]) -> Match:
    return Match(
        Feedback.id.in_(select(links.c.feedback_id).where(links.c.issue_id.in_(issue_ids)))
    )


def _linked_to_all(issue_ids: Sequence[int]) -> Select[Any]:
    return (
        select(links.c.feedback_id)
        .where(links.c.issue_id.in_(issue_ids))
        .group_by(links.c.feedback_id)
        .having(func.count() == len(set(issue_ids)))
    )


def linked_to_all(issue_ids: Sequence[int]) -> Match:
    """Linked to every one of ``issue_ids`` (and maybe more)."""
    return Match(Feedback.id.in_(_linked_to_all(issue_ids))) if issue_ids else EVERYTHING


def linked_to_exactly(issue_ids: Sequence[int]) -> Match:
    """Linked to exactly the set ``issue_ids``; empty means linked to none."""
    linked = select(links.c.feedback_id)
    if not issue_ids:
        return Match(Feedback.id.not_in(linked))
    others = linked.where(links.c.issue_id.not_in(issue_ids))
    return Match(and_(Feedback.id.in_(_linked_to_all(issue_ids)), Feedback.id.not_in(others)))


def linked_to_issue_named(project_id: int, name: str) -> Match:
    named = select(Issue.id).where(Issue.project_id == project_id, Issue.name == name)
    return Match(Feedback.id.in_(select(links.c.feedback_id).where(links.c.issue_id.in_(named))))


def images_contain(key: str, values: Sequence[str]) -> Match:
    """Every value is a substring of the field's stored URL list (a scan: images are rare
    filters)."""
    stored = Feedback.data[key].as_string()
    return Match(and_(true(), *(contains_ignoring_case(stored, value) for value in values)))


def sort_value(field_id: int, numeric: bool) -> Any:
    """A number or date field's value, for ORDER BY."""
    value = FeedbackValue.num_value if numeric else FeedbackValue.text_value
    return (
        select(value)
        .where(FeedbackValue.feedback_id == Feedback.id, FeedbackValue.field_id == field_id)
        .limit(1)
        .scalar_subquery()
    )
