"""Project info and a channel's field list."""

from __future__ import annotations

from typing import Any

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import CHANNEL, PROJECT
from feedback_service.openapi.operation import documented
from feedback_service.schemas.integration import FieldOut, ProjectOut
from feedback_service.services import channels, projects


@bp.get(PROJECT)
@documented("Get the project", response=ProjectOut())
def get_project(project_id: int) -> dict[str, Any]:
    return ProjectOut().dump(projects.get_project(project_id))


@bp.get(CHANNEL + "/fields")
@documented("List a channel's active fields", response=FieldOut(many=True))
def list_fields(project_id: int, channel_id: int) -> list[dict[str, Any]]:
    return FieldOut(many=True).dump(channels.active_fields(project_id, channel_id))
