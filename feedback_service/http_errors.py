"""Errors raised before a blueprint is chosen (no route, wrong method) and unexpected ones.

Blueprint handlers cannot see routing errors, so the app-level handler picks the surface by
path prefix.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from feedback_service.blueprints.admin import errors as console_errors
from feedback_service.blueprints.integration_api import errors as integration_errors
from feedback_service.blueprints.public_api import cors
from feedback_service.blueprints.public_api import errors as public_errors


def _under(prefix: str) -> bool:
    return request.path == prefix or request.path.startswith(prefix + "/")


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    if _under("/api/v1"):
        return cors.add_headers(public_errors.werkzeug_error(error))
    if _under("/api"):
        return integration_errors.werkzeug_error(error)
    if _under("/admin"):
        return console_errors.error_page(error)
    return error


def handle_unexpected_error(error: Exception) -> Response:
    if _under("/api/v1"):
        return public_errors.internal_error(error)
    if _under("/admin"):
        return console_errors.internal_error(error)
    return integration_errors.internal_error(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
