from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback_service.models import ApiKey


def active_keys_with_prefix(session: Session, prefix: str) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    return list(session.scalars(stmt))


def get_key(session: Session, project_id: int, key_id: int) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id, ApiKey.project_id == project_id)
    return session.scalar(stmt)


def mark_used(session: Session, key_id: int, when: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))


def list_keys(session: Session, project_id: int) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.project_id == project_id).order_by(ApiKey.id.desc())
    return list(session.scalars(stmt))
