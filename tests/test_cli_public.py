"""The command line for the public API: boards, public keys, identity secrets, allowed origins.

Each command runs as a real process on the test database; results are checked in the database
and, for keys and settings, through HTTP on the public API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from flask import Flask

from feedback_service.services import boards, public_keys, public_origins
from tests.cli_runner import Cli
from tests.factories import make_project
from tests.helpers import assert_json

DEFAULT_FIELD_KEYS = ["id", "createdAt", "updatedAt", "issues"]
TYPES = ["bug", "idea", "question", "other"]
STATUSES = ["new", "under-review", "planned", "in-progress", "completed", "closed"]
PUBLIC_KEY = re.compile(r"fhpk_[A-Za-z0-9_-]{20,}")
INVALID_API_KEY = {"error": "Invalid API key"}
# Tables the refused commands of this module could touch.
TABLES = ("project", "channel", "field", "option", "public_key", "end_user")


def snapshot(cli: Cli) -> dict[str, list[tuple[Any, ...]]]:
    return {table: cli.database.query(f"SELECT * FROM {table}") for table in TABLES}


def refused(cli: Cli, *args: str, status: int = 1) -> str:
    """Run a command that must be refused with ``status`` and change nothing; its stderr."""
    before = snapshot(cli)
    result = cli.run(*args, "--json")
    assert (result.returncode, result.stdout) == (status, ""), result.stderr
    assert snapshot(cli) == before
    return result.stderr


def board_of(cli: Cli, project_id: int, name: str = "Roadmap") -> dict[str, Any]:
    return cli.json("create-board", "--project", str(project_id), "--name", name)


def public_key_of(cli: Cli, project_id: int, channel_id: int) -> dict[str, Any]:
    return cli.json("create-public-key", "--project", str(project_id), "--channel", str(channel_id))


def service_board(app: Flask, project_id: int, name: str = "Roadmap") -> tuple[int, str]:
    """A board and a public key made through the services (setup, not under test)."""
    with app.app_context():
        board = boards.create_board(project_id, name)
        return board.id, public_keys.create_public_key(project_id, board.id).key


def sign(secret: str, external_id: str) -> str:
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


# --- create-board ------------------------------------------------------------------------------


def test_create_board_prints_the_board_with_the_feedhog_fields(cli, shop):
    board = cli.json(
        "create-board", "--project", str(shop), "--name", "Roadmap", "--description", "Ideas"
    )
    assert set(board) == {"id", "projectId", "name", "fields"}
    assert (board["projectId"], board["name"]) == (shop, "Roadmap")
    described = [
        (f["key"], f["format"], f["property"], f["status"], [o["name"] for o in f["options"]])
        for f in board["fields"]
    ]
    assert [key for key, *_ in described] == [
        *DEFAULT_FIELD_KEYS,
        "title",
        "description",
        "type",
        "status",
    ]
    assert described[4:] == [
        ("title", "text", "EDITABLE", "ACTIVE", []),
        ("description", "text", "EDITABLE", "ACTIVE", []),
        ("type", "select", "EDITABLE", "ACTIVE", TYPES),
        ("status", "select", "EDITABLE", "ACTIVE", STATUSES),
    ]
    assert cli.database.query(
        "SELECT project_id, name, description, is_board FROM channel WHERE id = ?",
        (board["id"],),
    ) == [(shop, "Roadmap", "Ideas", 1)]
    stored_fields = cli.database.query(
        "SELECT id, key, format FROM field WHERE channel_id = ?", (board["id"],)
    )
    assert sorted(stored_fields) == sorted(
        (f["id"], f["key"], f["format"]) for f in board["fields"]
    )
    for key, options in (("type", TYPES), ("status", STATUSES)):
        stored = cli.database.query(
            "SELECT o.key FROM option o JOIN field f ON f.id = o.field_id"
            " WHERE f.channel_id = ? AND f.key = ? ORDER BY o.id",
            (board["id"], key),
        )
        assert stored == [(option,) for option in options]


def test_create_board_refuses_an_unknown_project_and_a_taken_name(cli, shop):
    assert "project is not found" in refused(cli, "create-board", "--project", "999", "--name", "B")
    stderr = refused(cli, "create-board", "--project", str(shop), "--name", "web")
    assert "already has a channel named 'web'" in stderr


def test_a_board_from_the_cli_serves_the_public_api(cli, client, sql, shop):
    board = board_of(cli, shop)
    key = public_key_of(cli, shop, board["id"])["key"]
    headers = {"x-api-key": key}
    empty = client.get("/api/v1/feedback", headers=headers)
    assert_json(empty, 200, {"items": [], "total": 0, "page": 1, "limit": 20, "totalPages": 0})
    submitted = client.post(
        "/api/v1/feedback", json={"title": "Dark mode", "type": "bug"}, headers=headers
    )
    assert submitted.status_code == 201
    feedback = submitted.get_json()["feedback"]
    assert (feedback["title"], feedback["type"], feedback["status"]) == ("Dark mode", "bug", "new")
    assert sql("SELECT channel_id, public_id FROM feedback") == [(board["id"], feedback["id"])]
    listed = client.get("/api/v1/feedback", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [feedback["id"]]


# --- create-public-key / revoke-public-key -----------------------------------------------------


def test_create_public_key_prints_a_working_key_stored_for_the_board(cli, client, shop):
    board = board_of(cli, shop)
    issued = public_key_of(cli, shop, board["id"])
    assert set(issued) == {"id", "key", "projectId", "channelId"}
    assert (issued["projectId"], issued["channelId"]) == (shop, board["id"])
    assert PUBLIC_KEY.fullmatch(issued["key"]), issued["key"]
    assert cli.database.query(
        "SELECT id, project_id, channel_id, key, revoked_at FROM public_key"
    ) == [(issued["id"], shop, board["id"], issued["key"], None)]
    response = client.get("/api/v1/feedback", headers={"x-api-key": issued["key"]})
    assert response.status_code == 200
    # Without --json the key is printed too; each key is new.
    output = cli.ok("create-public-key", "--project", str(shop), "--channel", str(board["id"]))
    [(second,)] = cli.database.query("SELECT key FROM public_key WHERE id != ?", (issued["id"],))
    assert second != issued["key"]
    assert PUBLIC_KEY.fullmatch(second)
    assert second in output.stdout


def test_create_public_key_refuses_a_channel_that_is_not_a_board(cli, shop):
    [(web_id,)] = cli.database.query("SELECT id FROM channel WHERE name = 'web'")
    stderr = refused(cli, "create-public-key", "--project", str(shop), "--channel", str(web_id))
    assert f"channel {web_id} is not a board" in stderr


def test_create_public_key_refuses_another_projects_board(app, cli, shop):
    their_board_id, _ = service_board(app, make_project(app, "Other"))
    stderr = refused(
        cli, "create-public-key", "--project", str(shop), "--channel", str(their_board_id)
    )
    assert "channel is not found" in stderr


def test_create_public_key_refuses_an_unknown_project(app, cli, shop):
    board_id, _ = service_board(app, shop)
    for channel_id in (str(board_id), "999"):
        stderr = refused(cli, "create-public-key", "--project", "999", "--channel", channel_id)
        assert re.search(r"(project|channel) is not found", stderr), stderr


def test_revoke_public_key_stops_the_key_and_keeps_the_others(app, cli, client, shop):
    board_id, _ = service_board(app, shop)
    revoked_key = public_key_of(cli, shop, board_id)
    kept_key = public_key_of(cli, shop, board_id)
    result = cli.json("revoke-public-key", "--project", str(shop), "--id", str(revoked_key["id"]))
    assert result == {"id": revoked_key["id"], "revoked": True}
    assert_json(
        client.get("/api/v1/feedback", headers={"x-api-key": revoked_key["key"]}),
        401,
        INVALID_API_KEY,
    )
    submitted = client.post(
        "/api/v1/feedback", json={"title": "x"}, headers={"x-api-key": revoked_key["key"]}
    )
    assert_json(submitted, 401, INVALID_API_KEY)
    assert cli.database.query("SELECT COUNT(*) FROM feedback") == [(0,)]
    assert client.get("/api/v1/feedback", headers={"x-api-key": kept_key["key"]}).status_code == 200
    rows = dict(cli.database.query("SELECT id, revoked_at FROM public_key"))
    assert rows[revoked_key["id"]] is not None
    assert rows[kept_key["id"]] is None
    # Revoking again succeeds and keeps the first revocation time.
    again = cli.json("revoke-public-key", "--project", str(shop), "--id", str(revoked_key["id"]))
    assert again == {"id": revoked_key["id"], "revoked": True}
    assert dict(cli.database.query("SELECT id, revoked_at FROM public_key")) == rows


def test_revoke_public_key_refuses_an_unknown_key_or_another_projects_key(app, cli, client, shop):
    _, their_key = service_board(app, make_project(app, "Other"))
    [(their_key_id,)] = cli.database.query("SELECT id FROM public_key WHERE key = ?", (their_key,))
    stderr = refused(cli, "revoke-public-key", "--project", str(shop), "--id", "999")
    assert f"project {shop} has no public key 999" in stderr
    stderr = refused(cli, "revoke-public-key", "--project", str(shop), "--id", str(their_key_id))
    assert f"project {shop} has no public key {their_key_id}" in stderr
    assert client.get("/api/v1/feedback", headers={"x-api-key": their_key}).status_code == 200


# --- identity-secret ---------------------------------------------------------------------------


def identity_row(cli: Cli, project_id: int) -> tuple[Any, ...]:
    [row] = cli.database.query(
        "SELECT identity_secret, identity_required FROM project WHERE id = ?",
        (project_id,),
    )
    return row


def test_identity_secret_is_created_once_and_shown_again(cli, shop):
    assert identity_row(cli, shop) == (None, 0)
    first = cli.json("identity-secret", "--project", str(shop))
    assert set(first) == {"projectId", "secret", "required"}
    assert (first["projectId"], first["required"]) == (shop, False)
    assert re.fullmatch(r"[0-9a-f]{64}", first["secret"]), first["secret"]
    assert identity_row(cli, shop) == (first["secret"], 0)
    assert cli.json("identity-secret", "--project", str(shop)) == first
    assert identity_row(cli, shop) == (first["secret"], 0)


def test_identity_secret_rotate_replaces_the_secret_and_old_hashes_stop_working(
    app, cli, client, shop
):
    headers = {"x-api-key": service_board(app, shop)[1]}
    old = cli.json("identity-secret", "--project", str(shop), "--require")
    rotated = cli.json("identity-secret", "--project", str(shop), "--rotate")
    assert rotated["secret"] != old["secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", rotated["secret"])
    assert rotated["required"] is True  # rotating leaves the requirement as it was
    assert identity_row(cli, shop) == (rotated["secret"], 1)
    body = {"externalId": "user-1", "userHash": sign(old["secret"], "user-1")}
    stale = client.post("/api/v1/identify", json=body, headers=headers)
    assert_json(stale, 401, {"error": "Invalid user hash"})
    body = {"externalId": "user-1", "userHash": sign(rotated["secret"], "user-1")}
    assert client.post("/api/v1/identify", json=body, headers=headers).status_code == 200
    assert cli.database.query("SELECT external_id FROM end_user") == [("user-1",)]


def test_identity_secret_require_and_no_require_toggle_enforcement(app, cli, client, shop):
    headers = {"x-api-key": service_board(app, shop)[1]}
    required = cli.json("identity-secret", "--project", str(shop), "--require")
    assert required["required"] is True
    assert identity_row(cli, shop) == (required["secret"], 1)
    unsigned = client.post("/api/v1/identify", json={"externalId": "user-1"}, headers=headers)
    assert_json(unsigned, 401, {"error": "Invalid user hash"})
    assert cli.database.query("SELECT COUNT(*) FROM end_user") == [(0,)]
    # Showing the secret again leaves the requirement on.
    assert cli.json("identity-secret", "--project", str(shop)) == required
    optional = cli.json("identity-secret", "--project", str(shop), "--no-require")
    assert optional == {**required, "required": False}
    assert identity_row(cli, shop) == (required["secret"], 0)
    unsigned = client.post("/api/v1/identify", json={"externalId": "user-1"}, headers=headers)
    assert unsigned.status_code == 200
    assert cli.database.query("SELECT external_id FROM end_user") == [("user-1",)]


def test_identity_secret_refuses_an_unknown_project(cli, shop):
    assert "project is not found" in refused(cli, "identity-secret", "--project", "999")
    stderr = refused(cli, "identity-secret", "--project", "999", "--rotate", "--require")
    assert "project is not found" in stderr
    assert identity_row(cli, shop) == (None, 0)


# --- allowed-origins ---------------------------------------------------------------------------


def keep_origins(app: Flask, project_id: int, origins: list[str]) -> None:
    """Set the allowed origins through the service (setup, not under test)."""
    with app.app_context():
        public_origins.set_allowed_origins(project_id, origins)


def origins_row(cli: Cli, project_id: int) -> list[str]:
    [(stored,)] = cli.database.query(
        "SELECT allowed_origins FROM project WHERE id = ?", (project_id,)
    )
    origins: list[str] = json.loads(stored)
    return origins


def test_allowed_origins_shows_any_origin_by_default(cli, shop):
    assert cli.json("allowed-origins", "--project", str(shop)) == {
        "projectId": shop,
        "allowedOrigins": [],
    }
    assert cli.ok("allowed-origins", "--project", str(shop)).stdout.strip() == "any origin"


def test_allowed_origins_sets_normalised_origins_and_cors_follows(app, cli, client, shop):
    headers = {"x-api-key": service_board(app, shop)[1]}
    result = cli.json(
        "allowed-origins",
        "--project",
        str(shop),
        "--origin",
        "https://App.Example.com:443/",
        "--origin",
        "http://localhost:3000",
        "--origin",
        "https://app.example.com",
    )
    expected = ["http://localhost:3000", "https://app.example.com"]
    assert result == {"projectId": shop, "allowedOrigins": expected}
    assert origins_row(cli, shop) == expected
    assert cli.json("allowed-origins", "--project", str(shop))["allowedOrigins"] == expected
    allowed = client.get(
        "/api/v1/feedback", headers={**headers, "Origin": "https://app.example.com"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    before = cli.database.query("SELECT COUNT(*) FROM feedback")
    foreign = client.post(
        "/api/v1/feedback",
        json={"title": "From elsewhere"},
        headers={**headers, "Origin": "https://evil.example.net"},
    )
    assert_json(foreign, 403, {"error": "Origin not allowed"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert cli.database.query("SELECT COUNT(*) FROM feedback") == before


NOT_ORIGINS = (
    "https://app.example.com/path",
    "https://user@app.example.com",
    "javascript:alert(1)",
    "not a url",
)


def test_allowed_origins_refuses_what_is_not_an_origin(app, cli, shop):
    keep_origins(app, shop, ["https://kept.example.com"])
    for origin in NOT_ORIGINS:
        stderr = refused(cli, "allowed-origins", "--project", str(shop), "--origin", origin)
        assert "invalid origin" in stderr, origin
    # One bad origin among good ones refuses the whole list.
    stderr = refused(
        cli,
        "allowed-origins",
        "--project",
        str(shop),
        "--origin",
        "https://app.example.com",
        "--origin",
        "javascript:alert(1)",
    )
    assert "invalid origin" in stderr
    assert origins_row(cli, shop) == ["https://kept.example.com"]


def test_allowed_origins_any_clears_the_list(app, cli, client, shop):
    headers = {"x-api-key": service_board(app, shop)[1]}
    keep_origins(app, shop, ["https://app.example.com"])
    outside = {**headers, "Origin": "https://other.example.com"}
    assert_json(
        client.get("/api/v1/feedback", headers=outside), 403, {"error": "Origin not allowed"}
    )
    cleared = cli.json("allowed-origins", "--project", str(shop), "--any")
    assert cleared == {"projectId": shop, "allowedOrigins": []}
    assert origins_row(cli, shop) == []
    response = client.get("/api/v1/feedback", headers=outside)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_allowed_origins_with_both_origin_and_any_is_a_usage_error(app, cli, shop):
    keep_origins(app, shop, ["https://kept.example.com"])
    stderr = refused(
        cli,
        "allowed-origins",
        "--project",
        str(shop),
        "--origin",
        "https://app.example.com",
        "--any",
        status=2,
    )
    assert "give --origin or --any, not both" in stderr
    assert origins_row(cli, shop) == ["https://kept.example.com"]


def test_allowed_origins_refuses_an_unknown_project(cli, shop):
    for extra in ([], ["--any"], ["--origin", "https://app.example.com"]):
        stderr = refused(cli, "allowed-origins", "--project", "999", *extra)
        assert "project is not found" in stderr, extra
