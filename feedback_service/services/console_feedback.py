"""The console's view of a channel's feedback.

The filter form is read into the integration API's v2 ``queries`` and ``searchText`` and run
by the same search readers (``services.feedback_search``), so the console finds exactly what
the API finds. Cells are formatted here once for the table and the exports, and the edit form
is read back into the body ``services.feedback.update_feedback`` takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput
from feedback_service.ids import parse_id
from feedback_service.models import (
    Channel,
    Feedback,
    Field,
    FieldFormat,
    FieldProperty,
    FieldStatus,
)
from feedback_service.repositories import feedback as feedback_repo
from feedback_service.repositories import feedback_search as search_repo
from feedback_service.repositories import issues as issues_repo
from feedback_service.repositories.feedback_filters import Match, all_of
from feedback_service.repositories.pagination import Page
from feedback_service.services.channels import channel_in_project
from feedback_service.services.feedback_search import ChannelQuery
from feedback_service.services.query_parsing import is_int64, parse_day
from feedback_service.timestamps import parse_timestamp, to_iso

DEFAULT_KEYS = ("id", "createdAt", "updatedAt", "issues")
TIMESTAMP_KEYS = ("createdAt", "updatedAt")
# Filters and edits name custom fields with these prefixes: ``f.kind=bug``, ``v.kind=bug``.
FILTER_PREFIX = "f."
VALUE_PREFIX = "v."
# The sort links the table offers; no sort is newest first, which reads straight off an index.
SORTS: dict[str, dict[str, str]] = {
    "id": {"id": "ASC"},
    "-id": {"id": "DESC"},
    "createdAt": {"createdAt": "ASC"},
    "-createdAt": {"createdAt": "DESC"},
    "updatedAt": {"updatedAt": "ASC"},
    "-updatedAt": {"updatedAt": "DESC"},
}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Days the forms accept: far enough back for "everything up to this day" when a channel's
# window is unlimited, and clear of the calendar's ends, where converting to UTC overflows.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9998, 12, 31)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
INPUT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
MAX_TEXT_FILTER = 1000


# -- columns and cells ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field as the table and the exports show it."""

    key: str
    name: str
    format: FieldFormat
    # Option key -> option name, for select and multiSelect (values are stored by key).
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def sortable(self) -> bool:
        return self.key in ("id", *TIMESTAMP_KEYS)


def _column(field_: Field) -> Column:
    options = {option.key: option.name for option in field_.options}
    return Column(field_.key, field_.name, field_.format, options)


def table_columns(channel: Channel) -> list[Column]:
    """The channel's active fields: id, createdAt, updatedAt and issues first, then the rest."""
    active = [f for f in channel.fields if f.status is FieldStatus.ACTIVE]
    defaults = sorted(
        (f for f in active if f.key in DEFAULT_KEYS), key=lambda f: DEFAULT_KEYS.index(f.key)
    )
    custom = [f for f in active if f.key not in DEFAULT_KEYS]
    return [_column(f) for f in (*defaults, *custom)]


def filter_columns(channel: Channel) -> list[Column]:
    """The custom fields the filter form offers one input each."""
    return [column for column in table_columns(channel) if column.key not in DEFAULT_KEYS]


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime(TIME_FORMAT)


def _stored_time(value: Any, zone: ZoneInfo) -> str | None:
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    return local_time(parsed, zone) if parsed else None


def cell_value(column: Column, feedback: Feedback, zone: ZoneInfo) -> Any:
    """One cell: a string, a number, None, or for images the list of URLs."""
    if column.key == "id":
        return feedback.id
    if column.key in TIMESTAMP_KEYS:
        moment = feedback.created_at if column.key == "createdAt" else feedback.updated_at
        return local_time(moment, zone)
    if column.key == "issues":
        return ", ".join(issue.name for issue in feedback.issues)
    value = feedback.data.get(column.key)
    if value is None:
        return None
    if column.format is FieldFormat.select:
        return column.options.get(value, value)
    if column.format is FieldFormat.multiSelect:
        return ", ".join(column.options.get(item, item) for item in value)
    if column.format is FieldFormat.date:
        return _stored_time(value, zone)
    if column.format is FieldFormat.images:
        return list(value)
    return value


def row_values(columns: Sequence[Column], feedback: Feedback, zone: ZoneInfo) -> list[Any]:
    return [cell_value(column, feedback, zone) for column in columns]


# -- the filter form -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFilters:
    """The list page's query string, as typed: nothing here is checked yet."""

    text: str = ""
    fields: Mapping[str, Sequence[str]] = field(default_factory=dict)
    date_from: str = ""
    date_to: str = ""
    issue: str = ""
    sort: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Sequence[str]]) -> FeedbackFilters:
        """From ``request.args.to_dict(flat=False)``; unrelated parameters are ignored."""

        def one(name: str) -> str:
            values = args.get(name) or [""]
            return values[0].strip()

        fields_ = {
            name.removeprefix(FILTER_PREFIX): [v.strip() for v in values if v.strip()]
            for name, values in args.items()
            if name.startswith(FILTER_PREFIX)
        }
        return cls(
            text=one("q"),
            fields={key: values for key, values in fields_.items() if values},
            date_from=one("from"),
            date_to=one("to"),
            issue=one("issue"),
            sort=one("sort"),
        )


def _number(label: str, text: str) -> int | float:
    if not NUMBER.match(text):
        raise InvalidInput(f"{label}: {text!r} is not a number.")
    number = float(text)
    if number.is_integer() and is_int64(int(number)):
        return int(number)
    if number in (float("inf"), float("-inf")):
        raise InvalidInput(f"{label}: {text!r} is too large.")
    return number


def _day(label: str, text: str) -> date:
    return parse_day(label, text, EARLIEST_DAY, LATEST_DAY)


def _day_window(first: date, last: date, zone: ZoneInfo) -> dict[str, str]:
    """Whole days ``first`` to ``last`` in the project's timezone, as a v2 ``{gte, lt}``."""
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return {"gte": to_iso(start), "lt": to_iso(end)}


def _option_key(column: Column, text: str) -> str:
    """An option by key (what the form sends) or by name (what a person types)."""
    if text in column.options:
        return text
    for key, name in column.options.items():
        if name == text:
            return key
    raise InvalidInput(f"{column.name}: there is no option {text!r}.")


def _field_query(column: Column, values: Sequence[str], zone: ZoneInfo) -> dict[str, Any]:
    """One custom field's filter as a v2 query item."""
    key, fmt, first = column.key, column.format, values[0]
    if fmt is FieldFormat.number:
        return {"key": key, "value": _number(column.name, first), "condition": "IS"}
    if fmt is FieldFormat.select:
        return {"key": key, "value": _option_key(column, first), "condition": "IS"}
    if fmt is FieldFormat.multiSelect:
        chosen = [_option_key(column, value) for value in values]
        return {"key": key, "value": chosen, "condition": "CONTAINS"}
    if fmt is FieldFormat.date:
        day = _day(column.name, first)
        return {"key": key, "value": _day_window(day, day, zone), "condition": "BETWEEN"}
    if fmt is FieldFormat.images:
        return {"key": key, "value": [first], "condition": "CONTAINS"}
    # Text fields match substrings, keywords whole values: the API's rules for each.
    return {
        "key": key,
        "value": first,
        "condition": "CONTAINS" if fmt is FieldFormat.text else "IS",
    }


def local_today(zone: ZoneInfo) -> date:
    return datetime.now(zone).date()


def _created_window(
    filters: FeedbackFilters, max_days: int, zone: ZoneInfo
) -> dict[str, str] | None:
    """``from``/``to`` as a createdAt window; a missing end is filled within the channel's limit."""
    if not filters.date_from and not filters.date_to:
        return None
    first = _day("From", filters.date_from) if filters.date_from else None
    last = _day("To", filters.date_to) if filters.date_to else None
    if last is None:
        assert first is not None
        last = max(local_today(zone), first)
    if first is None:
        first = last - timedelta(days=max_days - 1) if max_days > 0 else EARLIEST_DAY
        first = min(first, last)
    if first > last:
        raise InvalidInput("The start date (From) is after the end date (To).")
    days = (last - first).days + 1
    if max_days >= 0 and days > max_days:
        raise InvalidInput(
            f"The date range covers {days} days; this channel searches at most {max_days} days"
            " at a time. Narrow the range."
        )
    return _day_window(first, last, zone)


def _issue_query(session: Session, project_id: int, text: str) -> dict[str, Any]:
    issue_id = parse_id(text)
    if issue_id is None or issues_repo.get_issue(session, project_id, issue_id) is None:
        raise InvalidInput(f"Issue: there is no issue {text!r} in this project.")
    return {"key": "issueIds", "value": [issue_id], "condition": "CONTAINS"}


def _queries(
    session: Session, reader: ChannelQuery, filters: FeedbackFilters, zone: ZoneInfo
) -> list[dict[str, Any]]:
    by_key = {column.key: column for column in filter_columns(reader.channel)}
    queries: list[dict[str, Any]] = []
    for key, values in filters.fields.items():
        column = by_key.get(key)
        if column is None:
            raise InvalidInput(f"There is no field {key!r} to filter on in this channel.")
        queries.append(_field_query(column, values, zone))
    window = _created_window(filters, reader.channel.feedback_search_max_days, zone)
    if window is not None:
        queries.append({"key": "createdAt", "value": window, "condition": "BETWEEN"})
    if filters.issue:
        queries.append(_issue_query(session, reader.project_id, filters.issue))
    return queries


def sort_of(filters: FeedbackFilters) -> dict[str, str] | None:
    """The API ``sort`` object for the form's ``sort``; None for the default, newest first."""
    if not filters.sort:
        return None
    sort = SORTS.get(filters.sort)
    if sort is None:
        raise InvalidInput(f"Sort: {filters.sort!r} is not a column the table sorts by.")
    return sort


@dataclass(frozen=True)
class PreparedSearch:
    channel: Channel
    match: Match
    order: list[Any]
    newest_first: bool


def prepare(
    session: Session, project_id: int, channel_id: int, filters: FeedbackFilters, zone: ZoneInfo
) -> PreparedSearch:
    """The filter as one search condition, inside the caller's unit of work.

    :raises ChannelNotFound: :raises InvalidInput: with a message for the person who typed it.
    """
    channel = channel_in_project(session, project_id, channel_id)
    if len(filters.text) > MAX_TEXT_FILTER:
        raise InvalidInput(f"Search: at most {MAX_TEXT_FILTER} characters.")
    reader = ChannelQuery(project_id, channel, session)
    sort = sort_of(filters)
    match = reader.v2_condition(_queries(session, reader, filters, zone), [], "AND")
    if filters.text:
        match = all_of([match, reader.search_text(filters.text, None)])
    newest_first = sort is None or sort == {"id": "DESC"}
    return PreparedSearch(channel, match, reader.order(sort), newest_first)


def search(
    project_id: int,
    channel_id: int,
    filters: FeedbackFilters,
    zone: ZoneInfo,
    page: int,
    limit: int,
) -> Page[Feedback]:
    """One page of the channel's feedback that the filter form accepts, with the total.

    :raises ChannelNotFound: :raises InvalidInput:
    """
    with unit_of_work(write=False) as session:
        found = prepare(session, project_id, channel_id, filters, zone)
        return search_repo.search_feedback(
            session, found.channel, found.match, found.order, found.newest_first, page, limit
        )


def matching_ids(session: Session, found: PreparedSearch, limit: int) -> list[int]:
    """Up to ``limit`` matching ids, in the table's order."""
    return feedback_repo.matching_ids(
        session, found.channel.id, found.match, found.order, found.newest_first, limit
    )


def feedback_in_batches(session: Session, ids: Sequence[int], batch: int) -> Iterator[Feedback]:
    """The rows of ``ids`` in that order, read ``batch`` at a time (the session lets go of
    rows nobody holds, so memory stays flat)."""
    for start in range(0, len(ids), batch):
        yield from feedback_repo.feedback_by_ids(session, ids[start : start + batch])


# -- the edit form -------------------------------------------------------------------------


def editable_columns(channel: Channel, *, exclude: Sequence[str] = ()) -> list[Column]:
    """Fields a person may change: EDITABLE and ACTIVE, issues aside (they are linked)."""
    return [
        _column(f)
        for f in channel.fields
        if f.property is FieldProperty.EDITABLE
        and f.status is FieldStatus.ACTIVE
        and f.key not in DEFAULT_KEYS
        and f.key not in exclude
    ]


def input_value(column: Column, feedback: Feedback, zone: ZoneInfo) -> Any:
    """The current value as the edit form shows it: text, or a list of option names/URLs."""
    value = feedback.data.get(column.key)
    if column.format is FieldFormat.multiSelect:
        return [column.options.get(item, item) for item in value or []]
    if value is None:
        return ""
    if column.format is FieldFormat.select:
        return column.options.get(value, value)
    if column.format is FieldFormat.date:
        parsed = parse_timestamp(value) if isinstance(value, str) else None
        return parsed.astimezone(zone).strftime(INPUT_TIME_FORMAT) if parsed else ""
    if column.format is FieldFormat.images:
        return "\n".join(value)
    return str(value)


def _submitted(column: Column, values: Sequence[str]) -> Any:
    """The form's value in the shape ``input_value`` gives, to tell whether it changed."""
    if column.format is FieldFormat.multiSelect:
        return [value for value in values if value]
    text = (values[0] if values else "").replace("\r\n", "\n")
    if column.format is FieldFormat.images:
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())
    if column.format in (FieldFormat.text, FieldFormat.keyword):
        return text
    return text.strip()


def form_values(columns: Sequence[Column], form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """What the edit form sent, to show it again when the change is refused."""
    return {
        column.key: _submitted(column, form.get(VALUE_PREFIX + column.key, []))
        for column in columns
        if column.key in form.get("edit", [])
    }


def _option_name(column: Column, name: str) -> str:
    if name not in column.options.values() and name not in column.options:
        raise InvalidInput(f"{column.name}: there is no option {name!r}.")
    return column.options.get(name, name)


def _local_input_time(column: Column, text: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return to_iso(moment)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{column.name}: {text!r} is not a date and time.") from None


def _update_value(column: Column, submitted: Any, zone: ZoneInfo) -> Any:
    """The API update value (option names for selects) for a changed form value."""
    fmt = column.format
    if fmt is FieldFormat.multiSelect:
        return [_option_name(column, name) for name in submitted]
    if fmt is FieldFormat.select:
        return _option_name(column, submitted) if submitted else None
    if fmt is FieldFormat.number:
        return _number(column.name, submitted)
    if fmt is FieldFormat.date:
        return _local_input_time(column, submitted, zone) if submitted else None
    if fmt is FieldFormat.images:
        return submitted.split("\n") if submitted else []
    return submitted


def update_body(
    columns: Sequence[Column],
    feedback: Feedback,
    form: Mapping[str, Sequence[str]],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The changed fields among those the form carries (its ``edit`` list), as an update body.

    Unchanged values stay out, so saving a form never rewrites what nobody touched (a date's
    milliseconds, a number's spelling). An empty number means "leave it": numbers cannot be
    cleared through the API either.

    :raises InvalidInput:
    """
    by_key = {column.key: column for column in columns}
    body: dict[str, Any] = {}
    for key in dict.fromkeys(form.get("edit", [])):
        column = by_key.get(key)
        if column is None:
            raise InvalidInput(f"The field {key!r} cannot be edited.")
        submitted = _submitted(column, form.get(VALUE_PREFIX + key, []))
        if submitted == input_value(column, feedback, zone):
            continue
        if column.format is FieldFormat.number and submitted == "":
            continue
        body[key] = _update_value(column, submitted, zone)
    return body
