"""Keys of a project (admins only): secret API keys, public board keys, identity verification
and the browser origins the public API answers."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import project_channels, requires
from feedback_service.blueprints.admin.channel_forms import option_lines
from feedback_service.errors import AppError
from feedback_service.ids import parse_id
from feedback_service.models import Role
from feedback_service.services import api_keys, identity, public_keys, public_origins

KEYS = "/projects/<id:project_id>/keys"


def _keys_page(project_id: int, new_secret: str | None = None) -> ResponseReturnValue:
    return render_template(
        "admin/keys.html",
        api_keys=api_keys.list_api_keys(project_id),
        public_keys=public_keys.list_public_keys(project_id),
        boards=[channel for channel in project_channels() if channel.is_board],
        channel_names={channel.id: channel.name for channel in project_channels()},
        new_secret=new_secret,
    )


def _back(project_id: int) -> ResponseReturnValue:
    return redirect(url_for("admin.keys", project_id=project_id))


def _flash_outcome(action: Callable[[], object], done: str) -> None:
    """Run ``action`` and flash ``done``, or the service's refusal."""
    try:
        action()
    except AppError as error:
        flash(str(error.message), "error")
    else:
        flash(done)


@bp.get(KEYS)
@requires(Role.admin)
def keys(project_id: int) -> ResponseReturnValue:
    return _keys_page(project_id)


@bp.post(f"{KEYS}/api")
@requires(Role.admin)
def key_create(project_id: int) -> ResponseReturnValue:
    # Rendered, not redirected: the secret exists only in this response.
    _key, raw_key = api_keys.create_api_key(project_id)
    return _keys_page(project_id, new_secret=raw_key)


@bp.post(f"{KEYS}/api/<id:key_id>/revoke")
@requires(Role.admin)
def key_revoke(project_id: int, key_id: int) -> ResponseReturnValue:
    _flash_outcome(lambda: api_keys.revoke_api_key(project_id, key_id), "API key revoked.")
    return _back(project_id)


@bp.post(f"{KEYS}/public")
@requires(Role.admin)
def public_key_create(project_id: int) -> ResponseReturnValue:
    channel_id = parse_id(request.form.get("channel_id"))
    if channel_id is None:
        flash("Choose a board.", "error")
    else:
        _flash_outcome(
            lambda: public_keys.create_public_key(project_id, channel_id), "Public key created."
        )
    return _back(project_id)


@bp.post(f"{KEYS}/public/<id:key_id>/revoke")
@requires(Role.admin)
def public_key_revoke(project_id: int, key_id: int) -> ResponseReturnValue:
    _flash_outcome(lambda: public_keys.revoke_public_key(project_id, key_id), "Public key revoked.")
    return _back(project_id)


@bp.post(f"{KEYS}/identity")
@requires(Role.admin)
def identity_update(project_id: int) -> ResponseReturnValue:
    identity.configure_identity(
        project_id,
        rotate=request.form.get("rotate") == "y",
        required=request.form.get("required") == "y",
    )
    flash("Identity verification saved.")
    return _back(project_id)


@bp.post(f"{KEYS}/origins")
@requires(Role.admin)
def origins_update(project_id: int) -> ResponseReturnValue:
    origins = option_lines(request.form.get("origins"))
    _flash_outcome(
        lambda: public_origins.set_allowed_origins(project_id, origins), "Allowed origins saved."
    )
    return _back(project_id)
