from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from feedback_service.models import Feedback
from feedback_service.repositories.pagination import Page, paginate


def search_feedback(
    session: Session,
    channel_id: int,
    condition: ColumnElement[bool],
    order: Sequence[ColumnElement[Any]],
    page: int,
    limit: int,
) -> Page[Feedback]:
    """One page of the channel's feedback matching ``condition``, with the exact total."""
    stmt = select(Feedback).where(Feedback.channel_id == channel_id, condition).order_by(*order)
    return paginate(session, stmt, page, limit)
