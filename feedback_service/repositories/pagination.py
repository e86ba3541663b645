"""Offset pagination with an exact total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int


def paginate(session: Session, stmt: Select[Any], page: int, limit: int) -> Page[Any]:
    """Run ``stmt`` for one page; the total counts the same filter without ordering."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(limit).offset((page - 1) * limit)))
    return Page(items=items, total=total or 0, page=page, limit=limit)
