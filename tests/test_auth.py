"""Integration API authentication: the x-api-key guard, the master key, hashed key storage."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedback_service.extensions import db
from feedback_service.services import api_keys
from tests.conftest import make_test_app
from tests.factories import World, make_key
from tests.helpers import MASTER_KEY, NOT_NUMERIC, bad_request, database_rows, forbidden


def not_numeric(path: str) -> dict[str, object]:
    return bad_request(path, NOT_NUMERIC)


# Requests that need a key: method, path template, and a JSON body made from a project's ids.
# {p}, {c}, {f}, {i}, {k} are project a's project, channel, feedback, issue and category ids.
GUARDED_REQUESTS = [
    ("GET", "/api/projects/{p}", None),
    ("GET", "/api/projects/{p}/categories?limit=5&page=2", None),
    ("POST", "/api/projects/{p}/channels/{c}/feedbacks", lambda a: {"message": "hello"}),
    ("GET", "/api/projects/{p}/channels/{c}/feedbacks/{f}", None),
    (
        "DELETE",
        "/api/projects/{p}/channels/{c}/feedbacks",
        lambda a: {"feedbackIds": a.feedback_ids},
    ),
    ("PUT", "/api/projects/{p}/issues/{i}/category/{k}", None),
    ("POST", "/api/projects/{p}/issues/search?x=%20y", lambda a: {"query": {}}),
]
GUARDED_IDS = [f"{method} {template}" for method, template, _ in GUARDED_REQUESTS]


def guarded_request(world: World, template: str, make_body) -> tuple[str, object]:
    a = world.a
    path = template.format(
        p=a.project_id, c=a.channel_id, f=a.feedback_ids[0], i=a.issue_ids[0], k=a.category_id
    )
    return path, None if make_body is None else make_body(a)


@pytest.mark.parametrize(("method", "template", "make_body"), GUARDED_REQUESTS, ids=GUARDED_IDS)
def test_missing_key_is_forbidden_with_the_path_and_query(
    client, world, sql, method, template, make_body
):
    path, body = guarded_request(world, template, make_body)
    before = database_rows(sql)

    response = client.open(path, method=method, json=body)

    assert response.status_code == 403
    assert response.get_json() == forbidden(path)
    assert database_rows(sql) == before


def test_missing_key_is_forbidden_before_path_ids_are_read(client, world):
    path = f"/api/projects/{world.a.project_id}/channels/abc/feedbacks/1e3"

    response = client.get(path)

    assert response.status_code == 403
    assert response.get_json() == forbidden(path)


@pytest.mark.parametrize(
    "wrong_key",
    [
        "",
        "wrong",
        "fhsk_" + "A" * 43,
        "prefix-only",
        "\u00e9t\u00e9-not-a-key",
    ],
)
def test_wrong_key_is_forbidden(client, world, wrong_key):
    path = world.a.base

    response = client.get(path, headers={"x-api-key": wrong_key})

    assert response.status_code == 403
    assert response.get_json() == forbidden(path)


@pytest.mark.parametrize("mangle", [str.upper, str.lower, lambda k: k[:-1], lambda k: k + "x"])
def test_near_miss_of_a_valid_key_is_forbidden(client, world, mangle):
    wrong_key = mangle(world.a.key)
    assert wrong_key != world.a.key

    response = client.get(world.a.base, headers={"x-api-key": wrong_key})

    assert response.status_code == 403
    assert response.get_json() == forbidden(world.a.base)


@pytest.mark.parametrize(("method", "template", "make_body"), GUARDED_REQUESTS, ids=GUARDED_IDS)
def test_key_of_another_project_is_forbidden(client, world, sql, method, template, make_body):
    path, body = guarded_request(world, template, make_body)
    before = database_rows(sql)

    response = client.open(path, method=method, json=body, headers=world.b.headers)

    assert response.status_code == 403
    assert response.get_json() == forbidden(path)
    assert database_rows(sql) == before


@pytest.mark.parametrize("header", ["x-api-key", "X-API-KEY", "X-Api-Key", "x-API-key"])
def test_header_name_is_case_insensitive(client, world, header):
    response = client.get(world.a.base, headers={header: world.a.key})

    assert response.status_code == 200
    assert response.get_json()["name"] == "alpha"


@pytest.mark.parametrize(
    "project_id", ["abc", "1e3", "0x10", "-1", "1.5", "9" * 30, str(2**63), "+1"]
)
@pytest.mark.parametrize("suffix", ["", "/issues/1", "/channels/1/fields"])
def test_non_numeric_project_id_with_a_valid_key_is_forbidden(client, world, project_id, suffix):
    path = f"/api/projects/{project_id}{suffix}"

    response = client.get(path, headers=world.a.headers)

    assert response.status_code == 403
    assert response.get_json() == forbidden(path)


def test_revoked_key_is_refused_on_the_next_request(app, client, world, sql):
    assert client.get(world.a.base, headers=world.a.headers).status_code == 200
    [(key_id,)] = sql("SELECT id FROM api_key WHERE project_id = ?", (world.a.project_id,))

    with app.app_context():
        api_keys.revoke_api_key(world.a.project_id, key_id)

    response = client.get(world.a.base, headers=world.a.headers)
    assert response.status_code == 403
    assert response.get_json() == forbidden(world.a.base)
    assert client.get(world.b.base, headers=world.b.headers).status_code == 200


def test_revoking_one_key_leaves_the_projects_other_keys_working(app, client, world, sql):
    second_key = make_key(app, world.a.project_id)
    [(first_id,)] = sql(
        "SELECT id FROM api_key WHERE project_id = ? ORDER BY id LIMIT 1", (world.a.project_id,)
    )

    with app.app_context():
        api_keys.revoke_api_key(world.a.project_id, first_id)

    assert client.get(world.a.base, headers=world.a.headers).status_code == 403
    assert client.get(world.a.base, headers={"x-api-key": second_key}).status_code == 200


def test_master_key_opens_every_project(master_client, world):
    headers = {"x-api-key": MASTER_KEY}

    for project, name in ((world.a, "alpha"), (world.b, "beta")):
        response = master_client.get(project.base, headers=headers)
        assert response.status_code == 200
        assert response.get_json()["name"] == name
        issue = master_client.get(f"{project.base}/issues/{project.issue_ids[0]}", headers=headers)
        assert issue.status_code == 200
        assert issue.get_json()["name"] == f"{name} issue 1"


def test_project_keys_still_work_and_stay_scoped_when_a_master_key_is_set(master_client, world):
    assert master_client.get(world.a.base, headers=world.a.headers).status_code == 200

    response = master_client.get(world.b.base, headers=world.a.headers)

    assert response.status_code == 403
    assert response.get_json() == forbidden(world.b.base)


@pytest.mark.parametrize("presented", [MASTER_KEY.upper(), MASTER_KEY[:-1], MASTER_KEY + " "])
def test_near_miss_of_the_master_key_is_forbidden(master_client, world, presented):
    response = master_client.get(world.a.base, headers={"x-api-key": presented})

    assert response.status_code == 403
    assert response.get_json() == forbidden(world.a.base)


@pytest.mark.parametrize("project_id", ["abc", "1e3", "-1", "9" * 30])
def test_master_key_with_non_numeric_project_id_is_a_validation_error(
    master_client, world, project_id
):
    path = f"/api/projects/{project_id}/issues/{world.a.issue_ids[0]}"

    response = master_client.get(path, headers={"x-api-key": MASTER_KEY})

    assert response.status_code == 400
    assert response.get_json() == not_numeric(path)


def test_master_key_on_a_missing_project_is_project_not_found(master_client, world):
    missing = world.b.project_id + 1000
    path = f"/api/projects/{missing}"

    response = master_client.get(path, headers={"x-api-key": MASTER_KEY})

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "ProjectNotFound",
        "message": "project is not found",
        "statusCode": 400,
        "path": path,
    }


def test_master_key_cannot_create_in_a_missing_project(master_client, world, sql):
    missing = world.b.project_id + 1000
    path = f"/api/projects/{missing}/issues"
    before = database_rows(sql)

    response = master_client.post(path, json={"name": "ghost"}, headers={"x-api-key": MASTER_KEY})

    assert response.status_code == 400
    assert response.get_json()["code"] == "ProjectNotFound"
    assert database_rows(sql) == before


def test_empty_master_key_setting_opens_nothing(app, database, world):
    empty_master_app = make_test_app(database, MASTER_API_KEY="")
    try:
        response = empty_master_app.test_client().get(world.a.base, headers={"x-api-key": ""})
    finally:
        with empty_master_app.app_context():
            db.engine.dispose()

    assert response.status_code == 403
    assert response.get_json() == forbidden(world.a.base)


def database_bytes(database_path: Path) -> bytes:
    """The database file and its write-ahead log, as stored on disk."""
    data = database_path.read_bytes()
    wal = database_path.with_name(database_path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data


@pytest.mark.sqlite_only(reason="reads the raw database file, its free pages included")
def test_keys_are_stored_only_as_sha256_hashes(client, world, database_path):
    # Use each key once so that anything written on use is on disk too.
    for project in (world.a, world.b):
        assert client.get(project.base, headers=project.headers).status_code == 200

    stored = database_bytes(database_path)

    for key in (world.a.key, world.b.key):
        assert key.encode() not in stored
        assert key[api_keys.VISIBLE_PREFIX_LENGTH :].encode() not in stored
        # The search does see what is there: the hash of the key.
        assert hashlib.sha256(key.encode()).hexdigest().encode() in stored


def test_last_used_at_is_set_when_a_key_is_used(client, world, sql):
    def last_used(project_id: int):
        [(value,)] = sql("SELECT last_used_at FROM api_key WHERE project_id = ?", (project_id,))
        return value

    assert last_used(world.a.project_id) is None
    before = datetime.now(UTC).replace(tzinfo=None)

    assert client.get(world.a.base, headers=world.a.headers).status_code == 200

    used_at = datetime.fromisoformat(last_used(world.a.project_id))
    assert before - timedelta(seconds=1) <= used_at <= datetime.now(UTC).replace(tzinfo=None)
    assert last_used(world.b.project_id) is None


def test_refused_request_does_not_mark_the_key_used(client, world, sql):
    response = client.get(world.b.base, headers=world.a.headers)

    assert response.status_code == 403
    assert sql("SELECT last_used_at FROM api_key") == [(None,), (None,)]


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
def test_health_needs_no_key_and_answers_the_terminus_shape(client, headers):
    response = client.get("/api/health", headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    # The answering process (pid, uptime) is checked in tests/test_health.py.
    process = response.get_json()["details"]["process"]
    assert response.get_json() == {
        "status": "ok",
        "info": {"database": {"status": "up"}, "process": process},
        "error": {},
        "details": {"database": {"status": "up"}, "process": process},
    }
