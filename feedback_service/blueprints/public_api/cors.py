"""CORS for the public API, which browsers call from the customer's pages.

A project may list the origins allowed to call it; with no list, any origin may. Preflight
requests carry no API key, so they are answered for any origin; the request that follows is
then refused (403, nothing written) when its ``Origin`` is not on the project's list, and its
response carries no allow header, so the browser hides it as well.
"""

from __future__ import annotations

from flask import Response, current_app, g, request

from feedback_service.errors import OriginNotAllowed
from feedback_service.services.public_keys import BoardAccess

ALLOWED_HEADERS = "Content-Type, x-api-key"
ALLOWED_METHODS = "GET, POST, OPTIONS"
EXPOSED_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
PREFLIGHT_MAX_AGE = 600


def origin_allowed(access: BoardAccess, origin: str) -> bool:
    return not access.allowed_origins or origin in access.allowed_origins


def check_origin(access: BoardAccess) -> None:
    """:raises OriginNotAllowed:"""
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(access, origin):
        raise OriginNotAllowed()


def preflight() -> Response:
    response = current_app.make_default_options_response()
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def add_headers(response: Response) -> Response:
    access: BoardAccess | None = g.get("board")
    origin = request.headers.get("Origin")
    if access is None or not access.allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        # The answer depends on Origin: caches must not serve one origin's answer to another.
        response.vary.add("Origin")
        if origin is not None and origin_allowed(access, origin):
            response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response
