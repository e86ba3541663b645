"""What every console template can use: the user's powers, and links that keep the filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import g, request

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


# A global rather than a context variable: macros imported without context still see it.
@bp.app_template_global()
def url_with(**changes: Any) -> str:
    """The current page's URL with some query parameters replaced (None removes one).

    Built from the path rather than ``url_for``, so a query parameter named like a route
    argument (``?project_id=2``) cannot change or break the link.
    """
    args = request.args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = value
    query = urlencode(args, doseq=True)
    path = f"{request.script_root}{request.path}"
    return f"{path}?{query}" if query else path


@bp.context_processor
def console_context() -> dict[str, Any]:
    user = g.get("user")
    return {
        "user": user,
        "can_edit": bool(user and user.role.allows(Role.editor)),
        "is_admin": bool(user and user.role.allows(Role.admin)),
        "settings_endpoints": SETTINGS_ENDPOINTS,
    }
