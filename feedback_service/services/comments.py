"""Comments on a board's feedback, by end users (or anonymous) and by the product team."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import FeedbackNotFound
from feedback_service.models import Comment
from feedback_service.public_ids import COMMENT_PREFIX, new_public_id
from feedback_service.repositories import comments as comments_repo
from feedback_service.repositories import feedback as feedback_repo
from feedback_service.services.boards import board_feedback_id
from feedback_service.services.channels import channel_definition
from feedback_service.services.end_users import (
    EndUserClaim,
    acting_end_user,
    verified_claim,
)
from feedback_service.services.public_keys import BoardAccess


def _add(session: Session, feedback_id: int, **columns: object) -> Comment:
    comment = Comment(public_id=new_public_id(COMMENT_PREFIX), feedback_id=feedback_id, **columns)
    session.add(comment)
    session.flush()
    feedback_repo.add_to_comment_count(session, feedback_id, 1)
    return comment


def add_comment(
    access: BoardAccess, public_id: str, content: str, claim: EndUserClaim | None
) -> Comment:
    """An end user's comment (anonymous without a claim).

    :raises BoardFeedbackNotFound: :raises InvalidUserHash:
    """
    claim = verified_claim(access, claim)
    with unit_of_work(write=True) as session:
        feedback_id = board_feedback_id(session, access.channel_id, public_id)
        end_user = acting_end_user(session, access, claim)
        return _add(session, feedback_id, content=content, end_user=end_user)


def add_team_comment(
    project_id: int, channel_id: int, feedback_id: int, content: str, author_name: str
) -> Comment:
    """A reply from the product team, shown with ``isTeam``.

    :raises ChannelNotFound: :raises FeedbackNotFound:
    """
    with unit_of_work(write=True) as session:
        channel_definition(session, project_id, channel_id)
        if not feedback_repo.feedback_exists(session, channel_id, feedback_id):
            raise FeedbackNotFound()
        return _add(session, feedback_id, content=content, is_team=True, author_name=author_name)


def list_comments(project_id: int, channel_id: int, feedback_id: int, limit: int) -> list[Comment]:
    """The first ``limit`` comments on a feedback, oldest first, with their end users.

    :raises ChannelNotFound: :raises FeedbackNotFound:
    """
    with unit_of_work(write=False) as session:
        channel_definition(session, project_id, channel_id)
        if not feedback_repo.feedback_exists(session, channel_id, feedback_id):
            raise FeedbackNotFound()
        return comments_repo.first_comments(session, feedback_id, limit)
