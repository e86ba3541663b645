"""Fixtures: a real database per test (cloned from one migrated template), the app, clients.

``pytest --backend postgresql`` runs every test on the PostgreSQL server instead of SQLite files
(see ``tests/databases.py``); tests marked ``sqlite_only`` are then reported as skipped.

Data is created through the services, the same code paths the CLI and API use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service import create_app
from feedback_service.extensions import db
from feedback_service.schema import upgrade_to_head
from tests import served
from tests.cli_runner import Cli
from tests.databases import (
    BACKENDS,
    POSTGRESQL,
    SQLITE,
    PostgresDatabase,
    SqliteFile,
    TestDatabase,
    drop_abandoned_databases,
    drop_own_databases,
)
from tests.factories import World, build_world, make_channel, make_project
from tests.helpers import MASTER_KEY
from tests.served import Site


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default=SQLITE,
        help="the database every test runs on (default: sqlite)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("backend") == POSTGRESQL:
        drop_abandoned_databases()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.getoption("backend") == POSTGRESQL:
        drop_own_databases()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, visibly and with the marker's reason, the tests of the other database."""
    other = "sqlite_only" if config.getoption("backend") == POSTGRESQL else "postgresql_only"
    label = "SQLite only" if other == "sqlite_only" else "PostgreSQL only"
    for item in items:
        marker = item.get_closest_marker(other)
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"{label}: {reason}"))


def make_test_app(database: TestDatabase, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database.url,
        # Rate-limit tests turn limits on themselves, with limits small enough to reach.
        "RATELIMIT_ENABLED": False,
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("backend"))


@pytest.fixture(scope="session")
def migrated_template(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """One database migrated to head; each test gets a clone."""
    if backend == POSTGRESQL:
        template: TestDatabase = PostgresDatabase.create(PostgresDatabase.unique_name("template"))
    else:
        template = SqliteFile(tmp_path_factory.mktemp("template") / "template.sqlite")
    app = make_test_app(template)
    with app.app_context():
        upgrade_to_head()
        # No connection may stay: on SQLite the last close checkpoints the WAL into the file,
        # and PostgreSQL copies only a template no one is connected to.
        db.engine.dispose()
    yield template
    template.drop()


@pytest.fixture(scope="session")
def reused_database(backend: str, migrated_template: TestDatabase) -> Iterator[TestDatabase | None]:
    """On PostgreSQL, the one database each test process's tests run on, emptied before each;
    None on SQLite, where a copy of the template file is cheaper."""
    if backend != POSTGRESQL:
        yield None
        return
    database = migrated_template.clone(Path(), "tests")
    yield database
    database.drop()


@pytest.fixture
def database(
    migrated_template: TestDatabase, reused_database: TestDatabase | None, tmp_path: Path
) -> Iterator[TestDatabase]:
    """This test's own database; also ``database(statement, params) -> rows``."""
    if isinstance(reused_database, PostgresDatabase):
        reused_database.empty()
        yield reused_database
        return
    database = migrated_template.clone(tmp_path, "feedback")
    yield database
    database.drop()


@pytest.fixture
def database_path(database: TestDatabase) -> Path:
    """The SQLite file of a test about SQLite itself (such a test is marked ``sqlite_only``)."""
    assert isinstance(database, SqliteFile), "a test of the SQLite file must be sqlite_only"
    return database.path


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[TestDatabase]:
    """A database with no schema yet (on SQLite, a file that does not exist yet)."""
    if backend == POSTGRESQL:
        database: TestDatabase = PostgresDatabase.create(PostgresDatabase.unique_name("empty"))
    else:
        database = SqliteFile(tmp_path / "empty.sqlite")
    yield database
    database.drop()


@pytest.fixture
def app(database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(app: Flask, database: TestDatabase) -> Iterator[Callable[..., Flask]]:
    """``make_app(**config)``: another app on the test's database and instance folder, its
    connections closed when the test ends."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(make_test_app(database, **overrides))
        assert built[-1].config["UPLOAD_FOLDER"] == app.config["UPLOAD_FOLDER"]
        return built[-1]

    yield build
    for other in built:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(app: Flask) -> World:
    """Two projects, each with a channel of every field format, a key, issues and a category."""
    return build_world(app)


@pytest.fixture
def sql(database: TestDatabase) -> TestDatabase:
    """Run a query on the test's database directly: ``sql("SELECT ...", params) -> rows``."""
    return database


@pytest.fixture
def master_client(app: Flask, database: TestDatabase) -> Iterator[FlaskClient]:
    """A client of a second app on the same database, configured with ``MASTER_KEY``."""
    master_app = make_test_app(database, MASTER_API_KEY=MASTER_KEY)
    yield master_app.test_client()
    with master_app.app_context():
        db.engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, database: TestDatabase) -> Cli:
    """The console script, as a process, on the migrated database the ``app`` fixture uses."""
    return Cli(tmp_path / "instance", database)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, migrated_template: TestDatabase) -> Site:
    """The site every served test starts from (see ``tests/served.py``)."""
    return served.session_template(tmp_path_factory, migrated_template)


@pytest.fixture
def site(template: Site, tmp_path: Path) -> Site:
    """This test's own copy of the served site: database, instance folder, keys."""
    return served.copy_site(template, tmp_path / "site")


@pytest.fixture
def shop(app: Flask) -> int:
    """A project "Shop" with a plain channel "web" (no custom fields); its id."""
    project_id = make_project(app, "Shop")
    make_channel(app, project_id, "web", specs=())
    return project_id
