"""Integration API category routes: create, list with a name filter, rename, delete.

The contract is the reference server's wire format (compat spec §1.4.14), scoped to the key's
project: a foreign category answers as a missing one and is left untouched.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import ProjectWorld, World, make_category, make_key, make_project
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

NAME_TOO_SHORT = "name must be longer than or equal to 1 characters"
NAME_TOO_LONG = "name must be shorter than or equal to 255 characters"
NAME_NOT_STRING = "name must be a string"


# --- helpers ---------------------------------------------------------------------------------


def categories_url(pw: ProjectWorld, category_id: int | None = None) -> str:
    url = f"{pw.base}/categories"
    return url if category_id is None else f"{url}/{category_id}"


def create(client: FlaskClient, pw: ProjectWorld, body: Any) -> TestResponse:
    return client.post(categories_url(pw), json=body, headers=pw.headers)


def rename(client: FlaskClient, pw: ProjectWorld, category_id: int, body: Any) -> TestResponse:
    return client.put(categories_url(pw, category_id), json=body, headers=pw.headers)


def delete(client: FlaskClient, pw: ProjectWorld, category_id: int) -> TestResponse:
    return client.delete(categories_url(pw, category_id), headers=pw.headers)


def listing(client: FlaskClient, pw: ProjectWorld, query: str = "") -> TestResponse:
    return client.get(f"{categories_url(pw)}{query}", headers=pw.headers)


def listed_ids(client: FlaskClient, pw: ProjectWorld, query: str = "") -> list[int]:
    response = listing(client, pw, query)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def category_rows(sql: Sql) -> list[tuple[int, int, str]]:
    return sql("SELECT id, project_id, name FROM category ORDER BY id")


@pytest.fixture
def empty_project(app: Flask) -> ProjectWorld:
    """A project with a key and nothing else, so listings see only a test's categories."""
    project_id = make_project(app, "gamma")
    return ProjectWorld(project_id, 0, make_key(app, project_id))


# --- create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["c", "billing", "n" * 255])
def test_create_answers_201_with_the_id_and_stores_the_category(
    client: FlaskClient, world: World, sql: Sql, name: str
) -> None:
    response = create(client, world.a, {"name": name})

    [(new_id,)] = sql("SELECT id FROM category WHERE name = ?", (name,))
    assert_json(response, 201, {"id": new_id})
    assert category_rows(sql)[-1] == (new_id, world.a.project_id, name)


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"name": ""}, [NAME_TOO_SHORT]),
        ({"name": "n" * 256}, [NAME_TOO_LONG]),
        ({}, [NAME_NOT_STRING]),
        ({"name": None}, [NAME_NOT_STRING]),
        ({"name": 5}, [NAME_NOT_STRING]),
        ({"name": ["a"]}, [NAME_NOT_STRING]),
        ({"name": {"a": "b"}}, [NAME_NOT_STRING]),
        ({"categoryName": "wrong key"}, [NAME_NOT_STRING]),
    ],
)
def test_create_rejects_an_invalid_name_with_a_list_of_messages(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any], messages: list[str]
) -> None:
    before = category_rows(sql)

    response = create(client, world.a, body)

    assert_json(response, 400, bad_request(categories_url(world.a), messages))
    assert category_rows(sql) == before


def test_create_strips_unknown_keys_silently(client: FlaskClient, world: World, sql: Sql) -> None:
    response = create(
        client, world.a, {"name": "stripped", "id": 999, "projectId": world.b.project_id}
    )

    [(new_id, project_id)] = sql("SELECT id, project_id FROM category WHERE name = 'stripped'")
    assert_json(response, 201, {"id": new_id})
    assert new_id != 999
    assert project_id == world.a.project_id


def test_create_with_a_name_taken_in_the_project_is_category_name_duplicated(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    before = category_rows(sql)

    response = create(client, world.a, {"name": "alpha category"})

    assert_json(
        response,
        400,
        domain_error(
            categories_url(world.a), "CategoryNameDuplicated", "category name is duplicated"
        ),
    )
    assert category_rows(sql) == before


def test_create_with_a_name_taken_in_another_project_succeeds(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    response = create(client, world.b, {"name": "alpha category"})

    assert response.status_code == 201
    assert sql("SELECT project_id FROM category WHERE name = 'alpha category' ORDER BY id") == [
        (world.a.project_id,),
        (world.b.project_id,),
    ]


# --- list ------------------------------------------------------------------------------------


def test_list_returns_this_projects_categories_newest_first_in_the_exact_shape(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    newer = make_category(app, world.a.project_id, "newer")

    response = listing(client, world.a)

    rows = sql(
        "SELECT id, name, created_at, updated_at FROM category WHERE project_id = ? "
        "ORDER BY id DESC",
        (world.a.project_id,),
    )
    assert [row[0] for row in rows] == [newer, world.a.category_id]
    items = [
        {
            "id": id_,
            "name": name,
            "createdAt": wire_timestamp(created),
            "updatedAt": wire_timestamp(updated),
        }
        for id_, name, created, updated in rows
    ]
    assert_json(response, 200, {"items": items, "meta": page_meta(2, 2, 10, 1)})


@pytest.fixture
def shelf(app: Flask, empty_project: ProjectWorld) -> dict[str, int]:
    """Category name to id, in a project holding nothing else."""
    names = ["Billing", "billing-v2", "100% sure", "snake_case", "other"]
    return {name: make_category(app, empty_project.project_id, name) for name in names}


@pytest.mark.parametrize(
    ("category_name", "expected"),
    [
        ("BILL", {"Billing", "billing-v2"}),
        ("v2", {"billing-v2"}),
        ("%", {"100% sure"}),
        ("_", {"snake_case"}),
        ("e_c", {"snake_case"}),
        ("", {"Billing", "billing-v2", "100% sure", "snake_case", "other"}),
        ("no such category", set()),
        ("alpha", set()),
    ],
)
def test_list_filters_by_a_case_insensitive_literal_substring_of_the_name(
    client: FlaskClient,
    empty_project: ProjectWorld,
    world: World,
    shelf: dict[str, int],
    category_name: str,
    expected: set[str],
) -> None:
    ids = listed_ids(client, empty_project, f"?categoryName={category_name.replace('%', '%25')}")

    assert ids == sorted((shelf[name] for name in expected), reverse=True)


def test_list_filter_ignores_case_beyond_ascii(
    app: Flask, client: FlaskClient, empty_project: ProjectWorld
) -> None:
    target = make_category(app, empty_project.project_id, "Änderungen")
    make_category(app, empty_project.project_id, "anderes")

    assert listed_ids(client, empty_project, "?categoryName=änd") == [target]


@pytest.mark.parametrize(
    ("query", "expected_names"),
    [
        ("?sort[name]=ASC", ["100% sure", "Billing", "billing-v2", "other", "snake_case"]),
        ("?sort[name]=DESC", ["snake_case", "other", "billing-v2", "Billing", "100% sure"]),
        ("?sort[id]=ASC", ["Billing", "billing-v2", "100% sure", "snake_case", "other"]),
        ("", ["other", "snake_case", "100% sure", "billing-v2", "Billing"]),
        ("?sort[name]=ASC&categoryName=bill", ["Billing", "billing-v2"]),
    ],
)
def test_list_sorts_by_the_sort_query_parameter(
    client: FlaskClient,
    empty_project: ProjectWorld,
    shelf: dict[str, int],
    query: str,
    expected_names: list[str],
) -> None:
    assert listed_ids(client, empty_project, query) == [shelf[name] for name in expected_names]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?sort[name]=asc", "invalid sort method"),
        ("?sort[name]=up", "invalid sort method"),
        ("?sort[bogus]=ASC", "bad key in sort"),
        ("?sort[createdAt]=DESC", "bad key in sort"),
    ],
)
def test_list_rejects_a_bad_sort(
    client: FlaskClient, world: World, query: str, message: str
) -> None:
    response = listing(client, world.a, query)

    assert_json(response, 400, bad_request(categories_url(world.a) + query, message))


@pytest.fixture
def dozen(app: Flask, empty_project: ProjectWorld) -> list[int]:
    """Twelve categories, ids ascending."""
    return [make_category(app, empty_project.project_id, f"category {n:02d}") for n in range(12)]


def test_list_pages_cover_every_category_once(
    client: FlaskClient, empty_project: ProjectWorld, dozen: list[int]
) -> None:
    seen: list[int] = []
    for page, size in ((1, 5), (2, 5), (3, 2)):
        response = listing(client, empty_project, f"?limit=5&page={page}")
        assert response.status_code == 200
        assert response.get_json()["meta"] == page_meta(size, 12, 5, page)
        seen += [item["id"] for item in response.get_json()["items"]]

    assert seen == sorted(dozen, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected_limit", "expected_page"),
    [
        ("", 10, 1),
        ("?limit=5&page=2", 5, 2),
        ("?limit=5abc&page=2x", 5, 2),
        ("?limit=abc&page=x", 10, 1),
        ("?limit=&page=", 10, 1),
        ("?limit=0&page=0", 10, 1),
        ("?limit=-3&page=-1", 10, 1),
        ("?limit=5000", 1000, 1),
        ("?limit=5&page=4", 5, 4),
    ],
)
def test_list_reads_limit_and_page_leniently(
    client: FlaskClient,
    empty_project: ProjectWorld,
    dozen: list[int],
    query: str,
    expected_limit: int,
    expected_page: int,
) -> None:
    response = listing(client, empty_project, query)

    start = (expected_page - 1) * expected_limit
    expected_ids = sorted(dozen, reverse=True)[start : start + expected_limit]
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == expected_ids
    assert body["meta"] == page_meta(len(expected_ids), 12, expected_limit, expected_page)


def test_list_caps_limit_at_the_configured_max_page_size(
    app: Flask, client: FlaskClient, empty_project: ProjectWorld, dozen: list[int]
) -> None:
    app.config["MAX_PAGE_SIZE"] = 3

    response = listing(client, empty_project, "?limit=50")

    assert response.status_code == 200
    assert response.get_json()["meta"] == page_meta(3, 12, 3, 1)


# --- rename ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["renamed", "alpha category", "beta category"])
def test_rename_answers_empty_200_and_stores_the_name(
    client: FlaskClient, world: World, sql: Sql, name: str
) -> None:
    assert_empty(rename(client, world.a, world.a.category_id, {"name": name}))
    assert category_rows(sql) == [
        (world.a.category_id, world.a.project_id, name),
        (world.b.category_id, world.b.project_id, "beta category"),
    ]


def test_rename_to_another_categorys_name_is_category_name_invalid(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    other = make_category(app, world.a.project_id, "other")
    before = category_rows(sql)

    response = rename(client, world.a, other, {"name": "alpha category"})

    assert_json(
        response,
        400,
        domain_error(
            categories_url(world.a, other),
            "CategoryNameInvalid",
            "category name is invalid: Invalid name",
        ),
    )
    assert category_rows(sql) == before


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_rename_a_missing_or_foreign_category_is_category_not_found(
    client: FlaskClient, world: World, sql: Sql, whose: str
) -> None:
    category_id = 999_999 if whose == "missing" else world.b.category_id
    before = category_rows(sql)

    response = rename(client, world.a, category_id, {"name": "taken over"})

    assert_json(response, 404, category_not_found(categories_url(world.a, category_id)))
    assert category_rows(sql) == before


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"name": ""}, [NAME_TOO_SHORT]),
        ({"name": "n" * 256}, [NAME_TOO_LONG]),
        ({}, [NAME_NOT_STRING]),
        ({"name": 5}, [NAME_NOT_STRING]),
    ],
)
def test_rename_rejects_an_invalid_name(
    client: FlaskClient, world: World, sql: Sql, body: dict[str, Any], messages: list[str]
) -> None:
    before = category_rows(sql)

    response = rename(client, world.a, world.a.category_id, body)

    assert_json(response, 400, bad_request(categories_url(world.a, world.a.category_id), messages))
    assert category_rows(sql) == before


# --- delete ----------------------------------------------------------------------------------


def test_delete_answers_empty_200_and_removes_only_that_category(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    assert_empty(delete(client, world.a, world.a.category_id))
    assert category_rows(sql) == [(world.b.category_id, world.b.project_id, "beta category")]
    assert listed_ids(client, world.a) == []


@pytest.mark.parametrize("whose", ["missing", "other project"])
def test_delete_a_missing_or_foreign_category_is_category_not_found(
    client: FlaskClient, world: World, sql: Sql, whose: str
) -> None:
    category_id = 999_999 if whose == "missing" else world.b.category_id
    before = category_rows(sql)

    response = delete(client, world.a, category_id)

    assert_json(response, 404, category_not_found(categories_url(world.a, category_id)))
    assert category_rows(sql) == before


def test_delete_keeps_the_issues_of_the_category_without_a_category(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    first, second = world.a.issue_ids
    other = make_category(app, world.a.project_id, "other")
    for issue_id, category_id in ((first, world.a.category_id), (second, other)):
        url = f"{world.a.base}/issues/{issue_id}/category/{category_id}"
        assert_empty(client.put(url, headers=world.a.headers))

    assert_empty(delete(client, world.a, world.a.category_id))

    assert sql(
        "SELECT id, category_id FROM issue WHERE project_id = ? ORDER BY id", (world.a.project_id,)
    ) == [
        (first, None),
        (second, other),
    ]
    issue = client.get(f"{world.a.base}/issues/{first}", headers=world.a.headers)
    assert issue.status_code == 200
    assert issue.get_json()["category"] is None
