"""Request ids: one per request, returned as ``X-Request-Id`` and written to the logs.

An id the client sends (nginx's ``$request_id``, say) is kept when it is well formed, so one id
follows a request through every hop; anything else is replaced by a fresh one, because the id is
written into log lines and client bytes must never reach them unchecked (log injection).

The header is added by WSGI middleware around the whole app rather than by an ``after_request``
function: every response then carries it, including those of error handlers and those built
after an ``after_request`` function itself failed.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from flask import Flask, has_request_context, request

HEADER = "X-Request-Id"
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")
_ENVIRON_KEY = "feedback_service.request_id"
_PRESENTED_KEY = "HTTP_X_REQUEST_ID"


def ensure_request_id(environ: dict[str, Any]) -> str:
    """The request's id: the well-formed one it came with, else a new one (chosen once)."""
    if _ENVIRON_KEY not in environ:
        presented = environ.get(_PRESENTED_KEY, "")
        well_formed = WELL_FORMED.fullmatch(presented) is not None
        environ[_ENVIRON_KEY] = presented if well_formed else uuid.uuid4().hex
    return str(environ[_ENVIRON_KEY])


class RequestIdMiddleware:
    """Adds the request's id to every response the wrapped app sends."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request_id = ensure_request_id(environ)

        def start_with_id(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            return start_response(status, [*headers, (HEADER, request_id)], *exc_info)

        return self.wsgi_app(environ, start_with_id)  # type: ignore[no-any-return]


class RequestIdFormatter(logging.Formatter):
    """Gives a format ``%(request_id)s``: the id of the request being handled ("-" outside)."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = ensure_request_id(request.environ) if has_request_context() else "-"
        return super().format(record)


def init_app(app: Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
