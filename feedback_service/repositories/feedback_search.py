"""Running a search: one page of a channel's feedback and the exact total."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from feedback_service.models import Channel, Feedback
from feedback_service.repositories.feedback_filters import Match
from feedback_service.repositories.pagination import Page, paginate


def _page_from_index(session: Session, ids: Any, page: int, limit: int) -> Page[Feedback]:
    """Newest first straight off an index ordered by feedback id: only the page is read."""
    id_column = ids.selected_columns[0]
    page_ids = list(
        session.scalars(ids.order_by(id_column.desc()).limit(limit).offset((page - 1) * limit))
    )
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    items = session.scalars(
        select(Feedback).where(Feedback.id.in_(page_ids)).order_by(Feedback.id.desc())
    )
    return Page(items=list(items), total=total, page=page, limit=limit)


def search_feedback(
    session: Session,
    channel: Channel,
    match: Match,
    order: Sequence[ColumnElement[Any]],
    newest_first: bool,
    page: int,
    limit: int,
) -> Page[Feedback]:
    """One page of the channel's feedback that ``match`` accepts, with the exact total."""
    if match.ids is not None and newest_first:
        return _page_from_index(session, match.ids, page, limit)
    stmt = select(Feedback).where(Feedback.channel_id == channel.id, match.condition)
    if match.unfiltered:
        # The channel's counter is the total: no need to count a million rows.
        items = session.scalars(stmt.order_by(*order).limit(limit).offset((page - 1) * limit))
        return Page(items=list(items), total=channel.feedback_count, page=page, limit=limit)
    return paginate(session, stmt.order_by(*order), page, limit)
