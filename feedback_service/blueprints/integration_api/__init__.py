"""The ABC User Feedback-compatible integration API under ``/api``.

Every route carries ``<project_id>``; the ``x-api-key`` header must hold a key of that project
(or the configured master key). Path ids arrive as strings so that authentication runs first,
as in the reference server, and only then are they read as decimal integers.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from feedback_service.blueprints.integration_api import errors
from feedback_service.errors import AppError, InvalidInput
from feedback_service.services import api_keys, projects

bp = Blueprint("integration_api", __name__, url_prefix="/api")

MAX_ID = 2**63 - 1
NOT_NUMERIC = "Validation failed (numeric string is expected)"


def parse_id(raw: str) -> int | None:
    """A path id: decimal digits only, within SQLite's integer range."""
    if not raw.isascii() or not raw.isdecimal() or len(raw) > 19 or int(raw) > MAX_ID:
        return None
    return int(raw)


def _is_master_key(presented: str) -> bool:
    master = current_app.config.get("MASTER_API_KEY")
    return bool(master) and hmac.compare_digest(
        presented.encode("latin-1"), str(master).encode("utf-8")
    )


@bp.before_request
def authenticate_and_read_ids() -> Response | None:
    args = request.view_args if request.view_args is not None else {}
    presented = request.headers.get("x-api-key", "")
    project_id = parse_id(args.get("project_id", ""))
    if not presented:
        return errors.forbidden()
    if _is_master_key(presented):
        if project_id is None:
            raise InvalidInput(NOT_NUMERIC)
        projects.get_project(project_id)
    elif project_id is None or not api_keys.key_opens_project(presented, project_id):
        return errors.forbidden()
    for name, raw in args.items():
        value = parse_id(raw)
        if value is None:
            raise InvalidInput(NOT_NUMERIC)
        args[name] = value
    return None


bp.register_error_handler(AppError, errors.app_error)
bp.register_error_handler(HTTPException, errors.werkzeug_error)
bp.register_error_handler(OperationalError, errors.database_error)
bp.register_error_handler(Exception, errors.internal_error)

# Route modules register their views on `bp` when imported.
from feedback_service.blueprints.integration_api import (  # noqa: E402
    categories,
    feedbacks,
    images,
    issues,
    project,
    search,
)

__all__ = ["bp", "categories", "feedbacks", "images", "issues", "project", "search"]
