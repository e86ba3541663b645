"""End users of a project's product, known by ``externalId``: identified and upserted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidUserHash
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
    # Set by `verified_claim`: a valid userHash proved it.
    verified: bool = False


def claimed_end_user(session: Session, access: BoardAccess, claim: EndUserClaim) -> EndUser:
    """The claimed end user, created or updated, in the caller's write unit of work.

    The claim must have passed ``verified_claim`` before the unit began. Once a hash has
    proved an end user, every later claim to be them needs one too, whether or not the
    project requires verification: a site rolling hashes out protects each user it has
    verified, while widgets that send none keep working for the others.

    :raises InvalidUserHash: an unproven claim to a verified end user.
    """
    end_user = repo.ensure_end_user(session, access.project_id, claim.external_id)
    check_unproven_claim(end_user, claim)
    now = utcnow()
    if claim.verified and end_user.verified_at is None:
        end_user.verified_at = now
    changes = {k: v for k, v in claim.attributes.items() if k in ATTRIBUTES}
    if any(getattr(end_user, k) != v for k, v in changes.items()):
        for key, value in changes.items():
            setattr(end_user, key, value)
        end_user.updated_at = now
    return end_user


def check_unproven_claim(end_user: EndUser, claim: EndUserClaim) -> None:
    """:raises InvalidUserHash: the end user was verified before and this claim is not."""
    if end_user.verified_at is not None and not claim.verified:
        raise InvalidUserHash()


def verified_claim(access: BoardAccess, claim: EndUserClaim | None) -> EndUserClaim | None:
    """Check a request's claim, if it makes one, before its unit of work begins.

    :raises InvalidUserHash:
    """
    if claim is None:
        return None
    return replace(claim, verified=verify_claim(access, claim.external_id, claim.user_hash))


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
    checked = verified_claim(access, claim)
    assert checked is not None
    with unit_of_work(write=True) as session:
        end_user = claimed_end_user(session, access, checked)
    return IdentifiedUser(end_user, checked.verified, frozenset(claim.attributes))
