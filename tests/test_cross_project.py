"""The cross-project sweep: a key of project a must never read or change project b.

Every integration route found in ``app.url_map`` is tried with project a's key (1) on project
b's project id and (2) on project a's project id with project b's channel, feedback, issue or
category ids, in the path or in the body. A route without a case below fails the sweep, so a
new route cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import ProjectWorld, World
from tests.helpers import (
    build_path,
    integration_routes,
    path_ids,
    problem_summary,
    rule_parameters,
)

# --- expectations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """A status, and by ``kind``: an exact JSON body (``path`` added), an empty body ("empty"),
    a page without rows ("no_rows"), or anything ("any")."""

    status: int
    body: Mapping[str, Any] | None = None
    kind: str = "json"

    def mismatch(self, response: TestResponse, path: str) -> str | None:
        if response.status_code != self.status:
            return f"status {response.status_code} != {self.status}: {response.get_data()[:300]!r}"
        if self.kind == "empty" and response.get_data() != b"":
            return f"body not empty: {response.get_data()[:300]!r}"
        if self.kind == "no_rows":
            page = response.get_json()
            if page["items"] != [] or page["meta"]["totalItems"] != 0:
                return f"rows found: {page}"
        if self.kind == "json" and response.get_json() != {**(self.body or {}), "path": path}:
            return f"body {response.get_json()} != {self.body} with path {path}"
        return None


def bad_request(message: str) -> Expect:
    return Expect(400, {"message": message, "error": "Bad Request", "statusCode": 400})


def domain_error(status: int, code: str, message: str) -> Expect:
    return Expect(status, {"code": code, "message": message, "statusCode": status})


FORBIDDEN = Expect(403, {"message": "Forbidden resource", "error": "Forbidden", "statusCode": 403})
CHANNEL_NOT_FOUND = domain_error(400, "ChannelNotFound", "channel is not found")
UNKNOWN_ID = bad_request("unknown id")
ISSUE_NOT_FOUND = domain_error(400, "IssueNotFound", "issue is not found")
CATEGORY_NOT_FOUND = domain_error(404, "CategoryNotFound", "category is not found")
CATEGORY_MISMATCH = bad_request("Category id does not match")
EMPTY_OK = Expect(200, kind="empty")
NO_ROWS_200 = Expect(200, kind="no_rows")
NO_ROWS_201 = Expect(201, kind="no_rows")

# What a foreign id in a path position answers, unless a route case says otherwise.
PATH_ID_ERRORS = {
    "channel_id": CHANNEL_NOT_FOUND,
    "feedback_id": UNKNOWN_ID,
    "issue_id": ISSUE_NOT_FOUND,
    "category_id": CATEGORY_NOT_FOUND,
}


# --- route cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A request on project a's own path ids whose body or query names project b's data."""

    expect: Expect
    json: Any = None
    query: str = ""


@dataclass(frozen=True)
class RouteCase:
    # A body or query that succeeds when every id is the project's own.
    json: Callable[[ProjectWorld], Any] | None = None
    form: Callable[[ProjectWorld], dict[str, str]] | None = None
    query: str = ""
    # Overrides of PATH_ID_ERRORS for this route.
    path_errors: Mapping[str, Expect] = field(default_factory=dict)
    body_variants: Callable[[World], list[Variant]] = lambda world: []


P = "/api/projects/<project_id>"
C = P + "/channels/<channel_id>"
F = C + "/feedbacks/<feedback_id>"
I = P + "/issues/<issue_id>"  # noqa: E741
K = P + "/categories/<category_id>"


def v2_ids_query(key: str, ids: list[int]) -> dict[str, Any]:
    return {"queries": [{"key": key, "value": ids, "condition": "IS"}], "operator": "AND"}


CASES: dict[tuple[str, str], RouteCase] = {
    ("POST", C + "/feedbacks"): RouteCase(json=lambda w: {"message": "sweep"}),
    ("POST", "/api/admin" + C.removeprefix("/api") + "/feedbacks"): RouteCase(
        json=lambda w: {"message": "sweep"}
    ),
    ("POST", C + "/feedbacks-with-images"): RouteCase(form=lambda w: {"message": "sweep"}),
    ("POST", C + "/feedbacks/search"): RouteCase(
        json=lambda w: {"query": {}},
        body_variants=lambda world: [
            Variant(NO_ROWS_201, json={"query": {"ids": world.b.feedback_ids}}),
            Variant(NO_ROWS_201, json={"query": {"issueIds": world.b.issue_ids}}),
        ],
    ),
    ("GET", C + "/feedbacks"): RouteCase(
        query="fieldKey=message&searchText=sweep",
        body_variants=lambda world: [Variant(NO_ROWS_200, query="issueName=beta%20issue%201")],
    ),
    ("POST", "/api/v2" + C.removeprefix("/api") + "/feedbacks/search"): RouteCase(
        json=lambda w: {"queries": [], "operator": "AND"},
        body_variants=lambda world: [
            Variant(NO_ROWS_201, json=v2_ids_query("ids", world.b.feedback_ids)),
            Variant(NO_ROWS_201, json=v2_ids_query("issueIds", world.b.issue_ids)),
        ],
    ),
    ("GET", F): RouteCase(),
    ("PUT", F): RouteCase(json=lambda w: {"message": "sweep edit"}),
    ("DELETE", C + "/feedbacks"): RouteCase(
        json=lambda w: {"feedbackIds": [w.feedback_ids[1]]},
        body_variants=lambda world: [
            Variant(EMPTY_OK, json={"feedbackIds": world.b.feedback_ids}),
        ],
    ),
    ("POST", F + "/issue/<issue_id>"): RouteCase(path_errors={"issue_id": UNKNOWN_ID}),
    ("DELETE", F + "/issue/<issue_id>"): RouteCase(path_errors={"issue_id": UNKNOWN_ID}),
    ("GET", C + "/image-upload-url"): RouteCase(query="extension=png"),
    ("GET", C + "/fields"): RouteCase(),
    ("GET", P): RouteCase(),
    ("POST", P + "/issues"): RouteCase(json=lambda w: {"name": "sweep issue"}),
    ("GET", I): RouteCase(),
    ("POST", P + "/issues/search"): RouteCase(
        json=lambda w: {"query": {}},
        body_variants=lambda world: [
            Variant(NO_ROWS_201, json={"query": {"id": world.b.issue_ids[0]}}),
            Variant(NO_ROWS_201, json={"query": {"searchText": str(world.b.issue_ids[0])}}),
            Variant(NO_ROWS_201, json={"query": {"searchText": "beta"}}),
            Variant(NO_ROWS_201, json={"query": {"name": "beta"}}),
            Variant(NO_ROWS_201, json={"query": {"categoryId": world.b.category_id}}),
        ],
    ),
    ("PUT", I): RouteCase(json=lambda w: {"name": "sweep rename", "description": None}),
    ("DELETE", I): RouteCase(),
    ("DELETE", P + "/issues"): RouteCase(
        json=lambda w: {"issueIds": [w.issue_ids[1]]},
        body_variants=lambda world: [Variant(EMPTY_OK, json={"issueIds": world.b.issue_ids})],
    ),
    ("PUT", I + "/category/<category_id>"): RouteCase(),
    ("DELETE", I + "/category/<category_id>"): RouteCase(
        # A category that is not the issue's; a's issue is in a's category (see `world`).
        path_errors={"category_id": CATEGORY_MISMATCH},
    ),
    ("POST", P + "/categories"): RouteCase(json=lambda w: {"name": "sweep category"}),
    ("GET", P + "/categories"): RouteCase(
        body_variants=lambda world: [Variant(NO_ROWS_200, query="categoryName=beta")],
    ),
    ("PUT", K): RouteCase(json=lambda w: {"name": "sweep category rename"}),
    ("DELETE", K): RouteCase(),
}

# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    label: str
    method: str
    path: str
    expect: Expect
    json: Any = None
    form: dict[str, str] | None = None


def route_case(method: str, rule: str) -> RouteCase:
    case = CASES.get((method, rule))
    if case is None or not set(rule_parameters(rule)) <= set(PATH_ID_ERRORS) | {"project_id"}:
        pytest.fail(f"{method} {rule} has no case in the cross-project sweep: add one to CASES")
    return case


def other_project_attempts(app: Flask, world: World) -> Iterator[Attempt]:
    """Project b's own ids and bodies throughout, sent with project a's key."""
    for method, rule in integration_routes(app):
        case = route_case(method, rule)
        yield Attempt(
            "project b's project id",
            method,
            build_path(rule, path_ids(world.b), case.query),
            FORBIDDEN,
            json=case.json(world.b) if case.json else None,
            form=case.form(world.b) if case.form else None,
        )


def foreign_id_attempts(app: Flask, world: World) -> Iterator[Attempt]:
    """Project a's project id with project b's ids, one position at a time, then all at once."""
    for method, rule in integration_routes(app):
        case = route_case(method, rule)
        errors = {**PATH_ID_ERRORS, **case.path_errors}
        body = case.json(world.a) if case.json else None
        form = case.form(world.a) if case.form else None
        positions = [name for name in rule_parameters(rule) if name != "project_id"]
        swaps = [[name] for name in positions]
        if len(positions) > 1:
            swaps.append(positions)
        for swapped in swaps:
            ids = {**path_ids(world.a), **{name: path_ids(world.b)[name] for name in swapped}}
            yield Attempt(
                "b's " + ", ".join(swapped),
                method,
                build_path(rule, ids, case.query),
                errors[swapped[0]],  # the first id in the path is checked first
                json=body,
                form=form,
            )
        for variant in case.body_variants(world):
            yield Attempt(
                f"b's data in body {variant.json} / query {variant.query!r}",
                method,
                build_path(rule, path_ids(world.a), variant.query or case.query),
                variant.expect,
                json=variant.json,
            )


def send(client: FlaskClient, attempt: Attempt, headers: Mapping[str, str]) -> TestResponse:
    if attempt.form is not None:
        return client.open(attempt.path, method=attempt.method, data=attempt.form, headers=headers)
    return client.open(attempt.path, method=attempt.method, json=attempt.json, headers=headers)


def run(client: FlaskClient, attempts: Iterator[Attempt], world: World) -> list[str]:
    """Send every attempt with project a's key; the problems found, one line each."""
    problems = []
    for attempt in attempts:
        response = send(client, attempt, world.a.headers)
        problem = attempt.expect.mismatch(response, attempt.path)
        if problem:
            problems.append(f"{attempt.method} {attempt.path} [{attempt.label}]: {problem}")
    return problems


# --- project b's rows ---------------------------------------------------------------------

B_CHANNELS = "SELECT id FROM channel WHERE project_id = :p"
B_FIELDS = f"SELECT id FROM field WHERE channel_id IN ({B_CHANNELS})"
B_FEEDBACK = f"SELECT id FROM feedback WHERE channel_id IN ({B_CHANNELS})"
B_ISSUES = "SELECT id FROM issue WHERE project_id = :p"
PROJECT_ROWS = {
    "project": "SELECT * FROM project WHERE id = :p ORDER BY id",
    "channel": "SELECT * FROM channel WHERE project_id = :p ORDER BY id",
    "field": f"SELECT * FROM field WHERE channel_id IN ({B_CHANNELS}) ORDER BY id",
    "option": f'SELECT * FROM "option" WHERE field_id IN ({B_FIELDS}) ORDER BY id',
    "feedback": f"SELECT * FROM feedback WHERE channel_id IN ({B_CHANNELS}) ORDER BY id",
    "feedback_issue": (
        f"SELECT * FROM feedback_issue WHERE feedback_id IN ({B_FEEDBACK})"
        f" OR issue_id IN ({B_ISSUES}) ORDER BY feedback_id, issue_id"
    ),
    "issue": "SELECT * FROM issue WHERE project_id = :p ORDER BY id",
    "category": "SELECT * FROM category WHERE project_id = :p ORDER BY id",
    "api_key": "SELECT * FROM api_key WHERE project_id = :p ORDER BY id",
}


def project_rows(sql, project_id: int) -> dict[str, list[tuple[tuple[str, Any], ...]]]:
    """Every row of the project in every table, each value with its type (1 != 1.0 here)."""
    return {
        table: [
            tuple((type(value).__name__, value) for value in row)
            for row in sql(query, {"p": project_id})
        ]
        for table, query in PROJECT_ROWS.items()
    }


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def linked_world(client: FlaskClient, world: World) -> World:
    """`world` where each project's first issue is linked to its first feedback and put in
    its category, so that links and category assignments are part of what must not change."""
    for project in (world.a, world.b):
        feedback = f"{project.channel}/feedbacks/{project.feedback_ids[0]}"
        linked = client.post(f"{feedback}/issue/{project.issue_ids[0]}", headers=project.headers)
        assert linked.status_code == 201
        issue = f"{project.base}/issues/{project.issue_ids[0]}"
        categorised = client.put(f"{issue}/category/{project.category_id}", headers=project.headers)
        assert categorised.status_code == 200
    return world


# --- tests --------------------------------------------------------------------------------


def test_every_integration_route_has_a_sweep_case(app):
    routes = integration_routes(app)

    missing = [f"{method} {rule}" for method, rule in routes if (method, rule) not in CASES]

    assert routes, "no integration routes found in app.url_map"
    assert not missing, f"routes without a cross-project case: {missing}"


def test_other_projects_project_id_is_forbidden_on_every_route(app, client, linked_world):
    problems = run(client, other_project_attempts(app, linked_world), linked_world)

    assert not problems, problem_summary(problems)


def test_other_projects_ids_under_own_project_id_are_refused_on_every_route(
    app, client, linked_world
):
    problems = run(client, foreign_id_attempts(app, linked_world), linked_world)

    assert not problems, problem_summary(problems)


def test_sweep_leaves_every_row_of_the_other_project_byte_identical(app, client, linked_world, sql):
    before = project_rows(sql, linked_world.b.project_id)
    assert all(before.values()), f"project b has an empty table: {before}"

    run(client, other_project_attempts(app, linked_world), linked_world)
    run(client, foreign_id_attempts(app, linked_world), linked_world)

    assert project_rows(sql, linked_world.b.project_id) == before


def test_sweep_responses_never_name_the_other_project(app, client, linked_world):
    attempts = [
        *other_project_attempts(app, linked_world),
        *foreign_id_attempts(app, linked_world),
    ]

    leaks = [
        f"{attempt.method} {attempt.path}"
        for attempt in attempts
        if b"beta" in send(client, attempt, linked_world.a.headers).get_data().lower()
    ]

    assert not leaks, leaks


# Routes whose own-id request must succeed, showing that the refusals above come from the
# foreign ids and not from a request that could never work.
CONTROL_ROUTES = [
    ("POST", C + "/feedbacks"),
    ("GET", F),
    ("PUT", F),
    ("DELETE", C + "/feedbacks"),
    ("POST", F + "/issue/<issue_id>"),
    ("DELETE", F + "/issue/<issue_id>"),
    ("GET", C + "/fields"),
    ("GET", I),
    ("POST", P + "/issues/search"),
    ("PUT", I),
    ("PUT", I + "/category/<category_id>"),
    ("DELETE", I + "/category/<category_id>"),
    ("PUT", K),
    ("DELETE", K),
]


@pytest.mark.parametrize(
    ("method", "rule"), CONTROL_ROUTES, ids=[" ".join(r) for r in CONTROL_ROUTES]
)
def test_same_request_with_own_ids_succeeds(client, linked_world, method, rule):
    case = CASES[(method, rule)]
    attempt = Attempt(
        "own ids",
        method,
        build_path(rule, path_ids(linked_world.a), case.query),
        Expect(201 if method == "POST" else 200, kind="any"),
        json=case.json(linked_world.a) if case.json else None,
    )

    response = send(client, attempt, linked_world.a.headers)

    assert attempt.expect.mismatch(response, attempt.path) is None


def test_feedback_ids_in_a_delete_body_only_reach_the_keys_project(client, world, sql):
    url = f"{world.a.channel}/feedbacks"
    all_ids = world.a.feedback_ids + world.b.feedback_ids

    response = client.delete(url, json={"feedbackIds": all_ids}, headers=world.a.headers)

    assert response.status_code == 200
    assert response.get_data() == b""
    assert sql("SELECT id FROM feedback ORDER BY id") == [(i,) for i in world.b.feedback_ids]


def test_issue_ids_in_a_delete_body_only_reach_the_keys_project(client, world, sql):
    all_ids = world.a.issue_ids + world.b.issue_ids

    response = client.delete(
        f"{world.a.base}/issues", json={"issueIds": all_ids}, headers=world.a.headers
    )

    assert response.status_code == 200
    assert sql("SELECT id FROM issue ORDER BY id") == [(i,) for i in world.b.issue_ids]


def test_issue_names_on_create_match_only_the_keys_project(client, world, sql):
    b_issue = world.b.issue_ids[0]
    [(b_issue_name, b_count)] = sql(
        "SELECT name, feedback_count FROM issue WHERE id = ?", (b_issue,)
    )

    response = client.post(
        f"{world.a.channel}/feedbacks",
        json={"message": "hi", "issueNames": [b_issue_name]},
        headers=world.a.headers,
    )

    assert response.status_code == 201
    feedback_id = response.get_json()["id"]
    [(linked_issue,)] = sql(
        "SELECT issue_id FROM feedback_issue WHERE feedback_id = ?", (feedback_id,)
    )
    assert linked_issue != b_issue
    assert sql("SELECT project_id, name FROM issue WHERE id = ?", (linked_issue,)) == [
        (world.a.project_id, b_issue_name)
    ]
    assert sql("SELECT feedback_count FROM issue WHERE id = ?", (b_issue,)) == [(b_count,)]
