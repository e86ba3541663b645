"""Public API feedback routes: submit (POST /api/v1/feedback), list and read one.

The contract is the Feedhog public API (/work/shared/specs/public-api.md): exact status codes
and bodies, and a refused request writes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.services import comments
from tests.helpers import Sql, assert_empty, assert_json, database_rows, wire_timestamp
from tests.public_api.conftest import Boards, BoardWorld

FEEDBACK_ID = re.compile(r"^fb_[a-z0-9]{16}$")
COMMENT_ID = re.compile(r"^cmt_[a-z0-9]{16}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ANONYMOUS_VOTER = re.compile(r"^a[0-9a-f]{64}$")

TYPE_ERROR = "Invalid type. Must be one of: bug, idea, question, other"
STATUS_ERROR = (
    "Invalid status. Must be one of: new, under-review, planned, in-progress, completed, closed"
)
SORT_ERROR = "Invalid sortBy. Must be one of: newest, oldest, votes, comments"
PAGE_RANGE = "Page must be from 1 to 1000000000"
PAGE_INVALID = "Page must be a positive integer"
LIMIT_INVALID = "Limit must be a positive integer"

# The spec's key order of a list item (FeedbackListItem).
ITEM_KEYS = [
    "id",
    "title",
    "description",
    "type",
    "status",
    "voteCount",
    "commentCount",
    "createdAt",
    "endUser",
]


# --- helpers ---------------------------------------------------------------------------------


def invalid(field_errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "error": "Invalid input",
        "details": {"formErrors": [], "fieldErrors": field_errors},
    }


def submit(
    client: FlaskClient, bw: BoardWorld, body: Any, address: str = "127.0.0.1"
) -> TestResponse:
    return client.post(
        "/api/v1/feedback",
        json=body,
        headers=bw.headers,
        environ_base={"REMOTE_ADDR": address},
    )


def submitted(response: TestResponse) -> dict[str, Any]:
    """The feedback of a 201 answer, its generated id and timestamp checked."""
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert list(body) == ["feedback"]
    feedback = body["feedback"]
    assert FEEDBACK_ID.match(feedback["id"]), feedback["id"]
    assert ISO_MS.match(feedback["createdAt"]), feedback["createdAt"]
    return feedback


def new_feedback(
    client: FlaskClient, bw: BoardWorld, title: str, address: str = "127.0.0.1", **fields: Any
) -> dict[str, Any]:
    return submitted(submit(client, bw, {"title": title, **fields}, address))


def list_page(client: FlaskClient, bw: BoardWorld, query: Any = None) -> TestResponse:
    return client.get("/api/v1/feedback", query_string=query or {}, headers=bw.headers)


def listed_ids(client: FlaskClient, bw: BoardWorld, query: Any = None) -> list[str]:
    response = list_page(client, bw, query)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def detail(
    client: FlaskClient,
    bw: BoardWorld,
    public_id: str,
    query: Any = None,
    address: str = "127.0.0.1",
) -> TestResponse:
    return client.get(
        f"/api/v1/feedback/{public_id}",
        query_string=query or {},
        headers=bw.headers,
        environ_base={"REMOTE_ADDR": address},
    )


def vote(
    client: FlaskClient, bw: BoardWorld, public_id: str, body: Any, address: str = "127.0.0.1"
) -> TestResponse:
    return client.post(
        f"/api/v1/feedback/{public_id}/vote",
        json=body,
        headers=bw.headers,
        environ_base={"REMOTE_ADDR": address},
    )


def comment(client: FlaskClient, bw: BoardWorld, public_id: str, body: Any) -> TestResponse:
    return client.post(f"/api/v1/feedback/{public_id}/comments", json=body, headers=bw.headers)


def internal_id(sql: Sql, public_id: str) -> int:
    return sql("SELECT id FROM feedback WHERE public_id = ?", (public_id,))[0][0]


def set_status(client: FlaskClient, sql: Sql, bw: BoardWorld, public_id: str, status: str) -> None:
    """Change a status the way the team does: through the integration API."""
    url = (
        f"/api/projects/{bw.project_id}/channels/{bw.board_id}/feedbacks/"
        f"{internal_id(sql, public_id)}"
    )
    response = client.put(url, json={"status": status}, headers={"x-api-key": bw.secret_key})
    assert_empty(response)


def stored_created_at(sql: Sql, table: str, public_id: str) -> str:
    return sql(f"SELECT created_at FROM {table} WHERE public_id = ?", (public_id,))[0][0]


# --- POST /api/v1/feedback -------------------------------------------------------------------


def test_submit_answers_201_with_the_new_feedback(client, boards_world, sql):
    body = {
        "title": "Add dark mode",
        "description": "Would love a dark theme option",
        "type": "bug",
        "metadata": {"page": "/settings", "browser": "Chrome"},
        "endUser": {
            "externalId": "user-123",
            "email": "user@example.com",
            "name": "John Doe",
            "avatarUrl": "https://example.com/john.png",
        },
    }

    response = submit(client, boards_world.a, body)

    feedback = submitted(response)
    assert feedback == {
        "id": feedback["id"],
        "title": "Add dark mode",
        "description": "Would love a dark theme option",
        "type": "bug",
        "status": "new",
        "voteCount": 1,
        "commentCount": 0,
        "createdAt": wire_timestamp(stored_created_at(sql, "feedback", feedback["id"])),
        "endUser": {"name": "John Doe", "avatarUrl": "https://example.com/john.png"},
    }
    assert list(feedback) == ITEM_KEYS


def test_submit_with_only_a_title_is_a_new_idea_without_end_user(client, boards_world, sql):
    feedback = new_feedback(client, boards_world.a, "Just a title")

    assert feedback == {
        "id": feedback["id"],
        "title": "Just a title",
        "description": None,
        "type": "idea",
        "status": "new",
        "voteCount": 1,
        "commentCount": 0,
        "createdAt": wire_timestamp(stored_created_at(sql, "feedback", feedback["id"])),
        "endUser": None,
    }


@pytest.mark.parametrize("feedback_type", ["bug", "idea", "question", "other"])
def test_submit_accepts_every_type(client, boards_world, sql, feedback_type):
    feedback = new_feedback(client, boards_world.a, "Typed", type=feedback_type)

    assert feedback["type"] == feedback_type
    data = json.loads(sql("SELECT data FROM feedback")[0][0])
    assert data["type"] == feedback_type


def test_submit_stores_the_feedback_on_the_keys_board(client, boards_world, sql):
    a = boards_world.a
    feedback = new_feedback(
        client,
        a,
        "Stored",
        description="With a description",
        type="question",
        metadata={"page": "/settings", "nested": {"n": 1, "list": [1, "two"]}},
        endUser={"externalId": "user-1", "name": "Ann"},
    )

    rows = sql(
        "SELECT channel_id, data, meta, vote_count, comment_count, end_user_id FROM feedback"
    )
    end_user_id = sql("SELECT id FROM end_user WHERE external_id = 'user-1'")[0][0]
    assert len(rows) == 1
    channel_id, data, meta, vote_count, comment_count, stored_end_user = rows[0]
    assert (channel_id, vote_count, comment_count, stored_end_user) == (
        a.board_id,
        1,
        0,
        end_user_id,
    )
    assert json.loads(data) == {
        "title": "Stored",
        "description": "With a description",
        "type": "question",
        "status": "new",
    }
    assert json.loads(meta) == {"page": "/settings", "nested": {"n": 1, "list": [1, "two"]}}
    assert sql("SELECT public_id FROM feedback") == [(feedback["id"],)]
    assert sql("SELECT feedback_count FROM channel WHERE id = ?", (a.board_id,)) == [(1,)]


def test_submit_without_metadata_stores_no_metadata(client, boards_world, sql):
    new_feedback(client, boards_world.a, "No metadata")
    new_feedback(client, boards_world.a, "Null metadata", metadata=None)

    # Stored as SQL NULL or as JSON null: either way no metadata.
    stored = [meta for (meta,) in sql("SELECT meta FROM feedback ORDER BY id")]
    assert [None if meta is None else json.loads(meta) for meta in stored] == [None, None]


def test_submit_counts_the_submitters_vote(client, boards_world, sql):
    feedback = new_feedback(client, boards_world.a, "Voted", endUser={"externalId": "voter-1"})

    feedback_id = internal_id(sql, feedback["id"])
    end_user_id = sql("SELECT id FROM end_user WHERE external_id = 'voter-1'")[0][0]
    assert sql("SELECT feedback_id, voter_key, end_user_id FROM vote") == [
        (feedback_id, f"u{end_user_id}", end_user_id)
    ]


def test_an_anonymous_submitter_votes_by_a_hash_of_the_client_address(client, boards_world, sql):
    feedback = new_feedback(client, boards_world.a, "Anonymous", address="203.0.113.7")

    rows = sql("SELECT feedback_id, voter_key, end_user_id FROM vote")
    assert len(rows) == 1
    feedback_id, voter_key, end_user_id = rows[0]
    assert (feedback_id, end_user_id) == (internal_id(sql, feedback["id"]), None)
    assert ANONYMOUS_VOTER.match(voter_key), voter_key
    assert "203.0.113.7" not in voter_key
    assert sql("SELECT count(*) FROM end_user") == [(0,)]


def test_submit_creates_the_end_user(client, boards_world, sql):
    a = boards_world.a
    new_feedback(
        client,
        a,
        "From Ann",
        endUser={
            "externalId": "user-1",
            "email": "ann@example.com",
            "name": "Ann",
            "avatarUrl": "https://example.com/ann.png",
            "metadata": {"plan": "pro"},
        },
    )

    rows = sql("SELECT project_id, external_id, email, name, avatar_url, meta FROM end_user")
    assert rows == [
        (
            a.project_id,
            "user-1",
            "ann@example.com",
            "Ann",
            "https://example.com/ann.png",
            json.dumps({"plan": "pro"}),
        )
    ]


def test_submit_updates_a_known_end_user_and_keeps_what_it_left_out(client, boards_world, sql):
    a = boards_world.a
    new_feedback(
        client, a, "First", endUser={"externalId": "user-1", "email": "a@x.io", "name": "Ann"}
    )

    second = new_feedback(
        client, a, "Second", endUser={"externalId": "user-1", "name": "Ann Smith"}
    )

    assert second["endUser"] == {"name": "Ann Smith", "avatarUrl": None}
    assert sql("SELECT external_id, email, name FROM end_user") == [
        ("user-1", "a@x.io", "Ann Smith")
    ]
    end_user_id = sql("SELECT id FROM end_user")[0][0]
    assert sql("SELECT end_user_id FROM feedback ORDER BY id") == [
        (end_user_id,),
        (end_user_id,),
    ]


def test_end_users_of_two_projects_are_separate(client, boards_world, sql):
    new_feedback(client, boards_world.a, "A", endUser={"externalId": "same", "name": "In A"})
    new_feedback(client, boards_world.b, "B", endUser={"externalId": "same", "name": "In B"})

    assert sql("SELECT project_id, external_id, name FROM end_user ORDER BY id") == [
        (boards_world.a.project_id, "same", "In A"),
        (boards_world.b.project_id, "same", "In B"),
    ]


def test_submit_accepts_a_title_of_exactly_200_characters(client, boards_world, sql):
    title = "t" * 200

    feedback = new_feedback(client, boards_world.a, title)

    assert feedback["title"] == title
    assert json.loads(sql("SELECT data FROM feedback")[0][0])["title"] == title


def test_submit_drops_unknown_keys(client, boards_world, sql):
    feedback = new_feedback(
        client, boards_world.a, "Known", status="completed", voteCount=99, id="fb_chosen"
    )

    assert (feedback["status"], feedback["voteCount"]) == ("new", 1)
    assert feedback["id"] != "fb_chosen"
    assert json.loads(sql("SELECT data FROM feedback")[0][0]) == {
        "title": "Known",
        "type": "idea",
        "status": "new",
    }


INVALID_SUBMISSIONS = [
    ("title-missing", {}, {"title": ["Title is required"]}),
    ("title-empty", {"title": ""}, {"title": ["Title is required"]}),
    ("title-spaces", {"title": "   "}, {"title": ["Title is required"]}),
    ("title-whitespace", {"title": "\t\n "}, {"title": ["Title is required"]}),
    ("title-null", {"title": None}, {"title": ["Title is required"]}),
    ("title-201", {"title": "x" * 201}, {"title": ["Title must be 200 characters or less"]}),
    ("title-number", {"title": 5}, {"title": ["Title must be a string"]}),
    ("title-list", {"title": ["a"]}, {"title": ["Title must be a string"]}),
    ("type-unknown", {"title": "ok", "type": "feature"}, {"type": [TYPE_ERROR]}),
    ("type-case", {"title": "ok", "type": "IDEA"}, {"type": [TYPE_ERROR]}),
    ("type-empty", {"title": "ok", "type": ""}, {"type": [TYPE_ERROR]}),
    ("type-null", {"title": "ok", "type": None}, {"type": [TYPE_ERROR]}),
    ("type-number", {"title": "ok", "type": 1}, {"type": [TYPE_ERROR]}),
    ("spec-example", {"type": "feature"}, {"title": ["Title is required"], "type": [TYPE_ERROR]}),
    (
        "description-number",
        {"title": "ok", "description": 3},
        {"description": ["Description must be a string"]},
    ),
    (
        "description-object",
        {"title": "ok", "description": {"a": 1}},
        {"description": ["Description must be a string"]},
    ),
    (
        "description-too-long",
        {"title": "ok", "description": "d" * 10_001},
        {"description": ["Description must be 10000 characters or less"]},
    ),
    (
        "metadata-list",
        {"title": "ok", "metadata": [1, 2]},
        {"metadata": ["Metadata must be an object"]},
    ),
    (
        "metadata-string",
        {"title": "ok", "metadata": "page=/x"},
        {"metadata": ["Metadata must be an object"]},
    ),
    (
        "metadata-too-large",
        {"title": "ok", "metadata": {"blob": "m" * 16_400}},
        {"metadata": ["Metadata must be at most 16384 bytes"]},
    ),
    (
        "end-user-without-external-id",
        {"title": "ok", "endUser": {}},
        {"endUser": ["External ID is required"]},
    ),
    (
        "end-user-numeric-external-id",
        {"title": "ok", "endUser": {"externalId": 7}},
        {"endUser": ["External ID must be a string"]},
    ),
    (
        "end-user-bad-email",
        {"title": "ok", "endUser": {"externalId": "u", "email": "not-an-email"}},
        {"endUser": ["Invalid email"]},
    ),
    (
        "end-user-script-avatar",
        {"title": "ok", "endUser": {"externalId": "u", "avatarUrl": "javascript:alert(1)"}},
        {"endUser": ["Invalid URL"]},
    ),
    (
        "end-user-numeric-name",
        {"title": "ok", "endUser": {"externalId": "u", "name": 12}},
        {"endUser": ["Name must be a string"]},
    ),
    (
        "end-user-metadata-string",
        {"title": "ok", "endUser": {"externalId": "u", "metadata": "x"}},
        {"endUser": ["Metadata must be an object"]},
    ),
    (
        "everything-wrong",
        {"title": "", "type": "x", "description": 1, "metadata": 2},
        {
            "title": ["Title is required"],
            "type": [TYPE_ERROR],
            "description": ["Description must be a string"],
            "metadata": ["Metadata must be an object"],
        },
    ),
]


def test_submit_refuses_invalid_input_and_writes_nothing(client, boards_world, sql):
    new_feedback(client, boards_world.a, "Existing")
    before = database_rows(sql)

    answers = {}
    for name, body, _ in INVALID_SUBMISSIONS:
        response = submit(client, boards_world.a, body)
        answers[name] = (response.status_code, response.get_json())

    assert answers == {name: (400, invalid(errors)) for name, _, errors in INVALID_SUBMISSIONS}
    assert database_rows(sql) == before


@pytest.mark.parametrize("external_id", ["", "   ", "\t\n"])
def test_submit_refuses_a_blank_end_user_external_id(client, boards_world, sql, external_id):
    """The schema adds a not-blank check to ``externalId``, as it does to ``title``."""
    before = database_rows(sql)

    response = submit(
        client, boards_world.a, {"title": "ok", "endUser": {"externalId": external_id}}
    )

    assert_json(response, 400, invalid({"endUser": ["External ID is required"]}))
    assert database_rows(sql) == before


@pytest.mark.parametrize("end_user", ["user-123", ["user-123"], 5, True])
def test_submit_refuses_an_end_user_that_is_not_an_object(client, boards_world, sql, end_user):
    """The schema declares the message "End user must be an object" for this case."""
    before = database_rows(sql)

    response = submit(client, boards_world.a, {"title": "ok", "endUser": end_user})

    assert_json(response, 400, invalid({"endUser": ["End user must be an object"]}))
    assert database_rows(sql) == before


# --- GET /api/v1/feedback --------------------------------------------------------------------


def test_an_empty_board_lists_an_empty_page(client, boards_world):
    assert_json(
        list_page(client, boards_world.a),
        200,
        {"items": [], "total": 0, "page": 1, "limit": 20, "totalPages": 0},
    )


def test_list_items_are_the_submitted_feedback_newest_first(client, boards_world):
    a = boards_world.a
    first = new_feedback(client, a, "First", description="one", type="bug")
    second = new_feedback(
        client, a, "Second", endUser={"externalId": "u", "name": "Ann", "avatarUrl": None}
    )

    response = list_page(client, a)

    assert_json(
        response,
        200,
        {"items": [second, first], "total": 2, "page": 1, "limit": 20, "totalPages": 1},
    )
    assert list(response.get_json()) == ["items", "total", "page", "limit", "totalPages"]


def test_list_shows_only_the_keys_board(client, boards_world):
    mine = new_feedback(client, boards_world.a, "Mine")
    theirs = new_feedback(client, boards_world.b, "Theirs")

    assert listed_ids(client, boards_world.a) == [mine["id"]]
    assert listed_ids(client, boards_world.b) == [theirs["id"]]


def test_list_pages_through_the_board(client, boards_world):
    a = boards_world.a
    ids = [new_feedback(client, a, f"Item {n}")["id"] for n in range(5)]
    newest_first = ids[::-1]

    pages = [list_page(client, a, {"page": page, "limit": 2}) for page in (1, 2, 3, 4)]

    assert [r.status_code for r in pages] == [200] * 4
    assert [[item["id"] for item in r.get_json()["items"]] for r in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
        [],
    ]
    envelopes = [{k: v for k, v in r.get_json().items() if k != "items"} for r in pages]
    assert envelopes == [
        {"total": 5, "page": page, "limit": 2, "totalPages": 3} for page in (1, 2, 3, 4)
    ]


def test_a_limit_over_100_is_served_as_100(client, boards_world):
    a = boards_world.a
    for n in range(101):
        submitted(submit(client, a, {"title": f"Item {n}"}))

    response = list_page(client, a, {"limit": 500})

    assert response.status_code == 200
    body = response.get_json()
    assert len(body["items"]) == 100
    assert {k: v for k, v in body.items() if k != "items"} == {
        "total": 101,
        "page": 1,
        "limit": 100,
        "totalPages": 2,
    }
    second = list_page(client, a, {"limit": 500, "page": 2}).get_json()
    assert len(second["items"]) == 1
    assert {item["id"] for item in body["items"]}.isdisjoint({second["items"][0]["id"]})


def test_empty_query_parameters_count_as_absent(client, boards_world):
    a = boards_world.a
    ids = [new_feedback(client, a, f"Item {n}")["id"] for n in range(2)]

    response = client.get(
        "/api/v1/feedback?status=&type=&search=&sortBy=&page=&limit=", headers=a.headers
    )

    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == ids[::-1]
    assert {k: v for k, v in body.items() if k != "items"} == {
        "total": 2,
        "page": 1,
        "limit": 20,
        "totalPages": 1,
    }


def test_status_filter_takes_a_comma_list(client, boards_world, sql):
    a = boards_world.a
    ids = {}
    for status in ("new", "planned", "in-progress", "completed", "closed", "under-review"):
        ids[status] = new_feedback(client, a, f"Status {status}")["id"]
        if status != "new":
            set_status(client, sql, a, ids[status], status)

    assert listed_ids(client, a, {"status": "planned"}) == [ids["planned"]]
    assert listed_ids(client, a, {"status": "planned,in-progress"}) == [
        ids["in-progress"],
        ids["planned"],
    ]
    assert listed_ids(client, a, {"status": "new, closed"}) == [ids["closed"], ids["new"]]
    assert listed_ids(client, a, "status=completed&status=under-review") == [
        ids["under-review"],
        ids["completed"],
    ]
    response = list_page(client, a, {"status": "planned,in-progress"})
    assert response.get_json()["total"] == 2
    items = response.get_json()["items"]
    assert [item["status"] for item in items] == ["in-progress", "planned"]


def test_type_filter_takes_a_comma_list(client, boards_world):
    a = boards_world.a
    ids = {t: new_feedback(client, a, f"Type {t}", type=t)["id"] for t in ("bug", "idea")}
    ids["question"] = new_feedback(client, a, "Type question", type="question")["id"]
    ids["other"] = new_feedback(client, a, "Type other", type="other")["id"]

    assert listed_ids(client, a, {"type": "bug"}) == [ids["bug"]]
    assert listed_ids(client, a, {"type": "bug,question"}) == [ids["question"], ids["bug"]]
    assert listed_ids(client, a, {"type": "other,idea"}) == [ids["other"], ids["idea"]]
    assert list_page(client, a, {"type": "bug,question"}).get_json()["total"] == 2


def test_status_type_and_search_filters_combine(client, boards_world, sql):
    a = boards_world.a
    wanted = new_feedback(client, a, "Export to CSV", type="bug")["id"]
    set_status(client, sql, a, wanted, "planned")
    wrong_status = new_feedback(client, a, "Export to PDF", type="bug")["id"]
    wrong_type = new_feedback(client, a, "Export to XML", type="idea")["id"]
    set_status(client, sql, a, wrong_type, "planned")
    new_feedback(client, a, "Unrelated", type="bug")

    query = {"status": "planned", "type": "bug", "search": "export"}
    response = list_page(client, a, query)

    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["items"]] == [wanted]
    assert response.get_json()["total"] == 1
    assert listed_ids(client, a, {"search": "export", "type": "bug"}) == [wrong_status, wanted]


@pytest.fixture
def searchable(client: FlaskClient, boards_world: Boards) -> dict[str, str]:
    a = boards_world.a
    return {
        "dark": new_feedback(
            client,
            a,
            "Add Dark Mode",
            description="Night-time reading",
            metadata={"hidden": "metaword"},
            endUser={"externalId": "u1", "name": "Person Nameword"},
        )["id"],
        "export": new_feedback(client, a, "Export data", description="As CSV, please: ÉTÉ")["id"],
        "x": new_feedback(client, a, "x")["id"],
        "straße": new_feedback(client, a, "Straße names", description=None)["id"],
        "symbols": new_feedback(client, a, 'c++ (fast): 100% "quoted" a_b')["id"],
    }


SEARCHES = [
    ("title-exact-case", "Dark Mode", ["dark"]),
    ("title-lower", "dark mode", ["dark"]),
    ("title-upper", "DARK", ["dark"]),
    ("title-inner", "k mo", ["dark"]),
    ("description", "night-TIME", ["dark"]),
    ("description-punctuation", "csv, PLEASE", ["export"]),
    ("description-accented-lower", "été", ["export"]),
    ("description-accented-upper", "ÉTÉ", ["export"]),
    ("casefold", "STRASSE", ["straße"]),
    ("one-character", "X", ["x", "export"]),
    ("two-characters", "ta", ["export"]),
    ("two-characters-inner", "ar", ["dark"]),
    ("two-characters-description", "GH", ["dark"]),
    ("one-character-description", "é", ["export"]),
    ("plus-signs", "c++", ["symbols"]),
    ("parentheses-colon", "(fast):", ["symbols"]),
    ("percent", "100%", ["symbols"]),
    ("percent-alone", "%", ["symbols"]),
    ("underscore-alone", "_", ["symbols"]),
    ("underscore", "a_b", ["symbols"]),
    ("double-quotes", '"quoted"', ["symbols"]),
    ("double-quote-alone", '"', ["symbols"]),
    ("not-metadata", "metaword", []),
    ("not-end-user-name", "Nameword", []),
    ("not-type", "idea", []),
    ("not-status", "new", []),
    ("no-match", "nothing like it", []),
]


def test_search_matches_title_and_description_ignoring_case(client, boards_world, searchable):
    newest_first = list(searchable.values())[::-1]

    answers = {}
    expected = {}
    for case, search, names in SEARCHES:
        response = list_page(client, boards_world.a, {"search": search})
        body = response.get_json()
        answers[case] = (response.status_code, [i["id"] for i in body["items"]], body["total"])
        wanted = {searchable[name] for name in names}
        ordered = [public_id for public_id in newest_first if public_id in wanted]
        expected[case] = (200, ordered, len(names))

    assert answers == expected


def test_search_does_not_reach_another_board(client, boards_world):
    new_feedback(client, boards_world.b, "Dark mode elsewhere")
    mine = new_feedback(client, boards_world.a, "Dark mode here")

    for search in ("dark", "da"):
        response = list_page(client, boards_world.a, {"search": search})
        assert [item["id"] for item in response.get_json()["items"]] == [mine["id"]]
        assert response.get_json()["total"] == 1


def test_search_pages_report_the_total_of_all_matches(client, boards_world):
    a = boards_world.a
    matching = [new_feedback(client, a, f"Match {n}")["id"] for n in range(3)]
    new_feedback(client, a, "Other")

    for search in ("match", "ma"):
        response = list_page(client, a, {"search": search, "limit": 2, "page": 2})
        body = response.get_json()
        assert [item["id"] for item in body["items"]] == [matching[0]]
        assert {k: v for k, v in body.items() if k != "items"} == {
            "total": 3,
            "page": 2,
            "limit": 2,
            "totalPages": 2,
        }


@pytest.fixture
def ranked(client: FlaskClient, boards_world: Boards) -> dict[str, str]:
    """Four feedback (f1 oldest): votes 1, 3, 2, 3 and comments 2, 0, 2, 1."""
    a = boards_world.a
    ids = {name: new_feedback(client, a, name)["id"] for name in ("f1", "f2", "f3", "f4")}
    extra_votes = {"f2": 2, "f3": 1, "f4": 2}
    for name, count in extra_votes.items():
        for n in range(count):
            response = vote(client, a, ids[name], {}, address=f"10.0.0.{n + 1}")
            assert response.status_code == 200
    for name, count in {"f1": 2, "f3": 2, "f4": 1}.items():
        for n in range(count):
            assert comment(client, a, ids[name], {"content": f"c{n}"}).status_code == 201
    return ids


SORTS = {
    None: ["f4", "f3", "f2", "f1"],
    "newest": ["f4", "f3", "f2", "f1"],
    "oldest": ["f1", "f2", "f3", "f4"],
    # Ties are broken newest first.
    "votes": ["f4", "f2", "f3", "f1"],
    "comments": ["f3", "f1", "f4", "f2"],
}


def test_sort_orders(client, boards_world, ranked):
    answers = {}
    for sort_by in SORTS:
        response = list_page(client, boards_world.a, {} if sort_by is None else {"sortBy": sort_by})
        assert response.status_code == 200
        items = response.get_json()["items"]
        answers[sort_by] = [item["id"] for item in items]
        counts = {item["id"]: (item["voteCount"], item["commentCount"]) for item in items}
        assert counts == {
            ranked["f1"]: (1, 2),
            ranked["f2"]: (3, 0),
            ranked["f3"]: (2, 2),
            ranked["f4"]: (3, 1),
        }

    assert answers == {
        sort_by: [ranked[name] for name in order] for sort_by, order in SORTS.items()
    }


def test_sort_by_votes_pages_in_order(client, boards_world, ranked):
    pages = [
        listed_ids(client, boards_world.a, {"sortBy": "votes", "limit": 3, "page": page})
        for page in (1, 2)
    ]

    assert pages == [[ranked["f4"], ranked["f2"], ranked["f3"]], [ranked["f1"]]]


def test_sort_with_a_filter(client, boards_world, ranked):
    query = {"sortBy": "comments", "search": "f", "type": "idea", "status": "new"}

    assert listed_ids(client, boards_world.a, query) == [
        ranked[name] for name in ("f3", "f1", "f4", "f2")
    ]
    assert listed_ids(client, boards_world.a, {**query, "sortBy": "oldest"}) == [
        ranked[name] for name in ("f1", "f2", "f3", "f4")
    ]


INVALID_QUERIES = [
    ("status-unknown", {"status": "open"}, {"status": [STATUS_ERROR]}),
    ("status-one-bad", {"status": "new,bogus"}, {"status": [STATUS_ERROR]}),
    ("status-case", {"status": "NEW"}, {"status": [STATUS_ERROR]}),
    ("type-unknown", {"type": "feature"}, {"type": [TYPE_ERROR]}),
    ("type-one-bad", {"type": "bug,feature"}, {"type": [TYPE_ERROR]}),
    ("sort-unknown", {"sortBy": "popular"}, {"sortBy": [SORT_ERROR]}),
    ("sort-case", {"sortBy": "Votes"}, {"sortBy": [SORT_ERROR]}),
    ("page-zero", {"page": "0"}, {"page": [PAGE_RANGE]}),
    ("page-negative", {"page": "-1"}, {"page": [PAGE_RANGE]}),
    ("page-over-max", {"page": "1000000001"}, {"page": [PAGE_RANGE]}),
    ("page-text", {"page": "abc"}, {"page": [PAGE_INVALID]}),
    ("page-fraction", {"page": "1.5"}, {"page": [PAGE_INVALID]}),
    ("limit-zero", {"limit": "0"}, {"limit": [LIMIT_INVALID]}),
    ("limit-negative", {"limit": "-5"}, {"limit": [LIMIT_INVALID]}),
    ("limit-text", {"limit": "ten"}, {"limit": [LIMIT_INVALID]}),
    ("limit-exponent", {"limit": "1e3"}, {"limit": [LIMIT_INVALID]}),
    (
        "search-too-long",
        {"search": "s" * 201},
        {"search": ["Search must be 200 characters or less"]},
    ),
    (
        "all-wrong",
        {"status": "x", "type": "y", "sortBy": "z", "page": "0", "limit": "no"},
        {
            "status": [STATUS_ERROR],
            "type": [TYPE_ERROR],
            "sortBy": [SORT_ERROR],
            "page": [PAGE_RANGE],
            "limit": [LIMIT_INVALID],
        },
    ),
]


def test_list_refuses_invalid_query_parameters(client, boards_world):
    new_feedback(client, boards_world.a, "Existing")

    answers = {}
    for name, query, _ in INVALID_QUERIES:
        response = list_page(client, boards_world.a, query)
        answers[name] = (response.status_code, response.get_json())

    assert answers == {name: (400, invalid(errors)) for name, _, errors in INVALID_QUERIES}


def test_a_search_of_200_characters_is_accepted(client, boards_world):
    title = "s" * 200
    feedback = new_feedback(client, boards_world.a, title)

    assert listed_ids(client, boards_world.a, {"search": title}) == [feedback["id"]]


# --- GET /api/v1/feedback/<id> ---------------------------------------------------------------


def test_detail_is_the_list_item_with_vote_state_and_comments(client, boards_world, sql):
    a = boards_world.a
    feedback = new_feedback(
        client,
        a,
        "Add dark mode",
        description="Please",
        type="bug",
        endUser={"externalId": "user-1", "name": "Ann", "avatarUrl": "https://x.io/a.png"},
    )

    response = detail(client, a, feedback["id"], {"endUserId": "user-1"})

    assert_json(
        response,
        200,
        {
            "feedback": {
                **feedback,
                "userHasVoted": True,
                "comments": [],
            }
        },
    )
    assert list(response.get_json()["feedback"]) == [
        *ITEM_KEYS,
        "userHasVoted",
        "comments",
    ]


def test_user_has_voted_is_read_by_end_user_id(client, boards_world):
    a = boards_world.a
    feedback = new_feedback(client, a, "Voted on", endUser={"externalId": "author"})
    public_id = feedback["id"]
    assert vote(client, a, public_id, {"endUser": {"externalId": "fan"}}).status_code == 200
    assert vote(client, a, public_id, {"endUser": {"externalId": "fickle"}}).status_code == 200
    assert vote(client, a, public_id, {"endUser": {"externalId": "fickle"}}).status_code == 200

    def voted(end_user_id: str) -> tuple[int, bool, int]:
        response = detail(client, a, public_id, {"endUserId": end_user_id})
        body = response.get_json()["feedback"]
        return response.status_code, body["userHasVoted"], body["voteCount"]

    assert voted("author") == (200, True, 2)
    assert voted("fan") == (200, True, 2)
    assert voted("fickle") == (200, False, 2)
    assert voted("stranger") == (200, False, 2)


def test_user_has_voted_is_read_by_client_address_without_end_user_id(client, boards_world):
    a = boards_world.a
    public_id = new_feedback(client, a, "Anonymous", address="198.51.100.1")["id"]

    def voted(address: str, query: Any = None) -> bool:
        response = detail(client, a, public_id, query, address=address)
        assert response.status_code == 200
        return response.get_json()["feedback"]["userHasVoted"]

    assert voted("198.51.100.1") is True
    assert voted("198.51.100.2") is False
    # An end user id is checked as that end user, never as the client address.
    assert voted("198.51.100.1", {"endUserId": "someone"}) is False
    assert voted("198.51.100.1", {"endUserId": ""}) is True


def test_an_identified_submitters_vote_is_not_the_client_addresses(client, boards_world):
    a = boards_world.a
    public_id = new_feedback(client, a, "Identified", endUser={"externalId": "u1"})["id"]

    body = detail(client, a, public_id).get_json()["feedback"]

    assert (body["userHasVoted"], body["voteCount"]) == (False, 1)


def test_detail_shows_comments_oldest_first_with_their_authors(
    app: Flask, client, boards_world, sql
):
    a = boards_world.a
    feedback = new_feedback(client, a, "Discussed")
    public_id = feedback["id"]
    anonymous = comment(client, a, public_id, {"content": "First, anonymous"})
    with app.app_context():
        comments.add_team_comment(
            a.project_id, a.board_id, internal_id(sql, public_id), "From the team", "Product Team"
        )
    named = comment(
        client,
        a,
        public_id,
        {
            "content": "Third, named",
            "endUser": {
                "externalId": "jane",
                "name": "Jane Smith",
                "avatarUrl": "https://example.com/jane.jpg",
            },
        },
    )
    unnamed = comment(client, a, public_id, {"content": "Fourth", "endUser": {"externalId": "x"}})
    assert [r.status_code for r in (anonymous, named, unnamed)] == [201, 201, 201]

    response = detail(client, a, public_id)

    rows = sql(
        "SELECT public_id, created_at FROM comment WHERE feedback_id = ? ORDER BY id",
        (internal_id(sql, public_id),),
    )
    assert all(COMMENT_ID.match(row[0]) for row in rows)
    stamps = [wire_timestamp(row[1]) for row in rows]
    assert stamps == sorted(stamps)
    assert_json(
        response,
        200,
        {
            "feedback": {
                **feedback,
                "commentCount": 4,
                "userHasVoted": True,
                "comments": [
                    {
                        "id": rows[0][0],
                        "content": "First, anonymous",
                        "createdAt": stamps[0],
                        "author": None,
                    },
                    {
                        "id": rows[1][0],
                        "content": "From the team",
                        "createdAt": stamps[1],
                        "author": {"name": "Product Team", "isTeam": True},
                    },
                    {
                        "id": rows[2][0],
                        "content": "Third, named",
                        "createdAt": stamps[2],
                        "author": {
                            "name": "Jane Smith",
                            "avatarUrl": "https://example.com/jane.jpg",
                        },
                    },
                    {
                        "id": rows[3][0],
                        "content": "Fourth",
                        "createdAt": stamps[3],
                        "author": {"name": None, "avatarUrl": None},
                    },
                ],
            }
        },
    )
    assert [c["id"] for c in response.get_json()["feedback"]["comments"]] == [
        anonymous.get_json()["comment"]["id"],
        rows[1][0],
        named.get_json()["comment"]["id"],
        unnamed.get_json()["comment"]["id"],
    ]


def test_a_team_comment_counts_on_the_list(app: Flask, client, boards_world, sql):
    a = boards_world.a
    public_id = new_feedback(client, a, "Answered")["id"]
    with app.app_context():
        comments.add_team_comment(
            a.project_id, a.board_id, internal_id(sql, public_id), "Planned for Q2", "Team"
        )

    items = list_page(client, a).get_json()["items"]

    assert [(item["id"], item["commentCount"]) for item in items] == [(public_id, 1)]


def test_detail_of_an_unknown_id_is_404(client, boards_world):
    new_feedback(client, boards_world.a, "Existing")

    for public_id in ("fb_0000000000000000", "fb_unknown", "1", "cmt_0000000000000000"):
        assert_json(detail(client, boards_world.a, public_id), 404, {"error": "Feedback not found"})


def test_detail_of_another_boards_feedback_is_404(client, boards_world):
    theirs = new_feedback(client, boards_world.b, "Theirs")

    assert_json(detail(client, boards_world.a, theirs["id"]), 404, {"error": "Feedback not found"})
    assert detail(client, boards_world.b, theirs["id"]).status_code == 200


def test_detail_refuses_an_overlong_end_user_id(client, boards_world):
    public_id = new_feedback(client, boards_world.a, "Existing")["id"]

    response = detail(client, boards_world.a, public_id, {"endUserId": "e" * 256})

    assert_json(
        response, 400, invalid({"endUserId": ["End user ID must be 255 characters or less"]})
    )
