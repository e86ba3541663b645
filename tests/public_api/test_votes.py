"""Vote toggles on the public API: one vote per voter, an end user or an anonymous client.

Anonymous voters are keyed by the client's address (IPv6 per /64), which is never stored raw;
``feedback.vote_count`` always equals the number of vote rows.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.extensions import db
from tests.conftest import make_test_app
from tests.databases import TestDatabase
from tests.helpers import Sql, assert_json, database_rows
from tests.public_api.conftest import Boards, BoardWorld

IP = "203.0.113.7"
OTHER_IP = "198.51.100.23"
FEEDBACK_NOT_FOUND = {"error": "Feedback not found"}


def vote(
    client: FlaskClient,
    board: BoardWorld,
    feedback_id: str,
    ip: str = IP,
    external_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    body = {} if external_id is None else {"endUser": {"externalId": external_id}}
    return client.post(
        f"/api/v1/feedback/{feedback_id}/vote",
        json=body,
        headers={**board.headers, **(headers or {})},
        environ_base={"REMOTE_ADDR": ip},
    )


def vote_state(
    client: FlaskClient,
    board: BoardWorld,
    feedback_id: str,
    ip: str = IP,
    external_id: str | None = None,
) -> TestResponse:
    query = "" if external_id is None else f"?endUserId={external_id}"
    return client.get(
        f"/api/v1/feedback/{feedback_id}/vote{query}",
        headers=board.headers,
        environ_base={"REMOTE_ADDR": ip},
    )


def submit(
    client: FlaskClient, board: BoardWorld, ip: str = IP, external_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Dark mode"}
    if external_id is not None:
        body["endUser"] = {"externalId": external_id}
    response = client.post(
        "/api/v1/feedback", json=body, headers=board.headers, environ_base={"REMOTE_ADDR": ip}
    )
    assert response.status_code == 201, response.get_json()
    feedback: dict[str, Any] = response.get_json()["feedback"]
    return feedback


def stored_count(sql: Sql, feedback_id: str) -> int:
    """``vote_count`` of the feedback, after checking it equals its vote rows."""
    [(counter, rows)] = sql(
        "SELECT f.vote_count, (SELECT COUNT(*) FROM vote v WHERE v.feedback_id = f.id)"
        " FROM feedback f WHERE f.public_id = ?",
        (feedback_id,),
    )
    assert counter == rows
    return int(counter)


def votes_of(sql: Sql, feedback_id: str) -> list[tuple[Any, ...]]:
    """(voter_key, end_user's external id or None) of each vote, sorted."""
    return sql(
        "SELECT v.voter_key, u.external_id FROM vote v JOIN feedback f ON f.id = v.feedback_id"
        " LEFT JOIN end_user u ON u.id = v.end_user_id WHERE f.public_id = ?"
        " ORDER BY v.voter_key",
        (feedback_id,),
    )


def anonymous_keys(sql: Sql, feedback_id: str) -> list[str]:
    return [key for key, external_id in votes_of(sql, feedback_id) if external_id is None]


@pytest.fixture
def feedback_id(client: FlaskClient, boards_world: Boards) -> str:
    """Feedback on board a by the end user "author", whose vote is the first (voteCount 1)."""
    feedback = submit(client, boards_world.a, ip="192.0.2.250", external_id="author")
    assert feedback["voteCount"] == 1
    return str(feedback["id"])


@pytest.fixture
def proxied_app(app: Flask, database: TestDatabase) -> Iterator[Flask]:
    """A second app on the same database, behind one trusted proxy (``PROXY_FIX_X_FOR=1``)."""
    proxied = make_test_app(database, PROXY_FIX_X_FOR=1)
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def test_identified_voter_adds_then_removes_the_vote(client, sql, boards_world, feedback_id):
    board = boards_world.a
    added = vote(client, board, feedback_id, external_id="user-1")
    assert_json(added, 200, {"voted": True, "voteCount": 2})
    [(end_user_id,)] = sql("SELECT id FROM end_user WHERE external_id = 'user-1'")
    assert (f"u{end_user_id}", "user-1") in votes_of(sql, feedback_id)
    assert stored_count(sql, feedback_id) == 2
    removed = vote(client, board, feedback_id, external_id="user-1")
    assert_json(removed, 200, {"voted": False, "voteCount": 1})
    assert [external_id for _, external_id in votes_of(sql, feedback_id)] == ["author"]
    assert stored_count(sql, feedback_id) == 1


def test_identified_voter_is_the_same_from_any_address(client, sql, boards_world, feedback_id):
    board = boards_world.a
    assert_json(
        vote(client, board, feedback_id, IP, "user-1"), 200, {"voted": True, "voteCount": 2}
    )
    assert_json(
        vote(client, board, feedback_id, OTHER_IP, "user-1"),
        200,
        {"voted": False, "voteCount": 1},
    )
    assert stored_count(sql, feedback_id) == 1


def test_anonymous_voters_are_keyed_by_address(client, sql, boards_world, feedback_id):
    board = boards_world.a
    assert_json(vote(client, board, feedback_id, IP), 200, {"voted": True, "voteCount": 2})
    assert_json(vote(client, board, feedback_id, OTHER_IP), 200, {"voted": True, "voteCount": 3})
    keys = anonymous_keys(sql, feedback_id)
    assert len(set(keys)) == 2
    assert all(key.startswith("a") for key in keys)
    assert stored_count(sql, feedback_id) == 3
    assert_json(vote(client, board, feedback_id, IP), 200, {"voted": False, "voteCount": 2})
    assert len(anonymous_keys(sql, feedback_id)) == 1
    assert_json(vote(client, board, feedback_id, OTHER_IP), 200, {"voted": False, "voteCount": 1})
    assert anonymous_keys(sql, feedback_id) == []
    assert stored_count(sql, feedback_id) == 1


def test_anonymous_and_identified_votes_from_one_address_are_separate(
    client, sql, boards_world, feedback_id
):
    board = boards_world.a
    assert_json(vote(client, board, feedback_id, IP), 200, {"voted": True, "voteCount": 2})
    assert_json(
        vote(client, board, feedback_id, IP, "user-1"), 200, {"voted": True, "voteCount": 3}
    )
    assert stored_count(sql, feedback_id) == 3
    # The anonymous toggle from that address removes only the anonymous vote.
    assert_json(vote(client, board, feedback_id, IP), 200, {"voted": False, "voteCount": 2})
    assert [external_id for _, external_id in votes_of(sql, feedback_id)] == ["author", "user-1"]
    assert_json(
        vote_state(client, board, feedback_id, IP, "user-1"), 200, {"voted": True, "voteCount": 2}
    )
    assert_json(vote_state(client, board, feedback_id, IP), 200, {"voted": False, "voteCount": 2})


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"),
        ("2001:db8:1:2:a:b:c:d", "2001:DB8:1:2::D"),
        ("203.0.113.7", "::ffff:203.0.113.7"),
    ],
    ids=["same /64", "same /64, other spelling", "IPv4 and its IPv4-mapped IPv6"],
)
def test_addresses_of_one_client_count_as_one_voter(
    client, sql, boards_world, feedback_id, first, second
):
    board = boards_world.a
    assert_json(vote(client, board, feedback_id, first), 200, {"voted": True, "voteCount": 2})
    assert_json(
        vote_state(client, board, feedback_id, second), 200, {"voted": True, "voteCount": 2}
    )
    assert_json(vote(client, board, feedback_id, second), 200, {"voted": False, "voteCount": 1})
    assert stored_count(sql, feedback_id) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:3::1"),
        ("2001:db8:1:2::1", "2001:db9:1:2::1"),
        ("203.0.113.7", "203.0.113.8"),
    ],
    ids=["neighbouring /64", "other /32", "neighbouring IPv4"],
)
def test_addresses_of_different_clients_count_twice(
    client, sql, boards_world, feedback_id, first, second
):
    board = boards_world.a
    assert_json(vote(client, board, feedback_id, first), 200, {"voted": True, "voteCount": 2})
    assert_json(
        vote_state(client, board, feedback_id, second), 200, {"voted": False, "voteCount": 2}
    )
    assert_json(vote(client, board, feedback_id, second), 200, {"voted": True, "voteCount": 3})
    assert len(set(anonymous_keys(sql, feedback_id))) == 2
    assert stored_count(sql, feedback_id) == 3


@pytest.mark.sqlite_only(reason="reads the raw database file, its free pages included")
def test_raw_address_is_never_stored(client, sql, database_path, boards_world, feedback_id):
    board = boards_world.a
    ipv4, ipv6 = "203.0.113.77", "2001:db8:abcd:12::77"
    assert vote(client, board, feedback_id, ipv4).status_code == 200
    assert vote(client, board, feedback_id, ipv6).status_code == 200
    anonymous = submit(client, board, ip=ipv4)  # the submitter's own anonymous vote
    keys = anonymous_keys(sql, feedback_id) + anonymous_keys(sql, anonymous["id"])
    assert len(keys) == 3
    files = [database_path, database_path.with_name(database_path.name + "-wal")]
    stored = b"".join(path.read_bytes() for path in files if path.exists())
    # The bytes read hold the votes written, so the search below looks in the right place.
    assert all(key.encode() in stored for key in keys)
    for address in (ipv4, ipv6, "2001:db8:abcd:12::", "2001:0db8:abcd:0012"):
        for encoding in ("ascii", "utf-16-le", "utf-16-be"):
            assert address.encode(encoding) not in stored, (address, encoding)
    assert ipv4.encode() not in repr(database_rows(sql)).encode()
    # The key is not a plain (unkeyed) digest of the address, which anyone could brute-force.
    for key in keys:
        for address in (ipv4, ipv6, "2001:db8:abcd:12::/64"):
            for digest in (hashlib.sha256, hashlib.sha1, hashlib.md5):
                assert digest(address.encode()).hexdigest() not in key


def test_vote_state_by_end_user_id(client, boards_world, feedback_id):
    board = boards_world.a
    assert vote(client, board, feedback_id, IP, "user-1").status_code == 200
    expected = {"user-1": True, "user-2": False, "author": True, "nobody": False}
    for external_id, voted in expected.items():
        state = vote_state(client, board, feedback_id, OTHER_IP, external_id)
        assert_json(state, 200, {"voted": voted, "voteCount": 2})
    # The identified vote is not the address's anonymous vote.
    assert_json(vote_state(client, board, feedback_id, IP), 200, {"voted": False, "voteCount": 2})


def test_vote_state_without_end_user_id_is_by_address(client, boards_world, feedback_id):
    board = boards_world.a
    assert vote(client, board, feedback_id, IP).status_code == 200
    assert_json(vote_state(client, board, feedback_id, IP), 200, {"voted": True, "voteCount": 2})
    assert_json(
        vote_state(client, board, feedback_id, OTHER_IP), 200, {"voted": False, "voteCount": 2}
    )
    for ip, voted in ((IP, True), (OTHER_IP, False)):
        detail = client.get(
            f"/api/v1/feedback/{feedback_id}",
            headers=board.headers,
            environ_base={"REMOTE_ADDR": ip},
        )
        assert detail.status_code == 200
        assert detail.get_json()["feedback"]["userHasVoted"] is voted
        assert detail.get_json()["feedback"]["voteCount"] == 2


def test_behind_a_trusted_proxy_the_voter_is_the_last_forwarded_address(
    client, proxied_app, sql, boards_world, feedback_id
):
    board = boards_world.a
    proxied = proxied_app.test_client()
    forwarded = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9"}
    first = vote(proxied, board, feedback_id, "127.0.0.1", headers=forwarded)
    assert_json(first, 200, {"voted": True, "voteCount": 2})
    # Another client-supplied first entry, another proxy peer: the same voter.
    forwarded = {"X-Forwarded-For": "192.0.2.2, 203.0.113.9"}
    again = vote(proxied, board, feedback_id, "127.0.0.2", headers=forwarded)
    assert_json(again, 200, {"voted": False, "voteCount": 1})
    # A new last entry is a new voter.
    forwarded = {"X-Forwarded-For": "203.0.113.9, 203.0.113.10"}
    other = vote(proxied, board, feedback_id, "127.0.0.1", headers=forwarded)
    assert_json(other, 200, {"voted": True, "voteCount": 2})
    # The app without a proxy sees that voter when it connects directly from that address.
    assert_json(
        vote_state(client, board, feedback_id, "203.0.113.10"), 200, {"voted": True, "voteCount": 2}
    )
    assert_json(
        vote_state(client, board, feedback_id, "203.0.113.9"), 200, {"voted": False, "voteCount": 2}
    )
    assert_json(
        vote_state(client, board, feedback_id, "127.0.0.1"), 200, {"voted": False, "voteCount": 2}
    )
    assert stored_count(sql, feedback_id) == 2


def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(
    client, sql, boards_world, feedback_id
):
    board = boards_world.a
    first = vote(client, board, feedback_id, IP, headers={"X-Forwarded-For": "192.0.2.1"})
    assert_json(first, 200, {"voted": True, "voteCount": 2})
    again = vote(client, board, feedback_id, IP, headers={"X-Forwarded-For": "192.0.2.2"})
    assert_json(again, 200, {"voted": False, "voteCount": 1})
    third = vote(client, board, feedback_id, IP, headers={"X-Forwarded-For": "192.0.2.3, 10.0.0.1"})
    assert_json(third, 200, {"voted": True, "voteCount": 2})
    assert_json(vote_state(client, board, feedback_id, IP), 200, {"voted": True, "voteCount": 2})
    for forged in ("192.0.2.1", "192.0.2.3", "10.0.0.1"):
        state = vote_state(client, board, feedback_id, forged)
        assert_json(state, 200, {"voted": False, "voteCount": 2})
    assert stored_count(sql, feedback_id) == 2


def test_vote_count_equals_vote_rows_after_a_random_sequence(client, sql, boards_world):
    board = boards_world.a
    rng = random.Random(20240115)
    ids = [submit(client, board, ip="192.0.2.250", external_id="author")["id"] for _ in range(2)]
    voters: list[tuple[str, str | None]] = [
        ("203.0.113.1", None),
        ("203.0.113.2", None),
        ("2001:db8::1", None),
        ("2001:db8::2", None),  # the same /64 as the previous voter
        ("203.0.113.1", "user-1"),
        ("198.51.100.1", "user-2"),
        ("192.0.2.250", "author"),
    ]
    same_client = {("2001:db8::2", None): ("2001:db8::1", None)}
    expected = {feedback_id: {("192.0.2.250", "author")} for feedback_id in ids}
    for _ in range(60):
        feedback_id = rng.choice(ids)
        ip, external_id = rng.choice(voters)
        voter = same_client.get((ip, external_id), (ip, external_id))
        now_voted = voter not in expected[feedback_id]
        expected[feedback_id] ^= {voter}
        response = vote(client, board, feedback_id, ip, external_id)
        assert_json(response, 200, {"voted": now_voted, "voteCount": len(expected[feedback_id])})
        assert stored_count(sql, feedback_id) == len(expected[feedback_id])
    for feedback_id in ids:
        assert stored_count(sql, feedback_id) == len(expected[feedback_id])


def test_anonymous_submission_counts_the_submitters_vote(client, sql, boards_world):
    board = boards_world.a
    feedback = submit(client, board, ip=IP)
    assert feedback["voteCount"] == 1
    assert stored_count(sql, feedback["id"]) == 1
    assert len(anonymous_keys(sql, feedback["id"])) == 1
    assert_json(vote_state(client, board, feedback["id"], IP), 200, {"voted": True, "voteCount": 1})
    assert_json(vote(client, board, feedback["id"], OTHER_IP), 200, {"voted": True, "voteCount": 2})
    assert_json(vote(client, board, feedback["id"], IP), 200, {"voted": False, "voteCount": 1})
    assert stored_count(sql, feedback["id"]) == 1


def test_identified_submission_counts_the_submitters_vote(client, sql, boards_world):
    board = boards_world.a
    feedback = submit(client, board, ip=IP, external_id="user-1")
    assert feedback["voteCount"] == 1
    [(end_user_id,)] = sql("SELECT id FROM end_user WHERE external_id = 'user-1'")
    assert votes_of(sql, feedback["id"]) == [(f"u{end_user_id}", "user-1")]
    # The submitter's own anonymous address did not vote.
    assert_json(
        vote_state(client, board, feedback["id"], IP), 200, {"voted": False, "voteCount": 1}
    )
    removed = vote(client, board, feedback["id"], OTHER_IP, "user-1")
    assert_json(removed, 200, {"voted": False, "voteCount": 0})
    assert votes_of(sql, feedback["id"]) == []
    assert stored_count(sql, feedback["id"]) == 0


@pytest.mark.parametrize("external_id", [None, "user-1"])
def test_vote_on_another_projects_feedback_is_404_and_writes_nothing(
    client, sql, boards_world, external_id
):
    theirs = submit(client, boards_world.b, ip="192.0.2.250")["id"]
    before = database_rows(sql)
    response = vote(client, boards_world.a, theirs, IP, external_id)
    assert_json(response, 404, FEEDBACK_NOT_FOUND)
    assert_json(
        vote_state(client, boards_world.a, theirs, IP, external_id), 404, FEEDBACK_NOT_FOUND
    )
    assert database_rows(sql) == before
    assert stored_count(sql, theirs) == 1


@pytest.mark.parametrize("unknown_id", ["fb_doesnotexist0000", "1", "%20"])
def test_vote_on_unknown_feedback_is_404_and_writes_nothing(client, sql, boards_world, unknown_id):
    submit(client, boards_world.a)
    before = database_rows(sql)
    assert_json(vote(client, boards_world.a, unknown_id), 404, FEEDBACK_NOT_FOUND)
    assert database_rows(sql) == before
