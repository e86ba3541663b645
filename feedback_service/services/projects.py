"""Projects: created from the command line or the console, read by the APIs."""

from __future__ import annotations

from feedback_service.database import unique_or, unit_of_work
from feedback_service.errors import Conflict, InvalidInput, ProjectNotFound
from feedback_service.models import Project
from feedback_service.repositories import projects as repo
from feedback_service.timezones import describe_timezone

MAX_NAME_LENGTH = 255


def _checked(name: str, timezone: str) -> tuple[str, dict[str, str]]:
    """The trimmed name and the timezone's wire shape. :raises InvalidInput:"""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"project name must be 1 to {MAX_NAME_LENGTH} characters")
    try:
        return name, describe_timezone(timezone)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def create_project(name: str, description: str | None, timezone: str) -> Project:
    """:raises InvalidInput: bad name or timezone. :raises Conflict: the name is taken."""
    name, zone = _checked(name, timezone)
    conflict = Conflict(f"a project named {name!r} already exists")
    with unique_or(conflict), unit_of_work(write=True) as session:
        if repo.project_name_taken(session, name):
            raise conflict
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


def list_projects() -> list[Project]:
    with unit_of_work(write=False) as session:
        return repo.list_projects(session)


def update_project(project_id: int, name: str, description: str | None, timezone: str) -> Project:
    """:raises ProjectNotFound: :raises InvalidInput: :raises Conflict: the name is taken."""
    name, zone = _checked(name, timezone)
    with unit_of_work(write=True) as session:
        project = repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        if name != project.name and repo.project_name_taken(session, name):
            raise Conflict(f"a project named {name!r} already exists")
        project.name = name
        project.description = description
        project.timezone = zone
    return project
