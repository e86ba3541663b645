"""HTTP-level errors of the integration API: routing, bodies, path ids, pagination, never 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import STANDARD_FIELDS, World
from tests.helpers import (
    MASTER_KEY,
    NOT_NUMERIC,
    bad_request,
    build_path,
    database_rows,
    integration_routes,
    path_ids,
    problem_summary,
    rule_parameters,
)

INVALID_JSON = "Body is not valid JSON but content-type is set to 'application/json'"
ONE_MIB = 1024 * 1024


def nest_error(status: int, error: str, message: Any, path: str) -> dict[str, Any]:
    return {"message": message, "error": error, "statusCode": status, "path": path}


def fill(template: str, world: World) -> str:
    """A path template with {project_id}-style placeholders filled with project a's ids."""
    return template.format(**path_ids(world.a))


@pytest.fixture
def used_world(client: FlaskClient, world: World) -> World:
    """`world` after one request with project a's key, so its last_used_at is already set and
    a later request changes no row."""
    assert client.get(world.a.base, headers=world.a.headers).status_code == 200
    return world


# --- routing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nope"),
        ("POST", "/api/nope"),
        ("DELETE", "/api/nope/deeper"),
        ("GET", "/api/nope?x=1&y=2"),
        ("GET", "/api"),
        ("GET", "/api/projects"),
        ("GET", "/api/projects/1/unknown"),
        # The singular path does not exist on the reference server either.
        ("POST", "/api/projects/1/channels/1/feedback"),
    ],
)
def test_unknown_route_under_api_is_a_nest_404(client, method, path):
    response = client.open(path, method=method)

    assert response.status_code == 404
    assert response.get_json() == nest_error(404, "Not Found", f"Cannot {method} {path}", path)


@pytest.mark.parametrize("template", ["/api/nope", "/api/projects/{project_id}/unknown"])
def test_unknown_route_is_a_404_with_a_valid_key_too(client, world, template):
    path = fill(template, world)

    response = client.get(path, headers=world.a.headers)

    assert response.status_code == 404
    assert response.get_json() == nest_error(404, "Not Found", f"Cannot GET {path}", path)


@pytest.mark.parametrize("path", ["/api/n%20pe", "/api/caf%C3%A9"])
def test_unknown_route_reports_the_path_as_sent(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.get_json() == nest_error(404, "Not Found", f"Cannot GET {path}", path)


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("PATCH", "/api/projects/{project_id}/issues/{issue_id}"),
        ("GET", "/api/projects/{project_id}/issues"),
        ("PUT", "/api/projects/{project_id}/channels/{channel_id}/feedbacks"),
        ("POST", "/api/projects/{project_id}"),
        ("DELETE", "/api/projects/{project_id}/channels/{channel_id}/fields"),
    ],
)
@pytest.mark.parametrize("with_key", [False, True])
def test_wrong_method_on_a_known_path_is_a_nest_404(client, world, method, template, with_key):
    path = fill(template, world)
    headers = world.a.headers if with_key else {}

    response = client.open(path, method=method, headers=headers)

    assert response.status_code == 404
    assert response.get_json() == nest_error(404, "Not Found", f"Cannot {method} {path}", path)


# --- request bodies -----------------------------------------------------------------------

BODY_ROUTES = [
    ("POST", "/api/projects/{project_id}/channels/{channel_id}/feedbacks"),
    ("PUT", "/api/projects/{project_id}/channels/{channel_id}/feedbacks/{feedback_id}"),
    ("DELETE", "/api/projects/{project_id}/channels/{channel_id}/feedbacks"),
    ("POST", "/api/projects/{project_id}/issues"),
    ("POST", "/api/projects/{project_id}/issues/search"),
    ("PUT", "/api/projects/{project_id}/issues/{issue_id}"),
    ("DELETE", "/api/projects/{project_id}/issues"),
    ("POST", "/api/projects/{project_id}/categories"),
    ("PUT", "/api/projects/{project_id}/categories/{category_id}"),
]
CREATE_FEEDBACK = BODY_ROUTES[0]


def send_raw(client, world, route, data: bytes, content_type: str | None = "application/json"):
    method, template = route
    headers = dict(world.a.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.open(fill(template, world), method=method, data=data, headers=headers)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=" ".join)
def test_invalid_json_is_a_400_on_every_body_route(client, used_world, sql, route):
    before = database_rows(sql)

    response = send_raw(client, used_world, route, b'{"name": ')

    assert response.status_code == 400
    assert response.get_json() == bad_request(fill(route[1], used_world), INVALID_JSON)
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    "data",
    [
        b'{"message": ',
        b"{'message': 'single quotes'}",
        b"not json",
        b'{"message": "a"}{"message": "b"}',
        b"[1,]",
        b'\xff\xfe{"message": "x"}',
        b'{"message": "trailing comma",}',
    ],
)
def test_malformed_json_bodies_are_rejected_and_store_nothing(client, used_world, sql, data):
    before = database_rows(sql)

    response = send_raw(client, used_world, CREATE_FEEDBACK, data)

    assert response.status_code == 400
    assert response.get_json() == bad_request(used_world.a.channel + "/feedbacks", INVALID_JSON)
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    ("route", "data"),
    [
        (CREATE_FEEDBACK, b'{"score": NaN}'),
        (CREATE_FEEDBACK, b'{"score": Infinity}'),
        (CREATE_FEEDBACK, b'{"score": -Infinity}'),
        (CREATE_FEEDBACK, b'{"message": "x", "tags": [NaN]}'),
        (BODY_ROUTES[1], b'{"score": Infinity}'),
        (BODY_ROUTES[3], b'{"name": "x", "description": NaN}'),
        (BODY_ROUTES[4], b'{"limit": Infinity}'),
        # Not storable either: a lone UTF-16 surrogate, and nesting that exhausts the stack.
        (CREATE_FEEDBACK, b'{"message": "\\ud800"}'),
        (CREATE_FEEDBACK, b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ],
    ids=lambda value: value[:40].decode() if isinstance(value, bytes) else " ".join(value),
)
def test_json_that_cannot_be_stored_is_invalid_json(client, used_world, sql, route, data):
    before = database_rows(sql)

    response = send_raw(client, used_world, route, data)

    assert response.status_code == 400
    assert response.get_json() == bad_request(fill(route[1], used_world), INVALID_JSON)
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    ("content_type", "data", "shown"),
    [
        ("text/plain", b'{"message": "x"}', "text/plain"),
        ("application/x-www-form-urlencoded", b"message=x", "application/x-www-form-urlencoded"),
        ("text/html; charset=utf-8", b"<p>x</p>", "text/html"),
        (None, b'{"message": "x"}', "none"),
    ],
)
def test_body_that_is_not_json_is_a_415(client, used_world, sql, content_type, data, shown):
    before = database_rows(sql)

    response = send_raw(client, used_world, CREATE_FEEDBACK, data, content_type)

    assert response.status_code == 415
    assert response.get_json() == nest_error(
        415,
        "Unsupported Media Type",
        f"Unsupported Media Type: {shown}",
        used_world.a.channel + "/feedbacks",
    )
    assert database_rows(sql) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json"])
def test_json_content_type_with_parameters_is_accepted(client, world, content_type):
    response = send_raw(client, world, CREATE_FEEDBACK, b'{"message": "x"}', content_type)

    assert response.status_code == 201


def padded_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    frame = b'{"message": ""}'
    return frame[:-2] + b"x" * (size - len(frame)) + frame[-2:]


@pytest.mark.parametrize("route", [CREATE_FEEDBACK, BODY_ROUTES[4], BODY_ROUTES[5]], ids=" ".join)
def test_body_over_one_mib_is_a_413_in_the_nest_shape(client, used_world, sql, route):
    before = database_rows(sql)

    response = send_raw(client, used_world, route, padded_body(ONE_MIB + 1))

    assert response.status_code == 413
    # NestJS's PayloadTooLargeException; the phrase must not depend on the Python version.
    assert response.get_json() == nest_error(
        413, "Payload Too Large", "Request body is too large", fill(route[1], used_world)
    )
    assert database_rows(sql) == before


def test_body_of_exactly_one_mib_is_not_too_large(client, world):
    body = padded_body(ONE_MIB)
    assert len(body) == ONE_MIB and json.loads(body)

    response = send_raw(client, world, CREATE_FEEDBACK, body)

    assert response.status_code not in (413, 500)


@pytest.mark.parametrize(
    ("data", "content_type"), [(b"", None), (b"", "text/plain"), (b"{}", "application/json")]
)
def test_empty_body_on_create_feedback_creates_an_empty_feedback(
    client, world, sql, data, content_type
):
    response = send_raw(client, world, CREATE_FEEDBACK, data, content_type)

    assert response.status_code == 201
    feedback_id = response.get_json()["id"]
    assert sql("SELECT data FROM feedback WHERE id = ?", (feedback_id,)) == [("{}",)]
    shown = client.get(f"{world.a.channel}/feedbacks/{feedback_id}", headers=world.a.headers)
    assert list(shown.get_json()) == ["id", "createdAt", "updatedAt", "issues"]
    assert shown.get_json()["issues"] == []


# --- path ids -----------------------------------------------------------------------------

BAD_IDS = [
    "abc",
    "1e3",
    "0x10",
    "%20",
    "-1",
    "1.5",
    "9" * 30,
    str(2**63),
    str(2**64),
    "+1",
    "1%20",
    "%EF%BC%91",  # FULLWIDTH DIGIT ONE: a decimal digit, but not an ASCII one
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE
]


def id_positions(app: Flask) -> Iterator[tuple[str, str, str]]:
    for method, rule in integration_routes(app):
        for name in rule_parameters(rule):
            yield method, rule, name


@pytest.mark.parametrize("bad", BAD_IDS)
def test_non_numeric_id_is_a_400_in_every_id_position(app, client, master_client, world, bad):
    problems = []
    for method, rule, name in id_positions(app):
        # A project key never opens a non-numeric project (403, see test_auth); the master key
        # gets as far as reading the id.
        key = MASTER_KEY if name == "project_id" else world.a.key
        path = build_path(rule, {**path_ids(world.a), name: bad})
        caller = master_client if name == "project_id" else client

        response = caller.open(path, method=method, headers={"x-api-key": key})

        if response.status_code != 400 or response.get_json() != bad_request(path, NOT_NUMERIC):
            problems.append(f"{method} {path}: {response.status_code} {response.get_json()}")
    assert not problems, problem_summary(problems)


@pytest.mark.parametrize("value", [2**63 - 1, 2**63, 2**64, 10**40])
def test_ids_beyond_int64_never_give_a_5xx(app, client, master_client, world, value):
    problems = []
    for method, rule, name in id_positions(app):
        key = MASTER_KEY if name == "project_id" else world.a.key
        path = build_path(rule, {**path_ids(world.a), name: value})
        caller = master_client if name == "project_id" else client

        response = caller.open(path, method=method, headers={"x-api-key": key})

        body = response.get_json()
        # Beyond int64 an id is not numeric; the largest int64 is numeric but names nothing.
        expected = bad_request(path, NOT_NUMERIC) if value >= 2**63 else body
        if body != expected or response.status_code not in (400, 404):
            problems.append(f"{method} {path}: {response.status_code} {body}")
    assert not problems, problem_summary(problems)


def send_body(client: FlaskClient, world: World, route: tuple[str, str], body: Any) -> Any:
    """Send ``body`` to a (method, rule) route with project a's ids and key."""
    method, template = route
    return client.open(fill(template, world), method=method, json=body, headers=world.a.headers)


@pytest.mark.parametrize(
    ("route", "body", "status"),
    [
        (BODY_ROUTES[2], {"feedbackIds": [2**63]}, 400),
        (BODY_ROUTES[2], {"feedbackIds": [-(2**63) - 1]}, 400),
        (BODY_ROUTES[6], {"issueIds": [2**64]}, 400),
        (BODY_ROUTES[4], {"query": {"id": 2**63}}, 400),
        (BODY_ROUTES[4], {"query": {"categoryId": 10**30}}, 400),
        (BODY_ROUTES[4], {"query": {"searchText": str(10**30)}}, 201),
        (CREATE_FEEDBACK, {"score": 10**30}, 400),
        (BODY_ROUTES[1], {"score": -(10**30)}, 400),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
def test_numbers_beyond_int64_in_bodies_are_refused_without_a_5xx(
    client, used_world, sql, route, body, status
):
    before = database_rows(sql)

    response = send_body(client, used_world, route, body)

    assert response.status_code == status
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    ("route", "body", "status"),
    [
        (BODY_ROUTES[2], {"feedbackIds": [2**63 - 1, -(2**63)]}, 200),
        (BODY_ROUTES[6], {"issueIds": [2**63 - 1]}, 200),
        (BODY_ROUTES[4], {"query": {"id": 2**63 - 1}, "limit": 2**70, "page": 2**70}, 201),
    ],
    ids=["feedbackIds", "issueIds", "search"],
)
def test_largest_int64_ids_in_bodies_are_accepted_and_match_nothing(
    client, used_world, sql, route, body, status
):
    before = database_rows(sql)

    response = send_body(client, used_world, route, body)

    assert response.status_code == status
    assert database_rows(sql) == before
    if status == 201:
        assert response.get_json()["items"] == []


# --- pagination ---------------------------------------------------------------------------


@pytest.fixture
def three_categories(client: FlaskClient, world: World) -> World:
    """Project a with three categories (`world` gives it one)."""
    for name in ("second", "third"):
        response = client.post(
            f"{world.a.base}/categories", json={"name": name}, headers=world.a.headers
        )
        assert response.status_code == 201
    return world


@pytest.mark.parametrize(
    ("query", "items", "per_page", "page", "pages"),
    [
        ("", 3, 10, 1, 1),
        ("limit=0", 3, 10, 1, 1),
        ("limit=-5", 3, 10, 1, 1),
        ("limit=abc", 3, 10, 1, 1),
        ("limit=", 3, 10, 1, 1),
        ("limit=12abc", 3, 12, 1, 1),
        ("limit=1.9", 1, 1, 1, 3),
        ("limit=%2B2", 2, 2, 1, 2),
        ("limit=99999999", 3, 1000, 1, 1),
        ("limit=" + "9" * 40, 3, 1000, 1, 1),
        ("limit=1", 1, 1, 1, 3),
        ("limit=1&page=3", 1, 1, 3, 3),
        ("limit=2&page=2abc", 1, 2, 2, 2),
        ("page=0", 3, 10, 1, 1),
        ("page=-2", 3, 10, 1, 1),
        ("page=abc", 3, 10, 1, 1),
        ("page=2", 0, 10, 2, 1),
    ],
)
def test_pagination_values_are_read_leniently_and_reflected_in_meta(
    client, three_categories, query, items, per_page, page, pages
):
    world = three_categories

    response = client.get(f"{world.a.base}/categories?{query}", headers=world.a.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert len(body["items"]) == items
    assert body["meta"] == {
        "itemCount": items,
        "totalItems": 3,
        "itemsPerPage": per_page,
        "currentPage": page,
        "totalPages": pages,
    }


def test_page_far_past_the_end_is_an_empty_page(client, three_categories):
    world = three_categories

    response = client.get(f"{world.a.base}/categories?page={'9' * 40}", headers=world.a.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == []
    assert body["meta"]["totalItems"] == 3
    assert body["meta"]["totalPages"] == 1


# --- response framing ---------------------------------------------------------------------

ISSUE = "/api/projects/{project_id}/issues/{issue_id}"
ISSUE_CATEGORY = ISSUE + "/category/{category_id}"
FEEDBACK = "/api/projects/{project_id}/channels/{channel_id}/feedbacks/{feedback_id}"


ADD_ISSUE = FEEDBACK + "/issue/{issue_id}"


@pytest.mark.parametrize(
    ("method", "template", "make_body", "status", "prepare"),
    [
        ("PUT", FEEDBACK, lambda a: {"message": "edited"}, 200, None),
        ("DELETE", BODY_ROUTES[2][1], lambda a: {"feedbackIds": a.feedback_ids}, 200, None),
        ("POST", ADD_ISSUE, None, 201, None),
        ("DELETE", ADD_ISSUE, None, 200, ("POST", ADD_ISSUE)),
        ("PUT", ISSUE, lambda a: {"name": "renamed", "description": None}, 200, None),
        ("DELETE", ISSUE, None, 200, None),
        ("DELETE", BODY_ROUTES[6][1], lambda a: {"issueIds": a.issue_ids}, 200, None),
        ("PUT", ISSUE_CATEGORY, None, 200, None),
        ("DELETE", ISSUE_CATEGORY, None, 200, ("PUT", ISSUE_CATEGORY)),
        ("PUT", BODY_ROUTES[8][1], lambda a: {"name": "renamed"}, 200, None),
        ("DELETE", BODY_ROUTES[8][1], None, 200, None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_put_delete_and_add_issue_answer_an_empty_body_without_content_type(
    client, world, method, template, make_body, status, prepare
):
    if prepare is not None:
        ready = client.open(fill(prepare[1], world), method=prepare[0], headers=world.a.headers)
        assert ready.status_code in (200, 201)
    body = make_body(world.a) if make_body else None

    response = client.open(fill(template, world), method=method, json=body, headers=world.a.headers)

    assert response.status_code == status
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Content-Length"] == "0"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/projects/{project_id}", None, 200),
        ("GET", "/api/projects/{project_id}/categories", None, 200),
        ("GET", "/api/projects/{project_id}/channels/{channel_id}/fields", None, 200),
        ("GET", FEEDBACK, None, 200),
        ("POST", "/api/projects/{project_id}/issues", {"name": "new"}, 201),
        ("POST", "/api/projects/{project_id}/issues/search", {}, 201),
        ("GET", "/api/projects/{project_id}/issues/abc", None, 400),
        ("GET", "/api/nope", None, 404),
        ("GET", "/api/health", None, 200),
    ],
)
def test_json_responses_are_application_json(client, world, method, path, body, status):
    response = client.open(fill(path, world), method=method, json=body, headers=world.a.headers)

    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() is not None


def test_forbidden_response_is_application_json(client, world):
    response = client.get(world.a.base)

    assert response.status_code == 403
    assert response.mimetype == "application/json"


# --- property: no input gives a 5xx -------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=()), max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_KEYS = [spec.key for spec in STANDARD_FIELDS] + ["issueNames", "createdAt", "id"]
feedback_bodies = json_values | st.dictionaries(
    st.sampled_from(FIELD_KEYS) | st.text(max_size=10), json_values, max_size=6
)
ISSUE_QUERY_KEYS = [
    "id",
    "status",
    "statuses",
    "categoryId",
    "searchText",
    "name",
    "description",
    "externalIssueId",
    "createdAt",
    "updatedAt",
]
issue_queries = json_values | st.dictionaries(
    st.sampled_from(ISSUE_QUERY_KEYS) | st.text(max_size=10), json_values, max_size=4
)
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY_SETTINGS
@given(body=feedback_bodies)
def test_random_json_as_a_feedback_body_never_gives_a_5xx(client, world, body):
    response = client.post(f"{world.a.channel}/feedbacks", json=body, headers=world.a.headers)

    assert response.status_code < 500, response.get_data()


@PROPERTY_SETTINGS
@given(query=issue_queries, sort=json_values, limit=json_values)
def test_random_json_as_an_issue_search_query_never_gives_a_5xx(client, world, query, sort, limit):
    body = {"query": query, "sort": sort, "limit": limit}

    response = client.post(f"{world.a.base}/issues/search", json=body, headers=world.a.headers)

    assert response.status_code < 500, response.get_data()
