"""Secret integration keys: issued once, stored as SHA-256 hashes, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput, ProjectNotFound
from feedback_service.models import ApiKey
from feedback_service.repositories import api_keys as repo
from feedback_service.repositories import projects as projects_repo
from feedback_service.timestamps import utcnow

KEY_PREFIX = "fhsk_"
VISIBLE_PREFIX_LENGTH = 12
# last_used_at is informational; writing it on every request would queue reads behind writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(project_id: int) -> tuple[ApiKey, str]:
    """Issue a key for the project; the raw key is returned here and never again.

    :raises ProjectNotFound:
    """
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(write=True) as session:
        if projects_repo.get_project(session, project_id) is None:
            raise ProjectNotFound()
        key = ApiKey(
            project_id=project_id, prefix=raw_key[:VISIBLE_PREFIX_LENGTH], key_hash=_hash(raw_key)
        )
        session.add(key)
    return key, raw_key


def key_opens_project(raw_key: str, project_id: int) -> bool:
    """Whether ``raw_key`` is an unrevoked key of ``project_id``."""
    if len(raw_key) < VISIBLE_PREFIX_LENGTH:
        return False
    digest = _hash(raw_key)
    with unit_of_work(write=False) as session:
        candidates = repo.active_keys_with_prefix(session, raw_key[:VISIBLE_PREFIX_LENGTH])
    match = next((k for k in candidates if hmac.compare_digest(k.key_hash, digest)), None)
    if match is None or match.project_id != project_id:
        return False
    now = utcnow()
    if match.last_used_at is None or now - match.last_used_at >= LAST_USED_RESOLUTION:
        with unit_of_work(write=True) as session:
            repo.mark_used(session, match.id, now)
    return True


def revoke_api_key(project_id: int, key_id: int) -> ApiKey:
    """Revoke a key; requests made with it fail from the next one on.

    :raises InvalidInput: no such key in the project.
    """
    with unit_of_work(write=True) as session:
        key = repo.get_key(session, project_id, key_id)
        if key is None:
            raise InvalidInput(f"project {project_id} has no API key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    return key


def list_api_keys(project_id: int) -> list[ApiKey]:
    """The project's keys, newest first, revoked ones included (their hashes never leave)."""
    with unit_of_work(write=False) as session:
        return repo.list_keys(session, project_id)
