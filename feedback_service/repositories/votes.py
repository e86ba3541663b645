from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedback_service.models import Vote
from feedback_service.repositories.upsert import insert_ignoring_duplicates
from feedback_service.timestamps import utcnow


def add_vote(session: Session, feedback_id: int, voter_key: str, end_user_id: int | None) -> bool:
    """Add the voter's vote; False when it was there already."""
    row = {
        "feedback_id": feedback_id,
        "voter_key": voter_key,
        "end_user_id": end_user_id,
        "created_at": utcnow(),
    }
    return insert_ignoring_duplicates(session, Vote.__table__, row)


def remove_vote(session: Session, feedback_id: int, voter_key: str) -> bool:
    stmt = delete(Vote).where(Vote.feedback_id == feedback_id, Vote.voter_key == voter_key)
    return bool(session.execute(stmt).rowcount)


def has_voted(session: Session, feedback_id: int, voter_key: str) -> bool:
    stmt = select(Vote.id).where(Vote.feedback_id == feedback_id, Vote.voter_key == voter_key)
    return session.scalar(stmt) is not None
