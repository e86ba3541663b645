from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from feedback_service.models import Category, Issue
from feedback_service.repositories.pagination import Page, paginate


def get_category(session: Session, project_id: int, category_id: int) -> Category | None:
    stmt = select(Category).where(Category.id == category_id, Category.project_id == project_id)
    return session.scalar(stmt)


def list_categories(
    session: Session,
    project_id: int,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[object]],
    page: int,
    limit: int,
) -> Page[Category]:
    stmt = select(Category).where(Category.project_id == project_id, *conditions)
    return paginate(session, stmt.order_by(*order_by), page, limit)


def all_categories(session: Session, project_id: int) -> list[Category]:
    stmt = select(Category).where(Category.project_id == project_id)
    return list(session.scalars(stmt.order_by(Category.name, Category.id)))


def categories_with_issue_counts(session: Session, project_id: int) -> list[tuple[Category, int]]:
    stmt = (
        select(Category, func.count(Issue.id))
        .outerjoin(Issue, Issue.category_id == Category.id)
        .where(Category.project_id == project_id)
        .group_by(Category.id)
        .order_by(Category.name, Category.id)
    )
    return [(category, count) for category, count in session.execute(stmt)]
