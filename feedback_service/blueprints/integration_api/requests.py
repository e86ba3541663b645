"""Reading integration API requests: JSON bodies, pagination values, empty responses."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from feedback_service.errors import InvalidInput

DEFAULT_LIMIT = 10
DEFAULT_PAGE = 1
# Keeps OFFSET inside SQLite's 64-bit integers whatever page a client asks for.
MAX_PAGE = 10**9


def json_body() -> Any:
    """The parsed body; an empty body reads as ``{}``.

    :raises UnsupportedMediaType: a body that is not declared as JSON.
    :raises InvalidInput: a body declared as JSON that does not parse.
    """
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType(f"Unsupported Media Type: {request.mimetype or 'none'}")
    try:
        return request.get_json()
    except BadRequest:
        raise InvalidInput(
            "Body is not valid JSON but content-type is set to 'application/json'"
        ) from None


def _positive_int(value: Any, default: int, maximum: int) -> int:
    """The reference's lenient reading: leading digits count; non-numbers and < 1 give default."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        digits = digits[: len(digits) - len(digits.lstrip("0123456789"))]
        if not digits:
            return default
        number = sign * int(digits[:20])
    else:
        return default
    if number < 1:
        return default
    return min(number, maximum)


def page_request(limit: Any, page: Any) -> tuple[int, int]:
    """``(page, limit)`` from raw values; ``limit`` is capped at ``MAX_PAGE_SIZE``."""
    return (
        _positive_int(page, DEFAULT_PAGE, MAX_PAGE),
        _positive_int(limit, DEFAULT_LIMIT, current_app.config["MAX_PAGE_SIZE"]),
    )


def empty(status: int = 200) -> Response:
    """The empty body the reference sends for PUT, DELETE and the add-issue POST."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response
