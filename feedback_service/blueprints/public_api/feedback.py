"""Board feedback: list, submit, read, vote, comment."""

from __future__ import annotations

from typing import Any

from flask import current_app

from feedback_service.blueprints.public_api import bp
from feedback_service.blueprints.public_api.requests import board, load_body, load_query
from feedback_service.client_address import client_key
from feedback_service.openapi.operation import documented
from feedback_service.schemas.public import (
    CommentIn,
    CreatedCommentOut,
    CreatedFeedbackOut,
    FeedbackDetailEnvelopeOut,
    FeedbackIn,
    FeedbackListOut,
    ListQuery,
    ViewerQuery,
    VoteIn,
    VoteOut,
    page_envelope,
)
from feedback_service.services import board_feedback, comments, votes
from feedback_service.services.board_feedback import BoardQuery, NewBoardFeedback

# Built once and shared by the document and the views: building a schema copies its fields,
# and loading or dumping never changes it.
LIST_QUERY, VIEWER_QUERY = ListQuery(), ViewerQuery()
FEEDBACK_IN, VOTE_IN, COMMENT_IN = FeedbackIn(), VoteIn(), CommentIn()
CREATED_FEEDBACK_OUT, FEEDBACK_DETAIL_OUT = CreatedFeedbackOut(), FeedbackDetailEnvelopeOut()
VOTE_OUT, CREATED_COMMENT_OUT = VoteOut(), CreatedCommentOut()


@bp.get("/feedback")
@documented("List the board's feedback", query=LIST_QUERY, response=FeedbackListOut())
def list_feedback() -> dict[str, Any]:
    query = load_query(LIST_QUERY)
    page = board_feedback.list_feedback(
        board(),
        BoardQuery(
            statuses=query["status"],
            types=query["type"],
            search=query.get("search"),
            sort=query["sortBy"],
            page=query["page"],
            limit=query["limit"],
        ),
    )
    return page_envelope(page.items, page.total, page.page, page.limit)


@bp.post("/feedback")
@documented("Submit feedback", status=201, body=FEEDBACK_IN, response=CREATED_FEEDBACK_OUT)
def submit_feedback() -> tuple[dict[str, Any], int]:
    body = load_body(FEEDBACK_IN)
    new = NewBoardFeedback(
        title=body["title"],
        type=body["type"],
        description=body.get("description"),
        metadata=body.get("metadata"),
    )
    feedback = board_feedback.submit_feedback(board(), new, body.get("endUser"), client_key())
    return CREATED_FEEDBACK_OUT.dump({"feedback": feedback}), 201


@bp.get("/feedback/<public_id>")
@documented(
    "Get feedback with its comments",
    query=VIEWER_QUERY,
    response=FEEDBACK_DETAIL_OUT,
    errors=(404,),
)
def get_feedback(public_id: str) -> dict[str, Any]:
    viewer = load_query(VIEWER_QUERY)
    detail = board_feedback.feedback_detail(
        board(),
        public_id,
        viewer.get("endUserId"),
        viewer.get("userHash"),
        client_key(),
        current_app.config["PUBLIC_MAX_COMMENTS"],
    )
    return FEEDBACK_DETAIL_OUT.dump({"feedback": detail})


@bp.post("/feedback/<public_id>/vote")
@documented(
    "Vote for feedback, or take the vote back",
    body=VOTE_IN,
    response=VOTE_OUT,
    errors=(404,),
)
def toggle_vote(public_id: str) -> dict[str, Any]:
    body = load_body(VOTE_IN)
    state = votes.toggle_vote(board(), public_id, body.get("endUser"), client_key())
    return VOTE_OUT.dump(state)


@bp.get("/feedback/<public_id>/vote")
@documented("Whether the viewer voted", query=VIEWER_QUERY, response=VOTE_OUT, errors=(404,))
def get_vote(public_id: str) -> dict[str, Any]:
    viewer = load_query(VIEWER_QUERY)
    state = votes.vote_state(
        board(), public_id, viewer.get("endUserId"), viewer.get("userHash"), client_key()
    )
    return VOTE_OUT.dump(state)


@bp.post("/feedback/<public_id>/comments")
@documented(
    "Comment on feedback",
    status=201,
    body=COMMENT_IN,
    response=CREATED_COMMENT_OUT,
    errors=(404,),
)
def add_comment(public_id: str) -> tuple[dict[str, Any], int]:
    body = load_body(COMMENT_IN)
    comment = comments.add_comment(board(), public_id, body["content"], body.get("endUser"))
    return CREATED_COMMENT_OUT.dump({"comment": comment}), 201
