"""The OpenAPI document: every API route in it with its real statuses and security, served at
/openapi.json and /docs-json, equal to the published docs/openapi.json, readable at /docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.openapi.document import openapi_path, undocumented_routes
from tests.cli_runner import Cli

PUBLISHED = Path(__file__).parents[1] / "docs" / "openapi.json"
OPERATION_METHODS = {"get", "post", "put", "delete"}
# The public API's success statuses, as its specification gives them.
PUBLIC_SUCCESS = {
    ("get", "/api/v1/feedback"): "200",
    ("post", "/api/v1/feedback"): "201",
    ("get", "/api/v1/feedback/{public_id}"): "200",
    ("post", "/api/v1/feedback/{public_id}/vote"): "200",
    ("get", "/api/v1/feedback/{public_id}/vote"): "200",
    ("post", "/api/v1/feedback/{public_id}/comments"): "201",
    ("post", "/api/v1/identify"): "200",
}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATION_METHODS
    }


def api_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method.lower(), openapi_path(rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("integration_api.", "public_api."))
        for method in rule.methods or ()
        if method.lower() in OPERATION_METHODS
    }


def test_every_api_route_is_an_operation_and_nothing_else_is(app: Flask, document):
    assert undocumented_routes(app) == []
    assert set(operations(document)) == api_routes(app)
    assert len(operations(document)) == 33


def test_both_addresses_serve_the_published_document(client: FlaskClient, document):
    published = json.loads(PUBLISHED.read_text())
    assert document == published, "docs/openapi.json is stale: feedback-service openapi > it"
    reference_address = client.get("/docs-json")
    assert reference_address.status_code == 200
    assert reference_address.get_json() == published


def test_the_command_line_prints_the_published_document(cli: Cli):
    printed = cli.ok("openapi").stdout
    assert printed == PUBLISHED.read_text()


def test_the_document_is_openapi_3_with_both_security_schemes(document):
    assert document["openapi"] == "3.0.3"
    assert document["components"]["securitySchemes"] == {
        "secretKey": {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A secret API key of the project in the path, or the master key",
        },
        "publicKey": {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A board's public key, fhpk_...",
        },
    }


def test_integration_posts_answer_201_and_the_rest_200(document):
    integration = {
        key: operation
        for key, operation in operations(document).items()
        if not key[1].startswith("/api/v1/")
    }
    assert len(integration) == 26
    for (method, path), operation in integration.items():
        expected = "201" if method == "post" else "200"
        successes = [status for status in operation["responses"] if status < "400"]
        assert successes == [expected], (method, path)
        assert operation["security"] == [{"secretKey": []}], (method, path)
        assert operation["responses"]["403"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/IntegrationErrorOut"
        }


def test_public_operations_answer_their_specified_statuses(document):
    public = {
        key: operation
        for key, operation in operations(document).items()
        if key[1].startswith("/api/v1/")
    }
    assert {key: successes(op) for key, op in public.items()} == {
        key: [status] for key, status in PUBLIC_SUCCESS.items()
    }
    for key, operation in public.items():
        assert operation["security"] == [{"publicKey": []}], key
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/PublicErrorOut"
        }


def successes(operation: dict[str, Any]) -> list[str]:
    return [status for status in operation["responses"] if status < "400"]


def test_request_and_response_bodies_come_from_the_schemas(document):
    create_issue = operations(document)[("post", "/api/projects/{project_id}/issues")]
    assert create_issue["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IssueIn"
    }
    schemas = document["components"]["schemas"]
    assert schemas["IssueIn"]["required"] == ["name"]
    assert schemas["IssueIn"]["properties"]["name"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 30,
    }
    # Every key of a response body is always sent.
    assert schemas["VoteOut"] == {
        "type": "object",
        "properties": {"voted": {"type": "boolean"}, "voteCount": {"type": "integer"}},
        "required": ["voteCount", "voted"],
        "additionalProperties": False,
    }
    # A feedback carries its channel's field values beside the fixed keys.
    assert schemas["FeedbackOut"]["additionalProperties"] is True


def test_the_reference_servers_older_create_path_is_a_deprecated_alias(document):
    alias = operations(document)[
        ("post", "/api/admin/projects/{project_id}/channels/{channel_id}/feedbacks")
    ]
    assert alias["deprecated"] is True
    assert alias["operationId"] == "create_feedback_alias"


def test_the_docs_page_loads_only_what_the_app_serves(client: FlaskClient):
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"].startswith(
        "default-src 'none'; script-src 'self'"
    )
    html = page.get_data(as_text=True)
    assert 'href="/docs/swagger-ui/swagger-ui.css"' in html
    assert 'src="/docs/swagger-ui/swagger-ui-bundle.js"' in html
    assert 'src="/docs/static/docs.js"' in html
    assert 'data-document="/openapi.json"' in html
    assert "http://" not in html and "https://" not in html
    for path, mimetype, marker in (
        ("/docs/swagger-ui/swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
        ("/docs/swagger-ui/swagger-ui.css", "text/css", b".swagger-ui"),
        ("/docs/static/docs.js", "text/javascript", b"SwaggerUIBundle"),
    ):
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.mimetype == mimetype
        assert marker in asset.get_data()
        asset.close()


@pytest.mark.parametrize("name", ["index.html", "oauth2-redirect.html", "..%2Fflask_swagger_ui.py"])
def test_only_the_pages_assets_are_served(client: FlaskClient, name: str):
    assert client.get(f"/docs/swagger-ui/{name}").status_code == 404
