"""A board's feedback as the public API sees it: submit, list, and read with comments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.models import Channel, Comment, Feedback
from feedback_service.repositories import comments as comments_repo
from feedback_service.repositories import feedback_filters as sql
from feedback_service.repositories.feedback_search import search_feedback
from feedback_service.repositories.pagination import Page
from feedback_service.repositories.search_index import text_columns
from feedback_service.services.boards import INITIAL_STATUS, SEARCHED_FIELDS, board_feedback
from feedback_service.services.channels import channel_in_project
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
    return channel_in_project(session, access.project_id, access.channel_id)


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
        add_first_vote(session, feedback.id, voter, end_user.id if end_user else None)
        session.refresh(feedback, ["vote_count"])
    return feedback


def _value_in(channel: Channel, key: str, values: Sequence[str]) -> sql.Match:
    field_ = next((f for f in channel.fields if f.key == key), None)
    if not values:
        return sql.EVERYTHING
    return sql.NOTHING if field_ is None else sql.value_in(field_.id, values)


def list_feedback(access: BoardAccess, query: BoardQuery) -> Page[Feedback]:
    """One page of the board, filtered and sorted, with the exact total."""
    with unit_of_work(write=False) as session:
        channel = _board(session, access)
        filters = [
            _value_in(channel, "status", query.statuses),
            _value_in(channel, "type", query.types),
        ]
        if query.search:
            columns = {
                k: c for k, c in text_columns(channel.fields).items() if k in SEARCHED_FIELDS
            }
            dialect = session.get_bind().dialect.name
            filters.append(sql.text_contains(dialect, channel.id, columns, query.search))
        order = SORTS[query.sort]
        return search_feedback(
            session,
            channel,
            sql.all_of(filters),
            order,
            newest_first=query.sort == "newest",
            page=query.page,
            limit=query.limit,
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
