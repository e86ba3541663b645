"""Feedback routes: create, get, update, delete many, link and unlink issues."""

from __future__ import annotations

from typing import Any

from flask import Response

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import CHANNEL, FEEDBACK
from feedback_service.blueprints.integration_api.requests import empty, json_body
from feedback_service.blueprints.uploads import own_images_url
from feedback_service.errors import InvalidInput
from feedback_service.openapi.operation import documented
from feedback_service.schemas.base import load
from feedback_service.schemas.integration import (
    CreatedOut,
    FeedbackIdsIn,
    FeedbackOut,
    FeedbackValuesIn,
)
from feedback_service.services import feedback as service

# Built once and shared by the document and the views (loading or dumping never changes one).
FEEDBACK_OUT = FeedbackOut()


def _object_body() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object of field values")
    return body


# The reference server's older path for the same operation, still used by its own tests. It
# registers after the main path (decorators apply bottom up), so the document calls it an alias.
@bp.post("/admin" + CHANNEL + "/feedbacks")
@bp.post(CHANNEL + "/feedbacks")
@documented(
    "Create feedback",
    status=201,
    body=FeedbackValuesIn(),
    response=CreatedOut(),
    description="The body holds the channel's field values by field key.",
)
def create_feedback(project_id: int, channel_id: int) -> tuple[dict[str, int], int]:
    feedback = service.create_feedback(
        project_id, channel_id, _object_body(), own_images=own_images_url(project_id, channel_id)
    )
    return {"id": feedback.id}, 201


@bp.get(FEEDBACK)
@documented("Get feedback", response=FEEDBACK_OUT)
def get_feedback(project_id: int, channel_id: int, feedback_id: int) -> dict[str, Any]:
    return FEEDBACK_OUT.dump(service.get_feedback(project_id, channel_id, feedback_id))


@bp.put(FEEDBACK)
@documented("Update feedback's editable field values", body=FeedbackValuesIn())
def update_feedback(project_id: int, channel_id: int, feedback_id: int) -> Response:
    service.update_feedback(
        project_id,
        channel_id,
        feedback_id,
        _object_body(),
        own_images=own_images_url(project_id, channel_id),
    )
    return empty()


@bp.delete(CHANNEL + "/feedbacks")
@documented("Delete feedback", body=FeedbackIdsIn())
def delete_feedbacks(project_id: int, channel_id: int) -> Response:
    ids = load(FeedbackIdsIn(), json_body())["feedback_ids"]
    service.delete_feedback(project_id, channel_id, ids)
    return empty()


@bp.post(FEEDBACK + "/issue/<issue_id>")
@documented("Link feedback to an issue", status=201)
def attach_issue(project_id: int, channel_id: int, feedback_id: int, issue_id: int) -> Response:
    service.attach_issue(project_id, channel_id, feedback_id, issue_id)
    return empty(201)


@bp.delete(FEEDBACK + "/issue/<issue_id>")
@documented("Unlink feedback from an issue")
def detach_issue(project_id: int, channel_id: int, feedback_id: int, issue_id: int) -> Response:
    service.detach_issue(project_id, channel_id, feedback_id, issue_id)
    return empty()
