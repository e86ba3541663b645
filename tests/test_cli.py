"""The ``feedback-service`` command line, run as a real process (scripts depend on its contract)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from feedback_service.schema import MIGRATIONS_DIRECTORY
from tests.cli_runner import Cli
from tests.databases import TestDatabase
from tests.factories import make_project
from tests.helpers import database_rows

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_KEYS = {"id", "name", "description", "timezone", "createdAt", "updatedAt"}
DEFAULT_FIELD_KEYS = ["id", "createdAt", "updatedAt", "issues"]


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIRECTORY)).get_current_head()
    assert head is not None
    return head


def schema_of(database: TestDatabase) -> dict[str, list[str]]:
    return {table: database.column_names(table) for table in database.table_names()}


@pytest.fixture
def fresh_cli(tmp_path: Path, empty_database: TestDatabase) -> Cli:
    """The command line on a database that ``init-db`` has not set up yet."""
    return Cli(tmp_path / "instance", empty_database)


def test_init_db_twice_succeeds_and_records_the_head_revision(fresh_cli):
    fresh_cli.ok("init-db")
    schema = schema_of(fresh_cli.database)
    assert "project" in schema
    fresh_cli.ok("init-db")
    assert schema_of(fresh_cli.database) == schema
    assert fresh_cli.database.query("SELECT version_num FROM alembic_version") == [
        (head_revision(),)
    ]


def test_flask_app_entry_point_runs_the_same_commands(tmp_path, empty_database):
    flask = Cli(
        tmp_path / "instance",
        empty_database,
        launcher=(sys.executable, "-m", "flask", "--app", "app"),
        cwd=REPO_ROOT,
    )
    flask.ok("init-db")
    project = flask.json("create-project", "--name", "Via Flask")
    assert flask.database.query("SELECT id, name FROM project") == [(project["id"], "Via Flask")]


def test_create_project_json_prints_one_project_object(cli):
    project = cli.json(
        "create-project",
        "--name",
        "Shop",
        "--description",
        "Our shop",
        "--timezone",
        "Europe/Berlin",
    )
    assert set(project) == PROJECT_KEYS
    assert project["name"] == "Shop"
    assert project["description"] == "Our shop"
    assert project["timezone"]["name"] == "Europe/Berlin"
    assert project["timezone"]["countryCode"] == "DE"
    assert project["createdAt"] == project["updatedAt"]
    rows = cli.database.query("SELECT id, name, description FROM project")
    assert rows == [(project["id"], "Shop", "Our shop")]


def test_create_project_timezone_defaults_to_asia_seoul(cli):
    project = cli.json("create-project", "--name", "Shop")
    assert project["timezone"] == {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}
    assert project["description"] is None


def test_create_channel_json_lists_default_fields_first_then_the_given_ones(app, client, cli):
    project_id = make_project(app, "Shop")
    channel = cli.json(
        "create-channel",
        "--project",
        str(project_id),
        "--name",
        "web",
        "--field",
        "message:text",
        "--field",
        "kind:select:READ_ONLY:bug|idea",
        "--field",
        "tags:multiSelect:ui|api",
        "--image-domain",
        "CDN.example.com",
    )
    assert set(channel) == {"id", "projectId", "name", "imageDomains", "fields"}
    assert (channel["projectId"], channel["name"]) == (project_id, "web")
    assert channel["imageDomains"] == ["cdn.example.com"]
    described = [
        (f["key"], f["format"], f["property"], [o["name"] for o in f["options"]])
        for f in channel["fields"]
    ]
    assert [key for key, *_ in described] == [*DEFAULT_FIELD_KEYS, "message", "kind", "tags"]
    assert described[4:] == [
        ("message", "text", "EDITABLE", []),
        ("kind", "select", "READ_ONLY", ["bug", "idea"]),
        ("tags", "multiSelect", "EDITABLE", ["ui", "api"]),
    ]
    key = cli.json("create-api-key", "--project", str(project_id))["key"]
    listed = client.get(
        f"/api/projects/{project_id}/channels/{channel['id']}/fields", headers={"x-api-key": key}
    )
    assert listed.status_code == 200
    assert listed.get_json() == channel["fields"]


def test_create_api_key_json_prints_a_working_key_that_is_stored_hashed(app, client, cli):
    project_id = make_project(app, "Shop")
    issued = cli.json("create-api-key", "--project", str(project_id))
    assert set(issued) == {"id", "key"}
    response = client.get(f"/api/projects/{project_id}", headers={"x-api-key": issued["key"]})
    assert response.status_code == 200
    assert response.get_json()["id"] == project_id
    assert cli.database.query("SELECT id FROM api_key") == [(issued["id"],)]
    assert issued["key"] not in repr(database_rows(cli.database))


def test_revoke_api_key_makes_the_key_stop_working(app, client, cli):
    project_id = make_project(app, "Shop")
    issued = cli.json("create-api-key", "--project", str(project_id))
    headers = {"x-api-key": issued["key"]}
    assert client.get(f"/api/projects/{project_id}", headers=headers).status_code == 200
    revoked = cli.json("revoke-api-key", "--project", str(project_id), "--id", str(issued["id"]))
    assert revoked == {"id": issued["id"], "revoked": True}
    assert client.get(f"/api/projects/{project_id}", headers=headers).status_code == 403


TABLES = ("project", "channel", "field", "option", "api_key")

# `{project}` stands for the id of the "Shop" project, which has a channel named "web".
BAD_COMMANDS = {
    "unknown project for a channel": (
        ["create-channel", "--project", "999", "--name", "app"],
        "project is not found",
    ),
    "unknown project for a key": (["create-api-key", "--project", "999"], "project is not found"),
    "unknown timezone": (
        ["create-project", "--name", "Moon", "--timezone", "Mars/Olympus"],
        "unknown timezone",
    ),
    "duplicate project name": (["create-project", "--name", "Shop"], "already exists"),
    "duplicate channel name": (
        ["create-channel", "--project", "{project}", "--name", "web"],
        "already has a channel named 'web'",
    ),
}
BAD_FIELD_SPECS = {
    "missing format": (["message"], "is not KEY:FORMAT"),
    "unknown format": (["message:blob"], "unknown format 'blob'"),
    "options on a text field": (["message:text:a|b"], "only select and multiSelect take options"),
    "reserved key": (["id:number"], "'id' is reserved"),
    "duplicate keys": (["note:text", "note:keyword"], "'note' is given twice"),
    "bad key characters": (["bad-key:text"], "must match [a-z0-9_]+"),
}
for _case, (_specs, _message) in BAD_FIELD_SPECS.items():
    _args = ["create-channel", "--project", "{project}", "--name", "app"]
    for _spec in _specs:
        _args += ["--field", _spec]
    BAD_COMMANDS[f"field spec: {_case}"] = (_args, _message)


@pytest.mark.parametrize(("args", "message"), BAD_COMMANDS.values(), ids=BAD_COMMANDS.keys())
def test_bad_command_fails_with_message_on_stderr_and_changes_nothing(cli, shop, args, message):
    before = {table: cli.database.query(f"SELECT * FROM {table}") for table in TABLES}
    stderr = cli.fails(*(arg.format(project=shop) for arg in args), "--json")
    assert message in stderr
    assert {table: cli.database.query(f"SELECT * FROM {table}") for table in TABLES} == before


@pytest.mark.parametrize(
    "args", [["create-project", "--name", "Early"], ["create-api-key", "--project", "1"]]
)
def test_commands_refuse_to_run_before_init_db(fresh_cli, args):
    stderr = fresh_cli.fails(*args, "--json")
    assert "run `feedback-service init-db` first" in stderr
    assert fresh_cli.database.table_names() == []
