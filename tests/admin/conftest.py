"""Console fixtures: one signed-in session per role, on the ``world`` data set."""

from __future__ import annotations

import pytest
from flask import Flask

from feedback_service.models import Role
from tests.admin.console import Console, signed_in


@pytest.fixture
def admin_console(app: Flask) -> Console:
    return signed_in(app, Role.admin)


@pytest.fixture
def editor_console(app: Flask) -> Console:
    return signed_in(app, Role.editor)


@pytest.fixture
def viewer_console(app: Flask) -> Console:
    return signed_in(app, Role.viewer)
