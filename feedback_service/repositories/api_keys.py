from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from feedback_service.models import ApiKey

# Every integration request reads it: plain rows, from a statement built once.
_ACTIVE_WITH_PREFIX = select(
    ApiKey.id, ApiKey.project_id, ApiKey.key_hash, ApiKey.last_used_at
).where(ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None))


def active_keys_with_prefix(session: Session, prefix: str) -> Sequence[Row[Any]]:
    """``(id, project_id, key_hash, last_used_at)`` of each unrevoked key with this prefix."""
    return session.execute(_ACTIVE_WITH_PREFIX, {"prefix": prefix}).all()


def get_key(session: Session, project_id: int, key_id: int) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id, ApiKey.project_id == project_id)
    return session.scalar(stmt)


def mark_used(session: Session, key_id: int, when: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))


def list_keys(session: Session, project_id: int) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.project_id == project_id).order_by(ApiKey.id.desc())
    return list(session.scalars(stmt))
