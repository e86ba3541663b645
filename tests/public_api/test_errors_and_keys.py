"""Public API keys and error answers, swept over every route of the ``public_api`` blueprint.

A public key (``fhpk_``) opens one board on the public API and nothing on the integration API;
a secret key (``fhsk_``) is the other way round. Errors have the public API's shape
(``{"error": ...}``), no odd input ends in a 500, and a refused request writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.database import NUL_REFUSED
from feedback_service.services import public_keys
from tests.helpers import (
    assert_json,
    build_path,
    database_rows,
    forbidden,
    integration_routes,
    rule_parameters,
)
from tests.public_api.conftest import PUBLIC_ROUTES, Boards, BoardWorld

MISSING_KEY = {"error": "Missing x-api-key header"}
INVALID_KEY = {"error": "Invalid API key"}
NOT_FOUND = {"error": "Not found"}
FEEDBACK_NOT_FOUND = {"error": "Feedback not found"}
MISSING_ID = "fb_0000000000000000"

POST_ROUTES = [rule for method, rule in PUBLIC_ROUTES if method == "POST"]
ID_ROUTES = [(method, rule) for method, rule in PUBLIC_ROUTES if "<public_id>" in rule]

# A body each POST route accepts: a refusal can only come from what the test changes.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/feedback": {"title": "Valid title"},
    "/api/v1/feedback/<public_id>/comments": {"content": "Valid comment"},
    "/api/v1/feedback/<public_id>/vote": {},
    "/api/v1/identify": {"externalId": "valid-user"},
}


def invalid_input(form_errors: list[str], field_errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "error": "Invalid input",
        "details": {"formErrors": form_errors, "fieldErrors": field_errors},
    }


def public_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every public API route, HEAD and OPTIONS left out."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("public_api.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    )


def call(
    client: FlaskClient,
    method: str,
    rule: str,
    public_id: str,
    headers: dict[str, str],
    body: Any = None,
    query: str = "",
) -> TestResponse:
    path = build_path(rule, {"public_id": public_id}, query)
    if method == "GET":
        return client.get(path, headers=headers)
    return client.open(
        path, method=method, json=VALID_BODIES[rule] if body is None else body, headers=headers
    )


def new_feedback(client: FlaskClient, bw: BoardWorld, title: str = "Existing") -> dict[str, Any]:
    response = client.post("/api/v1/feedback", json={"title": title}, headers=bw.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["feedback"]


@pytest.fixture
def seeded(client: FlaskClient, boards_world: Boards) -> dict[str, str]:
    """A feedback on each board (with a comment and a vote), by board name."""
    ids = {}
    for name, bw in (("a", boards_world.a), ("b", boards_world.b)):
        ids[name] = new_feedback(client, bw, f"Feedback of {name}")["id"]
        comment = client.post(
            f"/api/v1/feedback/{ids[name]}/comments",
            json={"content": "A comment", "endUser": {"externalId": f"{name}-user"}},
            headers=bw.headers,
        )
        assert comment.status_code == 201
    return ids


def sweep(
    app: Flask,
    check: Callable[[str, str], tuple[Any, Any]],
) -> list[str]:
    """Run ``check`` on every public route; the routes whose (actual, expected) differ."""
    problems = []
    for method, rule in public_routes(app):
        actual, expected = check(method, rule)
        if actual != expected:
            problems.append(f"{method} {rule}: {actual!r} != {expected!r}")
    return problems


# --- the routes swept ------------------------------------------------------------------------


def test_the_public_routes_are_the_documented_ones(app):
    assert public_routes(app) == sorted(PUBLIC_ROUTES)


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-api-key": ""}], ids=["no-header", "empty"])
def test_every_public_route_needs_a_key(app, client, seeded, sql, headers):
    before = database_rows(sql)

    def check(method: str, rule: str) -> tuple[Any, Any]:
        response = call(client, method, rule, seeded["a"], headers)
        return (response.status_code, response.get_json()), (401, MISSING_KEY)

    assert sweep(app, check) == []
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda bw: "nope", id="garbage"),
        pytest.param(lambda bw: "fhpk_unknownkey0000000000000000000", id="unknown-public-key"),
        pytest.param(lambda bw: "fhpk_", id="prefix-only"),
        pytest.param(lambda bw: bw.public_key + "x", id="public-key-plus-one"),
        pytest.param(lambda bw: bw.public_key[:-1], id="public-key-minus-one"),
        pytest.param(lambda bw: bw.public_key.upper(), id="public-key-upper-case"),
        pytest.param(lambda bw: f" {bw.public_key}", id="public-key-leading-space"),
        pytest.param(lambda bw: f"Bearer {bw.public_key}", id="bearer"),
        pytest.param(lambda bw: "fhpk_" + "x" * 2000, id="very-long"),
        pytest.param(lambda bw: bw.secret_key, id="secret-key-of-the-project"),
    ],
)
def test_every_public_route_refuses_an_invalid_key(
    app, client, boards_world, seeded, sql, make_key
):
    key = make_key(boards_world.a)
    before = database_rows(sql)

    def check(method: str, rule: str) -> tuple[Any, Any]:
        response = call(client, method, rule, seeded["a"], {"x-api-key": key})
        return (response.status_code, response.get_json()), (401, INVALID_KEY)

    assert sweep(app, check) == []
    assert database_rows(sql) == before


def test_a_secret_key_is_refused_on_the_public_api(client, boards_world, seeded):
    for bw in (boards_world.a, boards_world.b):
        assert bw.secret_key.startswith("fhsk_")
        response = client.get("/api/v1/feedback", headers={"x-api-key": bw.secret_key})
        assert_json(response, 401, INVALID_KEY)


def test_the_public_key_opens_every_public_route(app, client, boards_world, seeded):
    """The sweeps above refuse requests that a valid key would have been served."""
    a = boards_world.a
    created = {("POST", "/api/v1/feedback"), ("POST", "/api/v1/feedback/<public_id>/comments")}

    def check(method: str, rule: str) -> tuple[Any, Any]:
        response = call(client, method, rule, seeded["a"], a.headers)
        return response.status_code, 201 if (method, rule) in created else 200

    assert sweep(app, check) == []


def test_a_public_key_is_refused_on_every_integration_route(app, client, boards_world, seeded, sql):
    a = boards_world.a
    feedback_id = sql("SELECT id FROM feedback WHERE public_id = ?", (seeded["a"],))[0][0]
    ids = {
        "project_id": a.project_id,
        "channel_id": a.board_id,
        "feedback_id": feedback_id,
        "issue_id": 1,
        "category_id": 1,
    }
    routes = integration_routes(app)
    assert routes, "the integration API has routes"
    before = database_rows(sql)

    problems = []
    for method, rule in routes:
        assert set(rule_parameters(rule)) <= set(ids), rule
        path = build_path(rule, ids)
        body = None if method == "GET" else {"title": "From a public key"}
        response = client.open(path, method=method, json=body, headers=a.headers)
        actual = (response.status_code, response.get_json())
        if actual != (403, forbidden(path)):
            problems.append(f"{method} {rule}: {actual}")

    assert problems == []
    assert database_rows(sql) == before


def test_the_secret_key_opens_the_integration_api(client, boards_world):
    a = boards_world.a
    path = f"/api/projects/{a.project_id}"

    assert client.get(path, headers={"x-api-key": a.secret_key}).status_code == 200
    assert_json(client.get(path, headers=a.headers), 403, forbidden(path))


def test_a_revoked_public_key_is_refused_on_every_route(app, client, boards_world, seeded, sql):
    a = boards_world.a
    with app.app_context():
        public_keys.revoke_public_key(a.project_id, a.public_key_id)
    before = database_rows(sql)

    def check(method: str, rule: str) -> tuple[Any, Any]:
        response = call(client, method, rule, seeded["a"], a.headers)
        return (response.status_code, response.get_json()), (401, INVALID_KEY)

    assert sweep(app, check) == []
    assert database_rows(sql) == before
    assert sql(
        "SELECT revoked_at IS NOT NULL FROM public_key WHERE id = ?", (a.public_key_id,)
    ) == [(1,)]


def test_revoking_a_key_leaves_other_keys_working(app, client, boards_world, seeded):
    a, b = boards_world.a, boards_world.b
    with app.app_context():
        public_keys.revoke_public_key(a.project_id, a.public_key_id)
        replacement = public_keys.create_public_key(a.project_id, a.board_id).key

    listed = client.get("/api/v1/feedback", headers={"x-api-key": replacement})
    other = client.get("/api/v1/feedback", headers=b.headers)

    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()["items"]] == [seeded["a"]]
    assert other.status_code == 200
    assert [item["id"] for item in other.get_json()["items"]] == [seeded["b"]]


def test_revoking_twice_keeps_the_key_revoked(app, client, boards_world, sql):
    a = boards_world.a
    with app.app_context():
        public_keys.revoke_public_key(a.project_id, a.public_key_id)
    first = sql("SELECT revoked_at FROM public_key WHERE id = ?", (a.public_key_id,))
    with app.app_context():
        public_keys.revoke_public_key(a.project_id, a.public_key_id)

    assert sql("SELECT revoked_at FROM public_key WHERE id = ?", (a.public_key_id,)) == first
    assert_json(client.get("/api/v1/feedback", headers=a.headers), 401, INVALID_KEY)


# --- routing errors --------------------------------------------------------------------------


UNKNOWN_PATHS = [
    "/api/v1",
    "/api/v1/",
    "/api/v1/nope",
    "/api/v1/feedback/",
    "/api/v1/feedback/fb_x/",
    "/api/v1/feedback/fb_x/votes",
    "/api/v1/feedback/fb_x/comments/cmt_y",
    "/api/v1/feedback/a/b/c",
    "/api/v1/identify/me",
    "/api/v1/users",
]


@pytest.mark.parametrize("keyed", [True, False], ids=["with-key", "without-key"])
def test_unknown_paths_under_api_v1_are_404(client, boards_world, sql, keyed):
    headers = boards_world.a.headers if keyed else {}
    before = database_rows(sql)

    answers = {
        (method, path): client.open(path, method=method, json={"title": "x"}, headers=headers)
        for path in UNKNOWN_PATHS
        for method in ("GET", "POST", "DELETE")
    }

    assert {key: (r.status_code, r.get_json()) for key, r in answers.items()} == {
        key: (404, NOT_FOUND) for key in answers
    }
    assert database_rows(sql) == before


WRONG_METHODS = [
    ("DELETE", "/api/v1/feedback"),
    ("PUT", "/api/v1/feedback"),
    ("PATCH", "/api/v1/feedback"),
    ("PUT", "/api/v1/feedback/<public_id>"),
    ("DELETE", "/api/v1/feedback/<public_id>"),
    ("POST", "/api/v1/feedback/<public_id>"),
    ("DELETE", "/api/v1/feedback/<public_id>/vote"),
    ("GET", "/api/v1/feedback/<public_id>/comments"),
    ("DELETE", "/api/v1/feedback/<public_id>/comments"),
    ("GET", "/api/v1/identify"),
    ("PUT", "/api/v1/identify"),
]


@pytest.mark.parametrize("keyed", [True, False], ids=["with-key", "without-key"])
def test_a_wrong_method_is_405(client, boards_world, seeded, sql, keyed):
    headers = boards_world.a.headers if keyed else {}
    before = database_rows(sql)

    answers = {
        (method, rule): client.open(
            build_path(rule, {"public_id": seeded["a"]}),
            method=method,
            json={"title": "x", "content": "x"},
            headers=headers,
        )
        for method, rule in WRONG_METHODS
    }

    assert {key: (r.status_code, r.get_json()) for key, r in answers.items()} == {
        key: (405, {"error": "Method not allowed"}) for key in WRONG_METHODS
    }
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    ("method", "rule", "allowed"),
    [
        ("DELETE", "/api/v1/feedback", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("PUT", "/api/v1/feedback/<public_id>", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/api/v1/identify", {"POST", "OPTIONS"}),
    ],
)
def test_a_405_names_the_allowed_methods(client, boards_world, seeded, method, rule, allowed):
    """RFC 9110 section 15.5.6: a 405 response MUST carry an Allow header."""
    path = build_path(rule, {"public_id": seeded["a"]})

    response = client.open(path, method=method, headers=boards_world.a.headers)

    assert response.status_code == 405
    assert {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()} == allowed


# --- request bodies --------------------------------------------------------------------------


def padded_body(rule: str, size: int) -> bytes:
    """The route's valid body with an unknown ``padding`` key, ``size`` bytes in all."""
    body = {**VALID_BODIES[rule], "padding": ""}
    body["padding"] = "p" * (size - len(json.dumps(body)))
    text = json.dumps(body).encode()
    assert len(text) == size
    return text


def post_text(
    client: FlaskClient, bw: BoardWorld, rule: str, public_id: str, text: str | bytes
) -> TestResponse:
    return client.post(
        build_path(rule, {"public_id": public_id}),
        data=text,
        content_type="application/json",
        headers=bw.headers,
    )


@pytest.mark.parametrize("rule", POST_ROUTES)
def test_a_body_over_the_limit_is_413(app, client, boards_world, seeded, sql, rule):
    # A body the route would otherwise accept, padded by an unknown key to one byte over.
    text = padded_body(rule, app.config["MAX_CONTENT_LENGTH"] + 1)
    before = database_rows(sql)

    response = post_text(client, boards_world.a, rule, seeded["a"], text)

    assert_json(response, 413, {"error": "Request body too large"})
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ("/api/v1/feedback", 201),
        ("/api/v1/feedback/<public_id>/comments", 201),
        ("/api/v1/feedback/<public_id>/vote", 200),
        ("/api/v1/identify", 200),
    ],
)
def test_a_body_of_exactly_the_limit_is_read(app, client, boards_world, seeded, rule, status):
    text = padded_body(rule, app.config["MAX_CONTENT_LENGTH"])

    response = post_text(client, boards_world.a, rule, seeded["a"], text)

    assert response.status_code == status, response.get_json()


MALFORMED = [
    ("unclosed", "{"),
    ("single-quotes", "{'title': 'x'}"),
    ("trailing-comma", '{"title": "x",}'),
    ("trailing-text", '{"title": "x"} extra'),
    ("nan", '{"title": NaN}'),
    ("infinity", '{"title": "x", "n": Infinity}'),
    ("lone-surrogate", '{"title": "\\ud800"}'),
    ("invalid-utf8", b'{"title": "\xff\xfe"}'),
    ("deeply-nested", "[" * 5000 + "]" * 5000),
    ("bare-word", "undefined"),
]


@pytest.mark.parametrize("rule", POST_ROUTES)
def test_malformed_json_is_400(client, boards_world, seeded, sql, rule):
    expected = (400, invalid_input(["Invalid JSON body"], {}))
    before = database_rows(sql)

    answers = {
        name: post_text(client, boards_world.a, rule, seeded["a"], text) for name, text in MALFORMED
    }

    assert {name: (r.status_code, r.get_json()) for name, r in answers.items()} == {
        name: expected for name, _ in MALFORMED
    }
    assert database_rows(sql) == before


NOT_OBJECTS = [
    "[]",
    '[{"title": "x", "content": "x", "externalId": "x"}]',
    '"text"',
    "42",
    "true",
    "null",
]


@pytest.mark.parametrize("rule", POST_ROUTES)
def test_a_json_body_that_is_not_an_object_is_400(client, boards_world, seeded, sql, rule):
    expected = (400, invalid_input(["Expected a JSON object"], {}))
    before = database_rows(sql)

    answers = {
        text: post_text(client, boards_world.a, rule, seeded["a"], text) for text in NOT_OBJECTS
    }

    assert {text: (r.status_code, r.get_json()) for text, r in answers.items()} == {
        text: expected for text in NOT_OBJECTS
    }
    assert database_rows(sql) == before


def test_an_empty_body_reads_as_an_empty_object(client, boards_world, seeded, sql):
    a = boards_world.a
    before = database_rows(sql)

    refused = client.post("/api/v1/feedback", data="", headers=a.headers)

    assert_json(refused, 400, invalid_input([], {"title": ["Title is required"]}))
    assert database_rows(sql) == before
    # A vote needs no body: the anonymous client toggles its vote.
    assert_json(
        client.post(f"/api/v1/feedback/{seeded['a']}/vote", headers=a.headers),
        200,
        {"voted": False, "voteCount": 0},
    )


# --- another board's feedback ----------------------------------------------------------------

INTRUDER_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/feedback/<public_id>/comments": {
        "content": "Sneaky",
        "endUser": {"externalId": "intruder", "name": "Intruder"},
    },
    "/api/v1/feedback/<public_id>/vote": {"endUser": {"externalId": "intruder"}},
}


@pytest.mark.parametrize(("method", "rule"), ID_ROUTES)
@pytest.mark.parametrize("query", ["", "endUserId=b-user"])
def test_another_boards_feedback_answers_like_a_missing_one(
    client, boards_world, seeded, sql, method, rule, query
):
    a = boards_world.a
    body = INTRUDER_BODIES.get(rule)
    before = database_rows(sql)

    # One request id for both, so that every response header can be compared.
    headers = {**a.headers, "X-Request-Id": "intruder"}
    foreign = call(client, method, rule, seeded["b"], headers, body, query)
    missing = call(client, method, rule, MISSING_ID, headers, body, query)

    assert_json(foreign, 404, FEEDBACK_NOT_FOUND)
    assert_json(missing, 404, FEEDBACK_NOT_FOUND)
    assert sorted(foreign.headers.items()) == sorted(missing.headers.items())
    assert database_rows(sql) == before


def test_the_id_sweep_covers_every_route_with_an_id(app):
    assert sorted(ID_ROUTES) == sorted(
        (method, rule) for method, rule in public_routes(app) if "<public_id>" in rule
    )
    assert len(ID_ROUTES) == 4


# --- odd input -------------------------------------------------------------------------------


def page_of(items: list[Any], total: int, page: int = 1, limit: int = 20) -> dict[str, Any]:
    return {
        "items": items,
        "total": total,
        "page": page,
        "limit": limit,
        "totalPages": -(-total // limit),
    }


ODD_REQUESTS = [
    (
        "page-at-maximum",
        "GET",
        "/api/v1/feedback?page=1000000000",
        lambda fb: (200, page_of([], 1, page=1_000_000_000)),
    ),
    (
        "page-at-maximum-sorted-filtered",
        "GET",
        "/api/v1/feedback?page=1000000000&limit=100&sortBy=votes&status=new",
        lambda fb: (200, page_of([], 1, page=1_000_000_000, limit=100)),
    ),
    (
        "page-at-maximum-searched",
        "GET",
        "/api/v1/feedback?page=1000000000&search=existing",
        lambda fb: (200, page_of([], 1, page=1_000_000_000)),
    ),
    (
        "page-huge",
        "GET",
        "/api/v1/feedback?page=99999999999999999999999999",
        lambda fb: (
            400,
            invalid_input([], {"page": ["Page must be from 1 to 1000000000"]}),
        ),
    ),
    (
        "limit-huge",
        "GET",
        "/api/v1/feedback?limit=99999999999999999999999999",
        lambda fb: (200, page_of([fb], 1, limit=100)),
    ),
    (
        "search-nul",
        "GET",
        "/api/v1/feedback?search=%00",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-inner-nul",
        "GET",
        "/api/v1/feedback?search=ex%00ist",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-emoji",
        "GET",
        "/api/v1/feedback?search=%F0%9F%98%80",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-invalid-utf8",
        "GET",
        "/api/v1/feedback?search=%FF%FE",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-injection",
        "GET",
        "/api/v1/feedback?search=%22%20OR%201%3D1%20--",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-star",
        "GET",
        "/api/v1/feedback?search=*",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "search-fts-syntax",
        "GET",
        "/api/v1/feedback?search=NEAR(a%20b)",
        lambda fb: (200, page_of([], 0)),
    ),
    (
        "filters-odd",
        "GET",
        "/api/v1/feedback?status=%00&type=%F0%9F%98%80",
        lambda fb: (
            400,
            invalid_input(
                [],
                {
                    "status": [
                        "Invalid status. Must be one of: new, under-review, planned,"
                        " in-progress, completed, closed"
                    ],
                    "type": ["Invalid type. Must be one of: bug, idea, question, other"],
                },
            ),
        ),
    ),
    (
        "id-very-long",
        "GET",
        "/api/v1/feedback/" + "x" * 10_000,
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
    (
        "id-nul",
        "GET",
        "/api/v1/feedback/%00",
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
    (
        "id-emoji",
        "GET",
        "/api/v1/feedback/fb_%F0%9F%98%80",
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
    (
        "id-injection",
        "GET",
        "/api/v1/feedback/fb_%27%20OR%20%271%27%3D%271",
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
    (
        "end-user-id-nul",
        "GET",
        "/api/v1/feedback/{id}?endUserId=%00",
        lambda fb: (200, {"feedback": {**fb, "userHasVoted": False, "comments": []}}),
    ),
    (
        "end-user-id-emoji",
        "GET",
        "/api/v1/feedback/{id}/vote?endUserId=%F0%9F%98%80",
        lambda fb: (200, {"voted": False, "voteCount": 1}),
    ),
    (
        "vote-id-very-long",
        "POST",
        "/api/v1/feedback/" + "x" * 10_000 + "/vote",
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
    (
        "comment-id-very-long",
        "POST",
        "/api/v1/feedback/" + "x" * 10_000 + "/comments",
        lambda fb: (404, FEEDBACK_NOT_FOUND),
    ),
]


def test_odd_input_gets_an_exact_answer_never_a_500(client, boards_world, sql):
    a = boards_world.a
    feedback = new_feedback(client, a)
    before = database_rows(sql)

    problems = []
    for name, method, path, expected in ODD_REQUESTS:
        url = path.replace("{id}", feedback["id"])
        body = {"content": "x"} if method == "POST" else None
        response = client.open(url, method=method, json=body, headers=a.headers)
        actual = (response.status_code, response.get_json())
        if actual != expected(feedback):
            problems.append(f"{name}: {actual!r} != {expected(feedback)!r}")

    assert problems == []
    assert database_rows(sql) == before


@pytest.mark.sqlite_only(reason="PostgreSQL's text cannot hold NUL: see the test below")
def test_nul_characters_survive_a_round_trip_and_can_be_searched(client, boards_world, sql):
    a = boards_world.a
    title = "before\u0000after"
    feedback = new_feedback(client, a, title)
    new_feedback(client, a, "plain")

    assert feedback["title"] == title
    for search in ("\u0000", "e\u0000a", "before\u0000after"):
        response = client.get(
            "/api/v1/feedback", query_string={"search": search}, headers=a.headers
        )
        assert_json(response, 200, page_of([feedback], 1))


@pytest.mark.postgresql_only(reason="SQLite stores NUL characters: see the test above")
def test_nul_characters_are_refused_and_found_nowhere(client, boards_world, sql):
    a = boards_world.a
    new_feedback(client, a, "plain")
    before = database_rows(sql)

    response = client.post("/api/v1/feedback", json={"title": "a\u0000b"}, headers=a.headers)

    details = {"formErrors": [NUL_REFUSED], "fieldErrors": {}}
    assert_json(response, 400, {"error": "Invalid input", "details": details})
    assert database_rows(sql) == before
    for search in ("\u0000", "plain\u0000"):
        response = client.get(
            "/api/v1/feedback", query_string={"search": search}, headers=a.headers
        )
        assert_json(response, 200, page_of([], 0))


def test_unicode_survives_a_round_trip(client, boards_world):
    a = boards_world.a
    text = "مرحبا 😀 Ünïcödé \u200b日本語 \U0001f9ea"

    response = client.post(
        "/api/v1/feedback",
        json={"title": text, "description": text, "endUser": {"externalId": text, "name": text}},
        headers=a.headers,
    )

    assert response.status_code == 201
    feedback = response.get_json()["feedback"]
    assert (feedback["title"], feedback["description"], feedback["endUser"]["name"]) == (
        text,
        text,
        text,
    )
    shown = client.get(
        f"/api/v1/feedback/{feedback['id']}", query_string={"endUserId": text}, headers=a.headers
    )
    assert_json(shown, 200, {"feedback": {**feedback, "userHasVoted": True, "comments": []}})
    found = client.get("/api/v1/feedback", query_string={"search": "😀 ü"}, headers=a.headers)
    assert_json(found, 200, page_of([feedback], 1))


def test_deeply_nested_metadata_is_refused_or_stored_never_a_500(client, boards_world, sql):
    a = boards_world.a
    for depth in (100, 5000):
        text = '{"title": "x", "metadata": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
        response = client.post(
            "/api/v1/feedback", data=text, content_type="application/json", headers=a.headers
        )
        if depth == 100:
            assert response.status_code == 201
            meta = json.loads(sql("SELECT meta FROM feedback ORDER BY id DESC LIMIT 1")[0][0])
            assert json.dumps(meta) == text[len('{"title": "x", "metadata": ') : -1]
        else:
            assert_json(response, 400, invalid_input(["Invalid JSON body"], {}))
