"""POST /api/v1/feedback/<id>/comments: end users (or anonymous visitors) comment on feedback.

A comment is stored with the feedback's comment count raised in the same write; a refused
request writes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Sql, assert_json, database_rows, wire_timestamp
from tests.public_api.conftest import BoardWorld

COMMENT_ID = re.compile(r"^cmt_[a-z0-9]{16}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NOT_FOUND = {"error": "Feedback not found"}


def invalid(field_errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "error": "Invalid input",
        "details": {"formErrors": [], "fieldErrors": field_errors},
    }


def new_feedback(client: FlaskClient, bw: BoardWorld, title: str = "Commented") -> str:
    response = client.post("/api/v1/feedback", json={"title": title}, headers=bw.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["feedback"]["id"]


def post_comment(client: FlaskClient, bw: BoardWorld, public_id: str, body: Any) -> TestResponse:
    return client.post(f"/api/v1/feedback/{public_id}/comments", json=body, headers=bw.headers)


def created_comment(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert list(body) == ["comment"]
    comment = body["comment"]
    assert list(comment) == ["id", "content", "createdAt", "author"]
    assert COMMENT_ID.match(comment["id"]), comment["id"]
    assert ISO_MS.match(comment["createdAt"]), comment["createdAt"]
    return comment


def feedback_row(sql: Sql, public_id: str) -> tuple[int, int]:
    """(internal id, comment_count) of a feedback."""
    return sql("SELECT id, comment_count FROM feedback WHERE public_id = ?", (public_id,))[0]


def comment_rows(sql: Sql) -> list[tuple[Any, ...]]:
    return sql(
        "SELECT public_id, feedback_id, end_user_id, is_team, author_name, content, created_at"
        " FROM comment ORDER BY id"
    )


def test_an_anonymous_comment_answers_201_and_is_stored(client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a)

    response = post_comment(client, a, public_id, {"content": "Can't wait for this!"})

    comment = created_comment(response)
    feedback_id, comment_count = feedback_row(sql, public_id)
    rows = comment_rows(sql)
    assert len(rows) == 1
    stored_id, stored_feedback, end_user_id, is_team, author_name, content, created_at = rows[0]
    assert (stored_id, stored_feedback, end_user_id, is_team, author_name, content) == (
        comment["id"],
        feedback_id,
        None,
        0,
        None,
        "Can't wait for this!",
    )
    assert comment == {
        "id": stored_id,
        "content": "Can't wait for this!",
        "createdAt": wire_timestamp(created_at),
        "author": None,
    }
    assert comment_count == 1
    assert sql("SELECT count(*) FROM end_user") == [(0,)]


def test_a_comment_by_an_end_user_shows_and_stores_its_author(client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a)
    end_user = {
        "externalId": "jane",
        "email": "jane@example.com",
        "name": "Jane Smith",
        "avatarUrl": "https://example.com/jane.jpg",
        "metadata": {"plan": "pro"},
    }

    response = post_comment(client, a, public_id, {"content": "Me too", "endUser": end_user})

    comment = created_comment(response)
    assert comment == {
        "id": comment["id"],
        "content": "Me too",
        "createdAt": comment["createdAt"],
        "author": {"name": "Jane Smith", "avatarUrl": "https://example.com/jane.jpg"},
    }
    users = sql("SELECT id, project_id, external_id, email, name, avatar_url, meta FROM end_user")
    assert [row[1:] for row in users] == [
        (
            a.project_id,
            "jane",
            "jane@example.com",
            "Jane Smith",
            "https://example.com/jane.jpg",
            json.dumps({"plan": "pro"}),
        )
    ]
    assert [row[2] for row in comment_rows(sql)] == [users[0][0]]


def test_an_end_user_without_name_is_an_author_without_name(client, boards_world):
    a = boards_world.a
    public_id = new_feedback(client, a)

    response = post_comment(client, a, public_id, {"content": "Hi", "endUser": {"externalId": "e"}})

    assert created_comment(response)["author"] == {"name": None, "avatarUrl": None}


def test_commenting_again_updates_the_end_user_instead_of_adding_one(client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a)
    first = {"externalId": "jane", "name": "Jane", "email": "j@x.io"}
    created_comment(post_comment(client, a, public_id, {"content": "1", "endUser": first}))

    second = {"externalId": "jane", "name": "Jane S."}
    response = post_comment(client, a, public_id, {"content": "2", "endUser": second})

    assert created_comment(response)["author"] == {"name": "Jane S.", "avatarUrl": None}
    assert sql("SELECT external_id, name, email FROM end_user") == [("jane", "Jane S.", "j@x.io")]
    end_user_id = sql("SELECT id FROM end_user")[0][0]
    assert [row[2] for row in comment_rows(sql)] == [end_user_id, end_user_id]


def test_comment_count_rises_on_the_list_and_the_detail(client, boards_world, sql):
    a = boards_world.a
    commented = new_feedback(client, a, "Commented")
    quiet = new_feedback(client, a, "Quiet")
    posted = [
        created_comment(post_comment(client, a, commented, {"content": f"Comment {n}"}))
        for n in range(3)
    ]

    listed = client.get("/api/v1/feedback", headers=a.headers)
    shown = client.get(f"/api/v1/feedback/{commented}", headers=a.headers)

    assert listed.status_code == 200
    counts = {item["id"]: item["commentCount"] for item in listed.get_json()["items"]}
    assert counts == {commented: 3, quiet: 0}
    assert shown.status_code == 200
    body = shown.get_json()["feedback"]
    assert body["commentCount"] == 3
    assert body["comments"] == posted
    assert feedback_row(sql, commented)[1] == 3
    assert feedback_row(sql, quiet)[1] == 0


def test_comments_on_one_feedback_do_not_count_on_another(client, boards_world):
    a = boards_world.a
    first = new_feedback(client, a, "First")
    second = new_feedback(client, a, "Second")
    created_comment(post_comment(client, a, first, {"content": "On the first"}))

    shown = client.get(f"/api/v1/feedback/{second}", headers=a.headers).get_json()["feedback"]

    assert (shown["commentCount"], shown["comments"]) == (0, [])


@pytest.mark.parametrize(
    "content",
    [
        "  Ünïcödé 😀 <b>not html</b>\nsecond line\tend  ",
        pytest.param(
            "  Ünïcödé 😀 <b>not html</b>\nsecond line\u0000end  ",
            marks=pytest.mark.sqlite_only(reason="PostgreSQL's text cannot hold NUL"),
            id="nul",
        ),
    ],
)
def test_content_is_kept_as_sent(client, boards_world, sql, content):
    a = boards_world.a
    public_id = new_feedback(client, a)

    comment = created_comment(post_comment(client, a, public_id, {"content": content}))

    assert comment["content"] == content
    assert [row[5] for row in comment_rows(sql)] == [content]


def test_content_of_exactly_5000_characters_is_accepted(client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a)

    comment = created_comment(post_comment(client, a, public_id, {"content": "c" * 5000}))

    assert comment["content"] == "c" * 5000
    assert feedback_row(sql, public_id)[1] == 1


def test_unknown_keys_in_a_comment_are_dropped(client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a)

    body = {"content": "Plain", "isTeam": True, "authorName": "Fake Team", "id": "cmt_mine"}
    comment = created_comment(post_comment(client, a, public_id, body))

    assert comment["author"] is None
    assert comment["id"] != "cmt_mine"
    assert [row[3:5] for row in comment_rows(sql)] == [(0, None)]


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        pytest.param({}, {"content": ["Content is required"]}, id="missing"),
        pytest.param({"content": ""}, {"content": ["Content is required"]}, id="empty"),
        pytest.param({"content": "   "}, {"content": ["Content is required"]}, id="spaces"),
        pytest.param({"content": "\n\t "}, {"content": ["Content is required"]}, id="whitespace"),
        pytest.param({"content": None}, {"content": ["Content is required"]}, id="null"),
        pytest.param(
            {"content": "c" * 5001},
            {"content": ["Content must be 5000 characters or less"]},
            id="too-long",
        ),
        pytest.param({"content": 42}, {"content": ["Content must be a string"]}, id="number"),
        pytest.param({"content": ["x"]}, {"content": ["Content must be a string"]}, id="list"),
        pytest.param(
            {"content": "ok", "endUser": {"name": "No id"}},
            {"endUser": ["External ID is required"]},
            id="end-user-without-id",
        ),
        pytest.param(
            {"content": "ok", "endUser": {"externalId": "u", "email": "nope"}},
            {"endUser": ["Invalid email"]},
            id="end-user-bad-email",
        ),
        pytest.param(
            {"content": "", "endUser": {"externalId": "u", "avatarUrl": "ftp://x/y.png"}},
            {"content": ["Content is required"], "endUser": ["Invalid URL"]},
            id="both-wrong",
        ),
    ],
)
def test_invalid_comments_are_refused_and_write_nothing(
    client, boards_world, sql, body, field_errors
):
    a = boards_world.a
    public_id = new_feedback(client, a)
    created_comment(post_comment(client, a, public_id, {"content": "Existing"}))
    before = database_rows(sql)

    response = post_comment(client, a, public_id, body)

    assert_json(response, 400, invalid(field_errors))
    assert database_rows(sql) == before
    assert feedback_row(sql, public_id)[1] == 1


@pytest.mark.parametrize(
    "public_id",
    ["fb_0000000000000000", "fb_unknown", "cmt_0000000000000000", "1", "x" * 300],
)
def test_commenting_on_an_unknown_feedback_is_404(client, boards_world, sql, public_id):
    a = boards_world.a
    new_feedback(client, a)
    before = database_rows(sql)

    response = post_comment(
        client, a, public_id, {"content": "Hello?", "endUser": {"externalId": "ghost"}}
    )

    assert_json(response, 404, NOT_FOUND)
    assert database_rows(sql) == before


def test_commenting_on_another_projects_feedback_is_404(client, boards_world, sql):
    theirs = new_feedback(client, boards_world.b, "Theirs")
    before = database_rows(sql)

    response = post_comment(
        client,
        boards_world.a,
        theirs,
        {"content": "Sneaky", "endUser": {"externalId": "intruder", "name": "Intruder"}},
    )

    assert_json(response, 404, NOT_FOUND)
    assert database_rows(sql) == before
    shown = client.get(f"/api/v1/feedback/{theirs}", headers=boards_world.b.headers)
    assert (
        shown.get_json()["feedback"]["commentCount"],
        shown.get_json()["feedback"]["comments"],
    ) == (
        0,
        [],
    )
