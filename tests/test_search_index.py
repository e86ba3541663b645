"""The search index (the FTS5 trigram table over text values, and ``feedback_value``) agrees
with the feedback data after every write, and migration 0002 backfills it.

"What the data implies" is recomputed here from ``feedback.data`` and the field formats,
independently of the indexer: each non-empty text value indexed exactly once; one value row
per keyword, select or date string, per number, and per multiSelect element; nothing for
images, nulls or empty lists.

The FTS layout is known only to the helpers below: one ``feedback_fts`` row per feedback
(rowid = feedback id, a ``#channel#`` marker and the channel's text fields, casefolded, in
``c0``, ``c1``... by field id).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.extensions import db
from feedback_service.schema import MIGRATIONS_DIRECTORY, upgrade_to_head
from feedback_service.services.channels import DEFAULT_FIELDS, FieldSpec
from tests.conftest import make_test_app
from tests.factories import STANDARD_FIELDS, ProjectWorld, World, make_key
from tests.helpers import assert_empty, page_meta

TextRow = tuple[int, int, str]
ValueRow = tuple[int, int, str | None, float | None]

FULL = {
    "message": "Grüße aus Köln",
    "source": "web form",
    "label": "red",
    "score": 7,
    "kind": "bug",
    "tags": ["ui", "api"],
    "seen_at": "2024-03-01T10:00:00.000Z",
    "shots": ["https://cdn.example.com/a.png"],
}
OLD_MOMENT = "2024-03-05 12:00:00.000000"
# Values that index to nothing, except the number 0 and the empty keyword.
BLANK = {"message": "", "label": "", "score": 0, "kind": None, "tags": [], "seen_at": None}


# --- the index, and what the data implies ---------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def read(path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(connect(path)) as connection:
        return connection.execute(statement, params).fetchall()


def text_fields_by_channel(path: Path) -> dict[int, list[int]]:
    fields: dict[int, list[int]] = {}
    for channel_id, field_id in read(
        path, "SELECT channel_id, id FROM field WHERE format = 'text' ORDER BY id"
    ):
        fields.setdefault(channel_id, []).append(field_id)
    return fields


def fts_columns(path: Path) -> list[str]:
    return [row[1] for row in read(path, "PRAGMA table_info(feedback_fts)")]


def text_rows(path: Path) -> list[TextRow]:
    """Every indexed non-empty text value as (feedback id, field id, value)."""
    columns = [name for name in fts_columns(path) if name != "channel"]
    fields = text_fields_by_channel(path)
    rows = []
    for rowid, marker, *texts in read(
        path, f"SELECT rowid, channel, {', '.join(columns)} FROM feedback_fts"
    ):
        channel_fields = fields.get(int(marker.strip("#")), [])
        assert all(text is None for text in texts[len(channel_fields) :]), rowid
        rows += [(rowid, f, text) for f, text in zip(channel_fields, texts, strict=False) if text]
    return sorted(rows)


def value_rows(path: Path) -> list[ValueRow]:
    rows = read(path, "SELECT feedback_id, field_id, text_value, num_value FROM feedback_value")
    return sorted(rows, key=repr)


def implied_rows(path: Path) -> tuple[list[TextRow], list[ValueRow]]:
    """The index rows every feedback's data calls for, by its channel's field formats."""
    texts: list[TextRow] = []
    values: list[ValueRow] = []
    fields = read(path, "SELECT channel_id, key, id, format FROM field")
    by_channel: dict[int, dict[str, tuple[int, str]]] = {}
    for channel_id, key, field_id, fmt in fields:
        by_channel.setdefault(channel_id, {})[key] = (field_id, fmt)
    for feedback_id, channel_id, data in read(path, "SELECT id, channel_id, data FROM feedback"):
        for key, value in json.loads(data).items():
            field_id, fmt = by_channel[channel_id][key]
            if value is None:
                continue
            if fmt == "text" and value:
                # The index keeps text casefolded, for caseless matching.
                texts.append((feedback_id, field_id, value.casefold()))
            elif fmt in ("keyword", "select", "date"):
                values.append((feedback_id, field_id, value, None))
            elif fmt == "number":
                values.append((feedback_id, field_id, None, float(value)))
            elif fmt == "multiSelect":
                values += [(feedback_id, field_id, item, None) for item in value]
    return sorted(texts), sorted(values, key=repr)


def fts_matches(path: Path, text: str) -> list[int]:
    """Feedback ids whose indexed text contains ``text`` (three characters or more), read
    straight from the FTS5 table."""
    phrase = '"' + text.casefold().replace('"', '""') + '"'
    statement = "SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH ?"
    return sorted(row[0] for row in read(path, statement, (phrase,)))


def fts_documents(path: Path, table: str) -> set[int]:
    """The rowids the FTS index itself holds (any row with at least one trigram), read through
    an ``fts5vocab`` table: ``count(*)`` on an external-content table would read the content
    table instead, and could never disagree with it."""
    with closing(connect(path)) as connection:
        connection.execute(
            f"CREATE VIRTUAL TABLE temp.documents USING fts5vocab(main, {table}, instance)"
        )
        return {row[0] for row in connection.execute("SELECT DISTINCT doc FROM documents")}


def assert_fts_table_is_sound(path: Path) -> None:
    """The FTS index holds exactly one document per feedback, tagged with its channel, and
    agrees with the content it indexes."""
    table = "feedback_fts"
    markers = read(path, "SELECT rowid, channel FROM feedback_fts ORDER BY rowid")
    channels = read(path, "SELECT id, '#' || channel_id || '#' FROM feedback ORDER BY id")
    assert markers == channels
    assert fts_documents(path, table) == {row[0] for row in channels}
    # rank = 1 also compares the index with the content table; either check fails with
    # sqlite3.DatabaseError ("database disk image is malformed").
    with closing(connect(path)) as connection:
        connection.execute(f"INSERT INTO {table}({table}, rank) VALUES('integrity-check', 1)")


def assert_index_agrees_with_data(path: Path) -> None:
    assert (text_rows(path), value_rows(path)) == implied_rows(path)
    assert_fts_table_is_sound(path)


def field_ids(path: Path, channel_id: int) -> dict[str, int]:
    return dict(read(path, "SELECT key, id FROM field WHERE channel_id = ?", (channel_id,)))


# --- requests --------------------------------------------------------------------------------


def create(client: FlaskClient, pw: ProjectWorld, body: dict[str, Any]) -> int:
    response = client.post(f"{pw.channel}/feedbacks", json=body, headers=pw.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def update(client: FlaskClient, pw: ProjectWorld, feedback_id: int, body: dict[str, Any]) -> None:
    response = client.put(f"{pw.channel}/feedbacks/{feedback_id}", json=body, headers=pw.headers)
    assert_empty(response)


def search(client: FlaskClient, pw: ProjectWorld, query: dict[str, Any]) -> list[int]:
    response = client.post(
        f"{pw.channel}/feedbacks/search", json={"query": query, "limit": 100}, headers=pw.headers
    )
    body = response.get_json()
    assert response.status_code == 201, body
    ids = [item["id"] for item in body["items"]]
    assert body["meta"] == page_meta(len(ids), len(ids), 100, 1)
    return ids


# --- creates ---------------------------------------------------------------------------------


def test_a_created_feedback_has_one_row_per_indexable_value(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    field = field_ids(database_path, pw.channel_id)
    mine = [row for row in text_rows(database_path) if row[0] == feedback_id]
    assert mine == sorted(
        [
            (feedback_id, field["message"], "grüsse aus köln"),
            (feedback_id, field["source"], "web form"),
        ]
    )
    assert [row for row in value_rows(database_path) if row[0] == feedback_id] == sorted(
        [
            (feedback_id, field["label"], "red", None),
            (feedback_id, field["score"], None, 7.0),
            (feedback_id, field["kind"], "bug", None),
            (feedback_id, field["tags"], "ui", None),
            (feedback_id, field["tags"], "api", None),
            (feedback_id, field["seen_at"], "2024-03-01T10:00:00.000Z", None),
        ],
        key=repr,
    )
    assert fts_matches(database_path, "GRÜßE") == [feedback_id]
    assert_index_agrees_with_data(database_path)


def test_blank_values_index_only_the_number_and_the_empty_keyword(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, BLANK)
    field = field_ids(database_path, pw.channel_id)
    assert [row for row in text_rows(database_path) if row[0] == feedback_id] == []
    assert [row for row in value_rows(database_path) if row[0] == feedback_id] == sorted(
        [(feedback_id, field["label"], "", None), (feedback_id, field["score"], None, 0.0)],
        key=repr,
    )
    assert_index_agrees_with_data(database_path)


def test_many_creates_across_projects_keep_the_index_in_step(client, world, database_path):
    for n in range(12):
        pw = world.a if n % 3 else world.b
        create(client, pw, {**FULL, "message": f"message number {n}", "score": n})
    assert_index_agrees_with_data(database_path)
    assert len(fts_matches(database_path, "number 1")) == 3  # 1, 10 and 11


# --- updates ---------------------------------------------------------------------------------


def test_an_update_reindexes_the_changed_values(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"message": "Neue Wörter", "kind": "idea", "tags": ["docs"]})
    assert_index_agrees_with_data(database_path)
    assert fts_matches(database_path, "Köln") == []
    assert fts_matches(database_path, "WÖRTER") == [feedback_id]
    assert search(client, pw, {"message": "Köln"}) == []
    assert search(client, pw, {"message": "wörter"}) == [feedback_id]
    assert search(client, pw, {"kind": "bug"}) == []
    assert search(client, pw, {"kind": "idea"}) == [feedback_id]
    assert search(client, pw, {"tags": ["ui"]}) == []
    assert search(client, pw, {"tags": ["docs"]}) == [feedback_id]
    # Values that did not change are still found.
    assert search(client, pw, {"label": "red", "source": "web"}) == [feedback_id]


def test_an_update_by_a_new_option_name_indexes_the_new_option(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"kind": "feature", "tags": ["ui", "mobile"]})
    assert_index_agrees_with_data(database_path)
    assert search(client, pw, {"kind": "feature"}) == [feedback_id]
    assert search(client, pw, {"tags": ["mobile", "ui"]}) == [feedback_id]
    assert search(client, pw, {"searchText": "mobile"}) == [feedback_id]


def test_clearing_values_removes_their_rows(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"message": "", "kind": None, "tags": [], "seen_at": None})
    assert_index_agrees_with_data(database_path)
    kept = {row[1] for row in value_rows(database_path) if row[0] == feedback_id}
    field = field_ids(database_path, pw.channel_id)
    assert kept == {field["label"], field["score"]}
    assert [row[1] for row in text_rows(database_path) if row[0] == feedback_id] == [
        field["source"]
    ]
    assert search(client, pw, {"searchText": "Köln"}) == []
    assert search(client, pw, {"searchText": "bug"}) == []


def test_repeated_updates_leave_only_the_last_text_findable(client, world, database_path):
    pw = world.a
    feedback_id = create(client, pw, {"message": "version 0"})
    for n in range(1, 9):
        update(client, pw, feedback_id, {"message": f"version {n}", "score": n})
    assert_index_agrees_with_data(database_path)
    assert search(client, pw, {"message": "version"}) == [feedback_id]
    assert fts_matches(database_path, "version 8") == [feedback_id]
    for n in range(8):
        assert fts_matches(database_path, f"version {n}") == []
        assert search(client, pw, {"message": f"version {n}"}) == []
    assert search(client, pw, {"score": 8}) == [feedback_id]


# --- deletes ---------------------------------------------------------------------------------


def test_deleting_feedback_removes_its_index_rows(client, world, database_path):
    pw = world.a
    doomed = [create(client, pw, {**FULL, "message": f"doomed {n}"}) for n in range(3)]
    kept = create(client, pw, {**FULL, "message": "kept one"})
    response = client.delete(
        f"{pw.channel}/feedbacks", json={"feedbackIds": doomed}, headers=pw.headers
    )
    assert_empty(response)
    assert_index_agrees_with_data(database_path)
    indexed = {row[0] for row in text_rows(database_path) + value_rows(database_path)}
    assert indexed.isdisjoint(doomed)
    assert kept in indexed
    assert fts_matches(database_path, "doomed") == []
    assert search(client, pw, {"label": "red"}) == [kept]
    assert search(client, pw, {"searchText": "doomed"}) == []


def test_deleting_issues_unlinks_them_and_leaves_the_index_alone(client, world, database_path):
    pw = world.a
    linked = create(client, pw, {**FULL, "issueNames": ["alpha issue 1", "alpha issue 2"]})
    before = (text_rows(database_path), value_rows(database_path))
    first, second = pw.issue_ids
    assert_empty(client.delete(f"{pw.base}/issues/{first}", headers=pw.headers))
    response = client.delete(f"{pw.base}/issues", json={"issueIds": [second]}, headers=pw.headers)
    assert_empty(response)
    assert (text_rows(database_path), value_rows(database_path)) == before
    assert_index_agrees_with_data(database_path)
    assert search(client, pw, {"issueIds": [first, second]}) == []
    assert search(client, pw, {"issueName": "alpha issue 1"}) == []
    assert search(client, pw, {"message": "Köln"}) == [linked]
    v2 = client.post(
        f"/api/v2/projects/{pw.project_id}/channels/{pw.channel_id}/feedbacks/search",
        json={"queries": [{"key": "issueIds", "value": [], "condition": "IS"}], "limit": 100},
        headers=pw.headers,
    )
    assert linked in [item["id"] for item in v2.get_json()["items"]]


# --- migration 0002: the backfill ------------------------------------------------------------


@pytest.fixture
def old_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on a fresh database file migrated only to revision 0001 (no search index)."""
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(tmp_path / "old.sqlite")
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS_DIRECTORY), revision="0001")
    yield app
    with app.app_context():
        db.engine.dispose()


def old_path(app: Flask) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def insert(connection: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(f'"{column}"' for column in row)
    marks = ", ".join("?" for _ in row)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'
    cursor = connection.execute(statement, tuple(row.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def insert_old_project(path: Path, channels: dict[str, tuple[FieldSpec, ...]]) -> dict[str, int]:
    """A project and its channels (default fields first, then ``channels[name]``), written in
    plain SQL with revision 0001's columns: ``{"project": id, <channel name>: id, ...}``."""
    stamps = {"created_at": OLD_MOMENT, "updated_at": OLD_MOMENT}
    with closing(connect(path)) as connection:
        connection.execute("BEGIN")
        zone = {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}
        project = {"name": "old", "description": None, "timezone": json.dumps(zone)}
        ids = {"project": insert(connection, "project", {**project, **stamps})}
        for name, specs in channels.items():
            channel = {"project_id": ids["project"], "name": name, "description": None}
            channel |= {"feedback_search_max_days": 365, "image_domains": "[]"}
            ids[name] = insert(connection, "channel", {**channel, **stamps})
            fields = [(label, key, fmt, prop, ()) for label, key, fmt, prop in DEFAULT_FIELDS]
            fields += [(s.key, s.key, s.format, s.property, s.options) for s in specs]
            for order, (label, key, fmt, prop, options) in enumerate(fields):
                row = {"channel_id": ids[name], "key": key, "name": label, "description": None}
                row |= {"format": str(fmt), "property": str(prop), "status": "ACTIVE"}
                field_id = insert(connection, "field", {**row, "order": order, **stamps})
                for option in options:
                    row = {"field_id": field_id, "key": option, "name": option}
                    insert(connection, "option", {**row, "created_at": OLD_MOMENT})
        connection.execute("COMMIT")
    return ids


def insert_feedback(path: Path, channel_id: int, documents: list[dict[str, Any]]) -> list[int]:
    """Feedback rows written as revision 0001 knew them: no index rows."""
    with closing(connect(path)) as connection:
        connection.execute("BEGIN")
        ids = [
            insert(
                connection,
                "feedback",
                {
                    "channel_id": channel_id,
                    "data": json.dumps(document),
                    "created_at": OLD_MOMENT,
                    "updated_at": OLD_MOMENT,
                },
            )
            for document in documents
        ]
        connection.execute("COMMIT")
    return ids


def upgrade(app: Flask) -> None:
    with app.app_context():
        upgrade_to_head()


def test_the_backfill_indexes_existing_feedback(old_app):
    path = old_path(old_app)
    ids = insert_old_project(path, {"web": STANDARD_FIELDS, "other": STANDARD_FIELDS[::-1]})
    web, other = ids["web"], ids["other"]
    web_ids = insert_feedback(path, web, [FULL, BLANK, {"message": "Äpfel", "tags": ["docs"]}])
    other_ids = insert_feedback(path, other, [{**FULL, "message": "elsewhere Köln"}])
    upgrade(old_app)
    assert_index_agrees_with_data(path)
    assert len(text_rows(path)) == 5  # message and source of FULL twice, one "Äpfel"
    assert fts_matches(path, "köln") == [web_ids[0], other_ids[0]]
    # Each channel's own field ids are used, though both have a "message" field.
    message_fields = {row[1] for row in text_rows(path) if row[2].endswith("köln")}
    assert message_fields == {field_ids(path, web)["message"], field_ids(path, other)["message"]}

    pw = ProjectWorld(ids["project"], web, make_key(old_app, ids["project"]))
    client = old_app.test_client()
    assert search(client, pw, {"message": "ÄPFEL"}) == [web_ids[2]]
    assert search(client, pw, {"searchText": "köln"}) == [web_ids[0]]
    assert search(client, pw, {"tags": ["docs"]}) == [web_ids[2]]
    assert search(client, pw, {"score": 0}) == [web_ids[1]]
    assert search(client, pw, {"kind": "bug", "label": "red", "score": 7}) == [web_ids[0]]
    window = {"gte": "2024-03-01T10:00:00Z", "lt": "2024-03-01T10:00:00.001Z"}
    assert search(client, pw, {"seen_at": window}) == [web_ids[0]]
    assert search(client, pw, {}) == sorted(web_ids, reverse=True)


def test_the_backfill_covers_more_than_one_batch(old_app):
    path = old_path(old_app)
    channel_id = insert_old_project(path, {"web": STANDARD_FIELDS})["web"]
    count = 5003  # the backfill reads 5000 feedback at a time
    documents = [{"message": f"entry {n:05d}", "score": n} for n in range(count)]
    ids = insert_feedback(path, channel_id, documents)
    upgrade(old_app)
    assert_index_agrees_with_data(path)
    assert {row[0] for row in text_rows(path)} == set(ids)
    assert {row[0] for row in value_rows(path)} == set(ids)
    for n in (0, 4999, 5000, 5002):
        assert fts_matches(path, f"entry {n:05d}") == [ids[n]]


def test_a_database_at_head_has_an_index_for_world_feedback(world: World, database_path):
    """The fixtures' own feedback, created at head, is indexed like backfilled feedback."""
    assert {row[0] for row in text_rows(database_path)} == set(
        world.a.feedback_ids + world.b.feedback_ids
    )
    assert_index_agrees_with_data(database_path)
