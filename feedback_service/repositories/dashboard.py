"""Aggregates for a project's dashboard: every count is computed by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Interval, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from feedback_service.models import Channel, Feedback, Issue, IssueStatus


@dataclass(frozen=True)
class OffsetSpan:
    """A stretch of time in which the project's zone keeps one UTC offset.

    ``until`` is the UTC instant the next offset starts (None for the last span).
    """

    until: datetime | None
    offset_seconds: int


def _shifted_date(
    dialect: str, column: ColumnElement[datetime], seconds: int
) -> ColumnElement[Any]:
    """The calendar date of a naive UTC timestamp moved by ``seconds``."""
    if dialect == "sqlite":
        # Timestamps are text; date() reads them and applies the modifier exactly.
        return func.date(column, f"{seconds:+d} seconds")
    return cast(column + literal(timedelta(seconds=seconds), Interval()), Date)


def local_day(
    dialect: str, column: ColumnElement[datetime], spans: Sequence[OffsetSpan]
) -> ColumnElement[date]:
    """The local date of ``column``: UTC plus the offset in force at that instant.

    One CASE branch per offset change in the window (usually none, one or two), so the cost
    per row stays constant however long the window is.
    """
    *earlier, last = spans
    expression = _shifted_date(dialect, column, last.offset_seconds)
    if earlier:
        expression = case(
            *(
                (column < span.until, _shifted_date(dialect, column, span.offset_seconds))
                for span in earlier
            ),
            else_=expression,
        )
    # SQLite answers text and PostgreSQL a date; Date turns both into a date.
    return type_coerce(expression, Date())


def feedback_per_local_day(
    session: Session,
    channel_ids: Sequence[int],
    start: datetime,
    end: datetime,
    spans: Sequence[OffsetSpan],
) -> list[tuple[int, date, int]]:
    """``(channel id, local day, count)`` for feedback created in ``[start, end)``.

    The channel and time range filters are what ``ix_feedback_channel_id_created_at`` serves.
    """
    if not channel_ids:
        return []
    dialect = session.get_bind().dialect.name
    day = local_day(dialect, Feedback.created_at, spans).label("day")
    stmt = (
        select(Feedback.channel_id, day, func.count())
        .where(
            Feedback.channel_id.in_(channel_ids),
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )
        .group_by(Feedback.channel_id, day)
    )
    return [(channel_id, day_, count) for channel_id, day_, count in session.execute(stmt)]


def _counts_since(
    column: ColumnElement[datetime], since: Sequence[datetime], until: datetime
) -> list[ColumnElement[int]]:
    """One conditional sum per instant: a single pass answers every window."""
    return [
        func.coalesce(func.sum(case(((column >= start) & (column < until), 1), else_=0)), 0)
        for start in since
    ]


def count_feedback_since(
    session: Session, channel_ids: Sequence[int], since: Sequence[datetime], until: datetime
) -> list[int]:
    """For each instant in ``since``, the feedback created from it up to ``until``."""
    if not channel_ids or not since:
        return [0 for _ in since]
    stmt = select(*_counts_since(Feedback.created_at, since, until)).where(
        Feedback.channel_id.in_(channel_ids),
        Feedback.created_at >= min(since),
        Feedback.created_at < until,
    )
    return [int(value) for value in session.execute(stmt).one()]


def count_feedback(session: Session, project_id: int) -> int:
    # Each channel keeps its exact count up to date: no scan of a million rows.
    stmt = select(func.coalesce(func.sum(Channel.feedback_count), 0)).where(
        Channel.project_id == project_id
    )
    return int(session.scalar(stmt) or 0)


def count_issues_since(
    session: Session, project_id: int, since: Sequence[datetime], until: datetime
) -> tuple[list[int], int]:
    """For each instant in ``since``, the issues created from it up to ``until``; and the total."""
    stmt = select(*_counts_since(Issue.created_at, since, until), func.count()).where(
        Issue.project_id == project_id
    )
    *windows, total = session.execute(stmt).one()
    return [int(value) for value in windows], int(total)


def issues_by_status(session: Session, project_id: int) -> dict[IssueStatus, int]:
    stmt = (
        select(Issue.status, func.count())
        .where(Issue.project_id == project_id)
        .group_by(Issue.status)
    )
    return {status: count for status, count in session.execute(stmt)}


def top_issues(session: Session, project_id: int, limit: int) -> list[Issue]:
    """The issues with the most linked feedback (at least one), ties by id."""
    stmt = (
        select(Issue)
        .where(Issue.project_id == project_id, Issue.feedback_count > 0)
        .order_by(Issue.feedback_count.desc(), Issue.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
