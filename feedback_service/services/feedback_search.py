"""Feedback search: the v1 ``query`` object, the simple GET form and v2 ``queries``.

Each request is read against the channel's fields into one SQL condition (see
``repositories.feedback_filters``), with the reference server's validation messages. Sort keys
and field ids come from the channel, never from client text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput
from feedback_service.models import Channel, Feedback, Field, FieldFormat
from feedback_service.repositories import feedback_filters as sql
from feedback_service.repositories import feedback_search as repo
from feedback_service.repositories.feedback_filters import EVERYTHING, NOTHING, Match
from feedback_service.repositories.pagination import Page
from feedback_service.repositories.search_index import text_columns
from feedback_service.services.channels import channel_definition
from feedback_service.services.query_parsing import date_range, is_int64, sort_order
from feedback_service.timestamps import parse_timestamp, to_iso

# Keys of a v1 query that are not fields.
V1_CONTROL_KEYS = ("searchText", "fieldKey", "issueName", "condition", "feedbackSearchMaxDays")
CONDITIONS = ("CONTAINS", "IS", "BETWEEN")
OPERATORS = ("AND", "OR")
DEFAULT_OPERATOR = "AND"
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
DAY_SECONDS = 86400
MILLISECOND = timedelta(milliseconds=1)
EQUALITY_FORMATS = (FieldFormat.keyword, FieldFormat.select, FieldFormat.multiSelect)
# The channel's default fields, which live in columns and links rather than in `data`.
COLUMN_FIELDS = {
    "id": Feedback.id,
    "createdAt": Feedback.created_at,
    "updatedAt": Feedback.updated_at,
}


def _number(text: str) -> float | None:
    if not NUMBER.match(text):
        return None
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else None


@dataclass(frozen=True)
class ChannelQuery:
    """Reads search requests against one channel's fields."""

    project_id: int
    channel: Channel
    session: Session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @cached_property
    def text_columns(self) -> dict[str, str]:
        return text_columns(self.channel.fields)

    @cached_property
    def fields(self) -> dict[str, Field]:
        return {field_.key: field_ for field_ in self.channel.fields}

    def _custom_fields(self, *formats: FieldFormat) -> list[int]:
        return [
            f.id
            for f in self.channel.fields
            if f.format in formats and f.key not in COLUMN_FIELDS and f.key != "issues"
        ]

    def _field(self, key: str, message: str) -> Field:
        field_ = self.fields.get(key)
        if field_ is None:
            raise InvalidInput(message)
        return field_

    # -- values, with the reference's messages -------------------------------------------

    def _string(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidInput(f"{key} must be string")
        return value

    def _number_value(self, key: str, value: Any) -> float:
        if isinstance(value, float) or is_int64(value):
            return value
        raise InvalidInput(f"{key} must be number")

    def _strings(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInput(f"{key} must be array of string")
        return value

    def _ids(self, key: str, value: Any) -> list[int]:
        if not isinstance(value, list) or not all(is_int64(item) for item in value):
            raise InvalidInput(f"{key} must be array")
        return value

    def _window(self, key: str, value: Any) -> tuple[datetime, datetime]:
        """A ``{gte, lt}`` range no longer than the channel's search window."""
        window = date_range(key, value, require_both=True)
        assert window.gte is not None and window.lt is not None
        max_days = self.channel.feedback_search_max_days
        if max_days >= 0 and (window.lt - window.gte).total_seconds() > max_days * DAY_SECONDS:
            raise InvalidInput(f"{key} must be less than {max_days} days")
        return window.gte, window.lt

    def _date_condition(self, field_: Field, value: Any) -> Match:
        gte, lt = self._window(field_.key, value)
        if field_.key in COLUMN_FIELDS:
            column = COLUMN_FIELDS[field_.key]
            return sql.condition((column >= gte) & (column < lt))
        return sql.value_between(field_.id, to_iso(gte), to_iso(lt))

    def _issue_names(self, names: Sequence[str]) -> Match:
        return sql.all_of([sql.linked_to_issue_named(self.project_id, name) for name in names])

    def _text(self, keys: Sequence[str], text: str) -> Match:
        columns = {key: self.text_columns[key] for key in keys}
        return sql.text_contains(self.dialect, self.channel.id, columns, text)

    # -- one field, per format ----------------------------------------------------------

    def field_condition(self, field_: Field, value: Any, condition: str | None) -> Match:
        """A field filter: ``condition`` is v2's CONTAINS/IS/BETWEEN, None for v1."""
        key, fmt = field_.key, field_.format
        if fmt is FieldFormat.date:
            return self._date_condition(field_, value)
        if key == "id":
            return sql.condition(Feedback.id == self._number_value(key, value))
        if key == "issues":
            return self._issue_names(self._strings(key, value))
        if fmt is FieldFormat.text:
            return self._text([key], self._string(key, value))
        if fmt in (FieldFormat.keyword, FieldFormat.select):
            return sql.value_equals(field_.id, self._string(key, value))
        if fmt is FieldFormat.number:
            return sql.number_equals(field_.id, self._number_value(key, value))
        if fmt is FieldFormat.images:
            return sql.images_contain(key, self._strings(key, value))
        values = self._strings(key, value)
        if condition is None:
            # v1 requires each given value in turn, so no values require nothing.
            return sql.has_all_values(field_.id, values) if values else EVERYTHING
        if condition == "IS":
            return sql.has_exactly_values(field_.id, values)
        if condition == "CONTAINS":
            return sql.has_all_values(field_.id, values)
        return EVERYTHING  # BETWEEN on a multiSelect filters nothing, as in the reference

    # -- free text ----------------------------------------------------------------------

    def _text_on_field(self, field_: Field, text: str) -> Match:
        """searchText restricted to one field by fieldKey."""
        number, moment = _number(text), parse_timestamp(text)
        if field_.key == "id":
            if number is None or not number.is_integer() or not is_int64(int(number)):
                return NOTHING
            return sql.condition(Feedback.id == int(number))
        if field_.key in COLUMN_FIELDS:
            if moment is None:
                return NOTHING
            # The API shows milliseconds; the column keeps microseconds.
            column = COLUMN_FIELDS[field_.key]
            return sql.condition((column >= moment) & (column < moment + MILLISECOND))
        if field_.key == "issues":
            return sql.linked_to_issue_named(self.project_id, text)
        if field_.format is FieldFormat.text:
            return self._text([field_.key], text)
        if field_.format in EQUALITY_FORMATS:
            return sql.value_equals(field_.id, text)
        if field_.format is FieldFormat.number:
            return sql.number_equals(field_.id, number) if number is not None else NOTHING
        if field_.format is FieldFormat.date:
            return sql.value_equals(field_.id, to_iso(moment)) if moment else NOTHING
        return sql.images_contain(field_.key, [text])

    def _holds_any(self, ids: Select[Any]) -> bool:
        return self.session.scalar(ids.limit(1)) is not None

    def search_text(self, text: str, field_key: str | None) -> Match:
        """Substring of a text field, or equal to a keyword, option, number or date."""
        if field_key is not None:
            return self._text_on_field(
                self._field(field_key, f"invalid field key: {field_key}"), text
            )
        text_match = self._text(list(self.text_columns), text)
        # Exact-value matches are rare for free text; checking for them first (one index seek
        # each) keeps the common case a single streamable index query.
        id_sets: list[Select[Any]] = []
        equal_fields = self._custom_fields(*EQUALITY_FORMATS)
        if equal_fields:
            id_sets.append(sql.value_ids(equal_fields, text))
        number, moment = _number(text), parse_timestamp(text)
        number_fields = self._custom_fields(FieldFormat.number)
        if number is not None and number_fields:
            id_sets.append(sql.number_ids(number_fields, number))
        date_fields = self._custom_fields(FieldFormat.date)
        if moment is not None and date_fields:
            id_sets.append(sql.value_ids(date_fields, to_iso(moment)))
        exact = sql.union_of([ids for ids in id_sets if self._holds_any(ids)])
        return sql.any_of([m for m in (text_match, exact) if m is not NOTHING])

    # -- whole requests -----------------------------------------------------------------

    def v1_condition(self, query: Mapping[str, Any]) -> Match:
        """The v1 ``query`` object: every key AND-ed."""
        conditions: list[Match] = []
        for key, value in query.items():
            if key == "ids":
                conditions.append(sql.condition(Feedback.id.in_(self._ids(key, value))))
            elif key == "issueIds":
                conditions.append(sql.linked_to_any(self._ids(key, value)))
            elif key not in V1_CONTROL_KEYS:
                field_ = self._field(key, f"invalid key in query: {key}")
                conditions.append(self.field_condition(field_, value, None))
        field_key = query.get("fieldKey")
        if field_key is not None:
            field_key = self._string("fieldKey", field_key)
            self._field(field_key, f"invalid field key: {field_key}")
        text = query.get("searchText")
        if text is not None and self._string("searchText", text):
            conditions.append(self.search_text(text, field_key))
        issue_name = query.get("issueName")
        if issue_name is not None:
            name = self._string("issueName", issue_name)
            conditions.append(sql.linked_to_issue_named(self.project_id, name))
        return sql.all_of(conditions)

    def _v2_query(self, item: Any) -> Match:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise InvalidInput("queries must be an array of {key, value, condition} objects")
        key, value, condition = item["key"], item.get("value"), item.get("condition")
        if condition not in CONDITIONS:
            raise InvalidInput(
                "condition must be one of the following values: " + ", ".join(CONDITIONS)
            )
        if key == "ids":
            return sql.condition(Feedback.id.in_(self._ids(key, value)))
        if key == "issueIds":
            ids = self._ids(key, value)
            if condition == "IS":
                return sql.linked_to_exactly(ids)
            return sql.linked_to_all(ids) if condition == "CONTAINS" else EVERYTHING
        field_ = self._field(key, f"invalid key in query: {key}")
        return self.field_condition(field_, value, condition)

    def v2_condition(
        self, queries: Sequence[Any], default_queries: Sequence[Any], operator: Any
    ) -> Match:
        """``queries`` joined by ``operator`` (default AND), AND every default query."""
        if operator is None:
            operator = DEFAULT_OPERATOR
        if operator not in OPERATORS:
            raise InvalidInput("Invalid operator")
        chosen = [self._v2_query(item) for item in queries]
        defaults = [self._v2_query(item) for item in default_queries]
        if not chosen:
            joined = EVERYTHING
        elif operator == "AND":
            joined = sql.all_of(chosen)
        else:
            joined = sql.any_of(chosen)
        return sql.all_of([joined, *defaults])

    def order(self, sort: Any) -> list[ColumnElement[Any]]:
        """ORDER BY for ``sort``: ids and timestamps, or a number or date field."""
        columns: dict[str, Any] = dict(COLUMN_FIELDS)
        for field_ in self.channel.fields:
            if field_.key in COLUMN_FIELDS:
                continue
            if field_.format in (FieldFormat.number, FieldFormat.date):
                numeric = field_.format is FieldFormat.number
                columns[field_.key] = sql.sort_value(field_.id, numeric)
        if isinstance(sort, Mapping):
            for key in sort:
                if key in self.fields and key not in columns:
                    raise InvalidInput("unsortable format")
        return sort_order(sort, columns)


def _run(
    project_id: int,
    channel_id: int,
    build: Callable[[ChannelQuery], Match],
    sort: Any,
    page: int,
    limit: int,
) -> Page[Feedback]:
    with unit_of_work(write=False) as session:
        channel = channel_definition(session, project_id, channel_id)
        reader = ChannelQuery(project_id, channel, session)
        match = build(reader)
        order = reader.order(sort)
        newest_first = not sort or dict(sort) == {"id": "DESC"}
        return repo.search_feedback(session, channel, match, order, newest_first, page, limit)


def search_v1(
    project_id: int, channel_id: int, query: Mapping[str, Any], sort: Any, page: int, limit: int
) -> Page[Feedback]:
    """``POST .../feedbacks/search``. :raises ChannelNotFound: :raises InvalidInput:"""
    return _run(project_id, channel_id, lambda r: r.v1_condition(query), sort, page, limit)


def search_v2(
    project_id: int,
    channel_id: int,
    queries: Sequence[Any],
    default_queries: Sequence[Any],
    operator: Any,
    sort: Any,
    page: int,
    limit: int,
) -> Page[Feedback]:
    """``POST /api/v2/.../feedbacks/search``. :raises ChannelNotFound: :raises InvalidInput:"""

    def build(reader: ChannelQuery) -> Match:
        return reader.v2_condition(queries, default_queries, operator)

    return _run(project_id, channel_id, build, sort, page, limit)
