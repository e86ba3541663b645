"""Test data built through the services (no hand-written INSERTs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from feedback_service.models import FieldFormat, FieldProperty
from feedback_service.services import api_keys, categories, channels, feedback, issues, projects
from feedback_service.services.channels import FieldSpec
from feedback_service.services.issues import IssueFields

# One field of every format, plus a read-only one, on every test channel.
STANDARD_FIELDS = (
    FieldSpec("message", FieldFormat.text),
    FieldSpec("label", FieldFormat.keyword),
    FieldSpec("score", FieldFormat.number),
    FieldSpec("kind", FieldFormat.select, options=("bug", "idea")),
    FieldSpec("tags", FieldFormat.multiSelect, options=("ui", "api", "docs")),
    FieldSpec("seen_at", FieldFormat.date),
    FieldSpec("shots", FieldFormat.images),
    FieldSpec("source", FieldFormat.text, property=FieldProperty.READ_ONLY),
)


@dataclass
class ProjectWorld:
    project_id: int
    channel_id: int
    key: str
    issue_ids: list[int] = field(default_factory=list)
    category_id: int = 0
    feedback_ids: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.key}

    @property
    def base(self) -> str:
        return f"/api/projects/{self.project_id}"

    @property
    def channel(self) -> str:
        return f"{self.base}/channels/{self.channel_id}"


@dataclass
class World:
    a: ProjectWorld
    b: ProjectWorld


def make_project(app: Flask, name: str, **kwargs: Any) -> int:
    with app.app_context():
        return projects.create_project(
            name, kwargs.get("description"), kwargs.get("timezone", "Asia/Seoul")
        ).id


def make_channel(
    app: Flask,
    project_id: int,
    name: str = "web",
    specs: tuple[FieldSpec, ...] = STANDARD_FIELDS,
    image_domains: tuple[str, ...] = (),
) -> int:
    with app.app_context():
        return channels.create_channel(project_id, name, specs, image_domains).id


def make_key(app: Flask, project_id: int) -> str:
    with app.app_context():
        return api_keys.create_api_key(project_id)[1]


def make_issue(app: Flask, project_id: int, name: str, **kwargs: Any) -> int:
    with app.app_context():
        fields = IssueFields(name=name, description=None, **kwargs)
        return issues.create_issue(project_id, fields).id


def make_category(app: Flask, project_id: int, name: str) -> int:
    with app.app_context():
        return categories.create_category(project_id, name).id


def make_feedback(app: Flask, project_id: int, channel_id: int, body: dict[str, Any]) -> int:
    with app.app_context():
        return feedback.create_feedback(project_id, channel_id, body).id


def build_project_world(app: Flask, name: str) -> ProjectWorld:
    project_id = make_project(app, name)
    channel_id = make_channel(app, project_id)
    world = ProjectWorld(project_id, channel_id, make_key(app, project_id))
    world.issue_ids = [make_issue(app, project_id, f"{name} issue {n}") for n in (1, 2)]
    world.category_id = make_category(app, project_id, f"{name} category")
    world.feedback_ids = [
        make_feedback(app, project_id, channel_id, {"message": f"{name} feedback {n}"})
        for n in (1, 2)
    ]
    return world


def build_world(app: Flask) -> World:
    return World(a=build_project_world(app, "alpha"), b=build_project_world(app, "beta"))
