"""Identity verification on the public API: ``userHash = hex(HMAC-SHA256(secret, externalId))``.

Under ``required`` every claim to be an end user needs the right hash, or the request is
refused with 401 and writes nothing; without ``required`` a claim without a hash is taken as
Feedhog takes it, but a wrong hash is still refused once the project has a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.services.identity import configure_identity, user_hash
from tests.helpers import Sql, assert_json, database_rows
from tests.public_api.conftest import Boards, BoardWorld

INVALID_USER_HASH = {"error": "Invalid user hash"}
USER = "user-1"
ACTIONS = ("identify", "submit", "vote", "comment")


def sign(secret: str, external_id: str) -> str:
    """The hash as the customer's server computes it, independently of the service code."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def configure(app: Flask, project_id: int, **kwargs: Any) -> str:
    """The project's identity secret (created on first use), after applying ``kwargs``."""
    with app.app_context():
        return configure_identity(project_id, **kwargs).secret


def send(
    client: FlaskClient,
    board: BoardWorld,
    action: str,
    feedback_id: str,
    end_user: dict[str, Any] | None,
) -> TestResponse:
    """One public-API write; ``end_user`` is the ``endUser`` object (the body of identify)."""
    headers = board.headers
    if action == "identify":
        return client.post("/api/v1/identify", json=end_user, headers=headers)
    if action == "submit":
        body = {"title": "Dark mode", "endUser": end_user}
        return client.post("/api/v1/feedback", json=body, headers=headers)
    if action == "vote":
        body = {"endUser": end_user}
        return client.post(f"/api/v1/feedback/{feedback_id}/vote", json=body, headers=headers)
    assert action == "comment"
    body = {"content": "Me too", "endUser": end_user}
    return client.post(f"/api/v1/feedback/{feedback_id}/comments", json=body, headers=headers)


SUCCESS_STATUS = {"identify": 200, "submit": 201, "vote": 200, "comment": 201}


def end_user_rows(sql: Sql, project_id: int) -> list[tuple[Any, ...]]:
    return sql(
        "SELECT external_id FROM end_user WHERE project_id = ? ORDER BY external_id",
        (project_id,),
    )


def assert_acted_as(sql: Sql, action: str, project_id: int, external_id: str) -> None:
    """The write happened, attributed to the end user ``external_id``."""
    rows = sql(
        "SELECT id FROM end_user WHERE project_id = ? AND external_id = ?",
        (project_id, external_id),
    )
    assert len(rows) == 1, rows
    (end_user_id,) = rows[0]
    if action == "submit":
        assert sql("SELECT COUNT(*) FROM feedback WHERE end_user_id = ?", (end_user_id,)) == [(1,)]
    if action in ("submit", "vote"):
        assert sql("SELECT voter_key FROM vote WHERE end_user_id = ?", (end_user_id,)) == [
            (f"u{end_user_id}",)
        ]
    if action == "comment":
        assert sql("SELECT content FROM comment WHERE end_user_id = ?", (end_user_id,)) == [
            ("Me too",)
        ]


@pytest.fixture
def feedback_id(client: FlaskClient, boards_world: Boards) -> str:
    """Anonymous feedback on board a, for votes and comments."""
    response = client.post(
        "/api/v1/feedback", json={"title": "Export to CSV"}, headers=boards_world.a.headers
    )
    assert response.status_code == 201
    return str(response.get_json()["feedback"]["id"])


@pytest.fixture
def secret(app: Flask, boards_world: Boards) -> str:
    """Project a's identity secret, with verification required."""
    return configure(app, boards_world.a.project_id, required=True)


# --- refused claims under `required` ----------------------------------------------------------

# Each builds, for project a (which requires verification), the endUser object of a bad claim
# to be USER; setup such as rotating the secret happens here, before the snapshot.
BadClaim = Callable[[Flask, Boards, str], dict[str, Any]]


def _rotated(app: Flask, world: Boards, secret: str) -> dict[str, Any]:
    old = sign(secret, USER)
    new_secret = configure(app, world.a.project_id, rotate=True)
    assert new_secret != secret
    return {"externalId": USER, "userHash": old}


BAD_CLAIMS: dict[str, BadClaim] = {
    "no hash": lambda app, world, secret: {"externalId": USER},
    "null hash": lambda app, world, secret: {"externalId": USER, "userHash": None},
    "empty hash": lambda app, world, secret: {"externalId": USER, "userHash": ""},
    "wrong hash": lambda app, world, secret: {"externalId": USER, "userHash": "0" * 64},
    "hash of another externalId": lambda app, world, secret: {
        "externalId": USER,
        "userHash": sign(secret, "user-2"),
    },
    "hash with another project's secret": lambda app, world, secret: {
        "externalId": USER,
        "userHash": sign(configure(app, world.b.project_id), USER),
    },
    "truncated hash": lambda app, world, secret: {
        "externalId": USER,
        "userHash": sign(secret, USER)[:-1],
    },
    "secret and externalId swapped": lambda app, world, secret: {
        "externalId": USER,
        "userHash": sign(USER, secret),
    },
    "old hash after rotating the secret": _rotated,
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("bad_claim", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_required_refuses_a_bad_claim_with_401_and_writes_nothing(
    app, client, sql, boards_world, secret, feedback_id, action, bad_claim
):
    end_user = bad_claim(app, boards_world, secret)
    before = database_rows(sql)
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert_json(response, 401, INVALID_USER_HASH)
    assert database_rows(sql) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_required_accepts_a_valid_hash(client, sql, boards_world, secret, feedback_id, action):
    end_user = {"externalId": USER, "userHash": sign(secret, USER)}
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


@pytest.mark.parametrize("action", ACTIONS)
def test_required_accepts_the_hash_in_upper_case_hex(
    client, sql, boards_world, secret, feedback_id, action
):
    end_user = {"externalId": USER, "userHash": sign(secret, USER).upper()}
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


@pytest.mark.parametrize("action", ACTIONS)
def test_new_secret_after_rotation_is_accepted(
    app, client, sql, boards_world, secret, feedback_id, action
):
    new_secret = configure(app, boards_world.a.project_id, rotate=True)
    end_user = {"externalId": USER, "userHash": sign(new_secret, USER)}
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


def test_identify_with_a_valid_hash_answers_the_user_and_stores_the_attributes(
    client, sql, boards_world, secret
):
    body = {
        "externalId": USER,
        "userHash": sign(secret, USER),
        "email": "user@example.com",
        "name": "John Doe",
    }
    response = client.post("/api/v1/identify", json=body, headers=boards_world.a.headers)
    assert response.status_code == 200
    user = response.get_json()["user"]
    assert {k: v for k, v in user.items() if k != "createdAt"} == {
        "id": USER,
        "email": "user@example.com",
        "name": "John Doe",
        "avatarUrl": None,
    }
    assert sql("SELECT project_id, external_id, email, name FROM end_user") == [
        (boards_world.a.project_id, USER, "user@example.com", "John Doe")
    ]


def test_hash_covers_the_utf8_bytes_of_a_non_ascii_external_id(app, client, sql, boards_world):
    secret = configure(app, boards_world.a.project_id, required=True)
    external_id = "josé-用户-😀"
    with app.app_context():
        assert user_hash(secret, external_id) == sign(secret, external_id)
    body = {"externalId": external_id, "userHash": sign(secret, external_id)}
    response = client.post("/api/v1/identify", json=body, headers=boards_world.a.headers)
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == external_id
    assert end_user_rows(sql, boards_world.a.project_id) == [(external_id,)]


def test_each_project_checks_hashes_with_its_own_secret(app, client, sql, boards_world):
    secret_a = configure(app, boards_world.a.project_id, required=True)
    secret_b = configure(app, boards_world.b.project_id, required=True)
    assert secret_a != secret_b
    on_b = client.post(
        "/api/v1/identify",
        json={"externalId": USER, "userHash": sign(secret_a, USER)},
        headers=boards_world.b.headers,
    )
    assert_json(on_b, 401, INVALID_USER_HASH)
    on_b = client.post(
        "/api/v1/identify",
        json={"externalId": USER, "userHash": sign(secret_b, USER)},
        headers=boards_world.b.headers,
    )
    assert on_b.status_code == 200
    assert end_user_rows(sql, boards_world.b.project_id) == [(USER,)]
    assert end_user_rows(sql, boards_world.a.project_id) == []


def test_required_still_takes_anonymous_writes(client, sql, boards_world, secret):
    headers = boards_world.a.headers
    submitted = client.post("/api/v1/feedback", json={"title": "Anonymous"}, headers=headers)
    assert submitted.status_code == 201
    assert submitted.get_json()["feedback"]["endUser"] is None
    assert submitted.get_json()["feedback"]["voteCount"] == 1
    feedback_id = submitted.get_json()["feedback"]["id"]
    commented = client.post(
        f"/api/v1/feedback/{feedback_id}/comments",
        json={"content": "Anonymous comment", "endUser": None},
        headers=headers,
    )
    assert commented.status_code == 201
    assert commented.get_json()["comment"]["author"] is None
    voted = client.post(
        f"/api/v1/feedback/{feedback_id}/vote",
        json={},
        headers=headers,
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert_json(voted, 200, {"voted": True, "voteCount": 2})
    assert sql("SELECT COUNT(*) FROM end_user") == [(0,)]
    assert sql("SELECT COUNT(*), COUNT(end_user_id) FROM feedback") == [(1, 0)]
    assert sql("SELECT end_user_id, content FROM comment") == [(None, "Anonymous comment")]
    assert sql("SELECT COUNT(*), COUNT(end_user_id) FROM vote") == [(2, 0)]


# --- reads with endUserId under `required` ----------------------------------------------------

READS = {
    "detail": "/api/v1/feedback/{id}",
    "vote state": "/api/v1/feedback/{id}/vote",
}


def read(client: FlaskClient, board: BoardWorld, kind: str, feedback_id: str, query: str) -> Any:
    path = READS[kind].format(id=feedback_id)
    return client.get(f"{path}?{query}" if query else path, headers=board.headers)


@pytest.mark.parametrize("kind", READS)
@pytest.mark.parametrize(
    "query",
    [
        f"endUserId={USER}",
        f"endUserId={USER}&userHash=",
        f"endUserId={USER}&userHash={'0' * 64}",
        "endUserId={user}&userHash={other}",
        "endUserId={user}&userHash={other_project}",
    ],
    ids=["no hash", "empty hash", "wrong hash", "another user's hash", "another project's"],
)
def test_required_read_with_end_user_id_and_a_bad_hash_is_401(
    app, client, sql, boards_world, secret, feedback_id, kind, query
):
    query = query.format(
        user=USER,
        other=sign(secret, "user-2"),
        other_project=sign(configure(app, boards_world.b.project_id), USER),
    )
    before = database_rows(sql)
    assert_json(read(client, boards_world.a, kind, feedback_id, query), 401, INVALID_USER_HASH)
    assert database_rows(sql) == before


def test_required_read_with_a_valid_hash_reports_the_users_vote(
    client, boards_world, secret, feedback_id
):
    end_user = {"externalId": USER, "userHash": sign(secret, USER)}
    voted = send(client, boards_world.a, "vote", feedback_id, end_user)
    assert_json(voted, 200, {"voted": True, "voteCount": 2})
    for user, has_voted in ((USER, True), ("user-2", False)):
        query = f"endUserId={user}&userHash={sign(secret, user).upper()}"
        state = read(client, boards_world.a, "vote state", feedback_id, query)
        assert_json(state, 200, {"voted": has_voted, "voteCount": 2})
        detail = read(client, boards_world.a, "detail", feedback_id, query)
        assert detail.status_code == 200
        assert detail.get_json()["feedback"]["userHasVoted"] is has_voted


@pytest.mark.parametrize("kind", READS)
def test_required_read_without_end_user_id_is_served(
    client, boards_world, secret, feedback_id, kind
):
    # The fixture's anonymous submitter voted from the test client's default address.
    response = read(client, boards_world.a, kind, feedback_id, "")
    assert response.status_code == 200
    body = response.get_json()
    if kind == "detail":
        assert (body["feedback"]["userHasVoted"], body["feedback"]["voteCount"]) == (True, 1)
    else:
        assert body == {"voted": True, "voteCount": 1}


# --- verification not required ----------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_not_required_takes_a_claim_without_hash(
    app, client, sql, boards_world, feedback_id, action
):
    configure(app, boards_world.a.project_id, required=False)  # a secret exists
    response = send(client, boards_world.a, action, feedback_id, {"externalId": USER})
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    "bad_hash",
    ["wrong", "another user's", "another project's"],
)
def test_not_required_still_refuses_a_wrong_hash_once_there_is_a_secret(
    app, client, sql, boards_world, feedback_id, action, bad_hash
):
    secret = configure(app, boards_world.a.project_id, required=False)
    presented = {
        "wrong": "f" * 64,
        "another user's": sign(secret, "user-2"),
        "another project's": sign(configure(app, boards_world.b.project_id), USER),
    }[bad_hash]
    before = database_rows(sql)
    response = send(
        client, boards_world.a, action, feedback_id, {"externalId": USER, "userHash": presented}
    )
    assert_json(response, 401, INVALID_USER_HASH)
    assert database_rows(sql) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_not_required_accepts_a_valid_hash(app, client, sql, boards_world, feedback_id, action):
    secret = configure(app, boards_world.a.project_id, required=False)
    end_user = {"externalId": USER, "userHash": sign(secret, USER)}
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


@pytest.mark.parametrize("kind", READS)
def test_not_required_reads_refuse_a_wrong_hash_and_take_a_missing_one(
    app, client, boards_world, feedback_id, kind
):
    configure(app, boards_world.a.project_id, required=False)
    wrong = read(client, boards_world.a, kind, feedback_id, f"endUserId={USER}&userHash=abc")
    assert_json(wrong, 401, INVALID_USER_HASH)
    missing = read(client, boards_world.a, kind, feedback_id, f"endUserId={USER}")
    assert missing.status_code == 200


@pytest.mark.parametrize("action", ACTIONS)
def test_project_without_a_secret_ignores_hashes(sql, client, boards_world, feedback_id, action):
    assert sql(
        "SELECT identity_secret, identity_required FROM project WHERE id = ?",
        (boards_world.a.project_id,),
    ) == [(None, 0)]
    end_user = {"externalId": USER, "userHash": "not-a-hash-at-all"}
    response = send(client, boards_world.a, action, feedback_id, end_user)
    assert response.status_code == SUCCESS_STATUS[action], response.get_json()
    assert_acted_as(sql, action, boards_world.a.project_id, USER)


@pytest.mark.parametrize("kind", READS)
def test_project_without_a_secret_ignores_hashes_on_reads(client, boards_world, feedback_id, kind):
    response = read(client, boards_world.a, kind, feedback_id, f"endUserId={USER}&userHash=zz")
    assert response.status_code == 200


def test_turning_requirement_off_again_takes_claims_without_hash(
    app, client, sql, boards_world, secret
):
    refused = send(client, boards_world.a, "identify", "", {"externalId": USER})
    assert_json(refused, 401, INVALID_USER_HASH)
    assert configure(app, boards_world.a.project_id, required=False) == secret
    accepted = send(client, boards_world.a, "identify", "", {"externalId": USER})
    assert accepted.status_code == 200
    assert end_user_rows(sql, boards_world.a.project_id) == [(USER,)]


def test_an_unproven_identify_reads_back_only_what_it_sent(app, client, sql, boards_world):
    """Anyone with the public key can claim an externalId: without a valid hash, identify must
    not reveal what was stored for that user (Feedhog would answer the whole record)."""
    board = boards_world.a
    configure(app, board.project_id, required=False)
    stored = {"externalId": "someone", "email": "someone@example.com", "name": "Someone"}
    assert client.post("/api/v1/identify", json=stored, headers=board.headers).status_code == 200

    unproven = client.post(
        "/api/v1/identify", json={"externalId": "someone"}, headers=board.headers
    )
    assert unproven.status_code == 200
    assert {k: unproven.json["user"][k] for k in ("id", "email", "name", "avatarUrl")} == {
        "id": "someone",
        "email": None,
        "name": None,
        "avatarUrl": None,
    }
    sent_name = client.post(
        "/api/v1/identify", json={"externalId": "someone", "name": "S."}, headers=board.headers
    )
    assert (sent_name.json["user"]["name"], sent_name.json["user"]["email"]) == ("S.", None)
    # What it sent is stored (Feedhog's update semantics); what it did not send is kept.
    assert sql(
        "SELECT email, name FROM end_user WHERE project_id = ? AND external_id = 'someone'",
        (board.project_id,),
    ) == [("someone@example.com", "S.")]


@pytest.mark.parametrize("action", ACTIONS)
def test_once_verified_an_end_user_needs_a_hash_even_when_not_required(
    app, client, sql, boards_world, feedback_id, action
):
    """A site rolling hashes out protects every user it has verified; others work as before."""
    board = boards_world.a
    secret = configure(app, board.project_id, required=False)
    proven = {
        "externalId": "victim",
        "email": "victim@example.com",
        "userHash": sign(secret, "victim"),
    }
    assert client.post("/api/v1/identify", json=proven, headers=board.headers).status_code == 200
    before = database_rows(sql)

    refused = send(client, board, action, feedback_id, {"externalId": "victim", "name": "HACKED"})
    assert_json(refused, 401, INVALID_USER_HASH)
    assert database_rows(sql) == before
    for kind in READS:
        assert_json(
            read(client, board, kind, feedback_id, "endUserId=victim"), 401, INVALID_USER_HASH
        )

    with_hash = send(client, board, action, feedback_id, proven)
    assert with_hash.status_code == SUCCESS_STATUS[action]
    never_verified = send(client, board, action, feedback_id, {"externalId": "someone-else"})
    assert never_verified.status_code == SUCCESS_STATUS[action]
    assert sql(
        "SELECT external_id, verified_at IS NOT NULL FROM end_user WHERE project_id = ? "
        "ORDER BY external_id",
        (board.project_id,),
    ) == [("someone-else", 0), ("victim", 1)]


def test_an_empty_user_hash_is_checked_alike_in_a_body_and_a_query(
    app, client, boards_world, feedback_id
):
    board = boards_world.a
    configure(app, board.project_id, required=False)
    body = client.post(
        "/api/v1/identify", json={"externalId": USER, "userHash": ""}, headers=board.headers
    )
    assert_json(body, 401, INVALID_USER_HASH)
    query = client.get(
        f"/api/v1/feedback/{feedback_id}/vote?endUserId={USER}&userHash=", headers=board.headers
    )
    assert_json(query, 401, INVALID_USER_HASH)
