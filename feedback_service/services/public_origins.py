"""The browser origins a project allows to call its public API (CORS)."""

from __future__ import annotations

from collections.abc import Sequence

import ada_url

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput, ProjectNotFound
from feedback_service.repositories import projects as repo


def normalise_origin(text: str) -> str:
    """``scheme://host[:port]`` exactly as a browser sends it in ``Origin``, or InvalidInput."""
    try:
        url = ada_url.URL(text.strip())
    except ValueError:
        url = None
    if url is None or url.protocol not in ("http:", "https:") or url.origin in ("", "null"):
        raise InvalidInput(f"invalid origin: {text!r} (expected e.g. https://app.example.com)")
    if url.pathname not in ("", "/") or url.search or url.hash or url.username or url.password:
        raise InvalidInput(f"invalid origin: {text!r} (an origin has no path, query or user)")
    return url.origin


def set_allowed_origins(project_id: int, origins: Sequence[str]) -> list[str]:
    """Replace the list; an empty list allows any origin.

    :raises InvalidInput: :raises ProjectNotFound:
    """
    allowed = sorted({normalise_origin(origin) for origin in origins})
    with unit_of_work(write=True) as session:
        project = repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        project.allowed_origins = allowed
    return allowed


def allowed_origins(project_id: int) -> list[str]:
    """:raises ProjectNotFound:"""
    with unit_of_work(write=False) as session:
        project = repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        return list(project.allowed_origins)
