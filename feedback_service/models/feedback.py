"""Feedback: a JSON document of field values in a channel, linked to issues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_service.models.base import Base, UTCDateTime
from feedback_service.models.issue import Issue
from feedback_service.timestamps import utcnow

feedback_issue = Table(
    "feedback_issue",
    Base.metadata,
    Column("feedback_id", ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        # (channel_id) keeps a channel's feedback in id order for the default sort.
        Index("ix_feedback_channel_id", "channel_id"),
        Index("ix_feedback_channel_id_created_at", "channel_id", "created_at"),
        Index("ix_feedback_channel_id_updated_at", "channel_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    # Field values keyed by field key; id, timestamps and issue links live in columns.
    data: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issues: Mapped[list[Issue]] = relationship(
        secondary=feedback_issue, order_by=Issue.id, lazy="selectin"
    )
