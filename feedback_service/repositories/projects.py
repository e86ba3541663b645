from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback_service.models import Project


def get_project(session: Session, project_id: int) -> Project | None:
    return session.get(Project, project_id)


def project_name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(Project.id).where(Project.name == name)) is not None


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))
