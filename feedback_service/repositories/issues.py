from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from feedback_service.models import (
    Channel,
    Feedback,
    Field,
    FieldFormat,
    FieldStatus,
    Issue,
    IssueStatus,
    feedback_issue,
)
from feedback_service.repositories.pagination import Page, paginate


def get_issue(session: Session, project_id: int, issue_id: int) -> Issue | None:
    stmt = select(Issue).where(Issue.id == issue_id, Issue.project_id == project_id)
    return session.scalar(stmt)


def issues_named(session: Session, project_id: int, names: Iterable[str]) -> list[Issue]:
    stmt = select(Issue).where(Issue.project_id == project_id, Issue.name.in_(list(names)))
    return list(session.scalars(stmt))


def add_to_feedback_count(session: Session, issue_id: int, delta: int) -> None:
    stmt = (
        update(Issue)
        .where(Issue.id == issue_id)
        .values(feedback_count=Issue.feedback_count + delta)
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)


def search_issues(
    session: Session,
    project_id: int,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[object]],
    page: int,
    limit: int,
) -> Page[Issue]:
    stmt = select(Issue).where(Issue.project_id == project_id, *conditions).order_by(*order_by)
    return paginate(session, stmt, page, limit)


def delete_issues(session: Session, project_id: int, issue_ids: Sequence[int]) -> int:
    stmt = delete(Issue).where(Issue.project_id == project_id, Issue.id.in_(issue_ids))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def count_by_status(session: Session, project_id: int) -> dict[IssueStatus, int]:
    stmt = (
        select(Issue.status, func.count())
        .where(Issue.project_id == project_id)
        .group_by(Issue.status)
    )
    return {status: count for status, count in session.execute(stmt)}


def most_linked_in_status(
    session: Session, project_id: int, status: IssueStatus, limit: int
) -> list[Issue]:
    """The issues of one status, most feedback first (ties in id order), at most ``limit``."""
    stmt = (
        select(Issue)
        .where(Issue.project_id == project_id, Issue.status == status)
        .order_by(Issue.feedback_count.desc(), Issue.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def linked_feedback(
    session: Session, project_id: int, issue_id: int, limit: int
) -> list[tuple[Feedback, str]]:
    """The newest feedback linked to an issue of the project, each with its channel's name."""
    stmt = (
        select(Feedback, Channel.name)
        .join(feedback_issue, feedback_issue.c.feedback_id == Feedback.id)
        .join(Channel, Channel.id == Feedback.channel_id)
        .where(
            feedback_issue.c.issue_id == issue_id,
            # A link can only join an issue and feedback of one project; checked all the same.
            Channel.project_id == project_id,
        )
        .order_by(Feedback.id.desc())
        .limit(limit)
    )
    return [(found, channel_name) for found, channel_name in session.execute(stmt)]


def text_field_keys(session: Session, channel_ids: Collection[int]) -> dict[int, list[str]]:
    """The keys of each channel's active text fields, in the channel's field order."""
    stmt = (
        select(Field.channel_id, Field.key)
        .where(
            Field.channel_id.in_(list(channel_ids)),
            Field.format == FieldFormat.text,
            Field.status == FieldStatus.ACTIVE,
        )
        .order_by(Field.order, Field.id)
    )
    keys: dict[int, list[str]] = {}
    for channel_id, key in session.execute(stmt):
        keys.setdefault(channel_id, []).append(key)
    return keys
