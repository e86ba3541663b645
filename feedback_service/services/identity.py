"""End-user identity verification: ``userHash = hex(HMAC-SHA256(identity secret, externalId))``.

Anyone holding a public key can claim any ``externalId``; the customer's server, which alone
knows the project's identity secret, vouches for a claim by computing its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidUserHash, ProjectNotFound
from feedback_service.repositories import projects as projects_repo
from feedback_service.services.public_keys import BoardAccess


@dataclass(frozen=True)
class IdentitySettings:
    project_id: int
    secret: str
    required: bool


def user_hash(secret: str, external_id: str) -> str:
    digest = hmac.new(secret.encode(), external_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()


def configure_identity(
    project_id: int, *, rotate: bool = False, required: bool | None = None
) -> IdentitySettings:
    """Show the project's identity secret, creating it on first use.

    ``rotate`` replaces it (every hash made with the old one stops working); ``required``
    turns enforcement on or off.

    :raises ProjectNotFound:
    """
    with unit_of_work(write=True) as session:
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        if rotate or project.identity_secret is None:
            project.identity_secret = secrets.token_hex(32)
        if required is not None:
            project.identity_required = required
        return IdentitySettings(project.id, project.identity_secret, project.identity_required)


def verify_claim(access: BoardAccess, external_id: str, presented_hash: str | None) -> bool:
    """Accept a claim to be ``external_id`` (True when a hash proved it), or refuse it.

    A hash, when sent, must be right whenever the project has a secret; a claim without one is
    refused only when the project requires verification.

    :raises InvalidUserHash:
    """
    secret = access.identity_secret
    if presented_hash is None or secret is None:
        if access.identity_required:
            raise InvalidUserHash()
        return False
    expected = user_hash(secret, external_id)
    if not hmac.compare_digest(expected.encode(), presented_hash.lower().encode()):
        raise InvalidUserHash()
    return True
