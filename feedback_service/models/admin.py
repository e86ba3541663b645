"""People who use the admin console, and the one-time link that creates the first of them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback_service.models.base import Base, UTCDateTime
from feedback_service.timestamps import utcnow


class Role(enum.StrEnum):
    """What a console user may do; each role includes the ones below it."""

    viewer = "viewer"
    editor = "editor"
    admin = "admin"

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


class AdminUser(Base):
    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so sign-in does not depend on how the address was typed.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # Argon2id, in the PHC string format (parameters travel with the hash).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes whenever the password, role or active flag changes: sessions carry it, so a
    # deactivated user or a changed password ends every open session at its next request.
    session_epoch: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SetupToken(Base):
    """A first-run link's token (as a SHA-256 hash): it creates the first admin, once."""

    __tablename__ = "setup_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
