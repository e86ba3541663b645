from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from feedback_service.models import Channel, Field


def get_channel(session: Session, project_id: int, channel_id: int) -> Channel | None:
    """The channel with its fields and options, only if it belongs to ``project_id``."""
    stmt = (
        select(Channel)
        .where(Channel.id == channel_id, Channel.project_id == project_id)
        .options(selectinload(Channel.fields).selectinload(Field.options))
    )
    return session.scalar(stmt)


def channel_name_taken(session: Session, project_id: int, name: str) -> bool:
    stmt = select(Channel.id).where(Channel.project_id == project_id, Channel.name == name)
    return session.scalar(stmt) is not None


def list_channels(session: Session, project_id: int) -> list[Channel]:
    stmt = select(Channel).where(Channel.project_id == project_id).order_by(Channel.name)
    return list(session.scalars(stmt))
