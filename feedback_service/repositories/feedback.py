from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.orm import Session

from feedback_service.models import Channel, Feedback, Issue, feedback_issue
from feedback_service.repositories.feedback_filters import Match
from feedback_service.repositories.text_match import never_stored
from feedback_service.repositories.upsert import insert_ignoring_duplicates


def get_feedback(session: Session, channel_id: int, feedback_id: int) -> Feedback | None:
    stmt = select(Feedback).where(Feedback.id == feedback_id, Feedback.channel_id == channel_id)
    return session.scalar(stmt)


def get_board_feedback(session: Session, channel_id: int, public_id: str) -> Feedback | None:
    if never_stored(session, public_id):
        return None
    stmt = select(Feedback).where(
        Feedback.public_id == public_id, Feedback.channel_id == channel_id
    )
    return session.scalar(stmt)


def lock_feedback(session: Session, feedback_id: int) -> None:
    """Hold the feedback's row until the transaction ends, so that read-then-write changes of
    it (a vote toggle) take turns on PostgreSQL; on SQLite a writing unit holds the database's
    write lock already, and SQLAlchemy leaves FOR UPDATE out."""
    session.execute(select(Feedback.id).where(Feedback.id == feedback_id).with_for_update())


def add_to_vote_count(session: Session, feedback_id: int, delta: int) -> int:
    """Change the count in SQL and return the new value."""
    return _add_to_counter(session, feedback_id, Feedback.vote_count, delta)


def add_to_comment_count(session: Session, feedback_id: int, delta: int) -> int:
    return _add_to_counter(session, feedback_id, Feedback.comment_count, delta)


def _add_to_counter(session: Session, feedback_id: int, counter: Any, delta: int) -> int:
    stmt = (
        update(Feedback)
        .where(Feedback.id == feedback_id)
        .values({counter: counter + delta})
        .returning(counter)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).scalar_one())


def link_issue(session: Session, feedback_id: int, issue_id: int, when: datetime) -> bool:
    """Link once; True when the link is new."""
    row = {"feedback_id": feedback_id, "issue_id": issue_id, "created_at": when}
    return insert_ignoring_duplicates(session, feedback_issue, row)


def unlink_issue(session: Session, feedback_id: int, issue_id: int) -> bool:
    stmt = delete(feedback_issue).where(
        feedback_issue.c.feedback_id == feedback_id, feedback_issue.c.issue_id == issue_id
    )
    return bool(session.execute(stmt).rowcount)


def touch(session: Session, feedback_id: int, when: datetime) -> None:
    """Set updated_at to ``when`` unless it is already later: it never goes backwards."""
    stmt = (
        update(Feedback)
        .where(Feedback.id == feedback_id)
        .values(updated_at=case((Feedback.updated_at < when, when), else_=Feedback.updated_at))
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)


def delete_feedback(session: Session, channel_id: int, feedback_ids: Sequence[int]) -> int:
    """Delete the channel's feedback among ``feedback_ids``, uncounting their issue links."""
    doomed = select(Feedback.id).where(
        Feedback.channel_id == channel_id, Feedback.id.in_(feedback_ids)
    )
    doomed_links = feedback_issue.c.feedback_id.in_(doomed)
    links_per_issue = (
        select(func.count())
        .where(feedback_issue.c.issue_id == Issue.id, doomed_links)
        .scalar_subquery()
    )
    session.execute(
        update(Issue)
        .where(Issue.id.in_(select(feedback_issue.c.issue_id).where(doomed_links)))
        .values(feedback_count=Issue.feedback_count - links_per_issue)
        .execution_options(synchronize_session=False)
    )
    # The links go with the feedback through ON DELETE CASCADE.
    stmt = delete(Feedback).where(Feedback.id.in_(doomed))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def add_to_channel_count(session: Session, channel_id: int, delta: int) -> None:
    stmt = (
        update(Channel)
        .where(Channel.id == channel_id)
        # A count changing is not an edit of the channel: updated_at stays.
        .values(feedback_count=Channel.feedback_count + delta, updated_at=Channel.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)


def matching_ids(
    session: Session,
    channel_id: int,
    match: Match,
    order: Sequence[ColumnElement[Any]],
    newest_first: bool,
    limit: int,
) -> list[int]:
    """Up to ``limit`` ids that ``match`` accepts, in ``order`` (as a search page orders them)."""
    if match.ids is not None and newest_first:
        id_column = match.ids.selected_columns[0]
        return list(session.scalars(match.ids.order_by(id_column.desc()).limit(limit)))
    stmt = (
        select(Feedback.id)
        .where(Feedback.channel_id == channel_id, match.condition)
        .order_by(*order)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def feedback_by_ids(session: Session, ids: Sequence[int]) -> list[Feedback]:
    """The rows of ``ids``, in that order."""
    by_id = {row.id: row for row in session.scalars(select(Feedback).where(Feedback.id.in_(ids)))}
    return [by_id[feedback_id] for feedback_id in ids if feedback_id in by_id]
