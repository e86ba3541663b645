"""End users of a project's product, known by ``externalId``: identified and upserted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.models import EndUser
from feedback_service.repositories import end_users as repo
from feedback_service.services.identity import verify_claim
from feedback_service.services.public_keys import BoardAccess
from feedback_service.timestamps import utcnow

# The attributes a claim may set, by model attribute name.
ATTRIBUTES = frozenset({"email", "name", "avatar_url", "meta"})


@dataclass(frozen=True)
class EndUserClaim:
    """A request's claim to act as an end user, with the attributes it sent.

    Attributes the request left out are kept as they are; ``user_hash`` is the identity
    verification hash, when sent.
    """

    external_id: str
    user_hash: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


def claimed_end_user(session: Session, access: BoardAccess, claim: EndUserClaim) -> EndUser:
    """The claimed end user, created or updated, in the caller's write unit of work.

    The claim must have been verified (``verify_claim``) before the unit began.
    """
    end_user = repo.ensure_end_user(session, access.project_id, claim.external_id)
    changes = {k: v for k, v in claim.attributes.items() if k in ATTRIBUTES}
    if any(getattr(end_user, k) != v for k, v in changes.items()):
        for key, value in changes.items():
            setattr(end_user, key, value)
        end_user.updated_at = utcnow()
    return end_user


def verify_optional_claim(access: BoardAccess, claim: EndUserClaim | None) -> None:
    """Check a request's claim, if it makes one, before its unit of work begins.

    :raises InvalidUserHash:
    """
    if claim is not None:
        verify_claim(access, claim.external_id, claim.user_hash)


def acting_end_user(
    session: Session, access: BoardAccess, claim: EndUserClaim | None
) -> EndUser | None:
    """The end user a write acts for (upserted), or None for an anonymous one."""
    return claimed_end_user(session, access, claim) if claim is not None else None


@dataclass(frozen=True)
class IdentifiedUser:
    end_user: EndUser
    # Whether a userHash proved the claim; unproven callers see only what they sent.
    verified: bool
    sent: frozenset[str]


def identify(access: BoardAccess, claim: EndUserClaim) -> IdentifiedUser:
    """Create the end user or update their attributes. :raises InvalidUserHash:"""
    verified = verify_claim(access, claim.external_id, claim.user_hash)
    with unit_of_work(write=True) as session:
        end_user = claimed_end_user(session, access, claim)
    return IdentifiedUser(end_user, verified, frozenset(claim.attributes))
