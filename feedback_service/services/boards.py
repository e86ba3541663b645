"""Boards: channels that the public API serves, with the Feedhog fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from feedback_service.errors import BoardFeedbackNotFound, InvalidInput
from feedback_service.models import Channel, Feedback, Field, FieldFormat
from feedback_service.repositories import feedback as feedback_repo
from feedback_service.services import channels
from feedback_service.services.channels import FieldSpec

TYPES = ("bug", "idea", "question", "other")
STATUSES = ("new", "under-review", "planned", "in-progress", "completed", "closed")
DEFAULT_TYPE = "idea"
INITIAL_STATUS = "new"
TITLE_MAX_LENGTH = 200

BOARD_FIELDS = (
    FieldSpec("title", FieldFormat.text),
    FieldSpec("description", FieldFormat.text),
    FieldSpec("type", FieldFormat.select, options=TYPES),
    FieldSpec("status", FieldFormat.select, options=STATUSES),
)
SEARCHED_FIELDS = ("title", "description")
CLOSED_OPTIONS = {"type": TYPES, "status": STATUSES}


def create_board(project_id: int, name: str, description: str | None = None) -> Channel:
    """A channel with the board fields, served by the public API through its public keys.

    :raises InvalidInput: :raises ProjectNotFound: :raises Conflict: the name is taken.
    """
    return channels.create_channel(project_id, name, BOARD_FIELDS, (), description, is_board=True)


def board_feedback(session: Session, channel_id: int, public_id: str) -> Feedback:
    """A board's feedback by public id. :raises BoardFeedbackNotFound: also another board's."""
    feedback = feedback_repo.get_board_feedback(session, channel_id, public_id)
    if feedback is None:
        raise BoardFeedbackNotFound()
    return feedback


def board_feedback_id(session: Session, channel_id: int, public_id: str) -> int:
    """The id of a board's feedback by public id. :raises BoardFeedbackNotFound:"""
    feedback_id = feedback_repo.board_feedback_id(session, channel_id, public_id)
    if feedback_id is None:
        raise BoardFeedbackNotFound()
    return feedback_id


def refuse_new_board_options(channel: Channel, new_options: Sequence[tuple[Field, str]]) -> None:
    """A board's type and status keep the public API's values: no new options there.

    :raises InvalidInput:
    """
    if not channel.is_board:
        return
    for field_, name in new_options:
        closed = CLOSED_OPTIONS.get(field_.key)
        if closed is not None:
            raise InvalidInput(f"{field_.key} must be one of: {', '.join(closed)} (got {name!r})")


def with_board_defaults(body: Mapping[str, Any]) -> dict[str, Any]:
    """Feedback pushed to a board without a type or status starts as a new idea."""
    return {"type": DEFAULT_TYPE, "status": INITIAL_STATUS, **body}
