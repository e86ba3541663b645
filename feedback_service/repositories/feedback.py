from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, joinedload

from feedback_service.models import Channel, Feedback, Issue, feedback_issue
from feedback_service.repositories.feedback_filters import Match
from feedback_service.repositories.text_match import never_stored
from feedback_service.repositories.upsert import insert_ignoring_duplicates

# Statements of every API request are built once, with bound parameters: building one costs
# about as much as running it.
_IN_CHANNEL = Feedback.channel_id == bindparam("channel_id")
_BY_ID = (Feedback.id == bindparam("feedback_id"), _IN_CHANNEL)
_BY_PUBLIC_ID = (Feedback.public_id == bindparam("public_id"), _IN_CHANNEL)
# The end user in the feedback's own statement. (Joined, the issue links would be read whole:
# SQLite materialises the nested join of links and issues before joining it.)
_GET = select(Feedback).where(*_BY_ID).options(joinedload(Feedback.end_user))
_GET_BY_PUBLIC_ID = select(Feedback).where(*_BY_PUBLIC_ID).options(joinedload(Feedback.end_user))
_EXISTS = select(Feedback.id).where(*_BY_ID)
_ID_BY_PUBLIC_ID = select(Feedback.id).where(*_BY_PUBLIC_ID)


def get_feedback(session: Session, channel_id: int, feedback_id: int) -> Feedback | None:
    return session.scalar(_GET, {"channel_id": channel_id, "feedback_id": feedback_id})


_INSERTED = [column for column in Feedback.__table__.columns if column.key != "id"]
_INSERT = insert(Feedback.__table__).returning(Feedback.__table__.c.id)


def insert_feedback(session: Session, feedback: Feedback) -> int:
    """Insert the row of a new feedback, which stays out of the session (one statement instead
    of the ORM's flush); its id. Every column must be set on ``feedback``."""
    row = {column.key: getattr(feedback, column.key) for column in _INSERTED}
    if feedback.end_user is not None:
        row["end_user_id"] = feedback.end_user.id
    return int(session.execute(_INSERT, row).scalar_one())


def feedback_exists(session: Session, channel_id: int, feedback_id: int) -> bool:
    params = {"channel_id": channel_id, "feedback_id": feedback_id}
    return session.execute(_EXISTS, params).first() is not None


def get_board_feedback(session: Session, channel_id: int, public_id: str) -> Feedback | None:
    if never_stored(session, public_id):
        return None
    return session.scalar(_GET_BY_PUBLIC_ID, {"channel_id": channel_id, "public_id": public_id})


def board_feedback_id(session: Session, channel_id: int, public_id: str) -> int | None:
    """The id alone, for changes that need no more of the row (votes, comments)."""
    if never_stored(session, public_id):
        return None
    params = {"channel_id": channel_id, "public_id": public_id}
    return session.execute(_ID_BY_PUBLIC_ID, params).scalar()


def lock_feedback(session: Session, feedback_id: int) -> None:
    """Hold the feedback's row until the transaction ends, so that read-then-write changes of
    it (a vote toggle) take turns on PostgreSQL. On SQLite a writing unit holds the database's
    write lock already (and FOR UPDATE does not exist there): no statement is needed."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(select(Feedback.id).where(Feedback.id == feedback_id).with_for_update())


def _counter_update(counter: Any) -> Any:
    return (
        update(Feedback)
        .where(Feedback.id == bindparam("feedback_id"))
        .values({counter: counter + bindparam("delta")})
        .returning(counter)
        .execution_options(synchronize_session=False)
    )


_ADD_TO_VOTE_COUNT = _counter_update(Feedback.vote_count)
_ADD_TO_COMMENT_COUNT = _counter_update(Feedback.comment_count)


def add_to_vote_count(session: Session, feedback_id: int, delta: int) -> int:
    """Change the count in SQL and return the new value."""
    params = {"feedback_id": feedback_id, "delta": delta}
    return int(session.execute(_ADD_TO_VOTE_COUNT, params).scalar_one())


def add_to_comment_count(session: Session, feedback_id: int, delta: int) -> int:
    params = {"feedback_id": feedback_id, "delta": delta}
    return int(session.execute(_ADD_TO_COMMENT_COUNT, params).scalar_one())


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


_ADD_TO_CHANNEL_COUNT = (
    update(Channel)
    .where(Channel.id == bindparam("channel_id"))
    # A count changing is not an edit of the channel: updated_at stays.
    .values(
        feedback_count=Channel.feedback_count + bindparam("delta"), updated_at=Channel.updated_at
    )
    .execution_options(synchronize_session=False)
)


def add_to_channel_count(session: Session, channel_id: int, delta: int) -> None:
    # No change, no statement: any other change of the row is one of the channel's definition.
    if delta:
        session.execute(_ADD_TO_CHANNEL_COUNT, {"channel_id": channel_id, "delta": delta})


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
