"""Fixtures: a real SQLite file per test (copied from one migrated template), the app, clients.

Data is created through the services, the same code paths the CLI and API use.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service import create_app
from feedback_service.extensions import db
from feedback_service.schema import upgrade_to_head
from tests.cli_runner import Cli
from tests.factories import World, build_world, make_channel, make_project
from tests.helpers import MASTER_KEY


def make_test_app(database: Path, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{database}",
        # Rate-limit tests turn limits on themselves, with limits small enough to reach.
        "RATELIMIT_ENABLED": False,
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database file migrated to head; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = make_test_app(path)
    with app.app_context():
        upgrade_to_head()
        db.engine.dispose()  # the last close checkpoints the WAL into the file
    return path


@pytest.fixture
def database_path(tmp_path: Path, migrated_template: Path) -> Path:
    path = tmp_path / "feedback.sqlite"
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
def app(database_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(database_path)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(app: Flask) -> World:
    """Two projects, each with a channel of every field format, a key, issues and a category."""
    return build_world(app)


@pytest.fixture
def sql(database_path: Path) -> Iterator[Any]:
    """Run a query on the database file directly: ``sql("SELECT ...", params) -> rows``."""
    connection = sqlite3.connect(database_path)

    def query(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return connection.execute(statement, params).fetchall()

    yield query
    connection.close()


@pytest.fixture
def master_client(app: Flask, database_path: Path) -> Iterator[FlaskClient]:
    """A client of a second app on the same database, configured with ``MASTER_KEY``."""
    master_app = make_test_app(database_path, MASTER_API_KEY=MASTER_KEY)
    yield master_app.test_client()
    with master_app.app_context():
        db.engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, database_path: Path) -> Cli:
    """The console script, as a process, on the migrated database the ``app`` fixture uses."""
    return Cli(tmp_path / "instance", database_path)


@pytest.fixture
def shop(app: Flask) -> int:
    """A project "Shop" with a plain channel "web" (no custom fields); its id."""
    project_id = make_project(app, "Shop")
    make_channel(app, project_id, "web", specs=())
    return project_id
