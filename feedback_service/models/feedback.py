"""Feedback: a JSON document of field values in a channel, linked to issues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_service.models.base import Base, Int64, UTCDateTime
from feedback_service.models.board import EndUser
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
        # A board's most voted and most discussed pages, read in index order.
        Index("ix_feedback_channel_id_vote_count", "channel_id", "vote_count", "id"),
        Index("ix_feedback_channel_id_comment_count", "channel_id", "comment_count", "id"),
        Index("ix_feedback_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    # Field values keyed by field key; id, timestamps and issue links live in columns.
    # PostgreSQL's json (not jsonb) keeps the keys in the order they were written, as SQLite
    # does: the APIs answer with the values in that order.
    data: Mapped[dict[str, Any]] = mapped_column(JSON())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The public API's id ("fb_..."), given to every feedback of a board.
    public_id: Mapped[str | None] = mapped_column(String(32))
    # Kept in SQL in the transaction that adds or removes a vote or comment.
    vote_count: Mapped[int] = mapped_column(Int64, default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(Int64, default=0, server_default="0")
    # No ON DELETE action: SQLite can only add this key inline on an existing table, where its
    # reflection cannot read one back. End users go only with their project, and its feedback.
    end_user_id: Mapped[int | None] = mapped_column(ForeignKey("end_user.id"), index=True)
    # The submitter's free-form context (page, browser...), as the public API received it.
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    end_user: Mapped[EndUser | None] = relationship(lazy="selectin")
    issues: Mapped[list[Issue]] = relationship(
        secondary=feedback_issue, order_by=Issue.id, lazy="selectin"
    )
