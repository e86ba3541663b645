"""Errors raised before a blueprint is chosen (no route, wrong method) and unexpected ones.

Blueprint handlers cannot see routing errors, so the app-level handler picks the surface by
path prefix.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from feedback_service.blueprints.integration_api import errors as integration_errors


def _is_api_path() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    if _is_api_path():
        return integration_errors.werkzeug_error(error)
    return error


def handle_unexpected_error(error: Exception) -> Response:
    return integration_errors.internal_error(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
