"""Request ids: every response carries ``X-Request-Id``, and the served logs carry the same id.

An incoming id is kept only when it is 1-128 characters of ``[A-Za-z0-9._-]``; anything else is
replaced, and never reaches a log line.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.extensions import db
from tests import served
from tests.conftest import make_test_app
from tests.databases import SqliteFile, TestDatabase
from tests.factories import World
from tests.served import Call, Site

GENERATED = re.compile(r"[0-9a-f]{32}")
# One line of `feedback-service serve`'s access log.
ACCESS_LINE = re.compile(
    r'(?P<client>\S+) \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" '
    r"(?P<status>\d{3}) (?:\d+|-) \d+ms (?P<request_id>\S+)"
)
KEPT = ("nginx-7f3a9c", "a.b_c-D9", "x" * 128)
# Refused: spaces, tabs, quotes, separators, too long, empty. Each would be written to the
# access log verbatim if it were kept.
REPLACED = ("two words", "tab\tinside", 'quote"d', "semi;colon", "x" * 129, "")


def assert_generated(request_id: str) -> None:
    assert GENERATED.fullmatch(request_id), request_id


# --- in process: which id a response carries ---------------------------------------------------


@pytest.mark.parametrize("presented", KEPT)
def test_a_well_formed_incoming_id_is_kept(client: FlaskClient, presented: str):
    response = client.get("/api/health", headers={"X-Request-Id": presented})
    assert response.status_code == 200
    assert response.headers.get_all("X-Request-Id") == [presented]


@pytest.mark.parametrize("presented", [*REPLACED, "caf\u00e9", "ok\x00nul"])
def test_a_malformed_incoming_id_is_replaced(client: FlaskClient, presented: str):
    response = client.get("/api/health", headers={"X-Request-Id": presented})
    assert response.status_code == 200
    [request_id] = response.headers.get_all("X-Request-Id")
    assert_generated(request_id)


def test_each_request_without_an_id_gets_its_own(client: FlaskClient):
    ids = [client.get("/api/health").headers["X-Request-Id"] for _ in range(3)]
    for request_id in ids:
        assert_generated(request_id)
    assert len(set(ids)) == 3


def test_error_responses_of_every_surface_carry_the_id(client: FlaskClient, world: World):
    key = world.a.headers
    cases = [
        # Unknown path outside every surface (Werkzeug's page), and in each surface.
        ("GET", "/nope", {}, None, 404, "text/html; charset=utf-8"),
        ("GET", "/api/nope", {}, None, 404, "application/json"),
        ("DELETE", "/api/health", {}, None, 404, "application/json"),
        ("GET", "/api/v1/feedback", {}, None, 401, "application/json"),
        ("GET", "/admin/nope", {}, None, 404, "text/html; charset=utf-8"),
        # The console refuses a form without its CSRF token with an HTML page.
        ("POST", "/admin/login", {}, {"email": "a@example.com"}, 400, "text/html; charset=utf-8"),
        # Bad JSON and a body over MAX_CONTENT_LENGTH on the integration API.
        ("POST", f"{world.a.base}/issues", key, "{", 400, "application/json"),
        ("POST", f"{world.a.base}/issues", key, "x" * (1024 * 1024 + 1), 413, "application/json"),
    ]
    for number, (method, path, headers, data, status, content_type) in enumerate(cases):
        presented = f"case-{number}"
        if isinstance(data, str):
            headers = {**headers, "content-type": "application/json"}
        response = client.open(
            path, method=method, headers={**headers, "X-Request-Id": presented}, data=data
        )
        assert (response.status_code, response.content_type) == (status, content_type), path
        assert response.headers.get_all("X-Request-Id") == [presented], path
        response.close()


@pytest.fixture
def limited_client(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app: Flask = make_test_app(
        database,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_INTEGRATION="1 per minute",
    )
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_a_rate_limited_response_carries_the_id(limited_client: FlaskClient):
    path = "/api/projects/1"
    assert limited_client.get(path).status_code == 403
    refused = limited_client.get(path, headers={"X-Request-Id": "limited-1"})
    assert refused.status_code == 429
    assert refused.json == {
        "message": "ThrottlerException: Too Many Requests",
        "error": "Too Many Requests",
        "statusCode": 429,
        "path": path,
    }
    assert refused.headers.get_all("X-Request-Id") == ["limited-1"]


# --- served: the access log and the app's own log lines ----------------------------------------


def access_lines(log: str) -> list[re.Match[str]]:
    return [match for line in log.splitlines() if (match := ACCESS_LINE.fullmatch(line))]


def test_served_access_log_has_one_line_per_request_with_the_id_the_client_got(site: Site):
    ids = site.ids
    paths = [
        (f"/api/projects/{ids.project_id}", {"x-api-key": ids.secret_key}, 200),
        ("/api/v1/feedback", {"x-api-key": ids.public_key}, 200),
        ("/api/v1/feedback", {}, 401),
        ("/nope", {}, 404),
    ]
    presented = [*KEPT, *REPLACED, None, None]
    calls = [
        Call("GET", path, headers={**headers, **({"X-Request-Id": sent} if sent else {})})
        for path, headers, _ in paths
        for sent in presented
    ]
    with served.serve(site, env=served.LIMITS_OFF) as server:
        replies = served.send_all(server.port, calls, threads=8)
        assert server.stop() == 0
        log = server.log()

    expected_statuses = [status for _, _, status in paths for _ in presented]
    assert [reply.status for reply in replies] == expected_statuses
    given = [reply.headers["x-request-id"] for reply in replies]
    for call, request_id in zip(calls, given, strict=True):
        sent = call.headers.get("X-Request-Id")
        if sent in KEPT:
            assert request_id == sent
        else:
            assert_generated(request_id)
    generated = [request_id for request_id in given if request_id not in KEPT]
    assert len(set(generated)) == len(generated) == len(paths) * (len(presented) - len(KEPT))

    # The health checks made while the server started are logged too; they are not ours.
    logged = [line for line in access_lines(log) if line["path"] != "/api/health"]
    assert Counter(
        (line["method"], line["path"], int(line["status"]), line["request_id"]) for line in logged
    ) == Counter(
        (call.method, call.path, reply.status, reply.headers["x-request-id"])
        for call, reply in zip(calls, replies, strict=True)
    )
    for refused in REPLACED:
        if refused:
            assert refused not in log


@pytest.mark.sqlite_only(reason="holds SQLite's write lock with a connection of its own")
def test_served_warning_names_the_request_it_is_about(site: Site):
    ids = site.ids
    assert isinstance(site.cli.database, SqliteFile)
    settings = {**served.LIMITS_OFF, "FEEDBACK_SQLITE_BUSY_TIMEOUT_MS": "200"}
    with served.serve(site, workers=1, env=settings) as server:
        with closing(sqlite3.connect(site.cli.database.path, isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            busy = served.send(
                server.port,
                Call(
                    "POST",
                    f"/api/projects/{ids.project_id}/issues",
                    {"name": "while locked"},
                    {"x-api-key": ids.secret_key, "X-Request-Id": "busy-1"},
                ),
            )
            holder.execute("ROLLBACK")
        assert server.stop() == 0
        log = server.log()
    assert busy.status == 503
    assert busy.headers["x-request-id"] == "busy-1"
    assert busy.headers["retry-after"] == "1"
    warnings = [line for line in log.splitlines() if "database busy" in line]
    assert len(warnings) == 1
    assert re.fullmatch(
        r"\[[^\]]+\] \[\d+\] \[WARNING\] \[request busy-1\] database busy past the busy "
        rf"timeout: /api/projects/{ids.project_id}/issues",
        warnings[0],
    ), warnings
    assert site.cli.database.query("SELECT count(*) FROM issue WHERE name = 'while locked'") == [
        (0,)
    ]
