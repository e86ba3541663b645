"""Integration API issue routes: create, get, search, update, delete, category assignment.

The contract is the reference server's wire format (exact status codes and bodies, see the
compat spec §1.4.13), with the scoping and error fixes of §1.6/§1.7: a foreign id answers as a
missing one, and every rejected request leaves the database as it was.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from feedback_service.database import unit_of_work
from feedback_service.models import Issue
from feedback_service.services import feedback as feedback_service
from tests.factories import (
    ProjectWorld,
    World,
    make_category,
    make_channel,
    make_issue,
    make_key,
    make_project,
)
from tests.helpers import (
    Sql,
    assert_empty,
    assert_json,
    bad_request,
    category_not_found,
    domain_error,
    page_meta,
    wire_timestamp,
)

STATUS_MESSAGE = (
    "status must be one of the following values: INIT, ON_REVIEW, IN_PROGRESS, RESOLVED, PENDING"
)
NAME_TOO_SHORT = "name must be longer than or equal to 1 characters"
NAME_TOO_LONG = "name must be shorter than or equal to 30 characters"
NAME_NOT_STRING = "name must be a string"
DESCRIPTION_TOO_LONG = "description must be shorter than or equal to 50 characters"
DESCRIPTION_NOT_STRING = "description must be a string"
ISSUE_COLUMNS = (
    "project_id",
    "category_id",
    "name",
    "description",
    "status",
    "external_issue_id",
    "feedback_count",
)


# --- helpers ---------------------------------------------------------------------------------


def issues_url(pw: ProjectWorld, *parts: object) -> str:
    return "/".join([f"{pw.base}/issues", *map(str, parts)])


def category_url(pw: ProjectWorld, issue_id: int, category_id: int) -> str:
    return issues_url(pw, issue_id, "category", category_id)


def issue_not_found(path: str) -> dict[str, Any]:
    return domain_error(path, "IssueNotFound", "issue is not found")


def create(client: FlaskClient, pw: ProjectWorld, body: Any) -> TestResponse:
    return client.post(issues_url(pw), json=body, headers=pw.headers)


def create_id(client: FlaskClient, pw: ProjectWorld, name: str, **fields: Any) -> int:
    response = create(client, pw, {"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def put(client: FlaskClient, pw: ProjectWorld, issue_id: int, body: Any) -> TestResponse:
    return client.put(issues_url(pw, issue_id), json=body, headers=pw.headers)


def search(client: FlaskClient, pw: ProjectWorld, body: Any) -> TestResponse:
    return client.post(issues_url(pw, "search"), json=body, headers=pw.headers)


def found_ids(client: FlaskClient, pw: ProjectWorld, **body: Any) -> list[int]:
    response = search(client, pw, body)
    assert response.status_code == 201, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def issue_row(sql: Sql, issue_id: int) -> dict[str, Any] | None:
    rows = sql(f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issue WHERE id = ?", (issue_id,))
    return dict(zip(ISSUE_COLUMNS, rows[0], strict=True)) if rows else None


def stored(sql: Sql, issue_id: int, column: str) -> Any:
    [(value,)] = sql(f"SELECT {column} FROM issue WHERE id = ?", (issue_id,))
    return value


def issue_count(sql: Sql) -> int:
    return sql("SELECT count(*) FROM issue")[0][0]


def stored_timestamps(sql: Sql, issue_id: int) -> dict[str, str]:
    [(created, updated)] = sql("SELECT created_at, updated_at FROM issue WHERE id = ?", (issue_id,))
    return {"createdAt": wire_timestamp(created), "updatedAt": wire_timestamp(updated)}


def day(month: int, number: int = 1) -> datetime:
    return datetime(2024, month, number, tzinfo=UTC)


def set_columns(app: Flask, issue_id: int, **values: Any) -> None:
    """Test setup the API cannot do: timestamps and counters."""
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(update(Issue).where(Issue.id == issue_id).values(**values))


def link_feedback(app: Flask, pw: ProjectWorld, feedback_id: int, issue_id: int) -> None:
    with app.app_context():
        feedback_service.attach_issue(pw.project_id, pw.channel_id, feedback_id, issue_id)


def feedback_links(sql: Sql) -> list[tuple[int, int]]:
    return sql("SELECT feedback_id, issue_id FROM feedback_issue ORDER BY feedback_id, issue_id")


@pytest.fixture
def empty_project(app: Flask) -> ProjectWorld:
    """A project with a key and a channel but no issues, so searches see only a test's data."""
    project_id = make_project(app, "gamma")
    return ProjectWorld(project_id, make_channel(app, project_id), make_key(app, project_id))


# --- create ----------------------------------------------------------------------------------


def test_create_answers_201_with_the_id_and_stores_every_field(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    response = create(
        client,
        world.a,
        {
            "name": "payment issue",
            "status": "IN_PROGRESS",
            "description": "card declined",
            "externalIssueId": "123",
        },
    )

    [(new_id,)] = sql("SELECT id FROM issue WHERE name = 'payment issue'")
    assert_json(response, 201, {"id": new_id})
    assert issue_row(sql, new_id) == {
        "project_id": world.a.project_id,
        "category_id": None,
        "name": "payment issue",
        "description": "card declined",
        "status": "IN_PROGRESS",
        "external_issue_id": "123",
        "feedback_count": 0,
    }


def test_create_defaults_status_to_init_and_leaves_optional_fields_null(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    new_id = create_id(client, world.a, "bare")

    assert issue_row(sql, new_id) == {
        "project_id": world.a.project_id,
        "category_id": None,
        "name": "bare",
        "description": None,
        "status": "INIT",
        "external_issue_id": None,
        "feedback_count": 0,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"name": "n" * 30},
        {"name": "with description", "description": "d" * 50},
        {"name": "null description", "description": None},
        {"name": "null status", "status": None},
        {"name": "empty description", "description": ""},
    ],
)
def test_create_accepts_values_on_the_limits(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any]
) -> None:
    new_id = create_id(client, world.a, **body)

    row = issue_row(sql, new_id)
    assert row is not None
    assert (row["name"], row["description"], row["status"]) == (
        body["name"],
        body.get("description"),
        "INIT",
    )


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"name": ""}, [NAME_TOO_SHORT]),
        ({"name": "n" * 31}, [NAME_TOO_LONG]),
        ({}, [NAME_NOT_STRING]),
        ({"name": None}, [NAME_NOT_STRING]),
        ({"name": 5}, [NAME_NOT_STRING]),
        ({"name": ["a"]}, [NAME_NOT_STRING]),
        ({"name": {"a": "b"}}, [NAME_NOT_STRING]),
        ({"name": "ok", "status": "DONE"}, [STATUS_MESSAGE]),
        ({"name": "ok", "status": "init"}, [STATUS_MESSAGE]),
        ({"name": "ok", "status": 1}, [STATUS_MESSAGE]),
        ({"name": "ok", "description": "d" * 51}, [DESCRIPTION_TOO_LONG]),
        ({"name": "ok", "description": 5}, [DESCRIPTION_NOT_STRING]),
        ({"name": "ok", "externalIssueId": 5}, ["externalIssueId must be a string"]),
        ({"name": "", "status": "DONE"}, [NAME_TOO_SHORT, STATUS_MESSAGE]),
    ],
)
def test_create_rejects_invalid_fields_with_a_list_of_messages(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any], messages: list[str]
) -> None:
    response = create(client, world.a, body)

    assert_json(response, 400, bad_request(issues_url(world.a), messages))
    assert issue_count(sql) == 4


def test_create_rejects_a_body_that_is_not_an_object(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    response = create(client, world.a, [{"name": "in a list"}])

    assert_json(response, 400, bad_request(issues_url(world.a), "body must be a JSON object"))
    assert issue_count(sql) == 4


def test_create_strips_unknown_keys_silently(client: FlaskClient, world: World, sql: Sql) -> None:
    response = create(
        client,
        world.a,
        {
            "name": "stripped",
            "id": 999,
            "projectId": world.b.project_id,
            "feedbackCount": 7,
            "category": {"id": world.a.category_id},
            "categoryId": world.a.category_id,
            "createdAt": "2000-01-01T00:00:00.000Z",
        },
    )

    [(new_id, created_at)] = sql("SELECT id, created_at FROM issue WHERE name = 'stripped'")
    assert_json(response, 201, {"id": new_id})
    assert new_id != 999
    assert not created_at.startswith("2000")
    row = issue_row(sql, new_id)
    assert row is not None
    assert (row["project_id"], row["category_id"], row["feedback_count"]) == (
        world.a.project_id,
        None,
        0,
    )


def test_create_with_a_name_taken_in_the_project_is_issue_name_duplicated(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    response = create(client, world.a, {"name": "alpha issue 1", "description": "again"})

    assert_json(
        response,
        400,
        domain_error(issues_url(world.a), "IssueNameDuplicated", "issue name is duplicated"),
    )
    assert sql("SELECT id, description FROM issue WHERE name = 'alpha issue 1'") == [
        (world.a.issue_ids[0], None)
    ]


def test_create_with_a_name_taken_in_another_project_succeeds(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    new_id = create_id(client, world.b, "alpha issue 1")

    assert sql("SELECT project_id, id FROM issue WHERE name = 'alpha issue 1' ORDER BY id") == [
        (world.a.project_id, world.a.issue_ids[0]),
        (world.b.project_id, new_id),
    ]


@pytest.mark.parametrize("threads", [2, 8])
def test_concurrent_creates_of_one_name_give_one_201_and_the_rest_duplicated(
    app: Flask, world: World, sql: Sql, threads: int
) -> None:
    barrier = threading.Barrier(threads)

    def create_at_once(_: int) -> TestResponse:
        client = app.test_client()
        barrier.wait()
        return create(client, world.a, {"name": "raced"})

    with ThreadPoolExecutor(max_workers=threads) as pool:
        responses = list(pool.map(create_at_once, range(threads)))

    created = [r for r in responses if r.status_code == 201]
    rejected = [r for r in responses if r.status_code != 201]
    rows = sql("SELECT id FROM issue WHERE name = 'raced'")
    assert len(created) == 1
    assert rows == [(created[0].get_json()["id"],)]
    duplicated = domain_error(
        issues_url(world.a), "IssueNameDuplicated", "issue name is duplicated"
    )
    assert [(r.status_code, r.get_json()) for r in rejected] == [(400, duplicated)] * (threads - 1)


# --- get -------------------------------------------------------------------------------------


def test_get_returns_the_exact_issue_shape(client: FlaskClient, world: World, sql: Sql) -> None:
    issue_id = create_id(
        client,
        world.a,
        "login crash",
        description="on iOS",
        status="ON_REVIEW",
        externalIssueId="JIRA-7",
    )

    response = client.get(issues_url(world.a, issue_id), headers=world.a.headers)

    assert_json(
        response,
        200,
        {
            "id": issue_id,
            "name": "login crash",
            "description": "on iOS",
            "status": "ON_REVIEW",
            "externalIssueId": "JIRA-7",
            "feedbackCount": 0,
            "category": None,
            **stored_timestamps(sql, issue_id),
        },
    )


def test_get_shows_the_category_and_the_feedback_count(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = world.a.issue_ids[0]
    assert_empty(
        client.put(category_url(world.a, issue_id, world.a.category_id), headers=world.a.headers)
    )
    for feedback_id in world.a.feedback_ids:
        link_feedback(app, world.a, feedback_id, issue_id)

    response = client.get(issues_url(world.a, issue_id), headers=world.a.headers)

    assert_json(
        response,
        200,
        {
            "id": issue_id,
            "name": "alpha issue 1",
            "description": None,
            "status": "INIT",
            "externalIssueId": None,
            "feedbackCount": 2,
            "category": {"id": world.a.category_id, "name": "alpha category"},
            **stored_timestamps(sql, issue_id),
        },
    )


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_get_a_missing_or_foreign_issue_is_issue_not_found(
    client: FlaskClient, world: World, whose: str
) -> None:
    issue_id = 999_999 if whose == "missing" else world.b.issue_ids[0]
    url = issues_url(world.a, issue_id)

    assert_json(client.get(url, headers=world.a.headers), 400, issue_not_found(url))


# --- search: envelope and filters ------------------------------------------------------------


def test_search_answers_201_with_the_envelope_and_only_this_projects_issues(
    client: FlaskClient, world: World
) -> None:
    response = search(client, world.a, {})
    first, second = world.a.issue_ids

    assert response.status_code == 201
    body = response.get_json()
    assert body["meta"] == {
        "itemCount": 2,
        "totalItems": 2,
        "itemsPerPage": 10,
        "currentPage": 1,
        "totalPages": 1,
    }
    assert [item["id"] for item in body["items"]] == [second, first]
    single = client.get(issues_url(world.a, second), headers=world.a.headers).get_json()
    assert body["items"][0] == single


def test_search_with_an_empty_body_or_null_query_lists_everything(
    client: FlaskClient, world: World
) -> None:
    empty_body = client.post(issues_url(world.a, "search"), headers=world.a.headers)

    assert empty_body.status_code == 201
    assert [item["id"] for item in empty_body.get_json()["items"]] == world.a.issue_ids[::-1]
    assert found_ids(client, world.a, query=None) == world.a.issue_ids[::-1]


@pytest.fixture
def catalogue(client: FlaskClient, empty_project: ProjectWorld) -> dict[str, int]:
    """Issue name to id, in a project holding nothing else."""
    specs = [
        {
            "name": "Login crash",
            "description": "Happens on iOS",
            "externalIssueId": "JIRA-100",
            "status": "IN_PROGRESS",
        },
        {"name": "Payment 100% failure", "status": "INIT"},
        {"name": "snake_case name", "description": "rare", "status": "RESOLVED"},
        {
            "name": "plain",
            "description": "nothing special / misc",
            "externalIssueId": "GH-7",
            "status": "PENDING",
        },
    ]
    return {spec["name"]: create_id(client, empty_project, **spec) for spec in specs}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"searchText": "login"}, {"Login crash"}),
        ({"searchText": "IOS"}, {"Login crash"}),
        ({"searchText": "jira-1"}, {"Login crash"}),
        ({"searchText": "%"}, {"Payment 100% failure"}),
        ({"searchText": "_"}, {"snake_case name"}),
        ({"searchText": "/"}, {"plain"}),
        ({"searchText": ""}, {"Login crash", "Payment 100% failure", "snake_case name", "plain"}),
        ({"searchText": "no such text"}, set()),
        ({"name": "E_C"}, {"snake_case name"}),
        ({"name": "0%"}, {"Payment 100% failure"}),
        ({"name": "ios"}, set()),
        ({"description": "NOTHING"}, {"plain"}),
        ({"description": "crash"}, set()),
        ({"externalIssueId": "gh-"}, {"plain"}),
        ({"status": "INIT"}, {"Payment 100% failure"}),
        ({"statuses": ["IN_PROGRESS", "PENDING"]}, {"Login crash", "plain"}),
        ({"statuses": []}, set()),
        ({"searchText": "a", "status": "PENDING"}, {"plain"}),
        (
            {"name": "a", "statuses": ["INIT", "RESOLVED"]},
            {"Payment 100% failure", "snake_case name"},
        ),
    ],
)
def test_search_filters_by_query(
    client: FlaskClient,
    empty_project: ProjectWorld,
    catalogue: dict[str, int],
    query: dict[str, Any],
    expected: set[str],
) -> None:
    ids = found_ids(client, empty_project, query=query)

    assert ids == sorted((catalogue[name] for name in expected), reverse=True)


def test_search_text_that_is_a_number_also_matches_the_id(
    client: FlaskClient, empty_project: ProjectWorld
) -> None:
    target = create_id(client, empty_project, "alpha")
    referencing = create_id(client, empty_project, "beta", externalIssueId=f"REF-{target}")
    create_id(client, empty_project, "gamma")

    ids = found_ids(client, empty_project, query={"searchText": str(target)})

    assert ids == [referencing, target]


def test_search_text_with_a_number_beyond_any_id_finds_nothing(
    client: FlaskClient, world: World
) -> None:
    assert found_ids(client, world.a, query={"searchText": "9" * 25}) == []


def test_search_text_ignores_case_beyond_ascii(
    client: FlaskClient, empty_project: ProjectWorld
) -> None:
    target = create_id(client, empty_project, "Äpfel und Öl")
    create_id(client, empty_project, "apfel")

    assert found_ids(client, empty_project, query={"searchText": "äpfel"}) == [target]


@pytest.fixture
def dated(app: Flask, empty_project: ProjectWorld) -> list[int]:
    """Three issues created on Jan 1, Feb 1, Mar 1 and updated on Jun 1, May 1, Apr 1 (2024)."""
    ids = []
    for created, updated in ((1, 6), (2, 5), (3, 4)):
        issue_id = make_issue(app, empty_project.project_id, f"made in month {created}")
        set_columns(app, issue_id, created_at=day(created), updated_at=day(updated))
        ids.append(issue_id)
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"createdAt": {"gte": "2024-02-01T00:00:00.000Z"}}, [1, 2]),
        ({"createdAt": {"lt": "2024-02-01T00:00:00.000Z"}}, [0]),
        ({"createdAt": {"gte": "2024-01-15T00:00:00.000Z", "lt": "2024-03-01T00:00:00.000Z"}}, [1]),
        ({"createdAt": {"gte": "2024-02-01T09:00:00+09:00"}}, [1, 2]),
        ({"createdAt": {"gte": "2024-01-01T00:00:00.000Z", "lt": "2024-01-01T00:00:00.000Z"}}, []),
        ({"updatedAt": {"gte": "2024-05-01T00:00:00.000Z"}}, [0, 1]),
        ({"updatedAt": {"lt": "2024-05-01T00:00:00.000Z"}}, [2]),
        (
            {
                "createdAt": {"gte": "2024-02-01T00:00:00.000Z"},
                "updatedAt": {"gte": "2024-05-01T00:00:00.000Z"},
            },
            [1],
        ),
    ],
)
def test_search_filters_by_date_windows(
    client: FlaskClient,
    empty_project: ProjectWorld,
    dated: list[int],
    query: dict[str, Any],
    expected: list[int],
) -> None:
    ids = found_ids(client, empty_project, query=query)

    assert ids == sorted((dated[index] for index in expected), reverse=True)


def test_search_by_category_id_with_0_meaning_no_category(
    client: FlaskClient, world: World
) -> None:
    first, second = world.a.issue_ids
    assert_empty(
        client.put(category_url(world.a, first, world.a.category_id), headers=world.a.headers)
    )

    assert found_ids(client, world.a, query={"categoryId": world.a.category_id}) == [first]
    assert found_ids(client, world.a, query={"categoryId": 0}) == [second]
    assert found_ids(client, world.a, query={"categoryId": world.b.category_id}) == []


def test_search_by_id_finds_only_this_projects_issue(client: FlaskClient, world: World) -> None:
    assert found_ids(client, world.a, query={"id": world.a.issue_ids[1]}) == [world.a.issue_ids[1]]
    assert found_ids(client, world.a, query={"id": world.b.issue_ids[0]}) == []


def test_search_text_matching_other_projects_finds_only_this_projects_issues(
    client: FlaskClient, world: World
) -> None:
    assert found_ids(client, world.a, query={"searchText": "issue"}) == world.a.issue_ids[::-1]
    assert found_ids(client, world.a, query={"searchText": "beta"}) == []


@pytest.mark.parametrize("key", ["bogus", "projectId", "project_id", "category", "ids"])
def test_search_rejects_an_unknown_query_key(client: FlaskClient, world: World, key: str) -> None:
    response = search(client, world.a, {"query": {key: world.b.project_id}})

    assert_json(
        response,
        400,
        bad_request(issues_url(world.a, "search"), f"invalid key in query: {key}"),
    )


STATUSES_MESSAGE = "statuses must be array of INIT, ON_REVIEW, IN_PROGRESS, RESOLVED, PENDING"
STATUS_QUERY_MESSAGE = "status must be one of INIT, ON_REVIEW, IN_PROGRESS, RESOLVED, PENDING"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        *[
            ({"query": {"searchText": value}}, "searchText must be string")
            for value in (5, None, ["a"], {"a": "b"}, True)
        ],
        *[
            ({"query": {key: value}}, f"{key} must be string")
            for key in ("name", "description", "externalIssueId")
            for value in (5, None, ["a"], {"a": "b"})
        ],
        *[
            ({"query": {"statuses": value}}, STATUSES_MESSAGE)
            for value in ("INIT", None, [5], [["INIT"]], {"INIT": 1}, ["BOGUS"], ["INIT", None])
        ],
        *[
            ({"query": {"status": value}}, STATUS_QUERY_MESSAGE)
            for value in (5, None, ["INIT"], {"INIT": 1}, "BOGUS", "init")
        ],
        *[
            ({"query": {key: value}}, f"{key} must be number")
            for key in ("id", "categoryId")
            for value in ("1", None, [1], {"a": 1}, True, 1.5, 2**70)
        ],
        *[
            ({"query": {key: value}}, f"{key} must be DateTimeRange")
            for key in ("createdAt", "updatedAt")
            for value in (
                "2024-01-01",
                None,
                [],
                {},
                {"gte": None, "lt": None},
                {"gte": 5},
                {"gte": "yesterday"},
                {"lt": ["2024-01-01"]},
                {"lt": {"value": "2024-01-01"}},
                {"between": "2024-01-01"},
                {"gte": "9999-12-31T23:59:59-01:00"},
            )
        ],
        ({"query": []}, ["query must be an object"]),
        ({"query": "name"}, ["query must be an object"]),
        ([], "body must be a JSON object"),
        ("search", "body must be a JSON object"),
    ],
)
def test_search_rejects_badly_typed_input_with_400(
    client: FlaskClient, world: World, body: Any, message: str | list[str]
) -> None:
    response = search(client, world.a, body)

    assert_json(response, 400, bad_request(issues_url(world.a, "search"), message))


# --- search: sorting -------------------------------------------------------------------------

# name, status, externalIssueId, feedbackCount, createdAt, updatedAt. The statuses are in the
# same order alphabetically and in the reference's enum order; two share a status (tie on id).
SORTABLE = [
    ("delta", "INIT", "EXT-B", 3, day(1, 3), day(3, 1)),
    ("alpha", "RESOLVED", "EXT-D", 0, day(1, 1), day(3, 4)),
    ("charlie", "ON_REVIEW", "EXT-A", 7, day(1, 4), day(3, 2)),
    ("bravo", "INIT", "EXT-C", 1, day(1, 2), day(3, 3)),
]
SORT_KEYS = ["name", "status", "externalIssueId", "feedbackCount", "createdAt", "updatedAt"]


@pytest.fixture
def sortable(app: Flask, empty_project: ProjectWorld) -> dict[int, dict[str, Any]]:
    """Issue id to its sortable values, every key in a different order."""
    issues = {}
    for name, status, external, count, created, updated in SORTABLE:
        issue_id = make_issue(
            app, empty_project.project_id, name, status=status, external_issue_id=external
        )
        set_columns(app, issue_id, feedback_count=count, created_at=created, updated_at=updated)
        values = [name, status, external, count, created, updated]
        issues[issue_id] = {"id": issue_id, **dict(zip(SORT_KEYS, values, strict=True))}
    return issues


@pytest.mark.parametrize("method", ["ASC", "DESC"])
@pytest.mark.parametrize("key", ["id", *SORT_KEYS])
def test_search_sorts_by_each_allowed_key(
    client: FlaskClient,
    empty_project: ProjectWorld,
    sortable: dict[int, dict[str, Any]],
    key: str,
    method: str,
) -> None:
    by_id_desc = sorted(sortable, reverse=True)  # ties fall back to id DESC
    expected = sorted(by_id_desc, key=lambda i: sortable[i][key], reverse=method == "DESC")

    assert found_ids(client, empty_project, sort={key: method}) == expected


def test_search_sorts_by_several_keys_in_the_given_order(
    client: FlaskClient, empty_project: ProjectWorld, sortable: dict[int, dict[str, Any]]
) -> None:
    expected = sorted(sortable, key=lambda i: (sortable[i]["status"], sortable[i]["name"]))

    assert found_ids(client, empty_project, sort={"status": "ASC", "name": "ASC"}) == expected


@pytest.mark.parametrize(
    ("sort", "message"),
    [
        ({"id": "asc"}, "invalid sort method"),
        ({"createdAt": "DESCENDING"}, "invalid sort method"),
        ({"name": 1}, "invalid sort method"),
        ({"name": None}, "invalid sort method"),
        ({"name": ["ASC"]}, "invalid sort method"),
        ({"bogus": "ASC"}, "bad key in sort"),
        ({"projectId": "DESC"}, "bad key in sort"),
        ({"category": "ASC"}, "bad key in sort"),
        ("id", "sort must be an object"),
        (["id", "ASC"], "sort must be an object"),
    ],
)
def test_search_rejects_a_bad_sort(
    client: FlaskClient, world: World, sort: Any, message: str
) -> None:
    response = search(client, world.a, {"sort": sort})

    assert_json(response, 400, bad_request(issues_url(world.a, "search"), message))


# --- search: pagination ----------------------------------------------------------------------


@pytest.fixture
def dozen(app: Flask, empty_project: ProjectWorld) -> list[int]:
    """Twelve issues, ids ascending."""
    return [make_issue(app, empty_project.project_id, f"issue {n:02d}") for n in range(12)]


def test_search_pages_cover_every_issue_once(
    client: FlaskClient, empty_project: ProjectWorld, dozen: list[int]
) -> None:
    seen: list[int] = []
    for page, size in ((1, 5), (2, 5), (3, 2)):
        response = search(client, empty_project, {"limit": 5, "page": page})
        assert response.status_code == 201
        body = response.get_json()
        assert body["meta"] == page_meta(size, 12, 5, page)
        seen += [item["id"] for item in body["items"]]

    assert seen == sorted(dozen, reverse=True)


@pytest.mark.parametrize("sort", [{"name": "ASC"}, {"status": "DESC"}, {"feedbackCount": "ASC"}])
def test_search_pages_stay_stable_when_sort_values_repeat(
    client: FlaskClient, empty_project: ProjectWorld, dozen: list[int], sort: dict[str, str]
) -> None:
    seen = [
        issue_id
        for page in (1, 2, 3)
        for issue_id in found_ids(client, empty_project, limit=5, page=page, sort=sort)
    ]

    assert sorted(seen) == dozen


def test_search_page_past_the_end_is_empty_with_the_real_total_pages(
    client: FlaskClient, empty_project: ProjectWorld, dozen: list[int]
) -> None:
    response = search(client, empty_project, {"limit": 5, "page": 4})

    assert_json(response, 201, {"items": [], "meta": page_meta(0, 12, 5, 4)})


@pytest.mark.parametrize(
    ("limit", "page", "expected_limit", "expected_page"),
    [
        (None, None, 10, 1),
        (5, 2, 5, 2),
        ("5", "2", 5, 2),
        ("5abc", "2x", 5, 2),
        (" 7", "+2", 7, 2),
        (5.9, 2.2, 5, 2),
        ("abc", "x", 10, 1),
        ("", "", 10, 1),
        (0, 0, 10, 1),
        ("0", "0", 10, 1),
        (-3, -1, 10, 1),
        ("-5", "-2", 10, 1),
        (True, True, 10, 1),
        ({"n": 5}, {"n": 2}, 10, 1),
    ],
)
def test_search_reads_limit_and_page_leniently(
    client: FlaskClient,
    empty_project: ProjectWorld,
    dozen: list[int],
    limit: Any,
    page: Any,
    expected_limit: int,
    expected_page: int,
) -> None:
    response = search(client, empty_project, {"limit": limit, "page": page})

    start = (expected_page - 1) * expected_limit
    expected_ids = sorted(dozen, reverse=True)[start : start + expected_limit]
    assert response.status_code == 201
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == expected_ids
    assert body["meta"] == page_meta(len(expected_ids), 12, expected_limit, expected_page)


@pytest.mark.parametrize(
    ("max_page_size", "limit", "expected_limit"),
    [(None, 5000, 1000), (None, "1001", 1000), (None, 1000, 1000), (3, 50, 3)],
)
def test_search_caps_limit_at_the_max_page_size(
    app: Flask,
    client: FlaskClient,
    empty_project: ProjectWorld,
    dozen: list[int],
    max_page_size: int | None,
    limit: Any,
    expected_limit: int,
) -> None:
    if max_page_size is not None:
        app.config["MAX_PAGE_SIZE"] = max_page_size

    response = search(client, empty_project, {"limit": limit})

    expected_ids = sorted(dozen, reverse=True)[:expected_limit]
    assert response.status_code == 201
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == expected_ids
    assert body["meta"] == page_meta(len(expected_ids), 12, expected_limit, 1)


def test_search_survives_an_enormous_page(client: FlaskClient, world: World) -> None:
    response = search(client, world.a, {"limit": 10**30, "page": 10**30})

    assert response.status_code == 201
    assert response.get_json()["items"] == []


# --- update ----------------------------------------------------------------------------------


def test_update_replaces_name_and_description_with_an_empty_200(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = create_id(client, world.a, "old name", description="old")

    assert_empty(put(client, world.a, issue_id, {"name": "new name", "description": None}))
    row = issue_row(sql, issue_id)
    assert row is not None
    assert (row["name"], row["description"]) == ("new name", None)


def test_update_keeps_status_and_external_id_when_omitted(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = create_id(client, world.a, "kept", status="IN_PROGRESS", externalIssueId="EXT-1")

    assert_empty(put(client, world.a, issue_id, {"name": "kept too", "description": "d"}))
    assert issue_row(sql, issue_id) == {
        "project_id": world.a.project_id,
        "category_id": None,
        "name": "kept too",
        "description": "d",
        "status": "IN_PROGRESS",
        "external_issue_id": "EXT-1",
        "feedback_count": 0,
    }


def test_update_sets_status_and_external_id_when_given(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = world.a.issue_ids[0]
    body = {
        "name": "alpha issue 1",
        "description": "now described",
        "status": "RESOLVED",
        "externalIssueId": "GH-12",
        "feedbackCount": 99,
    }

    assert_empty(put(client, world.a, issue_id, body))
    row = issue_row(sql, issue_id)
    assert row is not None
    assert (row["description"], row["status"], row["external_issue_id"]) == (
        "now described",
        "RESOLVED",
        "GH-12",
    )
    assert row["feedback_count"] == 0


def test_update_moves_updated_at_forward_and_keeps_created_at(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = world.a.issue_ids[0]
    set_columns(app, issue_id, created_at=day(1), updated_at=day(1))

    assert_empty(put(client, world.a, issue_id, {"name": "renamed", "description": None}))
    stamps = stored_timestamps(sql, issue_id)
    assert stamps["createdAt"] == "2024-01-01T00:00:00.000Z"
    assert stamps["updatedAt"] > "2024-01-02"


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"name": "x"}, [DESCRIPTION_NOT_STRING]),
        ({"description": None}, [NAME_NOT_STRING]),
        ({}, [NAME_NOT_STRING, DESCRIPTION_NOT_STRING]),
        ({"name": "", "description": None}, [NAME_TOO_SHORT]),
        ({"name": "n" * 31, "description": None}, [NAME_TOO_LONG]),
        ({"name": "x", "description": "d" * 51}, [DESCRIPTION_TOO_LONG]),
        ({"name": "x", "description": 5}, [DESCRIPTION_NOT_STRING]),
        ({"name": "x", "description": None, "status": "DONE"}, [STATUS_MESSAGE]),
    ],
)
def test_update_rejects_invalid_bodies_and_changes_nothing(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any], messages: list[str]
) -> None:
    issue_id = world.a.issue_ids[0]
    before = issue_row(sql, issue_id)

    response = put(client, world.a, issue_id, body)

    assert_json(response, 400, bad_request(issues_url(world.a, issue_id), messages))
    assert issue_row(sql, issue_id) == before


def test_update_to_another_issues_name_is_issue_invalid_name(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    first, _ = world.a.issue_ids
    before = issue_row(sql, first)

    response = put(client, world.a, first, {"name": "alpha issue 2", "description": "x"})

    assert_json(
        response,
        400,
        domain_error(
            issues_url(world.a, first),
            "IssueInvalidName",
            "Issue name is invalid: Duplicated name",
        ),
    )
    assert issue_row(sql, first) == before


@pytest.mark.parametrize("name", ["alpha issue 1", "beta issue 1"])
def test_update_to_its_own_name_or_another_projects_name_succeeds(
    client: FlaskClient, world: World, sql: Sql, name: str
) -> None:
    issue_id = world.a.issue_ids[0]

    assert_empty(put(client, world.a, issue_id, {"name": name, "description": "same"}))
    row = issue_row(sql, issue_id)
    assert row is not None
    assert (row["name"], row["description"]) == (name, "same")


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_update_a_missing_or_foreign_issue_is_issue_not_found_and_changes_nothing(
    client: FlaskClient, world: World, sql: Sql, whose: str
) -> None:
    issue_id = 999_999 if whose == "missing" else world.b.issue_ids[0]
    before = sql("SELECT * FROM issue ORDER BY id")

    response = put(client, world.a, issue_id, {"name": "taken over", "description": None})

    assert_json(response, 400, issue_not_found(issues_url(world.a, issue_id)))
    assert sql("SELECT * FROM issue ORDER BY id") == before


# --- delete ----------------------------------------------------------------------------------


def delete_one(client: FlaskClient, pw: ProjectWorld, issue_id: int) -> TestResponse:
    return client.delete(issues_url(pw, issue_id), headers=pw.headers)


def delete_many(client: FlaskClient, pw: ProjectWorld, body: Any) -> TestResponse:
    return client.delete(issues_url(pw), json=body, headers=pw.headers)


DELETES = {
    "one": delete_one,
    "many": lambda client, pw, issue_id: delete_many(client, pw, {"issueIds": [issue_id]}),
}


@pytest.mark.parametrize("how", DELETES)
def test_delete_answers_empty_200_and_removes_only_that_issue(
    client: FlaskClient, world: World, sql: Sql, how: str
) -> None:
    first, second = world.a.issue_ids

    assert_empty(DELETES[how](client, world.a, first))
    assert sql("SELECT id FROM issue ORDER BY id") == [
        (second,),
        *[(issue_id,) for issue_id in world.b.issue_ids],
    ]
    url = issues_url(world.a, first)
    assert_json(client.get(url, headers=world.a.headers), 400, issue_not_found(url))


@pytest.mark.parametrize("how", DELETES)
def test_delete_removes_feedback_links_and_keeps_the_feedback(
    app: Flask, client: FlaskClient, world: World, sql: Sql, how: str
) -> None:
    first, second = world.a.issue_ids
    feedback_one, feedback_two = world.a.feedback_ids
    link_feedback(app, world.a, feedback_one, first)
    link_feedback(app, world.a, feedback_two, first)
    link_feedback(app, world.a, feedback_one, second)

    assert_empty(DELETES[how](client, world.a, first))
    assert feedback_links(sql) == [(feedback_one, second)]
    assert sql("SELECT count(*) FROM feedback") == [(4,)]
    assert stored(sql, second, "feedback_count") == 1


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_delete_one_missing_or_foreign_issue_is_issue_not_found(
    client: FlaskClient, world: World, sql: Sql, whose: str
) -> None:
    issue_id = 999_999 if whose == "missing" else world.b.issue_ids[0]

    response = delete_one(client, world.a, issue_id)

    assert_json(response, 400, issue_not_found(issues_url(world.a, issue_id)))
    assert issue_count(sql) == 4


def test_delete_many_ignores_unknown_and_foreign_ids(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    first, second = world.a.issue_ids
    body = {"issueIds": [first, world.b.issue_ids[0], 999_999, first]}

    assert_empty(delete_many(client, world.a, body))
    assert sql("SELECT id FROM issue ORDER BY id") == [
        (second,),
        *[(issue_id,) for issue_id in world.b.issue_ids],
    ]


def test_delete_many_with_an_empty_list_deletes_nothing(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    assert_empty(delete_many(client, world.a, {"issueIds": []}))
    assert issue_count(sql) == 4


EACH_ID_MESSAGE = "each value in issueIds must be a number conforming to the specified constraints"


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({}, ["issueIds must be an array"]),
        ({"issueIds": None}, ["issueIds must be an array"]),
        ({"issueIds": "1"}, ["issueIds must be an array"]),
        ({"issueIds": 1}, ["issueIds must be an array"]),
        ({"issueIds": {"0": 1}}, ["issueIds must be an array"]),
        ({"ids": [1]}, ["issueIds must be an array"]),
        ({"issueIds": ["1"]}, [EACH_ID_MESSAGE]),
        ({"issueIds": [1, None]}, [EACH_ID_MESSAGE]),
        ({"issueIds": [1.5]}, [EACH_ID_MESSAGE]),
        ({"issueIds": [2**64]}, [EACH_ID_MESSAGE]),
    ],
)
def test_delete_many_validates_issue_ids_and_deletes_nothing(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any], messages: list[str]
) -> None:
    response = delete_many(client, world.a, body)

    assert_json(response, 400, bad_request(issues_url(world.a), messages))
    assert issue_count(sql) == 4


# --- category --------------------------------------------------------------------------------


def set_category(
    client: FlaskClient, pw: ProjectWorld, issue_id: int, category_id: int
) -> TestResponse:
    return client.put(category_url(pw, issue_id, category_id), headers=pw.headers)


def clear_category(
    client: FlaskClient, pw: ProjectWorld, issue_id: int, category_id: int
) -> TestResponse:
    return client.delete(category_url(pw, issue_id, category_id), headers=pw.headers)


def categories_of_issues(sql: Sql) -> list[tuple[int, int | None]]:
    return sql("SELECT id, category_id FROM issue ORDER BY id")


def test_set_category_answers_empty_200_and_stores_it(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    first, second = world.a.issue_ids

    assert_empty(set_category(client, world.a, first, world.a.category_id))
    assert stored(sql, first, "category_id") == world.a.category_id
    assert stored(sql, second, "category_id") is None


def test_set_category_replaces_the_previous_one(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = world.a.issue_ids[0]
    other = make_category(app, world.a.project_id, "other category")
    assert_empty(set_category(client, world.a, issue_id, world.a.category_id))

    assert_empty(set_category(client, world.a, issue_id, other))
    assert stored(sql, issue_id, "category_id") == other


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_category_routes_on_a_missing_or_foreign_issue_are_issue_not_found(
    client: FlaskClient, world: World, sql: Sql, method: str, whose: str
) -> None:
    issue_id = 999_999 if whose == "missing" else world.b.issue_ids[0]
    url = category_url(world.a, issue_id, world.a.category_id)
    before = categories_of_issues(sql)

    response = client.open(url, method=method, headers=world.a.headers)

    assert_json(response, 400, issue_not_found(url))
    assert categories_of_issues(sql) == before


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_set_a_missing_or_foreign_category_is_category_not_found(
    client: FlaskClient, world: World, sql: Sql, whose: str
) -> None:
    category_id = 999_999 if whose == "missing" else world.b.category_id
    issue_id = world.a.issue_ids[0]

    response = set_category(client, world.a, issue_id, category_id)

    assert_json(response, 404, category_not_found(category_url(world.a, issue_id, category_id)))
    assert stored(sql, issue_id, "category_id") is None


def test_clear_category_answers_empty_200_and_removes_it(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    issue_id = world.a.issue_ids[0]
    assert_empty(set_category(client, world.a, issue_id, world.a.category_id))

    assert_empty(clear_category(client, world.a, issue_id, world.a.category_id))
    assert stored(sql, issue_id, "category_id") is None
    assert sql("SELECT count(*) FROM category") == [(2,)]


@pytest.mark.parametrize("current", ["none", "another"])
def test_clear_a_category_that_is_not_the_issues_is_rejected(
    app: Flask, client: FlaskClient, world: World, sql: Sql, current: str
) -> None:
    issue_id = world.a.issue_ids[0]
    if current == "another":
        other = make_category(app, world.a.project_id, "other category")
        assert_empty(set_category(client, world.a, issue_id, other))
    before = categories_of_issues(sql)
    url = category_url(world.a, issue_id, world.a.category_id)

    response = clear_category(client, world.a, issue_id, world.a.category_id)

    assert_json(response, 400, bad_request(url, "Category id does not match"))
    assert categories_of_issues(sql) == before
