"""Operations endpoints: ``GET /api/health`` and ``GET /metrics``."""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from feedback_service import metrics
from feedback_service.database import unit_of_work

bp = Blueprint("operations", __name__)

# When this process started serving: a forked gunicorn worker starts its own clock.
_process_started = time.monotonic()


def _restart_clock() -> None:
    global _process_started
    _process_started = time.monotonic()


os.register_at_fork(after_in_child=_restart_clock)


def database_indicator() -> dict[str, Any]:
    try:
        with unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return {"status": "down", "message": type(error).__name__}
    return {"status": "up"}


def process_indicator() -> dict[str, Any]:
    """The process that answered: always up, since it answered."""
    uptime = time.monotonic() - _process_started
    return {"status": "up", "pid": os.getpid(), "uptimeSeconds": round(uptime, 3)}


@bp.get("/api/health")
def health() -> tuple[dict[str, Any], int]:
    """The reference server's terminus shape: 200 when the database answers, 503 otherwise.

    Each indicator appears under ``details``, and under ``info`` when up or ``error`` when down.
    """
    indicators = {"database": database_indicator(), "process": process_indicator()}
    up = {name: state for name, state in indicators.items() if state["status"] == "up"}
    down = {name: state for name, state in indicators.items() if state["status"] != "up"}
    return {
        "status": "error" if down else "ok",
        "info": up,
        "error": down,
        "details": indicators,
    }, 503 if down else 200


def _bearer_token_matches(token: str) -> bool:
    presented = request.authorization
    if presented is None or presented.type != "bearer" or not presented.token:
        return False
    # Bytes, since compare_digest takes only ASCII strings; any character can be configured.
    return hmac.compare_digest(
        presented.token.encode("utf-8", "surrogateescape"),
        token.encode("utf-8", "surrogateescape"),
    )


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus text format; with ``METRICS_TOKEN`` set, for its bearer only."""
    request_metrics = metrics.for_app(current_app)
    if request_metrics is None:
        abort(404)
    token = current_app.config["METRICS_TOKEN"]
    if token and not _bearer_token_matches(token):
        return Response(
            "401 Unauthorized: /metrics needs Authorization: Bearer <token>\n",
            401,
            {"WWW-Authenticate": "Bearer"},
            mimetype="text/plain",
        )
    return Response(request_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
