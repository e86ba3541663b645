"""``POST /api/v1/identify``: create or update an end user."""

from __future__ import annotations

from typing import Any

from feedback_service.blueprints.public_api import bp
from feedback_service.blueprints.public_api.requests import board, load_body
from feedback_service.schemas.public import EndUserIn, UserOut
from feedback_service.services import end_users


@bp.post("/identify")
def identify() -> dict[str, Any]:
    end_user = end_users.identify(board(), load_body(EndUserIn()))
    return {"user": UserOut().dump(end_user)}
