"""Configuration: defaults < instance/config.py < FEEDBACK_* environment; the secret key file."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from feedback_service import create_app
from feedback_service.config import DefaultConfig
from feedback_service.extensions import db

INSTANCE_CONFIG = """\
MAX_PAGE_SIZE = 50
SQLITE_BUSY_TIMEOUT_MS = 1234
MASTER_API_KEY = "from-instance-file"
"""


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder, and an environment without any FEEDBACK_* variable."""
    for name in list(os.environ):
        if name.startswith("FEEDBACK_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def instance_config(instance: Path) -> Path:
    instance.mkdir()
    (instance / "config.py").write_text(INSTANCE_CONFIG)
    return instance


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """``create_app`` whose engines are disposed after the test."""
    apps: list[Flask] = []

    def make(test_config: Mapping[str, Any] | None = None) -> Flask:
        app = create_app(test_config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_defaults_apply_without_instance_config_or_environment(instance, make_app):
    config = make_app().config
    assert config["MAX_PAGE_SIZE"] == DefaultConfig.MAX_PAGE_SIZE
    assert config["SQLITE_BUSY_TIMEOUT_MS"] == DefaultConfig.SQLITE_BUSY_TIMEOUT_MS
    assert config["MASTER_API_KEY"] is None


def test_instance_config_overrides_defaults(instance_config, make_app):
    config = make_app().config
    assert config["MAX_PAGE_SIZE"] == 50
    assert config["SQLITE_BUSY_TIMEOUT_MS"] == 1234
    assert config["MASTER_API_KEY"] == "from-instance-file"
    assert config["MAX_CONTENT_LENGTH"] == DefaultConfig.MAX_CONTENT_LENGTH


def test_environment_overrides_instance_config(instance_config, make_app, monkeypatch):
    monkeypatch.setenv("FEEDBACK_MAX_PAGE_SIZE", "20")
    monkeypatch.setenv("FEEDBACK_MASTER_API_KEY", "from-environment")
    config = make_app().config
    assert config["MAX_PAGE_SIZE"] == 20
    assert config["MASTER_API_KEY"] == "from-environment"
    assert config["SQLITE_BUSY_TIMEOUT_MS"] == 1234  # not in the environment: the file's value


def test_test_mapping_ignores_instance_config_and_environment(
    instance_config, make_app, monkeypatch, tmp_path
):
    monkeypatch.setenv("FEEDBACK_MAX_PAGE_SIZE", "20")
    monkeypatch.setenv("FEEDBACK_MASTER_API_KEY", "from-environment")
    url = f"sqlite:///{tmp_path / 'mapped.sqlite'}"
    config = make_app({"TESTING": True, "DATABASE_URL": url}).config
    assert config["MAX_PAGE_SIZE"] == DefaultConfig.MAX_PAGE_SIZE
    assert config["SQLITE_BUSY_TIMEOUT_MS"] == DefaultConfig.SQLITE_BUSY_TIMEOUT_MS
    assert config["MASTER_API_KEY"] is None
    assert config["SQLALCHEMY_DATABASE_URI"] == url


# JSON-looking values that `from_prefixed_env` would turn into numbers, booleans or None.
@pytest.mark.parametrize("value", ["123", "0123", "1e3", "12.50", "true", "null"])
def test_master_api_key_from_environment_keeps_its_exact_text(
    instance, make_app, monkeypatch, value
):
    monkeypatch.setenv("FEEDBACK_MASTER_API_KEY", value)
    master = make_app().config["MASTER_API_KEY"]
    assert isinstance(master, str)
    assert master == value


def test_secret_key_is_generated_once_into_a_private_file_and_reused(instance, make_app):
    first = make_app().config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    written = key_file.stat().st_mtime_ns

    assert make_app().config["SECRET_KEY"] == first
    assert key_file.stat().st_mtime_ns == written
    assert sorted(path.name for path in instance.iterdir()) == ["secret_key"]


def test_configured_secret_key_is_used_and_no_key_file_is_written(instance, make_app, monkeypatch):
    monkeypatch.setenv("FEEDBACK_SECRET_KEY", "configured-secret")
    assert make_app().config["SECRET_KEY"] == "configured-secret"
    assert not (instance / "secret_key").exists()


def test_default_database_is_feedback_sqlite_in_the_instance_folder(instance, make_app):
    app = make_app()
    with app.app_context():
        assert Path(db.engine.url.database) == instance / "feedback.sqlite"
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        db.engine.dispose()
    assert (instance / "feedback.sqlite").is_file()
