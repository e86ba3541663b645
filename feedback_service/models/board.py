"""What the public API adds around a board's feedback: end users, votes, comments, public keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_service.models.base import Base, UTCDateTime
from feedback_service.timestamps import utcnow

# Revision 0008 keeps each board's feedback counted per status and type in this table (no
# model: triggers write it).
BOARD_COUNT_TABLE = "board_count"


class EndUser(Base):
    """A user of the customer's product, known by the customer's own id (``externalId``)."""

    __tablename__ = "end_user"
    __table_args__ = (UniqueConstraint("project_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # When a userHash first proved a claim to be this user; from then on every claim must.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vote(Base):
    """One voter's vote on one feedback: an end user, or an anonymous client by hashed IP."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("feedback_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    # "u<end user id>" or "a<hex HMAC of the client network>": never a raw address.
    voter_key: Mapped[str] = mapped_column(String(80))
    end_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("end_user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_feedback_id_id", "feedback_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    end_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("end_user.id", ondelete="SET NULL"), index=True
    )
    # A reply from the product team (the admin console), shown under ``author_name``.
    is_team: Mapped[bool] = mapped_column(Boolean, default=False)
    author_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    end_user: Mapped[EndUser | None] = relationship(lazy="selectin")


class PublicKey(Base):
    """A browser-visible key (``fhpk_...``) that opens one board of a project.

    It is an identifier, not a secret: it ships inside every page that embeds the widget, so it
    is stored as issued, and the console can show it again.
    """

    __tablename__ = "public_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
