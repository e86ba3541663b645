"""Integration API feedback routes: create, get, update, delete many, link and unlink issues.

The contract is the reference server's wire format (exact status codes and bodies); every
rejected request must leave the database as it was.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import ProjectWorld, World, make_channel, make_feedback, make_issue
from tests.helpers import Sql, assert_empty, assert_json, bad_request

FUTURE = "2999-01-01 00:00:00.000000"
ALLOWED_HOST = "cdn.example.com"


# --- helpers ---------------------------------------------------------------------------------


def feedbacks_url(pw: ProjectWorld, channel_id: int | None = None) -> str:
    return f"{pw.base}/channels/{channel_id or pw.channel_id}/feedbacks"


def feedback_url(pw: ProjectWorld, feedback_id: int) -> str:
    return f"{feedbacks_url(pw)}/{feedback_id}"


def issue_link_url(pw: ProjectWorld, feedback_id: int, issue_id: int) -> str:
    return f"{feedback_url(pw, feedback_id)}/issue/{issue_id}"


def channel_not_found(path: str) -> dict[str, Any]:
    return {
        "code": "ChannelNotFound",
        "message": "channel is not found",
        "statusCode": 400,
        "path": path,
    }


def create(
    client: FlaskClient, pw: ProjectWorld, body: Any, url: str | None = None
) -> TestResponse:
    return client.post(url or feedbacks_url(pw), json=body, headers=pw.headers)


def post_raw(client: FlaskClient, pw: ProjectWorld, text: str) -> TestResponse:
    return client.post(
        feedbacks_url(pw), data=text, content_type="application/json", headers=pw.headers
    )


def update(client: FlaskClient, pw: ProjectWorld, feedback_id: int, body: Any) -> TestResponse:
    return client.put(feedback_url(pw, feedback_id), json=body, headers=pw.headers)


def delete_many(client: FlaskClient, pw: ProjectWorld, body: Any) -> TestResponse:
    return client.delete(feedbacks_url(pw), json=body, headers=pw.headers)


def stored_data(sql: Sql, feedback_id: int) -> dict[str, Any] | None:
    rows = sql("SELECT data FROM feedback WHERE id = ?", (feedback_id,))
    return json.loads(rows[0][0]) if rows else None


def feedback_ids(sql: Sql) -> list[int]:
    return [row[0] for row in sql("SELECT id FROM feedback ORDER BY id")]


def linked_issue_ids(sql: Sql, feedback_id: int) -> list[int]:
    rows = sql(
        "SELECT issue_id FROM feedback_issue WHERE feedback_id = ? ORDER BY issue_id",
        (feedback_id,),
    )
    return [row[0] for row in rows]


def issue_feedback_count(sql: Sql, issue_id: int) -> int:
    return sql("SELECT feedback_count FROM issue WHERE id = ?", (issue_id,))[0][0]


def updated_at(sql: Sql, feedback_id: int) -> str:
    return sql("SELECT updated_at FROM feedback WHERE id = ?", (feedback_id,))[0][0]


def snapshot(sql: Sql) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a feedback route may write, to prove a rejected request wrote nothing."""
    tables = ("feedback", "feedback_issue", "issue", "option", "field")
    return {table: sql(f"SELECT * FROM {table} ORDER BY 1, 2") for table in tables}


def iso(stored: str) -> str:
    """A stored UTC timestamp as the wire shows it: ISO 8601 with milliseconds and ``Z``."""
    return datetime.fromisoformat(stored).isoformat(timespec="milliseconds") + "Z"


def last_id(sql: Sql, table: str) -> int:
    return sql(f"SELECT max(id) FROM {table}")[0][0]


@pytest.fixture
def image_channel(app: Flask, world: World) -> int:
    return make_channel(app, world.a.project_id, name="images", image_domains=(ALLOWED_HOST,))


@pytest.fixture
def second_channel(app: Flask, world: World) -> int:
    return make_channel(app, world.a.project_id, name="second")


# --- create ----------------------------------------------------------------------------------


def test_create_answers_201_with_the_new_id_and_stores_every_value(client, world, sql):
    body = {
        "message": "the page is slow",
        "label": "perf",
        "score": 4,
        "kind": "bug",
        "tags": ["ui", "api"],
        "seen_at": "2024-01-01",
        "shots": ["https://img.example.com/a.png"],
    }

    response = create(client, world.a, body)

    new_id = last_id(sql, "feedback")
    assert_json(response, 201, {"id": new_id})
    assert new_id not in world.a.feedback_ids + world.b.feedback_ids
    assert sql("SELECT channel_id FROM feedback WHERE id = ?", (new_id,)) == [(world.a.channel_id,)]
    assert stored_data(sql, new_id) == {**body, "seen_at": "2024-01-01T00:00:00.000Z"}


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("score", 0, 0),
        ("score", -12, -12),
        ("score", 1.5, 1.5),
        ("score", 2**63 - 1, 2**63 - 1),
        ("score", -(2**63), -(2**63)),
        ("message", "", ""),
        ("message", "unicode ü ✓", "unicode ü ✓"),
        ("label", "some-keyword", "some-keyword"),
        ("kind", None, None),
        ("kind", "idea", "idea"),
        ("tags", [], []),
        ("tags", ["docs", "ui"], ["docs", "ui"]),
        ("seen_at", None, None),
        ("seen_at", "2024-01-01", "2024-01-01T00:00:00.000Z"),
        ("seen_at", "2024-01-01T09:30:00+09:00", "2024-01-01T00:30:00.000Z"),
        ("seen_at", "2024-06-30T12:34:56.789Z", "2024-06-30T12:34:56.789Z"),
        ("seen_at", "2024-06-30T12:34:56.789654Z", "2024-06-30T12:34:56.789Z"),
        ("seen_at", "Mon, 01 Jan 2024 10:00:00 GMT", "2024-01-01T10:00:00.000Z"),
        ("seen_at", "0999-12-31T23:59:59Z", "0999-12-31T23:59:59.000Z"),
        ("shots", [], []),
        (
            "shots",
            ["https://a.example/x.png", "relative/path.png"],
            ["https://a.example/x.png", "relative/path.png"],
        ),
    ],
)
def test_create_accepts_a_valid_value_and_stores_it_normalised(
    client, world, sql, key, value, stored
):
    response = create(client, world.a, {key: value})

    assert response.status_code == 201
    assert stored_data(sql, response.get_json()["id"]) == {key: stored}


@pytest.mark.parametrize(
    ("key", "value", "rendered", "format_"),
    [
        ("score", "1", '"1"', "number"),
        ("score", True, "true", "number"),
        ("score", False, "false", "number"),
        ("score", None, "null", "number"),
        ("score", [1], "[1]", "number"),
        ("score", 2**63, "9223372036854775808", "number"),
        ("score", -(2**63) - 1, "-9223372036854775809", "number"),
        ("message", 123, "123", "text"),
        ("message", None, "null", "text"),
        ("message", ["a"], '["a"]', "text"),
        ("message", {"a": 1}, '{"a":1}', "text"),
        ("label", 5, "5", "keyword"),
        ("label", False, "false", "keyword"),
        ("kind", "nope", '"nope"', "select"),
        ("kind", "", '""', "select"),
        ("kind", "Bug", '"Bug"', "select"),
        ("kind", 1, "1", "select"),
        ("kind", ["bug"], '["bug"]', "select"),
        ("tags", "ui", '"ui"', "multiSelect"),
        ("tags", None, "null", "multiSelect"),
        ("tags", ["ui", "nope"], '["ui","nope"]', "multiSelect"),
        ("tags", [1], "[1]", "multiSelect"),
        ("seen_at", 20240101, "20240101", "date"),
        ("seen_at", "not a date", '"not a date"', "date"),
        ("seen_at", "", '""', "date"),
        ("seen_at", "2024-13-01", '"2024-13-01"', "date"),
        ("seen_at", True, "true", "date"),
        ("seen_at", ["2024-01-01"], '["2024-01-01"]', "date"),
        ("shots", "https://a.example/x.png", '"https://a.example/x.png"', "images"),
        ("shots", None, "null", "images"),
        ("shots", [1], "[1]", "images"),
        ("shots", {"0": "x"}, '{"0":"x"}', "images"),
    ],
)
def test_create_rejects_a_value_that_breaks_its_format_rule(
    client, world, sql, key, value, rendered, format_
):
    before = snapshot(sql)

    response = create(client, world.a, {"message": "kept out", key: value})

    message = f"invalid value: (value: {rendered}, type: {format_}, fieldKey: {key})"
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_create_refuses_non_finite_literals_as_invalid_json(client, world, sql, literal):
    before = snapshot(sql)

    response = post_raw(client, world.a, f'{{"score": {literal}}}')

    message = "Body is not valid JSON but content-type is set to 'application/json'"
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


def test_create_refuses_a_number_too_large_for_a_double(client, world, sql):
    before = snapshot(sql)

    # Python reads 1e400 as infinity; it must never be stored.
    response = post_raw(client, world.a, '{"score": 1e400}')

    message = "Body is not valid JSON but content-type is set to 'application/json'"
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


@pytest.mark.parametrize("key", ["id", "ids", "issues", "issueIds", "updatedAt"])
def test_create_refuses_a_reserved_key(client, world, sql, key):
    before = snapshot(sql)

    response = create(client, world.a, {"message": "x", key: [1]})

    message = f"reserved field key is unavailable: {key}"
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


def test_create_refuses_an_unknown_field_key(client, world, sql):
    before = snapshot(sql)

    response = create(client, world.a, {"message": "x", "nope": "y"})

    assert_json(response, 400, bad_request(feedbacks_url(world.a), "invalid field key: nope"))
    assert snapshot(sql) == before


@pytest.mark.parametrize("issue_names", ["alpha issue 1", {"name": "alpha issue 1"}, 7])
def test_create_refuses_issue_names_that_are_not_an_array(client, world, sql, issue_names):
    before = snapshot(sql)

    # issueNames is checked before the other keys, as in the reference server.
    response = create(client, world.a, {"nope": 1, "issueNames": issue_names})

    assert_json(response, 400, bad_request(feedbacks_url(world.a), "issueNames must be array"))
    assert snapshot(sql) == before


def test_issue_names_create_missing_issues_in_this_project_with_status_init(client, world, sql):
    response = create(client, world.a, {"message": "x", "issueNames": ["brand new"]})

    assert response.status_code == 201
    rows = sql("SELECT id, project_id, status, feedback_count FROM issue WHERE name = 'brand new'")
    assert [row[1:] for row in rows] == [(world.a.project_id, "INIT", 1)]
    assert linked_issue_ids(sql, response.get_json()["id"]) == [rows[0][0]]


def test_issue_names_link_existing_issues_and_count_them(client, world, sql):
    first, second = world.a.issue_ids
    issues_before = sql("SELECT count(*) FROM issue")

    response = create(client, world.a, {"issueNames": ["alpha issue 2", "alpha issue 1"]})

    assert response.status_code == 201
    assert linked_issue_ids(sql, response.get_json()["id"]) == [first, second]
    assert (issue_feedback_count(sql, first), issue_feedback_count(sql, second)) == (1, 1)
    assert sql("SELECT count(*) FROM issue") == issues_before


def test_issue_names_listed_twice_are_linked_and_counted_once(client, world, sql):
    issue_id = world.a.issue_ids[0]
    names = ["alpha issue 1", "fresh", "alpha issue 1", "fresh"]

    response = create(client, world.a, {"issueNames": names})

    feedback_id = response.get_json()["id"]
    fresh = sql("SELECT id, feedback_count FROM issue WHERE name = 'fresh'")
    assert len(fresh) == 1
    assert linked_issue_ids(sql, feedback_id) == [issue_id, fresh[0][0]]
    assert (issue_feedback_count(sql, issue_id), fresh[0][1]) == (1, 1)


def test_issue_names_never_link_an_issue_of_another_project(app, client, world, sql):
    foreign = make_issue(app, world.b.project_id, "shared name")
    project_b_rows = sql("SELECT * FROM issue WHERE project_id = ?", (world.b.project_id,))

    response = create(client, world.a, {"issueNames": ["shared name"]})

    own = sql(
        "SELECT id FROM issue WHERE name = 'shared name' AND project_id = ?",
        (world.a.project_id,),
    )
    assert len(own) == 1
    assert linked_issue_ids(sql, response.get_json()["id"]) == [own[0][0]]
    assert sql("SELECT count(*) FROM feedback_issue WHERE issue_id = ?", (foreign,)) == [(0,)]
    assert sql("SELECT * FROM issue WHERE project_id = ?", (world.b.project_id,)) == project_b_rows


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("2020-05-01T10:00:00Z", "2020-05-01T10:00:00.000Z"),
        ("2020-05-01T19:00:00.25+09:00", "2020-05-01T10:00:00.250Z"),
        ("0999-12-31T23:59:59Z", "0999-12-31T23:59:59.000Z"),
    ],
)
def test_create_backdates_the_feedback_with_created_at(client, world, sql, sent, shown):
    response = create(client, world.a, {"message": "old", "createdAt": sent})

    feedback_id = response.get_json()["id"]
    created, updated = sql(
        "SELECT created_at, updated_at FROM feedback WHERE id = ?", (feedback_id,)
    )[0]
    assert iso(created) == shown
    assert updated > "2024"
    assert stored_data(sql, feedback_id) == {"message": "old"}
    body = client.get(feedback_url(world.a, feedback_id), headers=world.a.headers).get_json()
    assert (body["createdAt"], body["updatedAt"]) == (shown, iso(updated))


def test_create_with_an_empty_object_stores_an_empty_feedback(client, world, sql):
    response = create(client, world.a, {})

    assert response.status_code == 201
    assert stored_data(sql, response.get_json()["id"]) == {}


def test_create_accepts_a_read_only_field_as_the_reference_does(client, world, sql):
    response = create(client, world.a, {"source": "sdk"})

    assert response.status_code == 201
    assert stored_data(sql, response.get_json()["id"]) == {"source": "sdk"}


@pytest.mark.parametrize(
    "urls",
    [
        [f"https://{ALLOWED_HOST}/a.png"],
        [f"https://{ALLOWED_HOST.upper()}/a.png", f"http://{ALLOWED_HOST}:8080/b.png?x=1"],
    ],
)
def test_image_whitelist_accepts_links_to_an_allowed_host(client, world, sql, image_channel, urls):
    response = create(client, world.a, {"shots": urls}, feedbacks_url(world.a, image_channel))

    assert response.status_code == 201
    assert stored_data(sql, response.get_json()["id"]) == {"shots": urls}


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://evil.net/a.png", "evil.net"),
        (f"https://{ALLOWED_HOST}.evil.net/a.png", f"{ALLOWED_HOST}.evil.net"),
        (f"https://evil.net\\@{ALLOWED_HOST}/a.png", "evil.net"),
        (f"https://{ALLOWED_HOST}@evil.net/a.png", "evil.net"),
    ],
)
def test_image_whitelist_refuses_links_to_other_hosts(client, world, sql, image_channel, url, host):
    before = snapshot(sql)
    url_path = feedbacks_url(world.a, image_channel)
    urls = [f"https://{ALLOWED_HOST}/ok.png", url]

    response = create(client, world.a, {"shots": urls}, url_path)

    message = f"invalid domain in image link: {host} (fieldKey: shots)"
    assert_json(response, 400, bad_request(url_path, message))
    assert snapshot(sql) == before


@pytest.mark.parametrize("link", ["not a url", "", "https://"])
def test_image_whitelist_refuses_a_non_url_with_400(client, world, sql, image_channel, link):
    before = snapshot(sql)
    url_path = feedbacks_url(world.a, image_channel)

    response = create(client, world.a, {"shots": [link]}, url_path)

    message = f"invalid image link: {link} (fieldKey: shots)"
    assert_json(response, 400, bad_request(url_path, message))
    assert snapshot(sql) == before


def test_create_refuses_a_body_that_is_a_json_array(client, world, sql):
    before = snapshot(sql)

    response = create(client, world.a, [{"message": "x"}])

    message = "body must be a JSON object of field values"
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


def test_create_in_a_channel_of_another_project_is_channel_not_found(client, world, sql):
    before = snapshot(sql)
    url = feedbacks_url(world.a, world.b.channel_id)

    response = create(client, world.a, {"message": "x"}, url)

    assert_json(response, 400, channel_not_found(url))
    assert snapshot(sql) == before


def test_create_through_the_legacy_admin_path(client, world, sql):
    url = f"/api/admin/projects/{world.a.project_id}/channels/{world.a.channel_id}/feedbacks"

    response = create(client, world.a, {"message": "legacy"}, url)

    new_id = last_id(sql, "feedback")
    assert_json(response, 201, {"id": new_id})
    assert sql("SELECT channel_id FROM feedback WHERE id = ?", (new_id,)) == [(world.a.channel_id,)]
    assert stored_data(sql, new_id) == {"message": "legacy"}


# --- get one ---------------------------------------------------------------------------------


def test_get_lists_values_then_id_timestamps_and_issues(app, client, world, sql):
    issue_id = world.a.issue_ids[1]
    feedback_id = make_feedback(
        app,
        world.a.project_id,
        world.a.channel_id,
        {"kind": "bug", "message": "hello", "issueNames": ["alpha issue 2"]},
    )
    created, updated = sql(
        "SELECT created_at, updated_at FROM feedback WHERE id = ?", (feedback_id,)
    )[0]
    issue = sql(
        "SELECT id, created_at, updated_at, name, description, status, external_issue_id,"
        " feedback_count FROM issue WHERE id = ?",
        (issue_id,),
    )[0]

    response = client.get(feedback_url(world.a, feedback_id), headers=world.a.headers)

    expected_issue = {
        "id": issue_id,
        "createdAt": iso(issue[1]),
        "updatedAt": iso(issue[2]),
        "deletedAt": None,
        "name": "alpha issue 2",
        "description": issue[4],
        "status": "INIT",
        "externalIssueId": issue[6],
        "feedbackCount": 1,
    }
    assert_json(
        response,
        200,
        {
            "kind": "bug",
            "message": "hello",
            "id": feedback_id,
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "issues": [expected_issue],
        },
    )
    body = response.get_json()
    assert list(body) == ["kind", "message", "id", "createdAt", "updatedAt", "issues"]
    assert list(body["issues"][0]) == list(expected_issue)


def test_get_a_missing_feedback_is_unknown_id(client, world, sql):
    missing = last_id(sql, "feedback") + 1
    url = feedback_url(world.a, missing)

    response = client.get(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))


def test_get_a_feedback_of_another_project_is_unknown_id(client, world):
    url = feedback_url(world.a, world.b.feedback_ids[0])

    response = client.get(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))


def test_get_a_feedback_of_another_channel_is_unknown_id(app, client, world, second_channel):
    elsewhere = make_feedback(app, world.a.project_id, second_channel, {"message": "x"})
    url = feedback_url(world.a, elsewhere)

    response = client.get(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))


# --- update ----------------------------------------------------------------------------------


def test_update_answers_200_with_an_empty_body_and_merges_values(client, world, sql):
    feedback_id = world.a.feedback_ids[0]

    response = update(
        client, world.a, feedback_id, {"label": "new", "score": 3, "seen_at": "2024-02-03"}
    )

    assert_empty(response, 200)
    assert stored_data(sql, feedback_id) == {
        "message": "alpha feedback 1",
        "label": "new",
        "score": 3,
        "seen_at": "2024-02-03T00:00:00.000Z",
    }
    assert stored_data(sql, world.a.feedback_ids[1]) == {"message": "alpha feedback 2"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"nope": "x"}, "invalid field name"),
        ({"issueNames": ["alpha issue 1"]}, "invalid field name"),
        ({"label": "ok", "nope": "x"}, "invalid field name"),
        ({"source": "edited"}, "this field is read-only"),
        ({"createdAt": "2020-01-01T00:00:00Z"}, "this field is read-only"),
        ({"updatedAt": "2020-01-01T00:00:00Z"}, "this field is read-only"),
        ({"id": 5}, "this field is read-only"),
        (
            {"issues": ["alpha issue 1"]},
            "issues are linked through POST and DELETE .../feedbacks/{feedbackId}/issue/{issueId}",
        ),
        ({"score": "high"}, 'score: invalid value (value: "high", format: number)'),
        ({"score": True}, "score: invalid value (value: true, format: number)"),
        ({"score": 2**63}, "score: invalid value (value: 9223372036854775808, format: number)"),
        ({"message": 5}, "message: invalid value (value: 5, format: text)"),
        ({"label": None}, "label: invalid value (value: null, format: keyword)"),
        ({"seen_at": "soon"}, 'seen_at: invalid value (value: "soon", format: date)'),
        ({"shots": "a.png"}, 'shots: invalid value (value: "a.png", format: images)'),
        ({"kind": 3}, "kind: invalid value (value: 3, format: select)"),
        ({"kind": ""}, 'kind: invalid value (value: "", format: select)'),
        ({"seen_at": ""}, 'seen_at: invalid value (value: "", format: date)'),
        ({"tags": "ui"}, 'tags: invalid value (value: "ui", format: multiSelect)'),
        ({"tags": ["ui", 2]}, 'tags: invalid value (value: ["ui",2], format: multiSelect)'),
        # A valid new option name before a bad value: neither is written.
        ({"kind": "brand-new", "score": "x"}, 'score: invalid value (value: "x", format: number)'),
    ],
)
def test_update_refuses_a_bad_body_and_changes_nothing(client, world, sql, body, message):
    feedback_id = world.a.feedback_ids[0]
    before = snapshot(sql)

    response = update(client, world.a, feedback_id, body)

    assert_json(response, 400, bad_request(feedback_url(world.a, feedback_id), message))
    assert snapshot(sql) == before


def test_update_refuses_an_inactive_field_and_changes_nothing(client, world, sql):
    sql(
        "UPDATE field SET status = 'INACTIVE' WHERE channel_id = ? AND key = 'label'",
        (world.a.channel_id,),
    )
    feedback_id = world.a.feedback_ids[0]
    before = snapshot(sql)

    response = update(client, world.a, feedback_id, {"label": "x"})

    message = "this field is disabled"
    assert_json(response, 400, bad_request(feedback_url(world.a, feedback_id), message))
    assert snapshot(sql) == before


def test_update_takes_select_values_by_option_name(client, world, sql):
    for key, name in (("bug", "Bug report"), ("docs", "Documentation")):
        sql("UPDATE option SET name = ? WHERE key = ?", (name, key))
    options_before = sql("SELECT * FROM option ORDER BY id")
    feedback_id = world.a.feedback_ids[0]

    response = update(
        client, world.a, feedback_id, {"kind": "Bug report", "tags": ["Documentation", "ui"]}
    )

    assert_empty(response, 200)
    assert stored_data(sql, feedback_id) == {
        "message": "alpha feedback 1",
        "kind": "bug",
        "tags": ["docs", "ui"],
    }
    assert sql("SELECT * FROM option ORDER BY id") == options_before


def test_update_clears_a_select_with_null(app, client, world, sql):
    feedback_id = make_feedback(app, world.a.project_id, world.a.channel_id, {"kind": "bug"})

    response = update(client, world.a, feedback_id, {"kind": None})

    assert_empty(response, 200)
    assert stored_data(sql, feedback_id) == {"kind": None}


def test_update_creates_an_option_for_an_unknown_name(client, world, sql):
    feedback_id = world.a.feedback_ids[0]
    kind_id, tags_id = (
        sql("SELECT id FROM field WHERE channel_id = ? AND key = ?", (world.a.channel_id, key))[0][
            0
        ]
        for key in ("kind", "tags")
    )

    response = update(
        client, world.a, feedback_id, {"kind": "question", "tags": ["perf", "ui", "perf"]}
    )

    assert_empty(response, 200)
    assert stored_data(sql, feedback_id) == {
        "message": "alpha feedback 1",
        "kind": "question",
        # A multiSelect holds each option once, in the order given.
        "tags": ["perf", "ui"],
    }
    new_options = sql(
        "SELECT field_id, key, name FROM option WHERE key IN ('question', 'perf') ORDER BY id"
    )
    assert new_options == [(kind_id, "question", "question"), (tags_id, "perf", "perf")]
    fields = client.get(f"{world.a.channel}/fields", headers=world.a.headers).get_json()
    options = {f["key"]: [o["key"] for o in f["options"]] for f in fields}
    assert (options["kind"], options["tags"]) == (
        ["bug", "idea", "question"],
        ["ui", "api", "docs", "perf"],
    )


def test_update_moves_updated_at_forward(client, world, sql):
    feedback_id = world.a.feedback_ids[0]
    before = updated_at(sql, feedback_id)

    update(client, world.a, feedback_id, {"label": "x"})

    assert updated_at(sql, feedback_id) > before


def test_update_never_moves_updated_at_backwards(client, world, sql):
    feedback_id = world.a.feedback_ids[0]
    sql("UPDATE feedback SET updated_at = ? WHERE id = ?", (FUTURE, feedback_id))

    response = update(client, world.a, feedback_id, {"label": "x"})

    assert_empty(response, 200)
    assert updated_at(sql, feedback_id) == FUTURE
    assert stored_data(sql, feedback_id)["label"] == "x"


@pytest.mark.parametrize("send", [{"json": {}}, {}], ids=["empty object", "no body"])
def test_update_with_an_empty_body_only_bumps_updated_at(client, world, sql, send):
    feedback_id = world.a.feedback_ids[0]
    data_before, time_before = stored_data(sql, feedback_id), updated_at(sql, feedback_id)

    response = client.put(feedback_url(world.a, feedback_id), headers=world.a.headers, **send)

    assert_empty(response, 200)
    assert stored_data(sql, feedback_id) == data_before
    assert updated_at(sql, feedback_id) > time_before


def test_update_a_feedback_of_another_project_is_unknown_id(client, world, sql):
    feedback_id = world.b.feedback_ids[0]
    before = snapshot(sql)

    response = update(client, world.a, feedback_id, {"label": "x"})

    assert_json(response, 400, bad_request(feedback_url(world.a, feedback_id), "unknown id"))
    assert snapshot(sql) == before


def test_update_in_a_channel_of_another_project_is_channel_not_found(client, world, sql):
    url = f"{feedbacks_url(world.a, world.b.channel_id)}/{world.b.feedback_ids[0]}"
    before = snapshot(sql)

    response = client.put(url, json={"label": "x"}, headers=world.a.headers)

    assert_json(response, 400, channel_not_found(url))
    assert snapshot(sql) == before


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", "/{f}"),
        ("delete", ""),
        ("post", "/{f}/issue/{i}"),
        ("delete", "/{f}/issue/{i}"),
    ],
)
def test_feedback_routes_in_a_channel_of_another_project_are_channel_not_found(
    client, world, sql, method, suffix
):
    path = suffix.format(f=world.b.feedback_ids[0], i=world.b.issue_ids[0])
    url = feedbacks_url(world.a, world.b.channel_id) + path
    body = {"feedbackIds": world.b.feedback_ids} if suffix == "" else None
    before = snapshot(sql)

    response = getattr(client, method)(url, json=body, headers=world.a.headers)

    assert_json(response, 400, channel_not_found(url))
    assert snapshot(sql) == before


# --- delete many -----------------------------------------------------------------------------


def test_delete_many_answers_200_empty_and_removes_the_feedback(client, world, sql):
    doomed = world.a.feedback_ids

    response = delete_many(client, world.a, {"feedbackIds": doomed})

    assert_empty(response, 200)
    assert feedback_ids(sql) == world.b.feedback_ids


def test_delete_many_leaves_feedback_of_other_channels_and_projects(
    app, client, world, sql, second_channel
):
    linked = {"message": "x", "issueNames": ["alpha issue 1"]}
    elsewhere = make_feedback(app, world.a.project_id, second_channel, linked)
    foreign = make_feedback(
        app, world.b.project_id, world.b.channel_id, {"issueNames": ["beta issue 1"]}
    )
    kept = [world.a.feedback_ids[1], *world.b.feedback_ids, elsewhere, foreign]
    ids = [world.a.feedback_ids[0], foreign, elsewhere]

    response = delete_many(client, world.a, {"feedbackIds": ids})

    assert_empty(response, 200)
    assert feedback_ids(sql) == sorted(kept)
    assert linked_issue_ids(sql, elsewhere) == [world.a.issue_ids[0]]
    assert linked_issue_ids(sql, foreign) == [world.b.issue_ids[0]]
    assert issue_feedback_count(sql, world.a.issue_ids[0]) == 1
    assert issue_feedback_count(sql, world.b.issue_ids[0]) == 1


def test_delete_many_ignores_unknown_ids(client, world, sql):
    unknown = last_id(sql, "feedback") + 1

    response = delete_many(client, world.a, {"feedbackIds": [unknown, world.a.feedback_ids[0]]})

    assert_empty(response, 200)
    assert feedback_ids(sql) == [world.a.feedback_ids[1], *world.b.feedback_ids]


def test_delete_many_uncounts_the_linked_issues_exactly(app, client, world, sql):
    first, second = world.a.issue_ids
    both = {"issueNames": ["alpha issue 1", "alpha issue 2"]}
    doomed = [
        make_feedback(app, world.a.project_id, world.a.channel_id, both),
        make_feedback(
            app, world.a.project_id, world.a.channel_id, {"issueNames": ["alpha issue 1"]}
        ),
    ]
    kept = make_feedback(app, world.a.project_id, world.a.channel_id, both)
    assert (issue_feedback_count(sql, first), issue_feedback_count(sql, second)) == (3, 2)

    response = delete_many(client, world.a, {"feedbackIds": doomed})

    assert_empty(response, 200)
    assert (issue_feedback_count(sql, first), issue_feedback_count(sql, second)) == (1, 1)
    assert sql("SELECT feedback_id, issue_id FROM feedback_issue ORDER BY 2") == [
        (kept, first),
        (kept, second),
    ]


NOT_AN_ARRAY = ["feedbackIds must be an array"]
NOT_A_NUMBER = [
    "each value in feedbackIds must be a number conforming to the specified constraints"
]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, NOT_AN_ARRAY),
        ({"ids": [1]}, NOT_AN_ARRAY),
        ({"feedbackIds": None}, NOT_AN_ARRAY),
        ({"feedbackIds": 1}, NOT_AN_ARRAY),
        ({"feedbackIds": "1,2"}, NOT_AN_ARRAY),
        ({"feedbackIds": {"0": 1}}, NOT_AN_ARRAY),
        ({"feedbackIds": ["1"]}, NOT_A_NUMBER),
        ({"feedbackIds": [1.5]}, NOT_A_NUMBER),
        ({"feedbackIds": [True]}, NOT_A_NUMBER),
        ({"feedbackIds": [None]}, NOT_A_NUMBER),
        ({"feedbackIds": [[1]]}, NOT_A_NUMBER),
        ({"feedbackIds": [2**63]}, NOT_A_NUMBER),
    ],
)
def test_delete_many_refuses_bad_feedback_ids(client, world, sql, body, message):
    before = snapshot(sql)

    response = delete_many(client, world.a, body)

    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


def test_delete_many_with_a_bad_element_deletes_none(client, world, sql):
    before = snapshot(sql)

    response = delete_many(client, world.a, {"feedbackIds": [world.a.feedback_ids[0], "x"]})

    assert_json(response, 400, bad_request(feedbacks_url(world.a), NOT_A_NUMBER))
    assert snapshot(sql) == before


def test_delete_many_without_a_body_is_not_an_array(client, world, sql):
    before = snapshot(sql)

    response = client.delete(feedbacks_url(world.a), headers=world.a.headers)

    assert_json(response, 400, bad_request(feedbacks_url(world.a), NOT_AN_ARRAY))
    assert snapshot(sql) == before


def test_delete_many_refuses_more_than_1000_ids(client, world, sql):
    before = snapshot(sql)
    ids = [world.a.feedback_ids[0], *range(10**6, 10**6 + 1000)]

    response = delete_many(client, world.a, {"feedbackIds": ids})

    message = ["feedbackIds must contain no more than 1000 elements"]
    assert_json(response, 400, bad_request(feedbacks_url(world.a), message))
    assert snapshot(sql) == before


def test_delete_many_accepts_exactly_1000_ids(client, world, sql):
    ids = [world.a.feedback_ids[0], *range(10**6, 10**6 + 999)]

    response = delete_many(client, world.a, {"feedbackIds": ids})

    assert_empty(response, 200)
    assert world.a.feedback_ids[0] not in feedback_ids(sql)


# --- link and unlink issues ------------------------------------------------------------------


def test_attach_answers_201_empty_links_counts_and_touches(client, world, sql):
    feedback_id, issue_id = world.a.feedback_ids[0], world.a.issue_ids[0]
    before = updated_at(sql, feedback_id)

    response = client.post(issue_link_url(world.a, feedback_id, issue_id), headers=world.a.headers)

    assert_empty(response, 201)
    assert linked_issue_ids(sql, feedback_id) == [issue_id]
    assert issue_feedback_count(sql, issue_id) == 1
    assert updated_at(sql, feedback_id) > before


def test_attach_twice_links_and_counts_once(client, world, sql):
    feedback_id, issue_id = world.a.feedback_ids[0], world.a.issue_ids[0]
    url = issue_link_url(world.a, feedback_id, issue_id)

    responses = [client.post(url, headers=world.a.headers) for _ in range(2)]

    for response in responses:
        assert_empty(response, 201)
    assert sql("SELECT count(*) FROM feedback_issue WHERE issue_id = ?", (issue_id,)) == [(1,)]
    assert issue_feedback_count(sql, issue_id) == 1


def test_detach_answers_200_empty_unlinks_and_uncounts(app, client, world, sql):
    issue_id = world.a.issue_ids[0]
    feedback_id = make_feedback(
        app, world.a.project_id, world.a.channel_id, {"issueNames": ["alpha issue 1"]}
    )
    before = updated_at(sql, feedback_id)

    response = client.delete(
        issue_link_url(world.a, feedback_id, issue_id), headers=world.a.headers
    )

    assert_empty(response, 200)
    assert linked_issue_ids(sql, feedback_id) == []
    assert issue_feedback_count(sql, issue_id) == 0
    assert updated_at(sql, feedback_id) > before


def test_detach_an_unlinked_issue_does_not_uncount(app, client, world, sql):
    issue_id = world.a.issue_ids[0]
    make_feedback(app, world.a.project_id, world.a.channel_id, {"issueNames": ["alpha issue 1"]})
    feedback_id = world.a.feedback_ids[0]
    before = snapshot(sql)

    response = client.delete(
        issue_link_url(world.a, feedback_id, issue_id), headers=world.a.headers
    )

    assert_empty(response, 200)
    assert issue_feedback_count(sql, issue_id) == 1
    assert snapshot(sql) == before


@pytest.mark.parametrize("method", ["post", "delete"])
def test_link_route_with_an_issue_of_another_project_is_unknown_id(app, client, world, sql, method):
    feedback_id = world.a.feedback_ids[0]
    issue_id = world.b.issue_ids[0]
    # Linked inside project b, so a wrong detach would have something to remove.
    make_feedback(app, world.b.project_id, world.b.channel_id, {"issueNames": ["beta issue 1"]})
    before = snapshot(sql)
    url = issue_link_url(world.a, feedback_id, issue_id)

    response = getattr(client, method)(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))
    assert snapshot(sql) == before


@pytest.mark.parametrize("method", ["post", "delete"])
def test_link_route_with_a_missing_issue_is_unknown_id(client, world, sql, method):
    before = snapshot(sql)
    url = issue_link_url(world.a, world.a.feedback_ids[0], last_id(sql, "issue") + 1)

    response = getattr(client, method)(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))
    assert snapshot(sql) == before


@pytest.mark.parametrize("method", ["post", "delete"])
def test_link_route_with_a_missing_feedback_is_unknown_id(client, world, sql, method):
    before = snapshot(sql)
    url = issue_link_url(world.a, last_id(sql, "feedback") + 1, world.a.issue_ids[0])

    response = getattr(client, method)(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))
    assert snapshot(sql) == before


@pytest.mark.parametrize(("method", "issue_index"), [("post", 1), ("delete", 0)])
@pytest.mark.parametrize("which", ["other channel", "other project"])
def test_link_route_with_a_feedback_outside_the_channel_is_unknown_id(
    app, client, world, sql, method, issue_index, which
):
    # The feedback is linked to issue 0, so a wrong attach (of issue 1) or a wrong detach
    # (of issue 0) would change a row.
    if which == "other channel":
        channel_id = make_channel(app, world.a.project_id, name="second")
        feedback_id = make_feedback(
            app, world.a.project_id, channel_id, {"issueNames": ["alpha issue 1"]}
        )
    else:
        feedback_id = make_feedback(
            app, world.b.project_id, world.b.channel_id, {"issueNames": ["beta issue 1"]}
        )
    before = snapshot(sql)
    url = issue_link_url(world.a, feedback_id, world.a.issue_ids[issue_index])

    response = getattr(client, method)(url, headers=world.a.headers)

    assert_json(response, 400, bad_request(url, "unknown id"))
    assert snapshot(sql) == before


def test_attach_never_moves_updated_at_backwards(client, world, sql):
    feedback_id, issue_id = world.a.feedback_ids[0], world.a.issue_ids[0]
    sql("UPDATE feedback SET updated_at = ? WHERE id = ?", (FUTURE, feedback_id))

    response = client.post(issue_link_url(world.a, feedback_id, issue_id), headers=world.a.headers)

    assert_empty(response, 201)
    assert updated_at(sql, feedback_id) == FUTURE


def test_detach_never_moves_updated_at_backwards(app, client, world, sql):
    issue_id = world.a.issue_ids[0]
    feedback_id = make_feedback(
        app, world.a.project_id, world.a.channel_id, {"issueNames": ["alpha issue 1"]}
    )
    sql("UPDATE feedback SET updated_at = ? WHERE id = ?", (FUTURE, feedback_id))

    response = client.delete(
        issue_link_url(world.a, feedback_id, issue_id), headers=world.a.headers
    )

    assert_empty(response, 200)
    assert updated_at(sql, feedback_id) == FUTURE


def test_create_stores_each_multiselect_option_once_and_search_counts_it_once(client, world, sql):
    response = create(client, world.a, {"tags": ["ui", "api", "ui"]})

    feedback_id = response.get_json()["id"]
    assert stored_data(sql, feedback_id) == {"tags": ["ui", "api"]}
    found = client.post(
        f"{world.a.channel}/feedbacks/search",
        json={"query": {"tags": ["ui"]}},
        headers=world.a.headers,
    ).get_json()
    assert [item["id"] for item in found["items"]] == [feedback_id]
    assert found["meta"]["totalItems"] == 1
