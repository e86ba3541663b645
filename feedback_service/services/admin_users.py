"""Console users: passwords, sign-in, roles, and the first-run setup link."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from feedback_service.database import unique_or, unit_of_work
from feedback_service.errors import Conflict, InvalidInput, SetupClosed, UserNotFound
from feedback_service.models import AdminUser, Role, SetupToken
from feedback_service.repositories import admin_users as repo
from feedback_service.timestamps import utcnow

# Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): ~30 ms a hash.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320
SETUP_TOKEN_TTL = timedelta(hours=1)
# Verified against when an address is unknown, so a miss costs as long as a wrong password.
_UNKNOWN_USER_HASH = PASSWORDS.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class NewUser:
    email: str
    password: str
    role: Role
    name: str | None = None


def _new_epoch() -> str:
    return secrets.token_hex(16)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_email(email: str) -> str:
    """:raises InvalidInput: not an address (a local part, one @, a domain)."""
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if not local or not at or "." not in domain or " " in address or "@" in domain:
        raise InvalidInput("enter an email address such as ana@example.com")
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidInput(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    return address


def check_password(password: str) -> None:
    """:raises InvalidInput: too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def _build_user(new: NewUser) -> AdminUser:
    check_password(new.password)
    return AdminUser(
        email=normalise_email(new.email),
        name=(new.name or "").strip() or None,
        password_hash=PASSWORDS.hash(new.password),
        role=new.role,
        active=True,
        session_epoch=_new_epoch(),
    )


def create_user(new: NewUser) -> AdminUser:
    """:raises InvalidInput: :raises Conflict: the address has an account."""
    user = _build_user(new)
    conflict = Conflict(f"{user.email} already has an account")
    with unique_or(conflict), unit_of_work(write=True) as session:
        if repo.user_by_email(session, user.email) is not None:
            raise conflict
        session.add(user)
    return user


def authenticate(email: str, password: str) -> AdminUser | None:
    """The active user with this address and password, or None (in about the same time)."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    with unit_of_work(write=False) as session:
        user = repo.user_by_email(session, address) if address else None
    try:
        PASSWORDS.verify(user.password_hash if user else _UNKNOWN_USER_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    with unit_of_work(write=True) as session:
        user = session.merge(user)
        user.last_login_at = utcnow()
        if PASSWORDS.check_needs_rehash(user.password_hash):
            user.password_hash = PASSWORDS.hash(password)
    return user


def session_user(user_id: int, epoch: str) -> AdminUser | None:
    """The user a session cookie names, if still active and the session still current."""
    with unit_of_work(write=False) as session:
        user = repo.get_user(session, user_id)
    if user is None or not user.active or not secrets.compare_digest(user.session_epoch, epoch):
        return None
    return user


def list_users() -> list[AdminUser]:
    with unit_of_work(write=False) as session:
        return repo.list_users(session)


def get_user(user_id: int) -> AdminUser:
    """:raises UserNotFound:"""
    with unit_of_work(write=False) as session:
        return _user(session, user_id)


def _user(session: Session, user_id: int) -> AdminUser:
    user = repo.get_user(session, user_id)
    if user is None:
        raise UserNotFound()
    return user


def update_user(user_id: int, *, role: Role, active: bool) -> AdminUser:
    """Change role and active flag; open sessions of the user end.

    :raises UserNotFound: :raises InvalidInput: it would leave no active admin.
    """
    with unit_of_work(write=True) as session:
        # Changes of admins take turns, so two cannot each leave the other as the last one.
        repo.lock_active_admins(session)
        user = _user(session, user_id)
        user.role = role
        user.active = active
        user.session_epoch = _new_epoch()
        session.flush()
        if repo.count_active_admins(session) == 0:
            raise InvalidInput("the console needs at least one active admin")
    return user


def change_password(user_id: int, password: str) -> None:
    """Set a new password and end the user's other sessions. :raises InvalidInput:"""
    check_password(password)
    with unit_of_work(write=True) as session:
        user = _user(session, user_id)
        user.password_hash = PASSWORDS.hash(password)
        user.session_epoch = _new_epoch()


def issue_setup_token() -> str | None:
    """A fresh first-run token while no user exists (earlier ones stop working), else None."""
    token = secrets.token_urlsafe(32)
    with unit_of_work(write=True) as session:
        if repo.count_users(session) > 0:
            return None
        repo.delete_setup_tokens(session)
        session.add(
            SetupToken(token_hash=_token_hash(token), expires_at=utcnow() + SETUP_TOKEN_TTL)
        )
    return token


def setup_token_is_live(token: str) -> bool:
    with unit_of_work(write=False) as session:
        return repo.live_setup_token(session, _token_hash(token), utcnow()) is not None


def create_first_admin(token: str, email: str, password: str, name: str | None) -> AdminUser:
    """Redeem a first-run token: create the first admin, and no token works again.

    :raises InvalidInput: bad address or password. :raises SetupClosed: the token is not live
    or a user already exists.
    """
    user = _build_user(NewUser(email=email, password=password, role=Role.admin, name=name))
    with unit_of_work(write=True) as session:
        live = repo.live_setup_token(session, _token_hash(token), utcnow())
        if live is None or repo.count_users(session) > 0:
            raise SetupClosed()
        repo.delete_setup_tokens(session)
        session.add(user)
    return user
