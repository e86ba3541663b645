"""A board's feedback as the public API sees it: submit, list, and read with comments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.models import Channel, Comment, Feedback
from feedback_service.repositories import board_counts
from feedback_service.repositories import comments as comments_repo
from feedback_service.repositories import feedback_filters as sql
from feedback_service.repositories.feedback_search import search_feedback
from feedback_service.repositories.pagination import Page
from feedback_service.repositories.search_index import text_columns
from feedback_service.services.boards import INITIAL_STATUS, SEARCHED_FIELDS, board_feedback
from feedback_service.services.channels import channel_definition
from feedback_service.services.end_users import (
    EndUserClaim,
    acting_end_user,
    verified_claim,
)
from feedback_service.services.feedback import insert_feedback
from feedback_service.services.public_keys import BoardAccess
from feedback_service.services.votes import (
    add_first_vote,
    anonymous_voter,
    end_user_voter,
    viewer_claim,
    viewer_has_voted,
)

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "newest": (Feedback.id.desc(),),
    "oldest": (Feedback.id.asc(),),
    "votes": (Feedback.vote_count.desc(), Feedback.id.desc()),
    "comments": (Feedback.comment_count.desc(), Feedback.id.desc()),
}


# Rows a filtered page may read in sort order (~20 ms). Rarer matches are found through the
# value index instead, whose cost grows with the feedback of each value, not with the board.
MAX_ROWS_WALKED = 20_000


@dataclass(frozen=True)
class NewBoardFeedback:
    title: str
    type: str
    description: str | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BoardQuery:
    statuses: Sequence[str] = ()
    types: Sequence[str] = ()
    search: str | None = None
    sort: str = "newest"
    page: int = 1
    limit: int = 20


@dataclass(frozen=True)
class FeedbackDetail:
    feedback: Feedback
    comments: list[Comment]
    user_has_voted: bool


def _board(session: Session, access: BoardAccess) -> Channel:
    return channel_definition(session, access.project_id, access.channel_id)


def submit_feedback(
    access: BoardAccess, new: NewBoardFeedback, claim: EndUserClaim | None, client_key: str
) -> Feedback:
    """Store new feedback with status new and the submitter's vote counted.

    :raises InvalidUserHash:
    """
    claim = verified_claim(access, claim)
    body: dict[str, Any] = {"title": new.title, "type": new.type, "status": INITIAL_STATUS}
    if new.description is not None:
        body["description"] = new.description
    with unit_of_work(write=True) as session:
        channel = _board(session, access)
        end_user = acting_end_user(session, access, claim)
        meta = dict(new.metadata) if new.metadata is not None else None
        feedback = insert_feedback(session, channel, body, end_user=end_user, meta=meta)
        voter = end_user_voter(end_user) if end_user else anonymous_voter(client_key)
        add_first_vote(session, feedback, voter, end_user.id if end_user else None)
    return feedback


def _value_in(channel: Channel, key: str, values: Sequence[str]) -> sql.Match:
    field_ = next((f for f in channel.fields if f.key == key), None)
    if not values:
        return sql.EVERYTHING
    return sql.NOTHING if field_ is None else sql.value_in(field_.id, values)


def _status_and_type(dialect: str, query: BoardQuery) -> list[sql.Match]:
    """Filters that read the values off the feedback rows, as the board's counts are kept, so
    that a page walked in sort order checks each row it passes without another lookup."""
    return [
        sql.condition(board_counts.board_value(dialect, key).in_(values))
        for key, values in (("status", query.statuses), ("type", query.types))
        if values
    ]


def list_feedback(access: BoardAccess, query: BoardQuery) -> Page[Feedback]:
    """One page of the board, filtered and sorted, with the exact total."""
    with unit_of_work(write=False) as session:
        channel = _board(session, access)
        dialect = session.get_bind().dialect.name
        total = None
        if query.search:
            columns = {
                k: c for k, c in text_columns(channel.fields).items() if k in SEARCHED_FIELDS
            }
            filters = [
                _value_in(channel, "status", query.statuses),
                _value_in(channel, "type", query.types),
                sql.text_contains(dialect, channel.id, columns, query.search),
            ]
        elif query.statuses or query.types:
            total, everything = board_counts.count_feedback(
                session, channel.id, query.statuses, query.types
            )
            # A page read in sort order passes about this many rows to find its own.
            walked = query.page * query.limit * everything / max(total, 1)
            filters = (
                _status_and_type(dialect, query)
                if walked <= MAX_ROWS_WALKED
                else [
                    _value_in(channel, "status", query.statuses),
                    _value_in(channel, "type", query.types),
                ]
            )
        else:
            filters = []
        order = SORTS[query.sort]
        return search_feedback(
            session,
            channel,
            sql.all_of(filters),
            order,
            newest_first=query.sort == "newest",
            page=query.page,
            limit=query.limit,
            total=total,
        )


def feedback_detail(
    access: BoardAccess,
    public_id: str,
    external_id: str | None,
    user_hash: str | None,
    client_key: str,
    max_comments: int,
) -> FeedbackDetail:
    """The feedback, its first comments, and whether the viewer voted.

    :raises BoardFeedbackNotFound: :raises InvalidUserHash:
    """
    viewer = verified_claim(access, viewer_claim(external_id, user_hash))
    with unit_of_work(write=False) as session:
        feedback = board_feedback(session, access.channel_id, public_id)
        comments = comments_repo.first_comments(session, feedback.id, max_comments)
        voted = viewer_has_voted(session, access, feedback.id, viewer, client_key)
        return FeedbackDetail(feedback, comments, voted)
