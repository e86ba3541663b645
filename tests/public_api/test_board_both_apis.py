"""A board is a channel: its feedback is served by the public API (public key, ``fb_`` ids) and
by the integration API (secret key, integer ids) at once, and each sees the other's writes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import make_issue
from tests.helpers import Sql, assert_empty, assert_json, bad_request, wire_timestamp
from tests.public_api.conftest import BoardWorld

FEEDBACK_ID = re.compile(r"^fb_[a-z0-9]{16}$")
TYPES = ("bug", "idea", "question", "other")
STATUSES = ("new", "under-review", "planned", "in-progress", "completed", "closed")


# --- helpers ---------------------------------------------------------------------------------


def secret(bw: BoardWorld) -> dict[str, str]:
    return {"x-api-key": bw.secret_key}


def feedbacks_url(bw: BoardWorld) -> str:
    return f"/api/projects/{bw.project_id}/channels/{bw.board_id}/feedbacks"


def feedback_url(bw: BoardWorld, feedback_id: int) -> str:
    return f"{feedbacks_url(bw)}/{feedback_id}"


def submit(client: FlaskClient, bw: BoardWorld, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/feedback", json=body, headers=bw.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["feedback"]


def push(client: FlaskClient, bw: BoardWorld, body: dict[str, Any]) -> int:
    """Create feedback through the integration API; its integer id."""
    response = client.post(feedbacks_url(bw), json=body, headers=secret(bw))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert list(body) == ["id"]
    return body["id"]


def internal_id(sql: Sql, public_id: str) -> int:
    return sql("SELECT id FROM feedback WHERE public_id = ?", (public_id,))[0][0]


def public_id_of(sql: Sql, feedback_id: int) -> str:
    return sql("SELECT public_id FROM feedback WHERE id = ?", (feedback_id,))[0][0]


def stamps(sql: Sql, feedback_id: int) -> tuple[str, str]:
    created, updated = sql(
        "SELECT created_at, updated_at FROM feedback WHERE id = ?", (feedback_id,)
    )[0]
    return wire_timestamp(created), wire_timestamp(updated)


def public_list(client: FlaskClient, bw: BoardWorld, query: Any = None) -> TestResponse:
    return client.get("/api/v1/feedback", query_string=query or {}, headers=bw.headers)


def public_detail(client: FlaskClient, bw: BoardWorld, public_id: str) -> TestResponse:
    return client.get(f"/api/v1/feedback/{public_id}", headers=bw.headers)


def integration_item(sql: Sql, feedback_id: int, values: dict[str, Any]) -> dict[str, Any]:
    created, updated = stamps(sql, feedback_id)
    return {**values, "id": feedback_id, "createdAt": created, "updatedAt": updated, "issues": []}


# --- public API -> integration API -----------------------------------------------------------


def test_feedback_submitted_publicly_is_read_by_the_integration_api(client, boards_world, sql):
    a = boards_world.a
    feedback = submit(
        client,
        a,
        {
            "title": "Add dark mode",
            "description": "Night-time reading",
            "type": "bug",
            "metadata": {"page": "/settings"},
            "endUser": {"externalId": "user-1", "name": "Ann"},
        },
    )
    feedback_id = internal_id(sql, feedback["id"])

    response = client.get(feedback_url(a, feedback_id), headers=secret(a))

    expected = integration_item(
        sql,
        feedback_id,
        {
            "title": "Add dark mode",
            "description": "Night-time reading",
            "type": "bug",
            "status": "new",
        },
    )
    assert_json(response, 200, expected)
    assert response.get_json()["createdAt"] == feedback["createdAt"]


def test_feedback_without_description_has_no_description_value(client, boards_world, sql):
    a = boards_world.a
    feedback = submit(client, a, {"title": "Only a title"})
    feedback_id = internal_id(sql, feedback["id"])

    response = client.get(feedback_url(a, feedback_id), headers=secret(a))

    assert_json(
        response,
        200,
        integration_item(
            sql, feedback_id, {"title": "Only a title", "type": "idea", "status": "new"}
        ),
    )


def test_the_integration_search_finds_publicly_submitted_feedback(client, boards_world, sql):
    a, b = boards_world.a, boards_world.b
    wanted = submit(client, a, {"title": "Export to CSV", "description": "Spreadsheets"})
    submit(client, a, {"title": "Unrelated"})
    submit(client, b, {"title": "Export elsewhere"})
    feedback_id = internal_id(sql, wanted["id"])
    item = integration_item(
        sql,
        feedback_id,
        {"title": "Export to CSV", "description": "Spreadsheets", "type": "idea", "status": "new"},
    )
    meta = {"itemCount": 1, "totalItems": 1, "itemsPerPage": 10, "currentPage": 1, "totalPages": 1}

    by_text = client.post(
        f"{feedbacks_url(a)}/search", json={"query": {"searchText": "export"}}, headers=secret(a)
    )
    by_field = client.post(
        f"{feedbacks_url(a)}/search", json={"query": {"title": "Export to"}}, headers=secret(a)
    )
    simple = client.get(
        feedbacks_url(a),
        query_string={"fieldKey": "description", "searchText": "spreadsheets"},
        headers=secret(a),
    )

    assert_json(by_text, 201, {"items": [item], "meta": meta})
    assert_json(by_field, 201, {"items": [item], "meta": meta})
    assert_json(simple, 200, {"items": [item], "meta": meta})


def test_the_integration_api_sees_public_votes_and_comments_only_as_counters(
    client, boards_world, sql
):
    """Votes and comments change the public counters, not the integration API's document."""
    a = boards_world.a
    feedback = submit(client, a, {"title": "Popular"})
    feedback_id = internal_id(sql, feedback["id"])
    before = client.get(feedback_url(a, feedback_id), headers=secret(a)).get_json()

    vote = client.post(
        f"/api/v1/feedback/{feedback['id']}/vote",
        json={"endUser": {"externalId": "fan"}},
        headers=a.headers,
    )
    comment = client.post(
        f"/api/v1/feedback/{feedback['id']}/comments", json={"content": "+1"}, headers=a.headers
    )

    assert_json(vote, 200, {"voted": True, "voteCount": 2})
    assert comment.status_code == 201
    assert_json(client.get(feedback_url(a, feedback_id), headers=secret(a)), 200, before)
    assert sql("SELECT vote_count, comment_count FROM feedback") == [(2, 1)]


# --- integration API -> public API -----------------------------------------------------------


def test_feedback_pushed_by_the_integration_api_is_a_new_idea_on_the_public_list(
    client, boards_world, sql
):
    a = boards_world.a

    feedback_id = push(client, a, {"title": "Pushed by the team"})

    public_id = public_id_of(sql, feedback_id)
    assert FEEDBACK_ID.match(public_id), public_id
    item = {
        "id": public_id,
        "title": "Pushed by the team",
        "description": None,
        "type": "idea",
        "status": "new",
        "voteCount": 0,
        "commentCount": 0,
        "createdAt": stamps(sql, feedback_id)[0],
        "endUser": None,
    }
    assert_json(
        public_list(client, a),
        200,
        {"items": [item], "total": 1, "page": 1, "limit": 20, "totalPages": 1},
    )
    assert_json(
        public_detail(client, a, public_id),
        200,
        {"feedback": {**item, "userHasVoted": False, "comments": []}},
    )
    assert json.loads(sql("SELECT data FROM feedback")[0][0]) == {
        "title": "Pushed by the team",
        "type": "idea",
        "status": "new",
    }
    assert sql("SELECT count(*) FROM vote") == [(0,)]


def test_pushed_feedback_can_be_voted_on_and_commented(client, boards_world, sql):
    a = boards_world.a
    feedback_id = push(client, a, {"title": "Vote for me"})
    public_id = public_id_of(sql, feedback_id)

    first = client.post(
        f"/api/v1/feedback/{public_id}/vote",
        json={"endUser": {"externalId": "fan"}},
        headers=a.headers,
    )
    anonymous = client.post(f"/api/v1/feedback/{public_id}/vote", json={}, headers=a.headers)
    comment = client.post(
        f"/api/v1/feedback/{public_id}/comments", json={"content": "Yes!"}, headers=a.headers
    )

    assert_json(first, 200, {"voted": True, "voteCount": 1})
    assert_json(anonymous, 200, {"voted": True, "voteCount": 2})
    assert comment.status_code == 201
    fan = sql("SELECT id FROM end_user WHERE external_id = 'fan'")[0][0]
    votes = sql("SELECT feedback_id, voter_key, end_user_id FROM vote ORDER BY id")
    assert [row[0] for row in votes] == [feedback_id, feedback_id]
    assert votes[0][1:] == (f"u{fan}", fan)
    assert votes[1][1].startswith("a")
    assert votes[1][2] is None
    item = public_list(client, a).get_json()["items"][0]
    assert (item["voteCount"], item["commentCount"]) == (2, 1)
    shown = client.get(
        f"/api/v1/feedback/{public_id}", query_string={"endUserId": "fan"}, headers=a.headers
    )
    assert shown.get_json()["feedback"]["userHasVoted"] is True


def test_pushed_feedback_keeps_the_type_and_status_it_was_given(client, boards_world, sql):
    a = boards_world.a
    planned = push(client, a, {"title": "Planned bug", "type": "bug", "status": "planned"})
    push(client, a, {"title": "Plain"})

    response = public_list(client, a, {"status": "planned", "type": "bug"})

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(i["id"], i["type"], i["status"]) for i in items] == [
        (public_id_of(sql, planned), "bug", "planned")
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"title": "x", "type": "feature"},
            'invalid value: (value: "feature", type: select, fieldKey: type)',
        ),
        (
            {"title": "x", "status": "Planned"},
            'invalid value: (value: "Planned", type: select, fieldKey: status)',
        ),
    ],
)
def test_pushing_a_type_or_status_the_board_does_not_have_is_refused(
    client, boards_world, sql, body, message
):
    a = boards_world.a

    response = client.post(feedbacks_url(a), json=body, headers=secret(a))

    assert_json(response, 400, bad_request(feedbacks_url(a), message))
    assert sql("SELECT count(*) FROM feedback") == [(0,)]


def test_pushed_feedback_is_found_by_the_public_search(client, boards_world, sql):
    a = boards_world.a
    feedback_id = push(client, a, {"title": "Keyboard shortcuts", "description": "Vim keys"})
    public_id = public_id_of(sql, feedback_id)
    push(client, a, {"title": "Other"})

    for search in ("keyboard", "VIM KEYS", "ey", "V"):
        response = public_list(client, a, {"search": search})
        assert [item["id"] for item in response.get_json()["items"]] == [public_id], search


def test_a_status_set_by_the_team_shows_on_the_public_api(client, boards_world, sql):
    a = boards_world.a
    feedback = submit(client, a, {"title": "Ship it"})
    feedback_id = internal_id(sql, feedback["id"])

    updated = client.put(
        feedback_url(a, feedback_id), json={"status": "in-progress"}, headers=secret(a)
    )

    assert_empty(updated)
    shown = public_detail(client, a, feedback["id"]).get_json()["feedback"]
    assert (shown["status"], shown["type"], shown["title"]) == ("in-progress", "idea", "Ship it")
    assert [
        i["id"] for i in public_list(client, a, {"status": "in-progress"}).get_json()["items"]
    ] == [feedback["id"]]
    assert public_list(client, a, {"status": "new"}).get_json()["total"] == 0


def test_a_title_changed_by_the_team_is_what_the_public_search_finds(client, boards_world, sql):
    a = boards_world.a
    feedback = submit(client, a, {"title": "Colour themes"})
    feedback_id = internal_id(sql, feedback["id"])

    updated = client.put(
        feedback_url(a, feedback_id), json={"title": "Appearance settings"}, headers=secret(a)
    )

    assert_empty(updated)
    for search, expected in (
        ("appearance", [feedback["id"]]),
        ("ap", [feedback["id"]]),
        ("colour", []),
        ("co", []),
    ):
        body = public_list(client, a, {"search": search}).get_json()
        assert ([item["id"] for item in body["items"]], body["total"]) == (
            expected,
            len(expected),
        ), search
    shown = public_detail(client, a, feedback["id"]).get_json()["feedback"]
    assert shown["title"] == "Appearance settings"


@pytest.mark.parametrize(
    "change", [{"type": "feature-request"}, {"status": "Done!"}], ids=["type", "status"]
)
def test_the_public_api_never_serves_a_type_or_status_outside_its_values(
    client, boards_world, sql, change
):
    """The public API documents four types and six statuses; an integration update may not
    put another value on a board's feedback (it is refused, or at least never served)."""
    a = boards_world.a
    feedback = submit(client, a, {"title": "Constrained"})
    feedback_id = internal_id(sql, feedback["id"])

    client.put(feedback_url(a, feedback_id), json=change, headers=secret(a))

    shown = public_detail(client, a, feedback["id"]).get_json()["feedback"]
    assert shown["type"] in TYPES
    assert shown["status"] in STATUSES


def test_values_the_team_clears_are_served_as_null_as_the_document_says(client, boards_world, sql):
    a = boards_world.a
    feedback = submit(client, a, {"title": "Cleared"})
    cleared = {"type": None, "status": None}

    updated = client.put(
        feedback_url(a, internal_id(sql, feedback["id"])), json=cleared, headers=secret(a)
    )

    assert_empty(updated)
    shown = public_detail(client, a, feedback["id"]).get_json()["feedback"]
    assert {key: shown[key] for key in cleared} == cleared
    [listed] = public_list(client, a, {}).get_json()["items"]
    assert {key: listed[key] for key in cleared} == cleared
    item = client.get("/openapi.json").get_json()["components"]["schemas"]["FeedbackItemOut"]
    assert {key: item["properties"][key] for key in cleared} == {
        key: {"type": "string", "nullable": True} for key in cleared
    }


# --- issues ----------------------------------------------------------------------------------


def test_linking_an_issue_works_on_board_feedback(app: Flask, client, boards_world, sql):
    a = boards_world.a
    issue_id = make_issue(app, a.project_id, "Dark mode epic")
    feedback = submit(client, a, {"title": "Dark mode"})
    feedback_id = internal_id(sql, feedback["id"])
    public_before = public_detail(client, a, feedback["id"]).get_json()

    linked = client.post(f"{feedback_url(a, feedback_id)}/issue/{issue_id}", headers=secret(a))

    assert_empty(linked, 201)
    issue = sql(
        "SELECT created_at, updated_at, description, external_issue_id, feedback_count"
        " FROM issue WHERE id = ?",
        (issue_id,),
    )[0]
    assert issue[4] == 1
    created, updated = stamps(sql, feedback_id)
    assert_json(
        client.get(feedback_url(a, feedback_id), headers=secret(a)),
        200,
        {
            "title": "Dark mode",
            "type": "idea",
            "status": "new",
            "id": feedback_id,
            "createdAt": created,
            "updatedAt": updated,
            "issues": [
                {
                    "id": issue_id,
                    "createdAt": wire_timestamp(issue[0]),
                    "updatedAt": wire_timestamp(issue[1]),
                    "deletedAt": None,
                    "name": "Dark mode epic",
                    "description": issue[2],
                    "status": "INIT",
                    "externalIssueId": issue[3],
                    "feedbackCount": 1,
                }
            ],
        },
    )
    found = client.get(
        feedbacks_url(a), query_string={"issueName": "Dark mode epic"}, headers=secret(a)
    )
    assert found.status_code == 200
    assert [item["id"] for item in found.get_json()["items"]] == [feedback_id]
    # The public API's view of the feedback is unchanged by the link.
    assert_json(public_detail(client, a, feedback["id"]), 200, public_before)


def test_unlinking_an_issue_from_board_feedback(app: Flask, client, boards_world, sql):
    a = boards_world.a
    issue_id = make_issue(app, a.project_id, "Epic")
    feedback_id = internal_id(sql, submit(client, a, {"title": "Linked"})["id"])
    link = f"{feedback_url(a, feedback_id)}/issue/{issue_id}"
    assert_empty(client.post(link, headers=secret(a)), 201)

    assert_empty(client.delete(link, headers=secret(a)))

    assert sql("SELECT feedback_count FROM issue WHERE id = ?", (issue_id,)) == [(0,)]
    assert sql("SELECT count(*) FROM feedback_issue") == [(0,)]


# --- deleting --------------------------------------------------------------------------------


def test_deleting_through_the_integration_api_removes_it_from_the_public_api(
    app: Flask, client, boards_world, sql
):
    a = boards_world.a
    doomed = submit(client, a, {"title": "Doomed", "endUser": {"externalId": "author"}})
    kept = submit(client, a, {"title": "Kept"})
    issue_id = make_issue(app, a.project_id, "Epic")
    doomed_id, kept_id = internal_id(sql, doomed["id"]), internal_id(sql, kept["id"])
    for public_id in (doomed["id"], kept["id"]):
        assert (
            client.post(
                f"/api/v1/feedback/{public_id}/comments",
                json={"content": "A comment", "endUser": {"externalId": "commenter"}},
                headers=a.headers,
            ).status_code
            == 201
        )
        assert (
            client.post(
                f"/api/v1/feedback/{public_id}/vote",
                json={"endUser": {"externalId": "voter"}},
                headers=a.headers,
            ).status_code
            == 200
        )
    assert_empty(
        client.post(f"{feedback_url(a, doomed_id)}/issue/{issue_id}", headers=secret(a)), 201
    )
    kept_votes = sql("SELECT * FROM vote WHERE feedback_id = ? ORDER BY id", (kept_id,))
    kept_comments = sql("SELECT * FROM comment WHERE feedback_id = ? ORDER BY id", (kept_id,))
    end_users = sql("SELECT * FROM end_user ORDER BY id")

    deleted = client.delete(feedbacks_url(a), json={"feedbackIds": [doomed_id]}, headers=secret(a))

    assert_empty(deleted)
    assert_json(public_detail(client, a, doomed["id"]), 404, {"error": "Feedback not found"})
    for path, body in (
        (f"/api/v1/feedback/{doomed['id']}/vote", {}),
        (f"/api/v1/feedback/{doomed['id']}/comments", {"content": "Too late"}),
    ):
        assert_json(
            client.post(path, json=body, headers=a.headers), 404, {"error": "Feedback not found"}
        )
    listed = public_list(client, a).get_json()
    assert [item["id"] for item in listed["items"]] == [kept["id"]]
    assert listed["total"] == 1
    for search in ("doomed", "do"):
        found = public_list(client, a, {"search": search}).get_json()
        assert (found["items"], found["total"]) == ([], 0), search
    assert public_list(client, a, {"sortBy": "votes"}).get_json()["total"] == 1
    url = feedback_url(a, doomed_id)
    assert_json(client.get(url, headers=secret(a)), 400, bad_request(url, "unknown id"))
    # Its votes, comments and issue link went with it; the other feedback's stayed.
    assert sql("SELECT * FROM vote ORDER BY id") == kept_votes
    assert sql("SELECT * FROM comment ORDER BY id") == kept_comments
    assert sql("SELECT count(*) FROM feedback_issue") == [(0,)]
    assert sql("SELECT feedback_count FROM issue WHERE id = ?", (issue_id,)) == [(0,)]
    assert sql("SELECT feedback_count FROM channel WHERE id = ?", (a.board_id,)) == [(1,)]
    # End users are people, not feedback: they stay.
    assert sql("SELECT * FROM end_user ORDER BY id") == end_users


def test_deleting_another_boards_feedback_through_the_integration_api_does_nothing(
    client, boards_world, sql
):
    a, b = boards_world.a, boards_world.b
    theirs = submit(client, b, {"title": "Theirs"})
    theirs_id = internal_id(sql, theirs["id"])

    response = client.delete(feedbacks_url(a), json={"feedbackIds": [theirs_id]}, headers=secret(a))

    assert_empty(response)
    assert public_detail(client, b, theirs["id"]).status_code == 200
    assert sql("SELECT count(*) FROM feedback") == [(1,)]
