"""``/uploads``: images stored by this app, served safely, and PUT targets of signed URLs."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException, NotFound

from feedback_service.errors import AppError
from feedback_service.images.checks import TYPES
from feedback_service.images.storage import LocalStore
from feedback_service.services import images
from feedback_service.services.images import ImageLimits

bp = Blueprint("uploads", __name__, url_prefix="/uploads")

# The only names the store ever writes: <project>/<channel>/<32 hex>.<extension>.
STORED_KEY = re.compile(
    r"^[0-9]{1,19}/[0-9]{1,19}/[0-9a-f]{32}\.(?:"
    + "|".join(image_type.extension for image_type in TYPES.values())
    + ")$"
)
CONTENT_TYPES = {image_type.extension: image_type.content_type for image_type in TYPES.values()}
ONE_YEAR = 365 * 24 * 3600


def local_store() -> LocalStore:
    """The app's upload folder and the absolute URL clients reach it at."""
    root = current_app.config.get("PUBLIC_URL") or request.url_root
    return LocalStore(Path(current_app.config["UPLOAD_FOLDER"]), root.rstrip("/") + "/uploads/")


def own_images_url(project_id: int, channel_id: int) -> str | None:
    """URL prefix of the images this app stores for a channel: they pass its whitelist.

    Only when the app knows its own address (PUBLIC_URL, or a Host checked against
    TRUSTED_HOSTS): otherwise the address comes from the client's Host header, and a forged
    one would carry any site past the whitelist.
    """
    if not (current_app.config.get("PUBLIC_URL") or current_app.config.get("TRUSTED_HOSTS")):
        return None
    return f"{local_store().base_url}{project_id}/{channel_id}/"


def image_limits() -> ImageLimits:
    config = current_app.config
    return ImageLimits(
        max_files=config["UPLOAD_MAX_FILES"],
        max_file_bytes=config["UPLOAD_MAX_FILE_BYTES"],
        max_pixels=config["UPLOAD_MAX_PIXELS"],
    )


def _stored_key(key: str) -> str:
    if not STORED_KEY.match(key):
        raise NotFound()
    return key


@bp.get("/<path:key>")
def serve(key: str) -> Response:
    key = _stored_key(key)
    response = send_from_directory(
        current_app.config["UPLOAD_FOLDER"],
        key,
        mimetype=CONTENT_TYPES[key.rsplit(".", 1)[1]],
        max_age=ONE_YEAR,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Names are random and never reused, so a copy never goes stale.
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    # An image opened on its own still cannot run anything or frame anything.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.put("/<path:key>")
def upload(key: str) -> Response:
    key = _stored_key(key)
    limits = image_limits()
    local = local_store()
    # The URL is checked before the body is read: a forged one costs no upload.
    content_type = images.authorize_upload(
        local, current_app.config["SECRET_KEY"], key, request.args
    )
    request.max_content_length = limits.max_file_bytes
    data = request.get_data(cache=False)
    images.store_signed_upload(local, key, content_type, data, request.mimetype, limits)
    return Response(status=200)


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.errorhandler(AppError)
def app_error(error: AppError) -> Response:
    return _error(error.status, str(error.message))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return _error(error.code or 500, error.name)
