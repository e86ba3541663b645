"""The OpenAPI document (``/openapi.json``, and ``/docs-json`` as the reference server names
it) and a page to read it (``/docs``), Swagger UI from files this app serves itself."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from feedback_service.openapi.document import build_document

bp = Blueprint(
    "api_docs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)

# Swagger UI's files, shipped in a pinned package; only those the page loads are served.
SWAGGER_UI = files("flask_swagger_ui") / "dist"
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})
# Swagger UI styles elements through style attributes, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
EXTENSION = "openapi_document"


# url_for names the path registered first, the one closest to the function.
@bp.get("/docs-json")
@bp.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """Built once per app: its routes do not change while it runs."""
    if EXTENSION not in current_app.extensions:
        current_app.extensions[EXTENSION] = build_document(current_app)
    built: dict[str, Any] = current_app.extensions[EXTENSION]
    return built


@bp.get("/docs")
def docs_page() -> Response:
    response = Response(render_template("api_docs/index.html"))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/docs/swagger-ui/<name>")
def swagger_ui_file(name: str) -> Response:
    if name not in SWAGGER_UI_FILES:
        return Response("Not found\n", 404, mimetype="text/plain")
    response = send_from_directory(str(SWAGGER_UI), name, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
