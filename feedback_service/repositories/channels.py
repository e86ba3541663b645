from __future__ import annotations

from sqlalchemy import bindparam, select
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


# Read by nearly every API request: built once, with bound parameters.
_DEFINITION_VERSION = select(Channel.definition_version).where(
    Channel.id == bindparam("channel_id"), Channel.project_id == bindparam("project_id")
)
_FEEDBACK_COUNT = select(Channel.feedback_count).where(Channel.id == bindparam("channel_id"))


def definition_version(session: Session, project_id: int, channel_id: int) -> int | None:
    """The channel's definition stamp, None when ``project_id`` has no such channel."""
    params = {"channel_id": channel_id, "project_id": project_id}
    return session.execute(_DEFINITION_VERSION, params).scalar()


def feedback_count(session: Session, channel_id: int) -> int:
    return int(session.execute(_FEEDBACK_COUNT, {"channel_id": channel_id}).scalar_one())


def channel_name_taken(session: Session, project_id: int, name: str) -> bool:
    stmt = select(Channel.id).where(Channel.project_id == project_id, Channel.name == name)
    return session.scalar(stmt) is not None


def list_channels(session: Session, project_id: int) -> list[Channel]:
    stmt = select(Channel).where(Channel.project_id == project_id).order_by(Channel.name)
    return list(session.scalars(stmt))
