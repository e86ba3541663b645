"""Who is signed in, what their role allows, and the headers every console page carries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from feedback_service.blueprints.admin import bp
from feedback_service.errors import ProjectNotFound
from feedback_service.extensions import csrf
from feedback_service.models import AdminUser, Channel, Role
from feedback_service.services import admin_users, channels, projects

# Pages a visitor without a session may open.
PUBLIC_ENDPOINTS = frozenset({"admin.static", "admin.login", "admin.setup"})
# No inline script or style anywhere: everything the console runs is a file it serves.
# Images may come from the storage hosts a channel's feedback links to.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def current_user() -> AdminUser:
    return g.user  # type: ignore[no-any-return]


def project_channels() -> list[Channel]:
    """The current project's channels: read once per request, by the pages that show them."""
    if "channels" not in g:
        g.channels = channels.list_channels(g.project.id)
    return g.channels  # type: ignore[no-any-return]


def sign_in_session(user: AdminUser) -> None:
    # A fresh session on sign-in: nothing a visitor set before survives into it.
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["epoch"] = user.session_epoch


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in; anything else goes to the project list."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/admin"):
            # The target is the app's own path; under a prefix the browser needs the prefix too.
            return request.script_root + target
    return url_for("admin.projects")


def require_role(role: Role) -> None:
    """Stop the request with 403 unless the user's role includes ``role``."""
    if not current_user().role.allows(role):
        abort(403, f"This needs the {role.value} role.")


def requires(role: Role) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., Any]]:
    """Let the view run only for users whose role includes ``role`` (403 otherwise)."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            require_role(role)
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.before_request
def check_session_and_csrf() -> Response | None:
    # Sign-in forms are protected too: a forged login would sign a victim into our account.
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    uid, epoch = session.get("uid"), session.get("epoch")
    user = admin_users.session_user(uid, epoch) if isinstance(uid, int) and epoch else None
    if user is None:
        session.clear()
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("admin.login", next=target))
    g.user = user
    project_id = (request.view_args or {}).get("project_id")
    if project_id is not None:
        try:
            g.project = projects.get_project(project_id)
        except ProjectNotFound:
            abort(404, "There is no such project.")
    return None


@bp.after_request
def add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint != "admin.static":
        # Pages show private data; no shared cache or back button should keep them.
        response.headers["Cache-Control"] = "no-store"
    return response
