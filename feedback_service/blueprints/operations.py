"""Operations endpoints that need no key: ``GET /api/health``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from feedback_service.database import unit_of_work

bp = Blueprint("operations", __name__, url_prefix="/api")


@bp.get("/health")
def health() -> tuple[dict[str, Any], int]:
    """The reference server's terminus shape: 200 when the database answers, 503 otherwise."""
    try:
        with unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
        database = {"status": "up"}
    except SQLAlchemyError as error:
        database = {"status": "down", "message": type(error).__name__}
    healthy = database["status"] == "up"
    return {
        "status": "ok" if healthy else "error",
        "info": {"database": database} if healthy else {},
        "error": {} if healthy else {"database": database},
        "details": {"database": database},
    }, 200 if healthy else 503
