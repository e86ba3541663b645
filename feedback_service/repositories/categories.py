from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from feedback_service.models import Category
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
