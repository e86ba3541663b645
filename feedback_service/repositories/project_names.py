"""Names that are unique within a project (issues, categories)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback_service.models import Category, Issue


def name_taken(
    session: Session,
    model: type[Issue] | type[Category],
    project_id: int,
    name: str,
    *,
    except_id: int | None = None,
) -> bool:
    """Whether another row of ``model`` in the project already has ``name``."""
    stmt = select(model.id).where(model.project_id == project_id, model.name == name)
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return session.scalar(stmt) is not None
