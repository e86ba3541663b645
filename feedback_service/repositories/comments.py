from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback_service.models import Comment


def first_comments(session: Session, feedback_id: int, limit: int) -> list[Comment]:
    stmt = (
        select(Comment).where(Comment.feedback_id == feedback_id).order_by(Comment.id).limit(limit)
    )
    return list(session.scalars(stmt))
