from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from feedback_service.models import AdminUser, Role, SetupToken


def get_user(session: Session, user_id: int) -> AdminUser | None:
    return session.get(AdminUser, user_id)


def user_by_email(session: Session, email: str) -> AdminUser | None:
    return session.scalar(select(AdminUser).where(AdminUser.email == email))


def list_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.email)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AdminUser)) or 0


def count_active_admins(session: Session) -> int:
    stmt = select(func.count()).where(AdminUser.role == Role.admin, AdminUser.active.is_(True))
    return session.scalar(stmt) or 0


def lock_active_admins(session: Session) -> None:
    """Hold the active admins' rows until the transaction ends (PostgreSQL; on SQLite the
    writing unit holds the database's write lock already)."""
    stmt = select(AdminUser.id).where(AdminUser.role == Role.admin, AdminUser.active.is_(True))
    session.execute(stmt.with_for_update())


def live_setup_token(session: Session, token_hash: str, now: datetime) -> SetupToken | None:
    """The live token with this hash, its row held until the transaction ends: one request
    redeems it."""
    stmt = select(SetupToken).where(
        SetupToken.token_hash == token_hash, SetupToken.expires_at > now
    )
    stmt = stmt.with_for_update()
    return session.scalar(stmt)


def delete_setup_tokens(session: Session) -> None:
    session.execute(delete(SetupToken))
