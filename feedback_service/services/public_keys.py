"""Public keys (``fhpk_...``): each opens one board of a project to the public API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput
from feedback_service.models import PublicKey
from feedback_service.repositories import public_keys as repo
from feedback_service.services.channels import channel_in_project
from feedback_service.timestamps import utcnow

KEY_PREFIX = "fhpk_"
MAX_KEY_LENGTH = 64


@dataclass(frozen=True)
class BoardAccess:
    """What a public key opens, with the project's settings the public API applies."""

    key_id: int
    project_id: int
    channel_id: int
    identity_secret: str | None
    identity_required: bool
    allowed_origins: tuple[str, ...]


def create_public_key(project_id: int, channel_id: int) -> PublicKey:
    """:raises ChannelNotFound: :raises InvalidInput: the channel is not a board."""
    with unit_of_work(write=True) as session:
        channel = channel_in_project(session, project_id, channel_id)
        if not channel.is_board:
            raise InvalidInput(f"channel {channel_id} is not a board; create one with create-board")
        key = PublicKey(
            project_id=project_id,
            channel_id=channel_id,
            key=KEY_PREFIX + secrets.token_urlsafe(24),
        )
        session.add(key)
    return key


def board_access(raw_key: str) -> BoardAccess | None:
    """What ``raw_key`` opens, or None for an unknown or revoked key (or a secret key)."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > MAX_KEY_LENGTH:
        return None
    with unit_of_work(write=False) as session:
        row = repo.board_access_row(session, raw_key)
    if row is None:
        return None
    return BoardAccess(
        key_id=row.id,
        project_id=row.project_id,
        channel_id=row.channel_id,
        identity_secret=row.identity_secret,
        identity_required=row.identity_required,
        allowed_origins=tuple(row.allowed_origins or ()),
    )


def revoke_public_key(project_id: int, key_id: int) -> PublicKey:
    """:raises InvalidInput: no such key in the project."""
    with unit_of_work(write=True) as session:
        key = repo.get_key(session, project_id, key_id)
        if key is None:
            raise InvalidInput(f"project {project_id} has no public key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    return key


def list_public_keys(project_id: int) -> list[PublicKey]:
    """The project's public keys, newest first, revoked ones included."""
    with unit_of_work(write=False) as session:
        return repo.list_keys(session, project_id)
