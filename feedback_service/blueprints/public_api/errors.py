"""Errors in the public API's shape: ``{"error": message}``, plus ``details`` for bad input.

Bad input follows zod's ``flatten()``: ``{"formErrors": [...], "fieldErrors": {field: [...]}}``
with nested fields reported under their top-level key.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from feedback_service.database import BUSY_RETRY_AFTER, is_busy
from feedback_service.errors import AppError, InvalidInput
from feedback_service.schemas.base import flatten_messages

MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    429: "Too many requests, please slow down",
    500: "Internal server error",
    503: "Service busy, retry shortly",
}


def error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def invalid_input(form_errors: list[str], field_errors: Mapping[str, list[str]]) -> Response:
    response = jsonify(
        error="Invalid input",
        details={"formErrors": form_errors, "fieldErrors": dict(field_errors)},
    )
    response.status_code = 400
    return response


def validation_error(failure: ValidationError) -> Response:
    messages = failure.messages if isinstance(failure.messages, Mapping) else {}
    form_errors = flatten_messages(messages.get("_schema", []))
    field_errors = {
        key: flatten_messages(value) for key, value in messages.items() if key != "_schema"
    }
    if not isinstance(failure.messages, Mapping):
        form_errors = flatten_messages(failure.messages)
    return invalid_input(form_errors, field_errors)


def app_error(failure: AppError) -> Response:
    if isinstance(failure, InvalidInput):
        return invalid_input(flatten_messages(failure.message), {})
    return error(failure.status, str(failure.message))


def werkzeug_error(failure: HTTPException) -> Response:
    status = failure.code or 500
    if status == 400:
        return invalid_input(["Invalid JSON body"], {})
    response = error(status, MESSAGES.get(status, failure.name))
    # Keep what the error says about the resource, such as a 405's Allow.
    for name, value in failure.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def database_error(failure: OperationalError) -> Response:
    if not is_busy(failure):
        return internal_error(failure)
    current_app.logger.warning("database busy past the busy timeout: %s", request.path)
    response = error(503, MESSAGES[503])
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def internal_error(failure: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s", request.path, exc_info=failure)
    return error(500, MESSAGES[500])
