"""What every console template can use: the user's powers, and links that keep the filters."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from feedback_service.blueprints.admin import bp
from feedback_service.models import Role

# Pages under the project's "Settings" tab.
SETTINGS_ENDPOINTS = frozenset(
    {
        "admin.project_settings",
        "admin.channels",
        "admin.channel_new",
        "admin.channel_settings",
        "admin.field_new",
        "admin.field_edit",
        "admin.keys",
    }
)


def url_with(**changes: Any) -> str:
    """The current page's URL with some query parameters replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = value
    return url_for(request.endpoint or "admin.projects", **(request.view_args or {}), **args)


@bp.context_processor
def console_context() -> dict[str, Any]:
    user = g.get("user")
    return {
        "user": user,
        "can_edit": bool(user and user.role.allows(Role.editor)),
        "is_admin": bool(user and user.role.allows(Role.admin)),
        "settings_endpoints": SETTINGS_ENDPOINTS,
        "url_with": url_with,
    }
