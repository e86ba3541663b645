"""Pieces of requests shared by the search and console services: days, date windows, sorts.

Sort keys are looked up in a fixed mapping of columns, so no client text reaches SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement

from feedback_service.errors import InvalidInput
from feedback_service.timestamps import parse_timestamp

# A tuple, not a set: membership of an unhashable JSON value must be False, not a TypeError.
SORT_METHODS = ("ASC", "DESC")
INT64 = 2**63
# Only the form a date input sends: fromisoformat alone also takes 20240101 and 2024-W01-1.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_day(label: str, text: str, earliest: date, latest: date) -> date:
    """A ``YYYY-MM-DD`` day of the calendar between the bounds. :raises InvalidInput:"""
    if not ISO_DAY.fullmatch(text):
        raise InvalidInput(f"{label}: {text!r} is not a date (use YYYY-MM-DD).")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a day of the calendar.") from None
    if not earliest <= day <= latest:
        raise InvalidInput(f"{label}: choose a day between {earliest} and {latest}.")
    return day


def is_int64(value: Any) -> bool:
    """A JSON integer that fits a database integer column (booleans are not integers)."""
    return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64


@dataclass(frozen=True)
class DateRange:
    gte: datetime | None
    lt: datetime | None

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        bounds = []
        if self.gte is not None:
            bounds.append(column >= self.gte)
        if self.lt is not None:
            bounds.append(column < self.lt)
        return bounds


def date_range(key: str, value: Any, *, require_both: bool) -> DateRange:
    """Read ``{"gte": ..., "lt": ...}``; ``<key> must be DateTimeRange`` otherwise."""
    error = InvalidInput(f"{key} must be DateTimeRange")
    if not isinstance(value, Mapping) or set(value) - {"gte", "lt"}:
        raise error
    if require_both and (value.get("gte") is None or value.get("lt") is None):
        raise error
    bounds: dict[str, datetime | None] = {"gte": None, "lt": None}
    for bound in ("gte", "lt"):
        if value.get(bound) is None:
            continue
        text = value[bound]
        parsed = parse_timestamp(text) if isinstance(text, str) else None
        if parsed is None:
            raise error
        bounds[bound] = parsed
    if not any(bounds.values()):
        raise error
    return DateRange(**bounds)


def sort_order(sort: Any, columns: Mapping[str, Any]) -> list[ColumnElement[Any]]:
    """``{"createdAt": "ASC"}`` to ORDER BY terms, ending with ``id`` DESC unless sorted by id.

    The trailing id keeps pages stable when sort values repeat; ``columns`` must map ``id``.
    """
    if sort is None:
        sort = {}
    if not isinstance(sort, Mapping):
        raise InvalidInput("sort must be an object")
    order: list[ColumnElement[Any]] = []
    for key, method in sort.items():
        if method not in SORT_METHODS:
            raise InvalidInput("invalid sort method")
        if key not in columns:
            raise InvalidInput("bad key in sort")
        order.append(columns[key].asc() if method == "ASC" else columns[key].desc())
    if "id" not in sort:
        order.append(columns["id"].desc())
    return order
