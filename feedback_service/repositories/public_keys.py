from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from feedback_service.models import Channel, Project, PublicKey

# Every public API request reads it: built once, with a bound parameter.
_BOARD_ACCESS = (
    select(
        PublicKey.id,
        PublicKey.project_id,
        PublicKey.channel_id,
        Project.identity_secret,
        Project.identity_required,
        Project.allowed_origins,
    )
    .join(Project, Project.id == PublicKey.project_id)
    .join(Channel, Channel.id == PublicKey.channel_id)
    .where(PublicKey.key == bindparam("key"), PublicKey.revoked_at.is_(None), Channel.is_board)
)


def board_access_row(session: Session, raw_key: str) -> Row[Any] | None:
    """The key's ids and its project's public-API settings, for an unrevoked key of a board."""
    return session.execute(_BOARD_ACCESS, {"key": raw_key}).one_or_none()


def get_key(session: Session, project_id: int, key_id: int) -> PublicKey | None:
    stmt = select(PublicKey).where(PublicKey.id == key_id, PublicKey.project_id == project_id)
    return session.scalar(stmt)


def list_keys(session: Session, project_id: int) -> list[PublicKey]:
    stmt = select(PublicKey).where(PublicKey.project_id == project_id).order_by(PublicKey.id.desc())
    return list(session.scalars(stmt))
