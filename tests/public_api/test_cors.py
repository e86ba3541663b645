"""CORS on the public API, which browsers call from the customer's pages.

Without a list of allowed origins any origin may call; with one, a listed origin is echoed back
(with ``Vary: Origin``) and any other is refused with 403 before anything is written. Requests
without ``Origin`` (curl, servers) are not browser requests and always work.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.services import public_origins
from tests.helpers import assert_json, build_path, database_rows
from tests.public_api.conftest import PUBLIC_ROUTES, Boards, BoardWorld

APP_ORIGIN = "https://app.example.com"
ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Content-Type, x-api-key"
EXPOSED_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
REFUSED = {"error": "Origin not allowed"}

BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/feedback": {"title": "From a page"},
    "/api/v1/feedback/<public_id>/comments": {"content": "From a page"},
    "/api/v1/feedback/<public_id>/vote": {"endUser": {"externalId": "page-user"}},
    "/api/v1/identify": {"externalId": "page-user", "name": "Page User"},
}
SUCCESS = {
    ("GET", "/api/v1/feedback"): 200,
    ("GET", "/api/v1/feedback/<public_id>"): 200,
    ("GET", "/api/v1/feedback/<public_id>/vote"): 200,
    ("POST", "/api/v1/feedback"): 201,
    ("POST", "/api/v1/feedback/<public_id>/comments"): 201,
    ("POST", "/api/v1/feedback/<public_id>/vote"): 200,
    ("POST", "/api/v1/identify"): 200,
}


def send(
    client: FlaskClient,
    bw: BoardWorld,
    method: str,
    rule: str,
    public_id: str,
    origin: str | None,
) -> TestResponse:
    headers = dict(bw.headers)
    if origin is not None:
        headers["Origin"] = origin
    path = build_path(rule, {"public_id": public_id})
    body = BODIES.get(rule) if method == "POST" else None
    return client.open(path, method=method, json=body, headers=headers)


def allow_origins(app: Flask, bw: BoardWorld, origins: list[str]) -> list[str]:
    with app.app_context():
        return public_origins.set_allowed_origins(bw.project_id, origins)


@pytest.fixture
def feedback_id(client: FlaskClient, boards_world: Boards) -> str:
    response = client.post(
        "/api/v1/feedback", json={"title": "Existing"}, headers=boards_world.a.headers
    )
    assert response.status_code == 201
    return response.get_json()["feedback"]["id"]


# --- preflight -------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", [False, True], ids=["any-origin", "origin-list"])
def test_a_preflight_is_answered_on_every_public_route_without_a_key(
    app, client, boards_world, feedback_id, configured
):
    if configured:
        allow_origins(app, boards_world.a, [APP_ORIGIN])
    paths = sorted({build_path(rule, {"public_id": feedback_id}) for _, rule in PUBLIC_ROUTES})

    problems = []
    for path in paths:
        response = client.options(
            path,
            headers={
                "Origin": APP_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-api-key",
            },
        )
        answer = (
            response.status_code,
            response.data,
            response.headers.get("Access-Control-Allow-Methods"),
            response.headers.get("Access-Control-Allow-Headers"),
            response.headers.get("Access-Control-Max-Age"),
            response.headers.get("Access-Control-Allow-Origin"),
        )
        if answer != (200, b"", ALLOWED_METHODS, ALLOWED_HEADERS, "600", "*"):
            problems.append(f"{path}: {answer}")

    assert problems == []


def test_a_preflight_writes_nothing(client, boards_world, feedback_id, sql):
    before = database_rows(sql)

    response = client.options(
        "/api/v1/feedback",
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 200
    assert database_rows(sql) == before


# --- no allowed origins: any origin ----------------------------------------------------------


@pytest.mark.parametrize(
    "origin", [APP_ORIGIN, "https://anything.example", "http://localhost:3000", "null"]
)
def test_without_allowed_origins_any_origin_gets_a_wildcard(
    client, boards_world, feedback_id, origin
):
    a = boards_world.a

    problems = []
    for method, rule in PUBLIC_ROUTES:
        response = send(client, a, method, rule, feedback_id, origin)
        answer = (
            response.status_code,
            response.headers.get("Access-Control-Allow-Origin"),
            response.headers.get("Access-Control-Expose-Headers"),
        )
        if answer != (SUCCESS[(method, rule)], "*", EXPOSED_HEADERS):
            problems.append(f"{method} {rule}: {answer}")

    assert problems == []


def test_errors_carry_cors_headers_so_the_page_can_read_them(client, boards_world):
    missing_key = client.get("/api/v1/feedback", headers={"Origin": APP_ORIGIN})
    not_found = client.get(
        "/api/v1/feedback/fb_0000000000000000",
        headers={**boards_world.a.headers, "Origin": APP_ORIGIN},
    )
    no_route = client.get("/api/v1/nope", headers={"Origin": APP_ORIGIN})

    assert_json(missing_key, 401, {"error": "Missing x-api-key header"})
    assert_json(not_found, 404, {"error": "Feedback not found"})
    assert_json(no_route, 404, {"error": "Not found"})
    for response in (missing_key, not_found, no_route):
        assert response.headers.get("Access-Control-Allow-Origin") == "*"


# --- a list of allowed origins ---------------------------------------------------------------


def test_an_allowed_origin_is_echoed_with_vary_origin(app, client, boards_world, feedback_id):
    a = boards_world.a
    assert allow_origins(app, a, [APP_ORIGIN, "https://admin.example.com"]) == [
        "https://admin.example.com",
        APP_ORIGIN,
    ]

    problems = []
    for origin in (APP_ORIGIN, "https://admin.example.com"):
        for method, rule in PUBLIC_ROUTES:
            response = send(client, a, method, rule, feedback_id, origin)
            answer = (
                response.status_code,
                response.headers.get("Access-Control-Allow-Origin"),
                "Origin" in response.vary,
            )
            if answer != (SUCCESS[(method, rule)], origin, True):
                problems.append(f"{origin} {method} {rule}: {answer}")

    assert problems == []


def test_errors_to_an_allowed_origin_echo_it(app, client, boards_world):
    a = boards_world.a
    allow_origins(app, a, [APP_ORIGIN])
    headers = {**a.headers, "Origin": APP_ORIGIN}

    not_found = client.get("/api/v1/feedback/fb_0000000000000000", headers=headers)
    invalid = client.post("/api/v1/feedback", json={}, headers=headers)

    assert_json(not_found, 404, {"error": "Feedback not found"})
    assert_json(
        invalid,
        400,
        {
            "error": "Invalid input",
            "details": {"formErrors": [], "fieldErrors": {"title": ["Title is required"]}},
        },
    )
    for response in (not_found, invalid):
        assert response.headers.get("Access-Control-Allow-Origin") == APP_ORIGIN
        assert "Origin" in response.vary


def test_the_allowed_origin_list_is_stored_normalised(app, client, boards_world, sql):
    a = boards_world.a

    stored = allow_origins(app, a, ["https://APP.Example.com/", "https://app.example.com:443"])

    assert stored == [APP_ORIGIN]
    response = client.get("/api/v1/feedback", headers={**a.headers, "Origin": APP_ORIGIN})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == APP_ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://sub.app.example.com",
        "https://app.example.com.evil.com",
        "null",
    ],
)
def test_another_origin_is_refused_on_every_route_and_nothing_is_written(
    app, client, boards_world, feedback_id, sql, origin
):
    a = boards_world.a
    allow_origins(app, a, [APP_ORIGIN])
    before = database_rows(sql)

    problems = []
    for method, rule in PUBLIC_ROUTES:
        response = send(client, a, method, rule, feedback_id, origin)
        answer = (
            response.status_code,
            response.get_json(),
            response.headers.get("Access-Control-Allow-Origin"),
        )
        if answer != (403, REFUSED, None):
            problems.append(f"{method} {rule}: {answer}")

    assert problems == []
    assert database_rows(sql) == before


def test_a_refused_post_writes_nothing(app, client, boards_world, sql):
    a = boards_world.a
    allow_origins(app, a, [APP_ORIGIN])
    before = database_rows(sql)

    response = client.post(
        "/api/v1/feedback",
        json={"title": "From elsewhere", "endUser": {"externalId": "elsewhere"}},
        headers={**a.headers, "Origin": "https://evil.example.com"},
    )

    assert_json(response, 403, REFUSED)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert database_rows(sql) == before
    assert sql("SELECT count(*) FROM feedback") == [(0,)]


def test_requests_without_origin_still_work(app, client, boards_world, feedback_id, sql):
    a = boards_world.a
    allow_origins(app, a, [APP_ORIGIN])

    problems = []
    for method, rule in PUBLIC_ROUTES:
        response = send(client, a, method, rule, feedback_id, None)
        if response.status_code != SUCCESS[(method, rule)]:
            problems.append(f"{method} {rule}: {response.status_code} {response.get_json()}")

    assert problems == []
    titles = [json.loads(data)["title"] for (data,) in sql("SELECT data FROM feedback")]
    assert sorted(titles) == ["Existing", "From a page"]
    assert sql("SELECT content FROM comment") == [("From a page",)]


def test_allowed_origins_are_per_project(app, client, boards_world):
    a, b = boards_world.a, boards_world.b
    allow_origins(app, a, [APP_ORIGIN])
    elsewhere = "https://evil.example.com"

    refused = client.get("/api/v1/feedback", headers={**a.headers, "Origin": elsewhere})
    served = client.get("/api/v1/feedback", headers={**b.headers, "Origin": elsewhere})

    assert_json(refused, 403, REFUSED)
    assert served.status_code == 200
    assert served.headers.get("Access-Control-Allow-Origin") == "*"


def test_clearing_the_list_allows_every_origin_again(app, client, boards_world):
    a = boards_world.a
    allow_origins(app, a, [APP_ORIGIN])
    elsewhere = {**a.headers, "Origin": "https://evil.example.com"}
    assert client.get("/api/v1/feedback", headers=elsewhere).status_code == 403

    assert allow_origins(app, a, []) == []

    response = client.get("/api/v1/feedback", headers=elsewhere)
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
