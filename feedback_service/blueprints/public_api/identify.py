"""``POST /api/v1/identify``: create or update an end user."""

from __future__ import annotations

from typing import Any

from feedback_service.blueprints.public_api import bp
from feedback_service.blueprints.public_api.requests import board, load_body
from feedback_service.openapi.operation import documented
from feedback_service.schemas.public import EndUserIn, IdentifiedUserOut, UserOut
from feedback_service.services import end_users

# Wire names of the attributes an unverified caller only sees when it sent them.
PRIVATE_ATTRIBUTES = {"email": "email", "name": "name", "avatarUrl": "avatar_url"}


@bp.post("/identify")
@documented("Create or update an end user", body=EndUserIn(), response=IdentifiedUserOut())
def identify() -> dict[str, Any]:
    identified = end_users.identify(board(), load_body(EndUserIn()))
    user = UserOut().dump(identified.end_user)
    if not identified.verified:
        # Anyone with the public key can claim an externalId: an unproven claim must not
        # read back what someone else stored for that user.
        for wire_name, attribute in PRIVATE_ATTRIBUTES.items():
            if attribute not in identified.sent:
                user[wire_name] = None
    return {"user": user}
