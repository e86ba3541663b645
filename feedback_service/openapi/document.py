"""Build the OpenAPI 3 document from the app's routes and the operations their views declare.

Every route of the two API blueprints is documented; a view without a declaration is a
mistake that ``undocumented_routes`` reports (and a test checks it stays empty).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from importlib.metadata import version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import Rule

from feedback_service.openapi.operation import JSON, Operation, operation_of
from feedback_service.schemas.base import OutSchema, Timestamp
from feedback_service.schemas.errors import IntegrationErrorOut, PublicErrorOut

OPENAPI_VERSION = "3.0.3"
# Methods Flask answers by itself for every route.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
FLASK_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
MAX_ID = 2**63 - 1
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
# The HTTP server (gunicorn) refuses an over-long request line itself, in HTML.
URI_TOO_LONG = {
    "description": "The request line is longer than the HTTP server accepts (4094 bytes); "
    "answered before the request reaches the app",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
DESCRIPTION = """\
Two APIs over one feedback database.

* **Integration API** (`/api/projects/...`, `/api/v2/...`): the ABC User Feedback integration
  API, for servers. Authenticate with a project's secret API key (or the master key) in
  `x-api-key`. Errors have the NestJS shape `{statusCode, message, error | code, path}`.
* **Public API** (`/api/v1/...`): the Feedhog public API, for browsers and widgets.
  Authenticate with a board's public key (`fhpk_...`) in `x-api-key`. Errors are
  `{error, details?}`.
"""


@dataclass(frozen=True)
class Surface:
    """What all operations of one API share: security, error shape, statuses."""

    tag: str
    security_scheme: str
    security: dict[str, Any]
    error_schema: type[Schema]
    # Statuses every operation can answer, and those only operations with a body can.
    errors: tuple[int, ...]
    body_errors: tuple[int, ...]
    path_parameter: dict[str, Any]


SURFACES = {
    "integration_api": Surface(
        tag="Integration API",
        security_scheme="secretKey",
        security={
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A secret API key of the project in the path, or the master key",
        },
        error_schema=IntegrationErrorOut,
        errors=(400, 403, 429, 503),
        # Too large, and a body that is not declared as JSON.
        body_errors=(413, 415),
        path_parameter={"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID},
    ),
    "public_api": Surface(
        tag="Public API",
        security_scheme="publicKey",
        security={
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A board's public key, fhpk_...",
        },
        error_schema=PublicErrorOut,
        # 403: a browser origin the project does not allow.
        errors=(400, 401, 403, 429, 503),
        body_errors=(413,),
        path_parameter={"type": "string"},
    ),
}


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema: Schema) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        if isinstance(schema, OutSchema):
            jsonschema["required"] = sorted(jsonschema.get("properties", {}))
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def openapi_path(rule: Rule) -> str:
    """``/projects/<project_id>`` as ``/projects/{project_id}``."""
    return FLASK_ARGUMENT.sub(r"{\1}", rule.rule)


def _documented_rules(app: Flask) -> Iterator[tuple[Rule, Surface, Operation | None]]:
    for rule in app.url_map.iter_rules():
        surface = SURFACES.get(rule.endpoint.partition(".")[0])
        if surface is not None:
            yield rule, surface, operation_of(app.view_functions[rule.endpoint])


def undocumented_routes(app: Flask) -> list[str]:
    """API routes whose view declares no operation."""
    return [rule.rule for rule, _, operation in _documented_rules(app) if operation is None]


def _response(status: int, schema: Any, media_type: str, headers: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


def _responses(surface: Surface, operation: Operation) -> dict[str, Any]:
    errors = set(surface.errors) | set(operation.errors)
    if operation.body is not None:
        errors |= set(surface.body_errors)
    responses = {
        str(operation.status): _response(
            operation.status, operation.response, operation.response_media_type
        )
    }
    for status in sorted(errors):
        headers = RETRY_AFTER if status in (429, 503) else None
        responses[str(status)] = _response(status, surface.error_schema, JSON, headers)
    responses["414"] = URI_TOO_LONG
    return dict(sorted(responses.items()))


def _operation(
    surface: Surface, operation: Operation, operation_id: str, deprecated: bool
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation_id,
        "summary": operation.summary,
        "tags": [surface.tag],
        "security": [{surface.security_scheme: []}],
        "responses": _responses(surface, operation),
    }
    if operation.description:
        spec["description"] = operation.description
    if operation.query is not None:
        spec["parameters"] = [{"in": "query", "schema": operation.query}]
    if operation.body is not None:
        spec["requestBody"] = {"content": {operation.body_media_type: {"schema": operation.body}}}
    if deprecated:
        spec["deprecated"] = True
    return spec


def _path_parameters(rule: Rule, surface: Surface) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": surface.path_parameter}
        for name in FLASK_ARGUMENT.findall(rule.rule)
    ]


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of the app's integration and public APIs."""
    marshmallow = _Plugin()
    spec = APISpec(
        title="feedback_service",
        version=version("feedback-service"),
        openapi_version=OPENAPI_VERSION,
        plugins=[marshmallow],
        info={"description": DESCRIPTION},
    )
    marshmallow.map_to_openapi_type(Timestamp, "string", "date-time")
    for surface in SURFACES.values():
        spec.components.security_scheme(surface.security_scheme, surface.security)
        spec.tag({"name": surface.tag})
    seen_endpoints: set[str] = set()
    for rule, surface, operation in _documented_rules(app):
        if operation is None:
            continue
        # A later path to the same view is an alias kept for older clients.
        alias = rule.endpoint in seen_endpoints
        seen_endpoints.add(rule.endpoint)
        name = rule.endpoint.partition(".")[2] + ("_alias" if alias else "")
        methods = sorted(set(rule.methods or ()) - IMPLICIT_METHODS)
        spec.path(
            path=openapi_path(rule),
            parameters=_path_parameters(rule, surface),
            operations={
                method.lower(): _operation(
                    surface, operation, name if len(methods) == 1 else f"{name}_{method}", alias
                )
                for method in methods
            },
        )
    return spec.to_dict()
