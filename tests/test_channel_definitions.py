"""Channel definitions cached per process: every change, by any process or by hand in SQL, is
seen by the next request of every other process.

Two apps on one database stand for two worker processes: each keeps its own cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.extensions import db
from feedback_service.models import FieldProperty, FieldStatus
from feedback_service.schema import MIGRATIONS_DIRECTORY, upgrade_to_head
from feedback_service.services import channel_images, fields
from feedback_service.services.fields import FieldChanges
from tests.conftest import make_test_app
from tests.databases import TestDatabase
from tests.factories import World
from tests.helpers import Sql, assert_json, bad_request


@pytest.fixture
def other(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of a second app (another worker) on the test's database."""
    return make_app().test_client()


def create(client: FlaskClient, world: World, body: dict[str, object]) -> tuple[int, object]:
    with client.post(
        f"{world.a.channel}/feedbacks", json=body, headers=world.a.headers
    ) as response:
        return response.status_code, response.get_json()


def field_id(sql: Sql, world: World, key: str) -> int:
    rows = sql("SELECT id FROM field WHERE channel_id = ? AND key = ?", (world.a.channel_id, key))
    return rows[0][0]


def definition_version(sql: Sql, world: World) -> int:
    return sql("SELECT definition_version FROM channel WHERE id = ?", (world.a.channel_id,))[0][0]


def test_an_option_added_by_one_process_is_accepted_by_another(
    app: Flask, other: FlaskClient, world: World, sql: Sql
) -> None:
    invalid = 'invalid value: (value: "feature", type: select, fieldKey: kind)'
    url = f"/api/projects/{world.a.project_id}/channels/{world.a.channel_id}/feedbacks"
    assert create(other, world, {"kind": "feature"}) == (400, bad_request(url, invalid))

    with app.app_context():
        changes = FieldChanges(
            name="kind",
            description=None,
            property=FieldProperty.EDITABLE,
            status=FieldStatus.ACTIVE,
            order=7,
            new_options=("feature",),
        )
        fields.update_field(
            world.a.project_id, world.a.channel_id, field_id(sql, world, "kind"), changes
        )

    status, body = create(other, world, {"kind": "feature"})
    assert status == 201
    with other.get(f"{url}/{body['id']}", headers=world.a.headers) as response:
        assert response.get_json()["kind"] == "feature"


def test_a_field_disabled_by_hand_in_sql_is_refused_by_the_next_request(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    feedback_url = f"{world.a.channel}/feedbacks/{world.a.feedback_ids[0]}"
    with client.put(feedback_url, json={"label": "before"}, headers=world.a.headers) as response:
        assert response.status_code == 200

    sql("UPDATE field SET status = 'INACTIVE' WHERE id = ?", (field_id(sql, world, "label"),))

    with client.put(feedback_url, json={"label": "after"}, headers=world.a.headers) as response:
        assert_json(response, 400, bad_request(feedback_url, "this field is disabled"))


def test_an_image_whitelist_set_by_one_process_applies_in_another(
    app: Flask, other: FlaskClient, world: World
) -> None:
    shot = {"shots": ["https://elsewhere.example.org/a.png"]}
    assert create(other, world, shot)[0] == 201

    with app.app_context():
        channel_images.configure_images(
            world.a.project_id, world.a.channel_id, image_domains=["cdn.example.com"]
        )

    url = f"/api/projects/{world.a.project_id}/channels/{world.a.channel_id}/feedbacks"
    message = "invalid domain in image link: elsewhere.example.org (fieldKey: shots)"
    assert create(other, world, shot) == (400, bad_request(url, message))


def test_every_change_of_a_definition_replaces_the_stamp(world: World, sql: Sql) -> None:
    seen = {definition_version(sql, world)}
    changes = (
        ("UPDATE channel SET name = 'renamed' WHERE id = ?", world.a.channel_id),
        ("UPDATE field SET name = 'Label' WHERE id = ?", field_id(sql, world, "label")),
        (
            "UPDATE option SET name = 'Bug' WHERE key = 'bug' AND field_id = ?",
            field_id(sql, world, "kind"),
        ),
        (
            "INSERT INTO option (field_id, key, name, created_at) "
            "VALUES (?, 'x', 'x', '2026-01-01')",
            field_id(sql, world, "kind"),
        ),
        ("DELETE FROM option WHERE key = 'x' AND field_id = ?", field_id(sql, world, "kind")),
    )
    for statement, row_id in changes:
        sql(statement, (row_id,))
        version = definition_version(sql, world)
        assert version not in seen, statement
        seen.add(version)


def test_new_feedback_leaves_the_stamp_as_it_is(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    before = definition_version(sql, world)

    assert create(client, world, {"message": "counted, not a definition change"})[0] == 201

    assert definition_version(sql, world) == before
    assert sql("SELECT feedback_count FROM channel WHERE id = ?", (world.a.channel_id,)) == [(3,)]


def test_migration_0007_gives_each_existing_channel_a_stamp_of_its_own(
    empty_database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(empty_database)
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIRECTORY), revision="0006")
            db.engine.dispose()
        [(project_id,)] = empty_database(
            "INSERT INTO project (name, timezone, created_at, updated_at) "
            "VALUES ('old', '{}', '2026-01-01', '2026-01-01') RETURNING id"
        )
        for name in ("a", "b", "c"):
            empty_database(
                "INSERT INTO channel (project_id, name, feedback_search_max_days, "
                "image_domains, created_at, updated_at) "
                f"VALUES ({project_id}, '{name}', 365, '[]', '2026-01-01', '2026-01-01')"
            )
        with app.app_context():
            upgrade_to_head()
        stamps = [stamp for (stamp,) in empty_database("SELECT definition_version FROM channel")]
        assert len(stamps) == 3
        assert len(set(stamps)) == 3
        assert 0 not in stamps
    finally:
        with app.app_context():
            db.engine.dispose()
