"""A board's feedback counted per status and type, as triggers keep it (revision 0008)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, column, func, literal_column, select, table, true
from sqlalchemy.orm import Session

from feedback_service.models import BOARD_COUNT_TABLE

board_count = table(
    BOARD_COUNT_TABLE,
    column("channel_id"),
    column("status"),
    column("type"),
    column("feedback_count"),
)
# As revision 0008's triggers read them.
_VALUES = {
    "sqlite": "json_extract(feedback.data, '$.{key}')",
    "postgresql": "(feedback.data ->> '{key}')",
}


def board_value(dialect: str, key: str) -> Any:
    """A board's ``status`` or ``type`` as stored in the feedback's values (``key`` is one of
    those two names, never client text)."""
    return literal_column(_VALUES[dialect].format(key=key))


def count_feedback(
    session: Session, channel_id: int, statuses: Sequence[str], types: Sequence[str]
) -> tuple[int, int]:
    """``(matching, all)``: the board's feedback of any of ``statuses`` and of any of
    ``types`` (empty: any), and all of its feedback."""
    conditions = [
        column.in_(values)
        for column, values in ((board_count.c.status, statuses), (board_count.c.type, types))
        if values
    ]
    counts = board_count.c.feedback_count
    stmt = select(
        func.coalesce(func.sum(case((and_(true(), *conditions), counts), else_=0)), 0),
        func.coalesce(func.sum(counts), 0),
    ).where(board_count.c.channel_id == channel_id)
    matching, everything = session.execute(stmt).one()
    return int(matching), int(everything)
