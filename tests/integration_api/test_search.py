"""Integration API feedback search: v1 ``POST .../feedbacks/search``, the simple
``GET .../feedbacks`` and v2 ``POST /api/v2/.../feedbacks/search``.

The contract is the reference server's wire format (spec sections 1.2, 1.4.3-1.4.5, 1.7 and 2.3)
with the fixes we document: case-insensitive substrings with ``%`` and ``_`` taken literally,
4xx instead of 5xx, and every id scoped to the key's project. Searches read only, so every
refused request must leave the database exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.database import NUL_REFUSED
from tests.factories import ProjectWorld, World, make_channel, make_feedback, make_issue
from tests.helpers import (
    Sql,
    assert_json,
    bad_request,
    database_rows,
    domain_error,
    page_meta,
    wire_timestamp,
)

# Large enough that every semantic search below fits on one page.
LIMIT = 100
Catalog = dict[str, int]

# A few feedback covering every format. ``plain`` repeats "äpfel" in lower case, ``percent``
# holds the LIKE wildcards, ``shots`` mentions "apple" only in an image URL.
CATALOG: dict[str, dict[str, Any]] = {
    "apple": {
        "message": "Ich mag ÄPFEL",
        "source": "web form",
        "label": "red",
        "score": 3,
        "kind": "bug",
        "tags": ["ui", "api"],
        "seen_at": "2024-03-01T10:00:00Z",
        "shots": ["https://cdn.example.com/apple.png"],
        "issueNames": ["alpha issue 1"],
    },
    "percent": {
        "message": "100% sure_thing",
        "source": "mobile",
        "label": "Red",
        "score": 3.5,
        "kind": "idea",
        "tags": ["ui"],
        "seen_at": "2024-03-02T10:00:00Z",
        "issueNames": ["alpha issue 2"],
    },
    "plain": {
        "message": "plain äpfel words",
        "label": "green",
        "score": 10,
        "tags": ["api", "docs", "ui"],
        "issueNames": ["alpha issue 1", "alpha issue 2"],
    },
    "tagless": {"message": "no tags at all", "score": 0, "tags": []},
    "empty": {},
}
EVERYONE = tuple(CATALOG)


# --- requests --------------------------------------------------------------------------------


def v1_url(pw: ProjectWorld) -> str:
    return f"{pw.channel}/feedbacks/search"


def v2_url(pw: ProjectWorld) -> str:
    return f"/api/v2/projects/{pw.project_id}/channels/{pw.channel_id}/feedbacks/search"


def get_url(pw: ProjectWorld, params: dict[str, Any]) -> str:
    return f"{pw.channel}/feedbacks?{urlencode(params)}"


def post_v1(client: FlaskClient, pw: ProjectWorld, query: Any = None, **body: Any) -> TestResponse:
    return client.post(v1_url(pw), json={"query": query or {}, **body}, headers=pw.headers)


def post_v2(client: FlaskClient, pw: ProjectWorld, queries: Any = (), **body: Any) -> TestResponse:
    queries = list(queries) if isinstance(queries, list | tuple) else queries
    return client.post(v2_url(pw), json={"queries": queries, **body}, headers=pw.headers)


def get_search(client: FlaskClient, pw: ProjectWorld, **params: Any) -> TestResponse:
    return client.get(get_url(pw, params), headers=pw.headers)


def query(key: str, value: Any, condition: str = "IS") -> dict[str, Any]:
    """One v2 query."""
    return {"key": key, "value": value, "condition": condition}


def whole_result(response: TestResponse, status: int) -> list[int]:
    """The ids of a result that fits on one page of ``LIMIT``, checking the meta exactly."""
    body = response.get_json()
    assert response.status_code == status, body
    ids = [item["id"] for item in body["items"]]
    assert body["meta"] == page_meta(len(ids), len(ids), LIMIT, 1)
    return ids


def v1_ids(client: FlaskClient, pw: ProjectWorld, query_: Any, **body: Any) -> list[int]:
    return whole_result(post_v1(client, pw, query_, limit=LIMIT, **body), 201)


def v2_ids(client: FlaskClient, pw: ProjectWorld, queries: Any, **body: Any) -> list[int]:
    return whole_result(post_v2(client, pw, queries, limit=LIMIT, **body), 201)


def get_ids(client: FlaskClient, pw: ProjectWorld, **params: Any) -> list[int]:
    return whole_result(get_search(client, pw, limit=LIMIT, **params), 200)


# --- data ------------------------------------------------------------------------------------


def pick(catalog: Catalog, *names: str) -> list[int]:
    """The ids of the named feedback in the default order, id DESC."""
    return sorted((catalog[name] for name in names), reverse=True)


def set_search_max_days(sql: Sql, channel_id: int, days: int) -> None:
    sql("UPDATE channel SET feedback_search_max_days = ? WHERE id = ?", (days, channel_id))


def set_updated_at(sql: Sql, feedback_id: int, moment: datetime) -> None:
    stored = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql("UPDATE feedback SET updated_at = ? WHERE id = ?", (stored, feedback_id))


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_feedback_here(client: FlaskClient, pw: ProjectWorld, body: dict[str, Any]) -> int:
    response = client.post(f"{pw.channel}/feedbacks", json=body, headers=pw.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def new_channel(app: Flask, pw: ProjectWorld, name: str) -> ProjectWorld:
    """``pw`` with a fresh channel of the standard fields, holding no feedback yet."""
    return replace(pw, channel_id=make_channel(app, pw.project_id, name), feedback_ids=[])


@pytest.fixture
def pw(app: Flask, world: World) -> ProjectWorld:
    """Project A with an empty channel of its own (A's first channel keeps two feedback)."""
    return new_channel(app, world.a, "search")


@pytest.fixture
def catalog(app: Flask, pw: ProjectWorld) -> Catalog:
    return {
        name: make_feedback(app, pw.project_id, pw.channel_id, body)
        for name, body in CATALOG.items()
    }


def stored_rows(sql: Sql) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, except the keys' informational ``last_used_at`` (which any
    authenticated request may refresh)."""
    rows = database_rows(sql)
    rows["api_key"] = sql(
        "SELECT id, project_id, prefix, key_hash, revoked_at FROM api_key ORDER BY id"
    )
    return rows


def refused(
    response: TestResponse, sql: Sql, before: dict[str, Any], path: str, message: Any
) -> None:
    assert_json(response, 400, bad_request(path, message))
    assert stored_rows(sql) == before


# --- envelope and item shape -----------------------------------------------------------------


def test_v1_search_answers_201_with_items_and_meta(client, pw, catalog, sql):
    response = post_v1(client, pw, {"label": "red"})
    created, updated = sql(
        "SELECT created_at, updated_at FROM feedback WHERE id = ?", (catalog["apple"],)
    )[0]
    issue = sql(
        "SELECT id, created_at, updated_at FROM issue WHERE name = 'alpha issue 1' "
        "AND project_id = ?",
        (pw.project_id,),
    )[0]
    values = {key: value for key, value in CATALOG["apple"].items() if key != "issueNames"}
    values["seen_at"] = "2024-03-01T10:00:00.000Z"
    item = {
        **values,
        "id": catalog["apple"],
        "createdAt": wire_timestamp(created),
        "updatedAt": wire_timestamp(updated),
        "issues": [
            {
                "id": issue[0],
                "createdAt": wire_timestamp(issue[1]),
                "updatedAt": wire_timestamp(issue[2]),
                "deletedAt": None,
                "name": "alpha issue 1",
                "description": None,
                "status": "INIT",
                "externalIssueId": None,
                "feedbackCount": 2,
            }
        ],
    }
    assert_json(response, 201, {"items": [item], "meta": page_meta(1, 1, 10, 1)})
    assert list(response.get_json()["items"][0]) == list(item)


def test_get_and_v2_answer_the_same_envelope_with_200_and_201(client, pw, catalog):
    expected = post_v1(client, pw, {"label": "red"}).get_json()
    assert_json(get_search(client, pw, fieldKey="label", searchText="red"), 200, expected)
    assert_json(post_v2(client, pw, [query("label", "red")]), 201, expected)


def test_an_empty_query_lists_the_whole_channel_newest_id_first(client, pw, catalog):
    assert v1_ids(client, pw, {}) == pick(catalog, *EVERYONE)
    assert v2_ids(client, pw, []) == pick(catalog, *EVERYONE)


def test_no_body_at_all_is_an_empty_query(client, pw, catalog):
    for url in (v1_url(pw), v2_url(pw)):
        response = client.post(url, headers=pw.headers)
        assert response.status_code == 201
        assert [item["id"] for item in response.get_json()["items"]] == pick(catalog, *EVERYONE)


# --- v1: text fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("äpfel", ("apple", "plain")),
        ("ÄPFEL", ("apple", "plain")),
        ("Äpf", ("apple", "plain")),
        ("äP", ("apple", "plain")),
        ("Ä", ("apple", "plain")),
        ("a", ("apple", "plain", "tagless")),
        ("ICH MAG", ("apple",)),
        ("%", ("percent",)),
        ("0%", ("percent",)),
        ("100%", ("percent",)),
        ("_", ("percent",)),
        ("e_t", ("percent",)),
        ("l_", ()),
        ("p_a", ()),
        ("a%", ()),
        ("zzz", ()),
    ],
)
def test_v1_text_field_is_a_case_insensitive_literal_substring(client, pw, catalog, text, names):
    assert v1_ids(client, pw, {"message": text}) == pick(catalog, *names)


def test_v1_text_filter_reads_only_its_own_field(client, pw, catalog):
    assert v1_ids(client, pw, {"source": "MOB"}) == pick(catalog, "percent")
    assert v1_ids(client, pw, {"message": "mobile"}) == []


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 6, 7])
def test_v1_text_substrings_of_every_length_match_alike(client, pw, catalog, length):
    """Queries under three characters are scanned, longer ones use the trigram index: the
    answer must be the same substring match either way."""
    word = "äPFEL WORDS"
    for start in range(len(word) - length + 1):
        text = word[start : start + length]
        names = [
            name
            for name in EVERYONE
            if text.casefold() in CATALOG[name].get("message", "").casefold()
        ]
        assert v1_ids(client, pw, {"message": text}) == pick(catalog, *names), text


def test_v1_text_match_folds_case_the_same_for_short_and_long_queries(client, pw):
    """The one-character query "ß" is scanned with Unicode case folding and finds "STRASSE"
    too; the longer queries go through the trigram index and must fold case the same way."""
    sharp = make_feedback_here(client, pw, {"message": "Straße"})
    double = make_feedback_here(client, pw, {"message": "STRASSE"})
    both = sorted([sharp, double], reverse=True)
    assert v1_ids(client, pw, {"message": "ß"}) == both
    assert v1_ids(client, pw, {"message": "STRASSE"}) == both
    assert v1_ids(client, pw, {"message": "traße"}) == both


@pytest.mark.sqlite_only(reason="PostgreSQL's text cannot hold NUL: see the test below")
@pytest.mark.parametrize("text", ["\u0000", "l\u0000b"])
def test_v1_text_with_a_nul_character_matches_only_text_holding_it(client, pw, text):
    holder = make_feedback_here(client, pw, {"message": "nul\u0000byte"})
    make_feedback_here(client, pw, {"message": "plain text"})
    assert v1_ids(client, pw, {"message": text}) == [holder]


@pytest.mark.postgresql_only(reason="SQLite stores NUL characters: see the test above")
def test_nul_characters_are_refused_and_a_search_for_one_finds_nothing(client, pw, sql):
    make_feedback_here(client, pw, {"message": "plain text"})
    before = stored_rows(sql)
    path = f"{pw.channel}/feedbacks"

    response = client.post(path, json={"message": "nul\u0000byte"}, headers=pw.headers)

    assert_json(response, 400, bad_request(path, NUL_REFUSED))
    assert stored_rows(sql) == before
    assert v1_ids(client, pw, {"message": "\u0000"}) == []
    assert v1_ids(client, pw, {"message": "plain\u0000"}) == []


def test_v1_empty_text_filter_matches_every_feedback_holding_the_field(client, pw):
    """The empty string is a substring of every string, the empty one included (the reference's
    LIKE '%%' matches every stored value)."""
    empty = make_feedback_here(client, pw, {"message": ""})
    full = make_feedback_here(client, pw, {"message": "words"})
    make_feedback_here(client, pw, {"label": "no message"})
    assert v1_ids(client, pw, {"message": ""}) == [full, empty]


# --- v1: keyword, select, number, multiSelect, images, dates ---------------------------------


@pytest.mark.parametrize(
    ("query_", "names"),
    [
        ({"label": "red"}, ("apple",)),
        ({"label": "Red"}, ("percent",)),
        ({"label": "re"}, ()),
        ({"kind": "idea"}, ("percent",)),
        ({"kind": "bu"}, ()),
        ({"score": 3}, ("apple",)),
        ({"score": 3.0}, ("apple",)),
        ({"score": 3.5}, ("percent",)),
        ({"score": 0}, ("tagless",)),
        ({"score": -3}, ()),
        ({"tags": ["ui"]}, ("apple", "percent", "plain")),
        ({"tags": ["api", "ui"]}, ("apple", "plain")),
        ({"tags": ["docs", "api", "ui"]}, ("plain",)),
        ({"tags": ["ui", "ui"]}, ("apple", "percent", "plain")),
        ({"tags": ["ui", "nope"]}, ()),
        ({"shots": ["APPLE.png"]}, ("apple",)),
        ({"shots": ["pear"]}, ()),
    ],
)
def test_v1_field_filter_per_format(client, pw, catalog, query_, names):
    assert v1_ids(client, pw, query_) == pick(catalog, *names)


def test_v1_multiselect_with_no_values_filters_nothing(client, pw, catalog):
    """Each given value is required (JSON_CONTAINS per value, AND-ed): none given, none
    required, as in the reference."""
    assert v1_ids(client, pw, {"tags": []}) == pick(catalog, *EVERYONE)


@pytest.mark.parametrize(
    ("window", "names"),
    [
        ({"gte": "2024-03-01T10:00:00Z", "lt": "2024-03-02T10:00:00Z"}, ("apple",)),
        ({"gte": "2024-03-01T10:00:00.001Z", "lt": "2024-03-03"}, ("percent",)),
        ({"gte": "2024-03-01", "lt": "2024-03-03"}, ("apple", "percent")),
        ({"gte": "2024-03-01T19:00:00+09:00", "lt": "2024-03-01T19:00:00.001+09:00"}, ("apple",)),
        ({"gte": "2024-03-03", "lt": "2024-03-04"}, ()),
    ],
)
def test_v1_date_field_range_includes_gte_and_excludes_lt(client, pw, catalog, window, names):
    assert v1_ids(client, pw, {"seen_at": window}) == pick(catalog, *names)


@pytest.fixture
def dated(app: Flask, pw: ProjectWorld, sql: Sql) -> dict[str, int]:
    """Three feedback created on Jan 10, 20 and 30 2024, each updated ten days later."""
    ids = {}
    for day in (10, 20, 30):
        created = datetime(2024, 1, day, tzinfo=UTC)
        feedback_id = make_feedback(
            app, pw.project_id, pw.channel_id, {"message": f"day {day}", "createdAt": iso(created)}
        )
        set_updated_at(sql, feedback_id, created + timedelta(days=10))
        ids[f"jan{day}"] = feedback_id
    return ids


@pytest.mark.parametrize(
    ("key", "window", "names"),
    [
        ("createdAt", {"gte": "2024-01-10", "lt": "2024-01-20"}, ("jan10",)),
        ("createdAt", {"gte": "2024-01-10T00:00:00.001Z", "lt": "2024-01-30"}, ("jan20",)),
        ("createdAt", {"gte": "2024-01-01", "lt": "2024-02-01"}, ("jan10", "jan20", "jan30")),
        ("createdAt", {"gte": "2024-01-20T09:00:00+09:00", "lt": "2024-01-21"}, ("jan20",)),
        ("updatedAt", {"gte": "2024-01-30", "lt": "2024-02-09T00:00:00.001Z"}, ("jan20", "jan30")),
        ("updatedAt", {"gte": "2024-01-01", "lt": "2024-01-20"}, ()),
    ],
)
def test_v1_created_and_updated_ranges(client, pw, dated, key, window, names):
    assert v1_ids(client, pw, {key: window}) == pick(dated, *names)


# --- v1: searchText, fieldKey, issueName, ids, issueIds --------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("äpfel", ("apple", "plain")),
        ("WEB", ("apple",)),
        ("red", ("apple",)),
        ("Red", ("percent",)),
        ("ed", ()),
        ("bug", ("apple",)),
        ("docs", ("plain",)),
        ("ui", ("apple", "percent", "plain")),
        ("3", ("apple",)),
        ("3.5", ("percent",)),
        ("3.50", ("percent",)),
        ("10", ("percent", "plain")),
        ("1e1", ("plain",)),
        ("0", ("percent", "tagless")),
        ("2024-03-01T10:00:00Z", ("apple",)),
        ("2024-03-01T19:00:00+09:00", ("apple",)),
        ("Fri, 01 Mar 2024 10:00:00 GMT", ("apple",)),
        ("2024-03-01", ()),
        ("apple", ()),
        ("%", ("percent",)),
    ],
)
def test_v1_search_text_matches_any_field_by_its_format(client, pw, catalog, text, names):
    """Text fields by substring; keyword, select and multiSelect by equality; numbers and
    dates by value when the text reads as one; image links never."""
    assert v1_ids(client, pw, {"searchText": text}) == pick(catalog, *names)


@pytest.mark.parametrize(
    ("field_key", "text", "names"),
    [
        ("score", "10", ("plain",)),
        ("message", "10", ("percent",)),
        ("label", "red", ("apple",)),
        ("label", "ÄPFEL", ()),
        ("message", "äpf", ("apple", "plain")),
        ("source", "web", ("apple",)),
        ("kind", "bug", ("apple",)),
        ("tags", "ui", ("apple", "percent", "plain")),
        ("tags", "u", ()),
        ("seen_at", "2024-03-02T10:00:00.000Z", ("percent",)),
        ("seen_at", "not a date", ()),
        ("score", "ten", ()),
        ("shots", "cdn.example", ("apple",)),
        ("issues", "alpha issue 2", ("percent", "plain")),
    ],
)
@pytest.mark.parametrize("route", ["v1", "get"])
def test_field_key_restricts_search_text_to_that_field(
    client, pw, catalog, route, field_key, text, names
):
    if route == "v1":
        found = v1_ids(client, pw, {"searchText": text, "fieldKey": field_key})
    else:
        found = get_ids(client, pw, fieldKey=field_key, searchText=text)
    assert found == pick(catalog, *names)


@pytest.mark.parametrize("route", ["v1", "get"])
def test_field_key_id_matches_the_feedback_with_that_id(client, pw, catalog, route):
    apple = str(catalog["apple"])
    if route == "v1":
        assert v1_ids(client, pw, {"fieldKey": "id", "searchText": apple}) == pick(catalog, "apple")
        assert v1_ids(client, pw, {"fieldKey": "id", "searchText": "x"}) == []
    else:
        assert get_ids(client, pw, fieldKey="id", searchText=apple) == pick(catalog, "apple")
        assert get_ids(client, pw, fieldKey="id", searchText="x") == []


def test_field_key_created_at_matches_a_backdated_timestamp(client, pw, dated):
    found = v1_ids(client, pw, {"fieldKey": "createdAt", "searchText": "2024-01-20T09:00:00+09:00"})
    assert found == pick(dated, "jan20")
    assert get_ids(client, pw, fieldKey="createdAt", searchText="2024-01-20") == pick(
        dated, "jan20"
    )


def test_field_key_created_at_matches_the_timestamp_the_api_shows(client, pw, catalog):
    """createdAt as an item shows it (milliseconds) must find that item again."""
    shown = post_v1(client, pw, {"ids": [catalog["apple"]]}).get_json()["items"][0]["createdAt"]
    assert v1_ids(client, pw, {"fieldKey": "createdAt", "searchText": shown}) == pick(
        catalog, "apple"
    )


@pytest.mark.parametrize(
    ("query_", "names"),
    [
        ({"searchText": "ui", "label": "red"}, ("apple",)),
        ({"searchText": "äpfel", "score": 10}, ("plain",)),
        ({"searchText": "red", "score": 10}, ()),
        ({"message": "äpfel", "tags": ["ui"], "kind": "bug"}, ("apple",)),
        ({"searchText": "ui", "issueName": "alpha issue 2"}, ("percent", "plain")),
        ({"searchText": "", "label": "green"}, ("plain",)),
        ({"searchText": ""}, EVERYONE),
        ({"fieldKey": "label"}, EVERYONE),
        ({"condition": "IS", "label": "green"}, ("plain",)),
    ],
)
def test_v1_keys_are_and_ed_and_empty_search_text_is_ignored(client, pw, catalog, query_, names):
    assert v1_ids(client, pw, query_) == pick(catalog, *names)


@pytest.mark.parametrize("route", ["v1", "get"])
def test_issue_name_finds_the_feedback_linked_to_that_issue(client, pw, catalog, route):
    for name, names in (
        ("alpha issue 1", ("apple", "plain")),
        ("alpha issue 2", ("percent", "plain")),
    ):
        if route == "v1":
            assert v1_ids(client, pw, {"issueName": name}) == pick(catalog, *names)
        else:
            assert get_ids(client, pw, issueName=name) == pick(catalog, *names)


@pytest.mark.parametrize("route", ["v1", "get"])
def test_an_unknown_issue_name_is_an_empty_page(client, pw, catalog, route):
    if route == "v1":
        assert v1_ids(client, pw, {"issueName": "no such issue"}) == []
    else:
        assert get_ids(client, pw, issueName="no such issue") == []


def test_issue_name_only_means_this_projects_issue(app, client, world, pw):
    """Project B's issue of the same name, created first, must not be the one looked up."""
    make_issue(app, world.b.project_id, "shared")
    mine = make_feedback(app, pw.project_id, pw.channel_id, {"issueNames": ["shared"]})
    assert v1_ids(client, pw, {"issueName": "shared"}) == [mine]
    assert get_ids(client, pw, issueName="shared") == [mine]
    assert v1_ids(client, pw, {"issueName": "beta issue 1"}) == []


@pytest.mark.parametrize(
    ("issues", "names"),
    [
        ((0,), ("apple", "plain")),
        ((1,), ("percent", "plain")),
        ((0, 1), ("apple", "percent", "plain")),
    ],
)
def test_v1_issue_ids_match_feedback_linked_to_any_of_them(
    client, world, pw, catalog, issues, names
):
    issue_ids = [world.a.issue_ids[n] for n in issues]
    assert v1_ids(client, pw, {"issueIds": issue_ids}) == pick(catalog, *names)


def test_v1_ids_pick_those_feedback_in_this_channel(client, world, pw, catalog):
    ids = [catalog["apple"], catalog["empty"], world.a.feedback_ids[0], world.b.feedback_ids[0]]
    assert v1_ids(client, pw, {"ids": ids}) == pick(catalog, "apple", "empty")


@pytest.mark.parametrize("key", ["ids", "issueIds"])
def test_v1_empty_id_lists_give_an_empty_page(client, pw, catalog, key):
    assert v1_ids(client, pw, {key: []}) == []


def test_another_projects_issue_ids_never_match(client, world, pw, catalog):
    assert v1_ids(client, pw, {"issueIds": world.b.issue_ids}) == []
    assert v2_ids(client, pw, [query("issueIds", world.b.issue_ids[:1], "CONTAINS")]) == []
    assert v2_ids(client, pw, [query("issueIds", world.b.issue_ids[:1])]) == []


def test_another_channels_feedback_never_appears(client, world, pw, catalog):
    """A's first channel and B's channel hold "alpha/beta feedback N" messages."""
    assert v1_ids(client, pw, {"searchText": "feedback"}) == []
    assert v1_ids(client, pw, {"ids": world.a.feedback_ids + world.b.feedback_ids}) == []
    assert get_ids(client, pw, fieldKey="message", searchText="feedback") == []
    assert v2_ids(client, pw, [query("message", "feedback", "CONTAINS")]) == []
    assert v1_ids(client, world.a, {"searchText": "feedback"}) == sorted(
        world.a.feedback_ids, reverse=True
    )


# --- date windows ----------------------------------------------------------------------------


def window(days: float, start: str = "2024-01-01T00:00:00+00:00") -> dict[str, str]:
    gte = datetime.fromisoformat(start)
    return {"gte": iso(gte), "lt": iso(gte + timedelta(days=days))}


@pytest.mark.parametrize("key", ["createdAt", "updatedAt", "seen_at"])
def test_a_window_of_exactly_the_channel_limit_is_accepted(client, pw, key):
    assert v1_ids(client, pw, {key: window(365)}) == []


@pytest.mark.parametrize("key", ["createdAt", "updatedAt", "seen_at"])
def test_a_window_longer_than_365_days_is_refused(client, pw, sql, key):
    before = stored_rows(sql)
    response = post_v1(client, pw, {key: window(365 + 1 / 86400)})
    refused(response, sql, before, v1_url(pw), f"{key} must be less than 365 days")


def test_the_channel_limit_can_be_lowered(client, pw, dated, sql):
    set_search_max_days(sql, pw.channel_id, 30)
    assert v1_ids(client, pw, {"createdAt": window(30, "2024-01-05T00:00:00+00:00")}) == pick(
        dated, "jan30", "jan20", "jan10"
    )
    before = stored_rows(sql)
    response = post_v1(client, pw, {"createdAt": window(30.5)})
    refused(response, sql, before, v1_url(pw), "createdAt must be less than 30 days")


def test_a_zero_day_limit_allows_only_empty_windows(client, pw, sql):
    set_search_max_days(sql, pw.channel_id, 0)
    assert v1_ids(client, pw, {"createdAt": window(0)}) == []
    before = stored_rows(sql)
    response = post_v1(client, pw, {"createdAt": window(1 / 86400)})
    refused(response, sql, before, v1_url(pw), "createdAt must be less than 0 days")


def test_a_negative_limit_means_unlimited(client, pw, dated, sql):
    set_search_max_days(sql, pw.channel_id, -1)
    wide = {"gte": "1990-01-01", "lt": "2090-01-01"}
    assert v1_ids(client, pw, {"createdAt": wide}) == pick(dated, "jan10", "jan20", "jan30")
    assert v2_ids(client, pw, [], defaultQueries=[query("createdAt", wide, "BETWEEN")]) == pick(
        dated, "jan10", "jan20", "jan30"
    )


def test_the_limit_applies_to_v2_queries_and_default_queries(client, pw, sql):
    before = stored_rows(sql)
    too_long = window(400)
    for body in (
        {"queries": [query("updatedAt", too_long, "BETWEEN")]},
        {"defaultQueries": [query("createdAt", too_long, "BETWEEN")]},
    ):
        response = client.post(v2_url(pw), json=body, headers=pw.headers)
        key = (body.get("queries") or body["defaultQueries"])[0]["key"]
        refused(response, sql, before, v2_url(pw), f"{key} must be less than 365 days")


# --- v1 and GET: refused requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": {"ids": "1"}}, "ids must be array"),
        ({"query": {"ids": [1, "2"]}}, "ids must be array"),
        ({"query": {"ids": [True]}}, "ids must be array"),
        ({"query": {"issueIds": 1}}, "issueIds must be array"),
        ({"query": {"issueIds": {"id": 1}}}, "issueIds must be array"),
        ({"query": {"message": 1}}, "message must be string"),
        ({"query": {"label": ["red"]}}, "label must be string"),
        ({"query": {"kind": None}}, "kind must be string"),
        ({"query": {"score": "3"}}, "score must be number"),
        ({"query": {"score": True}}, "score must be number"),
        ({"query": {"tags": "ui"}}, "tags must be array of string"),
        ({"query": {"tags": [1]}}, "tags must be array of string"),
        ({"query": {"shots": "x"}}, "shots must be array of string"),
        ({"query": {"createdAt": "2024-01-01"}}, "createdAt must be DateTimeRange"),
        ({"query": {"createdAt": {"gte": "2024-01-01"}}}, "createdAt must be DateTimeRange"),
        ({"query": {"updatedAt": {"lt": "2024-01-01"}}}, "updatedAt must be DateTimeRange"),
        (
            {"query": {"seen_at": {"gte": "soon", "lt": "2024-01-01"}}},
            "seen_at must be DateTimeRange",
        ),
        (
            {"query": {"createdAt": {"gte": None, "lt": "2024-01-01"}}},
            "createdAt must be DateTimeRange",
        ),
        (
            {"query": {"seen_at": {"gte": "2024-01-01", "lt": None}}},
            "seen_at must be DateTimeRange",
        ),
        ({"query": {"nope": 1}}, "invalid key in query: nope"),
        ({"query": {"issueNames": ["x"]}}, "invalid key in query: issueNames"),
        ({"query": {"searchText": 1}}, "searchText must be string"),
        ({"query": {"searchText": "x", "fieldKey": "nope"}}, "invalid field key: nope"),
        ({"query": {"fieldKey": "nope"}}, "invalid field key: nope"),
        ({"sort": {"id": "asc"}}, "invalid sort method"),
        ({"sort": {"createdAt": None}}, "invalid sort method"),
        ({"sort": {"nope": "ASC"}}, "bad key in sort"),
        ({"sort": {"message": "ASC"}}, "unsortable format"),
        ({"sort": {"label": "DESC"}}, "unsortable format"),
        ({"sort": {"kind": "ASC"}}, "unsortable format"),
        ({"sort": {"tags": "ASC"}}, "unsortable format"),
        ({"sort": {"shots": "ASC"}}, "unsortable format"),
        ({"sort": {"issues": "ASC"}}, "unsortable format"),
        ({"sort": ["id"]}, "sort must be an object"),
        ({"query": []}, ["query must be an object"]),
    ],
)
def test_v1_refuses_a_bad_request_and_changes_nothing(client, pw, catalog, sql, body, message):
    before = stored_rows(sql)
    response = client.post(v1_url(pw), json=body, headers=pw.headers)
    refused(response, sql, before, v1_url(pw), message)


GET_REQUIRES = "Please provide either issueName or both fieldKey and searchText."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, GET_REQUIRES),
        ({"searchText": "red"}, GET_REQUIRES),
        ({"fieldKey": "label"}, GET_REQUIRES),
        ({"limit": 5, "page": 1}, GET_REQUIRES),
        ({"fieldKey": "nope", "searchText": "x"}, "invalid field key: nope"),
    ],
)
def test_get_refuses_an_incomplete_search_and_changes_nothing(
    client, pw, catalog, sql, params, message
):
    before = stored_rows(sql)
    response = get_search(client, pw, **params)
    refused(response, sql, before, get_url(pw, params).rstrip("?"), message)


# --- v2 --------------------------------------------------------------------------------------

CONDITIONS = ("CONTAINS", "IS", "BETWEEN")


def catalog_ids(*names: str) -> Callable[[Catalog], list[int]]:
    return lambda catalog: [catalog[name] for name in names]


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize(
    ("key", "value", "names"),
    [
        ("message", "ÄPF", ("apple", "plain")),
        ("message", "%", ("percent",)),
        ("message", "_", ("percent",)),
        ("source", "Web", ("apple",)),
        ("label", "red", ("apple",)),
        ("label", "re", ()),
        ("kind", "bug", ("apple",)),
        ("score", 3.5, ("percent",)),
        ("score", 10, ("plain",)),
        ("seen_at", {"gte": "2024-03-02", "lt": "2024-03-03"}, ("percent",)),
        ("ids", catalog_ids("apple", "empty"), ("apple", "empty")),
        ("ids", catalog_ids(), ()),
        ("id", lambda catalog: catalog["plain"], ("plain",)),
    ],
)
def test_v2_condition_does_not_change_these_formats(
    client, pw, catalog, condition, key, value, names
):
    """Text is a substring, keyword, select and number are equal, dates are ranges, ids a
    list and id one value, whatever the condition."""
    value = value(catalog) if callable(value) else value
    assert v2_ids(client, pw, [query(key, value, condition)]) == pick(catalog, *names)


@pytest.mark.parametrize(
    ("condition", "tags", "names"),
    [
        ("IS", ["ui"], ("percent",)),
        ("IS", ["api", "ui"], ("apple",)),
        ("IS", ["ui", "api", "docs"], ("plain",)),
        ("IS", ["ui", "ui"], ("percent",)),
        ("IS", [], ("tagless", "empty")),
        ("IS", ["docs"], ()),
        ("CONTAINS", ["ui"], ("apple", "percent", "plain")),
        ("CONTAINS", ["ui", "api"], ("apple", "plain")),
        ("CONTAINS", ["docs"], ("plain",)),
        ("CONTAINS", [], ()),
        ("BETWEEN", ["docs"], EVERYONE),
        ("BETWEEN", [], EVERYONE),
    ],
)
def test_v2_multiselect_conditions(client, pw, catalog, condition, tags, names):
    assert v2_ids(client, pw, [query("tags", tags, condition)]) == pick(catalog, *names)


@pytest.mark.parametrize(
    ("condition", "issues", "names"),
    [
        ("IS", (0,), ("apple",)),
        ("IS", (1,), ("percent",)),
        ("IS", (0, 1), ("plain",)),
        ("IS", (1, 0, 1), ("plain",)),
        ("IS", (), ("tagless", "empty")),
        ("CONTAINS", (0,), ("apple", "plain")),
        ("CONTAINS", (1,), ("percent", "plain")),
        ("CONTAINS", (0, 1), ("plain",)),
        ("CONTAINS", (), EVERYONE),
        ("BETWEEN", (0,), EVERYONE),
    ],
)
def test_v2_issue_ids_conditions(client, world, pw, catalog, condition, issues, names):
    issue_ids = [world.a.issue_ids[n] for n in issues]
    assert v2_ids(client, pw, [query("issueIds", issue_ids, condition)]) == pick(catalog, *names)


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize(
    ("key", "window_", "names"),
    [
        ("createdAt", {"gte": "2024-01-10", "lt": "2024-01-20T00:00:00.001Z"}, ("jan10", "jan20")),
        ("updatedAt", {"gte": "2024-02-09", "lt": "2024-02-10"}, ("jan30",)),
    ],
)
def test_v2_timestamps_are_ranges_in_queries_and_default_queries(
    client, pw, dated, condition, key, window_, names
):
    expected = pick(dated, *names)
    assert v2_ids(client, pw, [query(key, window_, condition)]) == expected
    assert v2_ids(client, pw, [], defaultQueries=[query(key, window_, condition)]) == expected


def test_v2_operator_defaults_to_and(client, pw, catalog):
    both = [query("tags", ["ui"], "CONTAINS"), query("score", 3)]
    assert v2_ids(client, pw, both) == pick(catalog, "apple")
    assert v2_ids(client, pw, both, operator="AND") == pick(catalog, "apple")
    assert v2_ids(client, pw, both, operator=None) == pick(catalog, "apple")


def test_v2_or_joins_queries_but_default_queries_still_apply(client, pw, catalog):
    either = [query("kind", "idea"), query("score", 10)]
    assert v2_ids(client, pw, either, operator="OR") == pick(catalog, "percent", "plain")
    assert v2_ids(
        client, pw, either, operator="OR", defaultQueries=[query("label", "green")]
    ) == pick(catalog, "plain")
    assert v2_ids(client, pw, [], operator="OR") == pick(catalog, *EVERYONE)


def test_v2_default_queries_are_and_ed_with_each_other(client, pw, catalog):
    defaults = [query("tags", ["ui"], "CONTAINS"), query("message", "äpfel", "CONTAINS")]
    assert v2_ids(client, pw, [], defaultQueries=defaults) == pick(catalog, "apple", "plain")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"queries": [query("message", "x", "EQUALS")]},
            "condition must be one of the following values: CONTAINS, IS, BETWEEN",
        ),
        (
            {"queries": [query("message", "x", "is")]},
            "condition must be one of the following values: CONTAINS, IS, BETWEEN",
        ),
        (
            {"queries": [{"key": "message", "value": "x"}]},
            "condition must be one of the following values: CONTAINS, IS, BETWEEN",
        ),
        (
            {"defaultQueries": [query("createdAt", window(1), "RANGE")]},
            "condition must be one of the following values: CONTAINS, IS, BETWEEN",
        ),
        ({"operator": "or"}, "Invalid operator"),
        ({"operator": "XOR"}, "Invalid operator"),
        ({"operator": 1}, "Invalid operator"),
        ({"queries": [query("searchText", "x")]}, "invalid key in query: searchText"),
        ({"queries": [query("fieldKey", "message")]}, "invalid key in query: fieldKey"),
        ({"queries": [query("nope", "x")]}, "invalid key in query: nope"),
        ({"queries": [query("message", 1)]}, "message must be string"),
        ({"queries": [query("kind", ["bug"])]}, "kind must be string"),
        ({"queries": [query("score", "1")]}, "score must be number"),
        ({"queries": [query("tags", "ui", "CONTAINS")]}, "tags must be array of string"),
        ({"queries": [query("ids", 1)]}, "ids must be array"),
        ({"queries": [query("issueIds", "1")]}, "issueIds must be array"),
        ({"queries": [query("seen_at", {}, "BETWEEN")]}, "seen_at must be DateTimeRange"),
        (
            {"queries": [query("createdAt", {"gte": None, "lt": "2024-01-01"}, "BETWEEN")]},
            "createdAt must be DateTimeRange",
        ),
        ({"queries": "x"}, ["queries must be an array"]),
        ({"defaultQueries": {}}, ["defaultQueries must be an array"]),
        ({"queries": [1]}, "queries must be an array of {key, value, condition} objects"),
        ({"sort": {"id": "desc"}}, "invalid sort method"),
        ({"sort": {"nope": "ASC"}}, "bad key in sort"),
        ({"sort": {"message": "ASC"}}, "unsortable format"),
    ],
)
def test_v2_refuses_a_bad_request_and_changes_nothing(client, pw, catalog, sql, body, message):
    before = stored_rows(sql)
    response = client.post(v2_url(pw), json=body, headers=pw.headers)
    refused(response, sql, before, v2_url(pw), message)


# --- channels of other projects --------------------------------------------------------------


@pytest.mark.parametrize("channel", ["other project", "missing"])
@pytest.mark.parametrize("route", ["v1", "get", "v2"])
def test_a_channel_outside_the_project_is_channel_not_found(client, world, sql, route, channel):
    channel_id = world.b.channel_id if channel == "other project" else 987654
    pw = replace(world.a, channel_id=channel_id)
    before = stored_rows(sql)
    send: dict[str, Callable[[], TestResponse]] = {
        "v1": lambda: post_v1(client, pw),
        "get": lambda: get_search(client, pw, issueName="beta issue 1"),
        "v2": lambda: post_v2(client, pw),
    }
    response = send[route]()
    path = {"v1": v1_url(pw), "get": get_url(pw, {"issueName": "beta issue 1"}), "v2": v2_url(pw)}
    assert_json(response, 400, domain_error(path[route], "ChannelNotFound", "channel is not found"))
    assert stored_rows(sql) == before


# --- ordering and pagination -----------------------------------------------------------------

RANKED = 37  # matching feedback; every fifth loop turn adds a non-matching one too


@pytest.fixture
def ranked(app: Flask, pw: ProjectWorld, sql: Sql) -> dict[int, dict[str, Any]]:
    """37 ``bug`` feedback (and 8 ``idea`` ones interleaved) with many ties in score,
    seen_at and createdAt; the 37 rows as id -> sort values."""
    for n in range(RANKED):
        body = {
            "kind": "bug",
            "score": n % 4,
            "seen_at": iso(datetime(2024, 1, 1 + n % 5, tzinfo=UTC)),
            "createdAt": iso(datetime(2024, 2, 1, n % 6, tzinfo=UTC)),
        }
        make_feedback(app, pw.project_id, pw.channel_id, body)
        if n % 5 == 0:
            make_feedback(app, pw.project_id, pw.channel_id, {**body, "kind": "idea"})
    rows = sql(
        "SELECT id, created_at, updated_at, data FROM feedback WHERE channel_id = ?",
        (pw.channel_id,),
    )
    documents = {
        row[0]: {"id": row[0], "createdAt": row[1], "updatedAt": row[2], **json.loads(row[3])}
        for row in rows
    }
    bugs = {feedback_id: doc for feedback_id, doc in documents.items() if doc["kind"] == "bug"}
    assert len(bugs) == RANKED
    return bugs


def expected_order(rows: dict[int, dict[str, Any]], sort: dict[str, str]) -> list[int]:
    """The oracle: sort by each key in turn, ties broken by id DESC unless id is a key."""
    ordered = sorted(rows.values(), key=lambda row: row["id"], reverse="id" not in sort)
    for key, method in reversed(list(sort.items())):
        ordered.sort(key=lambda row: row[key], reverse=method == "DESC")
    return [row["id"] for row in ordered]


def walk_pages(send: Callable[..., TestResponse], status: int, total: int, limit: int) -> list[int]:
    """Every page in turn (and one past the end), checking each page's meta exactly."""
    ids: list[int] = []
    last = -(-total // limit)
    for page in range(1, last + 2):
        response = send(page=page, limit=limit)
        body = response.get_json()
        assert response.status_code == status, body
        count = max(0, min(limit, total - (page - 1) * limit))
        assert body["meta"] == page_meta(count, total, limit, page)
        ids += [item["id"] for item in body["items"]]
    return ids


SORTS = [
    {},
    {"id": "ASC"},
    {"id": "DESC"},
    {"score": "ASC"},
    {"score": "DESC"},
    {"seen_at": "DESC"},
    {"createdAt": "ASC"},
    {"createdAt": "DESC"},
    {"updatedAt": "ASC"},
    {"score": "DESC", "createdAt": "ASC"},
    {"seen_at": "ASC", "score": "DESC", "id": "ASC"},
]


@pytest.mark.parametrize("sort", SORTS, ids=lambda sort: str(sort) or "default")
@pytest.mark.parametrize("route", ["v1", "v2"])
def test_walking_every_page_gives_each_match_once_in_sort_order(client, pw, ranked, route, sort):
    def send(**page: Any) -> TestResponse:
        if route == "v1":
            return post_v1(client, pw, {"kind": "bug"}, sort=sort, **page)
        return post_v2(client, pw, [query("kind", "bug")], sort=sort, **page)

    ids = walk_pages(send, 201, RANKED, 5)
    assert len(ids) == len(set(ids)) == RANKED
    assert set(ids) == set(ranked)
    assert ids == expected_order(ranked, sort or {"id": "DESC"})


def test_walking_every_page_of_a_get_search(client, pw, ranked):
    def send(**page: Any) -> TestResponse:
        return get_search(client, pw, fieldKey="kind", searchText="bug", **page)

    ids = walk_pages(send, 200, RANKED, 5)
    assert ids == sorted(ranked, reverse=True)


@pytest.mark.parametrize(
    ("limit", "page", "used_limit", "used_page"),
    [
        (None, None, 10, 1),
        (0, 0, 10, 1),
        (-5, -1, 10, 1),
        ("abc", "x", 10, 1),
        ("7", "2", 7, 2),
        (5000, 1, 1000, 1),
        (10, 99, 10, 99),
    ],
)
@pytest.mark.parametrize("route", ["v1", "get"])
def test_limit_and_page_are_read_leniently(
    client, pw, ranked, route, limit, page, used_limit, used_page
):
    params = {
        name: value for name, value in (("limit", limit), ("page", page)) if value is not None
    }
    if route == "v1":
        response = post_v1(client, pw, {"kind": "bug"}, **params)
    else:
        response = get_search(client, pw, fieldKey="kind", searchText="bug", **params)
    body = response.get_json()
    newest = sorted(ranked, reverse=True)
    expected = newest[(used_page - 1) * used_limit : used_page * used_limit]
    assert [item["id"] for item in body["items"]] == expected
    assert body["meta"] == page_meta(len(expected), RANKED, used_limit, used_page)
