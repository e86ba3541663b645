"""``feedback-service copy-db --to URL``: the whole database into a new, empty one.

The source is the test's database (SQLite, or PostgreSQL in the PostgreSQL run), filled through
the services and both APIs so that every table but the first-run setup token's holds rows. The
copy goes to a new database on the local PostgreSQL server and to a new SQLite file. Every row
must arrive as it was, ids included; the search index must answer the same searches; and the
target must go on creating rows with fresh ids through the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from feedback_service.extensions import db
from feedback_service.models import Role
from feedback_service.services import admin_users, boards, public_keys
from feedback_service.services.admin_users import NewUser
from tests.cli_runner import Cli
from tests.conftest import make_test_app
from tests.databases import PostgresDatabase, SqliteFile, TestDatabase
from tests.factories import World

# Searches that both copies must answer alike: (channel, searchText, titles or messages found).
SEARCHES = (
    ("channel", "ALPHA feedback", ["alpha feedback 1", "alpha feedback 2"]),
    ("board", "strasse", ["Straße names"]),
    ("board", "mode", ["Dark mode"]),
)
BOARD_TITLES = ("Dark mode", "Export to CSV", "Straße names")


@pytest.fixture
def board(app: Flask, client: FlaskClient, world: World) -> dict[str, Any]:
    """Project alpha's board with feedback, end users, votes and comments; a console user;
    issue links, an issue category and typed values on alpha's channel. Every table but the
    first-run setup token then holds rows."""
    project_id = world.a.project_id
    with app.app_context():
        board_id = boards.create_board(project_id, "Ideas").id
        key = public_keys.create_public_key(project_id, board_id).key
        admin_users.create_user(
            NewUser(email="ops@example.com", password="a long enough secret", role=Role.admin)
        )
    headers = {"x-api-key": key}
    for number, title in enumerate(BOARD_TITLES):
        created = client.post(
            "/api/v1/feedback",
            json={"title": title, "endUser": {"externalId": f"user-{number}", "name": "Ana"}},
            headers=headers,
        )
        assert created.status_code == 201, created.json
        path = f"/api/v1/feedback/{created.json['feedback']['id']}"
        fan = {"endUser": {"externalId": "fan"}}
        voted = client.post(f"{path}/vote", json=fan, headers=headers)
        assert voted.json == {"voted": True, "voteCount": 2}
        commented = client.post(
            f"{path}/comments", json={"content": "Me too", **fan}, headers=headers
        )
        assert commented.status_code == 201, commented.json

    alpha = world.a
    typed = client.post(
        f"{alpha.channel}/feedbacks",
        json={
            "message": "Typed values",
            "label": "checkout",
            "score": 4.5,
            "kind": "bug",
            "tags": ["ui", "api"],
            "seen_at": "2026-11-01T10:00:00.000Z",
            "issueNames": ["alpha issue 1"],
        },
        headers=alpha.headers,
    )
    assert typed.status_code == 201, typed.json
    linked = client.post(
        f"{alpha.channel}/feedbacks/{alpha.feedback_ids[0]}/issue/{alpha.issue_ids[1]}",
        headers=alpha.headers,
    )
    assert linked.status_code == 201, linked.json
    categorised = client.put(
        f"{alpha.base}/issues/{alpha.issue_ids[0]}/category/{alpha.category_id}",
        headers=alpha.headers,
    )
    assert categorised.status_code == 200, categorised.json
    return {"id": board_id, "key": key}


@pytest.fixture
def postgres_target() -> Iterator[PostgresDatabase]:
    target = PostgresDatabase.create(PostgresDatabase.unique_name("copy_target"))
    yield target
    target.drop()


@contextmanager
def app_on(database: TestDatabase) -> Iterator[Flask]:
    app = make_test_app(database)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def rows_by_table(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the models, in primary key order, as the app reads them."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


def search(app: Flask, world: World, board: dict[str, Any], channel: str, text: str) -> Any:
    alpha = world.a
    channel_id = board["id"] if channel == "board" else alpha.channel_id
    response = app.test_client().post(
        f"{alpha.base}/channels/{channel_id}/feedbacks/search",
        json={"query": {"searchText": text}, "limit": 10},
        headers=alpha.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def copy_to(cli: Cli, target: TestDatabase) -> dict[str, Any]:
    printed = cli.json("copy-db", "--to", target.url)
    assert isinstance(printed["seconds"], float)
    return printed


def assert_copied(
    source: Flask,
    target: TestDatabase,
    printed: dict[str, Any],
    world: World,
    board: dict[str, Any],
) -> None:
    """The printed report, every row, the searches, and new rows with fresh ids on the target."""
    rows = rows_by_table(source)
    assert [name for name, table_rows in rows.items() if not table_rows] == ["setup_token"]
    assert printed == {
        "source": source.config["DATABASE_URL"],
        "target": target.url,
        "tables": {name: len(table_rows) for name, table_rows in rows.items()},
        "seconds": printed["seconds"],
    }
    with app_on(target) as copy:
        assert rows_by_table(copy) == rows
        [(feedback,)] = target("SELECT COUNT(*) FROM feedback")
        assert target("SELECT COUNT(*) FROM feedback_fts") == [(feedback,)]
        for channel, text, found in SEARCHES:
            answer = search(copy, world, board, channel, text)
            assert answer == search(source, world, board, channel, text)
            key = "title" if channel == "board" else "message"
            assert sorted(item[key] for item in answer["items"]) == found

        alpha = world.a
        client = copy.test_client()
        created = client.post(
            f"{alpha.channel}/feedbacks",
            json={"message": "After the move", "issueNames": ["moved issue"]},
            headers=alpha.headers,
        )
        assert created.json == {"id": max(row[0] for row in rows["feedback"]) + 1}
        read = client.get(f"{alpha.channel}/feedbacks/{created.json['id']}", headers=alpha.headers)
        assert [(issue["id"], issue["name"]) for issue in read.json["issues"]] == [
            (max(row[0] for row in rows["issue"]) + 1, "moved issue")
        ]
        submitted = client.post(
            "/api/v1/feedback",
            json={"title": "Moved", "endUser": {"externalId": "newcomer"}},
            headers={"x-api-key": board["key"]},
        )
        assert submitted.status_code == 201, submitted.json
        assert submitted.json["feedback"]["voteCount"] == 1
        assert target("SELECT MAX(id) FROM vote") == [(max(row[0] for row in rows["vote"]) + 1,)]


def test_copy_to_postgresql_keeps_every_row_and_continues_every_sequence(
    app, world, board, cli, postgres_target
):
    printed = copy_to(cli, postgres_target)
    # Each sequence stands at its table's largest id, so the next row gets the id after it.
    for name, count in printed["tables"].items():
        if name != "feedback_issue" and count:
            [(last_value, largest)] = postgres_target(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(?, 'id')::regclass), "
                f'(SELECT MAX(id) FROM "{name}")',
                (name,),
            )
            assert last_value == largest, name
    assert_copied(app, postgres_target, printed, world, board)


def test_copy_to_a_new_sqlite_file_rebuilds_its_search_index(app, world, board, cli, tmp_path):
    target = SqliteFile(tmp_path / "copy.sqlite")
    assert_copied(app, target, copy_to(cli, target), world, board)
    assert target("PRAGMA integrity_check") == [("ok",)]
    assert target("PRAGMA foreign_key_check") == []


def test_copy_refuses_a_target_that_holds_a_schema(cli, shop, migrated_template, tmp_path):
    target = migrated_template.clone(tmp_path, "target")
    try:
        schema = (target.table_names(), target("SELECT version_num FROM alembic_version"))
        stderr = cli.fails("copy-db", "--to", target.url, "--json")
        assert stderr == (
            f"Error: {target.url} is not empty (admin_user, api_key, category, channel, comment, "
            "...): copy-db needs a new, empty database\n"
        )
        assert (target.table_names(), target("SELECT version_num FROM alembic_version")) == schema
        assert target("SELECT COUNT(*) FROM project") == [(0,)]
    finally:
        target.drop()


def test_copy_refuses_the_database_the_service_uses(cli, shop, database):
    stderr = cli.fails("copy-db", "--to", database.url, "--json")
    assert stderr == (
        f"Error: {database.url} is the database the service uses: copy it elsewhere\n"
    )
    assert database("SELECT name FROM project") == [("Shop",)]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "feedback.sqlite",
            "'feedback.sqlite' is not a database URL (e.g. postgresql+psycopg://user@host/name "
            "or sqlite:////path/to/file.sqlite)",
        ),
        (
            "mysql://user@127.0.0.1/feedback",
            "cannot copy to mysql: the target must be PostgreSQL or SQLite",
        ),
        (
            "postgresql+psycopg://postgres@127.0.0.1:1/feedback",
            "cannot use postgresql+psycopg://postgres@127.0.0.1:1/feedback: connection failed: "
            'connection to server at "127.0.0.1", port 1 failed: Connection refused',
        ),
    ],
    ids=["not a URL", "another database", "no server"],
)
def test_copy_to_an_unusable_url_fails_cleanly(cli, shop, tmp_path, url, message):
    files = sorted(tmp_path.iterdir())
    stderr = cli.fails("copy-db", "--to", url, "--json")
    assert stderr.startswith(f"Error: {message}")
    assert "Traceback" not in stderr
    assert sorted(tmp_path.iterdir()) == files
