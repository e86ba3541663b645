"""The Feedhog-compatible public API under ``/api/v1``, for browsers and widgets.

Every request carries a public key (``fhpk_...``) in ``x-api-key``; it opens one board.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from feedback_service.blueprints.public_api import cors, errors
from feedback_service.errors import AppError
from feedback_service.services import public_keys

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")


@bp.before_request
def authenticate() -> Response | None:
    if request.method == "OPTIONS":
        return cors.preflight()
    presented = request.headers.get("x-api-key", "")
    if not presented:
        return errors.error(401, "Missing x-api-key header")
    access = public_keys.board_access(presented)
    if access is None:
        return errors.error(401, "Invalid API key")
    g.board = access
    cors.check_origin(access)
    return None


bp.after_request(cors.add_headers)
bp.register_error_handler(ValidationError, errors.validation_error)
bp.register_error_handler(AppError, errors.app_error)
bp.register_error_handler(HTTPException, errors.werkzeug_error)
bp.register_error_handler(OperationalError, errors.database_error)
bp.register_error_handler(Exception, errors.internal_error)

# Route modules register their views on `bp` when imported.
from feedback_service.blueprints.public_api import feedback, identify  # noqa: E402

__all__ = ["bp", "feedback", "identify"]
