"""Fixtures for the public API: per project a board, its public key and a secret key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from feedback_service.services import boards, public_keys
from tests.factories import make_key, make_project

# Every route of the public API, as (method, rule).
PUBLIC_ROUTES = [
    ("GET", "/api/v1/feedback"),
    ("GET", "/api/v1/feedback/<public_id>"),
    ("GET", "/api/v1/feedback/<public_id>/vote"),
    ("POST", "/api/v1/feedback"),
    ("POST", "/api/v1/feedback/<public_id>/comments"),
    ("POST", "/api/v1/feedback/<public_id>/vote"),
    ("POST", "/api/v1/identify"),
]


@dataclass(frozen=True)
class BoardWorld:
    project_id: int
    board_id: int
    public_key: str
    public_key_id: int
    secret_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.public_key}


@dataclass(frozen=True)
class Boards:
    a: BoardWorld
    b: BoardWorld


def make_board_world(app: Flask, name: str) -> BoardWorld:
    project_id = make_project(app, name)
    with app.app_context():
        board = boards.create_board(project_id, f"{name} board")
        key = public_keys.create_public_key(project_id, board.id)
    return BoardWorld(project_id, board.id, key.key, key.id, make_key(app, project_id))


@pytest.fixture
def boards_world(app: Flask) -> Boards:
    """Two projects, each with one board, a public key for it and a secret key."""
    return Boards(a=make_board_world(app, "alpha"), b=make_board_world(app, "beta"))
