"""Projects, their channels with typed fields, and the secret keys that open them."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_service.models.base import Base, Int64, UTCDateTime
from feedback_service.timestamps import utcnow


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}, as the wire shows it.
    timezone: Mapped[dict[str, str]] = mapped_column(JSON)
    # The HMAC key end-user hashes are checked with (identity verification), and whether
    # public-API writes for an end user must carry a valid hash.
    identity_secret: Mapped[str | None] = mapped_column(String(128))
    identity_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Browser origins allowed to call the public API; empty allows any.
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def new_definition_version() -> int:
    """A random stamp: unlike a counter, it can never recur for a channel id that is reused
    (a database emptied or restored), so no cached definition is ever taken for another."""
    return secrets.randbits(62)


class FieldFormat(enum.StrEnum):
    text = "text"
    keyword = "keyword"
    number = "number"
    select = "select"
    multiSelect = "multiSelect"
    date = "date"
    images = "images"


class FieldProperty(enum.StrEnum):
    READ_ONLY = "READ_ONLY"
    EDITABLE = "EDITABLE"


class FieldStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class Channel(Base):
    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # Longest createdAt/updatedAt window a search may ask for; -1 means unlimited.
    feedback_search_max_days: Mapped[int] = mapped_column(Int64, default=365)
    # The channel's feedback, kept in SQL with each create and delete: an exact total for
    # unfiltered pages without counting a million rows.
    feedback_count: Mapped[int] = mapped_column(Int64, default=0, server_default="0")
    # Hosts allowed in `images` field URLs; empty allows any host.
    image_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where uploaded images go: "local" (served by this app) or "s3" (any S3-compatible store).
    image_storage: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    s3_endpoint: Mapped[str | None] = mapped_column(String(2048))
    s3_bucket: Mapped[str | None] = mapped_column(String(255))
    s3_region: Mapped[str | None] = mapped_column(String(64))
    s3_access_key_id: Mapped[str | None] = mapped_column(String(255))
    # Never returned by any API or command.
    s3_secret_access_key: Mapped[str | None] = mapped_column(String(255))
    # A board: the public API serves it, with the fields title, description, type and status.
    is_board: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Replaced by a new stamp, by triggers (revision 0007), in the transaction of any change to
    # the channel (but its count), its fields or their options: processes that cache the
    # definition compare it (services.channels.channel_definition).
    definition_version: Mapped[int] = mapped_column(
        Int64, default=new_definition_version, server_default="0"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    fields: Mapped[list[Field]] = relationship(
        back_populates="channel", order_by="(Field.order, Field.id)", cascade="all, delete-orphan"
    )


class Field(Base):
    __tablename__ = "field"
    __table_args__ = (UniqueConstraint("channel_id", "key"), UniqueConstraint("channel_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    format: Mapped[FieldFormat] = mapped_column(Enum(FieldFormat, native_enum=False, length=16))
    property: Mapped[FieldProperty] = mapped_column(
        Enum(FieldProperty, native_enum=False, length=16)
    )
    status: Mapped[FieldStatus] = mapped_column(Enum(FieldStatus, native_enum=False, length=16))
    order: Mapped[int] = mapped_column(Int64, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    channel: Mapped[Channel] = relationship(back_populates="fields")
    options: Mapped[list[Option]] = relationship(
        back_populates="field", order_by="Option.id", cascade="all, delete-orphan"
    )

    def option_keys(self) -> set[str]:
        return {option.key for option in self.options}


class Option(Base):
    __tablename__ = "option"
    __table_args__ = (UniqueConstraint("field_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    field: Mapped[Field] = relationship(back_populates="options")


class ApiKey(Base):
    """A secret integration key. Only a SHA-256 hash and a short visible prefix are stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
