"""Projects: created from the command line (and later the console), read by the API."""

from __future__ import annotations

from feedback_service.database import unit_of_work
from feedback_service.errors import Conflict, InvalidInput, ProjectNotFound
from feedback_service.models import Project
from feedback_service.repositories import projects as repo
from feedback_service.timezones import describe_timezone

MAX_NAME_LENGTH = 255


def create_project(name: str, description: str | None, timezone: str) -> Project:
    """:raises InvalidInput: bad name or timezone. :raises Conflict: the name is taken."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"project name must be 1 to {MAX_NAME_LENGTH} characters")
    try:
        zone = describe_timezone(timezone)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    with unit_of_work(write=True) as session:
        if repo.project_name_taken(session, name):
            raise Conflict(f"a project named {name!r} already exists")
        project = Project(name=name, description=description, timezone=zone)
        session.add(project)
    return project


def get_project(project_id: int) -> Project:
    """:raises ProjectNotFound:"""
    with unit_of_work(write=False) as session:
        project = repo.get_project(session, project_id)
    if project is None:
        raise ProjectNotFound()
    return project
