"""Errors in the NestJS shapes the reference server sends.

* ``{"message", "error", "statusCode", "path"}`` for HTTP errors, with ``message`` a list for
  validation failures;
* ``{"code", "message", "statusCode", "path"}`` for domain errors that carry a code;
* ``{"statusCode": 500, "message": "Internal server error"}`` for anything unexpected.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from feedback_service.database import BUSY_RETRY_AFTER, is_busy
from feedback_service.errors import AppError

# NestJS's reason phrases, fixed here because Python's change between versions
# (413 became "Content Too Large" in 3.13).
REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def request_path() -> str:
    """The path as the client sent it (still percent-encoded), query string included."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        # A proxy that strips a mount prefix names it in X-Forwarded-Prefix (ProxyFix moves it
        # into SCRIPT_NAME): the server got the path without it.
        prefix = quote(request.script_root)
        return raw if raw.startswith(prefix + "/") else prefix + raw
    path = quote(request.script_root + request.path)
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    return path


def http_error(status: int, message: str | list[str]) -> Response:
    response = jsonify(
        message=message,
        error=REASONS.get(status) or HTTPStatus(status).phrase,
        statusCode=status,
        path=request_path(),
    )
    response.status_code = status
    return response


def forbidden() -> Response:
    return http_error(403, "Forbidden resource")


def app_error(error: AppError) -> Response:
    if error.code is None:
        return http_error(error.status, error.message)
    response = jsonify(
        code=error.code, message=error.message, statusCode=error.status, path=request_path()
    )
    response.status_code = error.status
    return response


def werkzeug_error(error: HTTPException) -> Response:
    # NestJS has no 405: a path without a handler for the method is "Cannot METHOD path".
    if isinstance(error, NotFound | MethodNotAllowed):
        return http_error(404, f"Cannot {request.method} {request_path()}")
    status = error.code or 500
    # 429 reads as @nestjs/throttler's message, which the reference's docs promise.
    messages = {413: "Request body is too large", 429: "ThrottlerException: Too Many Requests"}
    return http_error(status, messages.get(status, error.description or HTTPStatus(status).phrase))


def database_error(error: OperationalError) -> Response:
    if not is_busy(error):
        return internal_error(error)
    current_app.logger.warning("database busy past the busy timeout: %s", request_path())
    response = http_error(503, "The database is busy; retry shortly")
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def internal_error(error: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s", request_path(), exc_info=error)
    response = jsonify(statusCode=500, message="Internal server error")
    response.status_code = 500
    return response
