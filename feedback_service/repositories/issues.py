from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from feedback_service.models import Issue
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
