"""The admin console under ``/admin``: server-rendered pages for the product team.

Every page needs a signed-in user (``access``) and every state-changing request a CSRF token;
views ask for the role they need. Templates and static files live beside this package, so the
console works without a build step and without anything from the internet.
"""

from __future__ import annotations

from flask import Blueprint

from feedback_service.errors import InvalidInput

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Imported for their routes, which register on `bp`.
from feedback_service.blueprints.admin import (  # noqa: E402
    access,
    channels,
    dashboard,
    errors,
    feedback,
    feedback_export,
    issues,
    keys,
    projects,
    sign_in,
    templating,
    users,
)

bp.register_error_handler(InvalidInput, errors.invalid_input)

__all__ = [
    "access",
    "bp",
    "channels",
    "dashboard",
    "errors",
    "feedback",
    "feedback_export",
    "issues",
    "keys",
    "projects",
    "sign_in",
    "templating",
    "users",
]
