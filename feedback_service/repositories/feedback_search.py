"""Running a search: one page of a channel's feedback and the exact total."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from feedback_service.models import Channel, Feedback
from feedback_service.repositories.channels import feedback_count
from feedback_service.repositories.feedback_filters import Match
from feedback_service.repositories.pagination import Page


def _rows_in_order(session: Session, ids: list[int]) -> list[Feedback]:
    if not ids:
        return []
    by_id = {row.id: row for row in session.scalars(select(Feedback).where(Feedback.id.in_(ids)))}
    return [by_id[feedback_id] for feedback_id in ids]


def search_feedback(
    session: Session,
    channel: Channel,
    match: Match,
    order: Sequence[ColumnElement[Any]],
    newest_first: bool,
    page: int,
    limit: int,
    total: int | None = None,
) -> Page[Feedback]:
    """One page of the channel's feedback that ``match`` accepts, with the exact total
    (``total`` when the caller knows it already).

    Only ids are sorted and counted; the page's own rows are read last, so a sort never
    carries whole documents.
    """
    offset = (page - 1) * limit
    if match.ids is not None and newest_first:
        # Newest first straight off an index ordered by feedback id.
        id_column = match.ids.selected_columns[0]
        page_ids = match.ids.order_by(id_column.desc()).limit(limit).offset(offset)
        if total is None:
            total = session.scalar(select(func.count()).select_from(match.ids.subquery()))
    else:
        where = (Feedback.channel_id == channel.id, match.condition)
        page_ids = select(Feedback.id).where(*where).order_by(*order).limit(limit).offset(offset)
        # An unfiltered total is the channel's counter: no need to count a million rows.
        if total is None and match.unfiltered:
            total = feedback_count(session, channel.id)
        elif total is None:
            total = session.scalar(select(func.count()).select_from(Feedback).where(*where))
    # Past the last match, no page needs reading (with few matches, finding that out could
    # mean walking the whole channel).
    ids = list(session.scalars(page_ids)) if offset < (total or 0) else []
    return Page(items=_rows_in_order(session, ids), total=total or 0, page=page, limit=limit)
