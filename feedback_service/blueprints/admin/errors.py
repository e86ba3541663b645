"""Error pages of the console: HTML in the console's layout, with its security headers."""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.wrappers import Response

from feedback_service.blueprints.admin.access import SECURITY_HEADERS
from feedback_service.errors import InvalidInput


def error_page(error: HTTPException) -> Response:
    code = error.code or 500
    response = current_app.make_response(
        (
            render_template(
                "admin/error.html", code=code, name=error.name, description=error.description
            ),
            code,
        )
    )
    response.headers.update(SECURITY_HEADERS)
    # 405 and 429 carry Allow and Retry-After.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def internal_error(error: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s", request.path, exc_info=error)
    return error_page(InternalServerError())


def invalid_input(error: InvalidInput) -> Response:
    """Content no form check refused but the database did (NUL characters on PostgreSQL)."""
    return error_page(BadRequest(str(error.message)))
