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
from feedback_service.models import FTS_TABLE as FTS
from feedback_service.schema import MIGRATIONS_DIRECTORY, upgrade_to_head
from feedback_service.services.channels import DEFAULT_FIELDS, FieldSpec
from tests.conftest import make_test_app
from tests.databases import SqliteFile, TestDatabase
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


def text_fields_by_channel(database: TestDatabase) -> dict[int, list[int]]:
    fields: dict[int, list[int]] = {}
    for channel_id, field_id in database(
        "SELECT channel_id, id FROM field WHERE format = 'text' ORDER BY id"
    ):
        fields.setdefault(channel_id, []).append(field_id)
    return fields


def fts_text_columns(database: TestDatabase) -> list[str]:
    return [name for name in database.column_names(FTS) if name not in ("rowid", "channel")]


def text_rows(database: TestDatabase) -> list[TextRow]:
    """Every indexed non-empty text value as (feedback id, field id, value)."""
    columns = fts_text_columns(database)
    fields = text_fields_by_channel(database)
    rows = []
    for rowid, marker, *texts in database(
        f"SELECT rowid, channel, {', '.join(columns)} FROM {FTS}"
    ):
        channel_fields = fields.get(int(marker.strip("#")), [])
        assert all(text is None for text in texts[len(channel_fields) :]), rowid
        rows += [(rowid, f, text) for f, text in zip(channel_fields, texts, strict=False) if text]
    return sorted(rows)


def value_rows(database: TestDatabase) -> list[ValueRow]:
    rows = database("SELECT feedback_id, field_id, text_value, num_value FROM feedback_value")
    return sorted(rows, key=repr)


def implied_rows(database: TestDatabase) -> tuple[list[TextRow], list[ValueRow]]:
    """The index rows every feedback's data calls for, by its channel's field formats."""
    texts: list[TextRow] = []
    values: list[ValueRow] = []
    by_channel: dict[int, dict[str, tuple[int, str]]] = {}
    for channel_id, key, field_id, fmt in database("SELECT channel_id, key, id, format FROM field"):
        by_channel.setdefault(channel_id, {})[key] = (field_id, fmt)
    for feedback_id, channel_id, data in database("SELECT id, channel_id, data FROM feedback"):
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


def fts_matches(database: TestDatabase, text: str) -> list[int]:
    """Feedback ids whose indexed text contains ``text`` (three characters or more), read
    straight from the index: an FTS5 query on SQLite, the trigram-indexed LIKE on PostgreSQL."""
    folded = text.casefold()
    if isinstance(database, SqliteFile):
        phrase = '"' + folded.replace('"', '""') + '"'
        statement = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?"
        return sorted(row[0] for row in database(statement, (phrase,)))
    columns = fts_text_columns(database)
    anywhere = " OR ".join(f"{column} LIKE ?" for column in columns)
    rows = database(f"SELECT rowid FROM {FTS} WHERE {anywhere}", (f"%{folded}%",) * len(columns))
    return sorted(row[0] for row in rows)


def fts5_documents(database: SqliteFile) -> set[int]:
    """The rowids the FTS5 index itself holds (any row with at least one trigram), read through
    an ``fts5vocab`` table: ``count(*)`` on an external-content table would read the content
    table instead, and could never disagree with it."""
    with closing(sqlite3.connect(database.path, isolation_level=None)) as connection:
        connection.execute(
            f"CREATE VIRTUAL TABLE temp.documents USING fts5vocab(main, {FTS}, instance)"
        )
        return {row[0] for row in connection.execute("SELECT DISTINCT doc FROM documents")}


def assert_fts_table_is_sound(database: TestDatabase) -> None:
    """The index holds exactly one row per feedback, tagged with its channel; on SQLite, the
    FTS5 index also agrees with the content it indexes (PostgreSQL's GIN index is no separate
    store the server could let drift)."""
    markers = database(f"SELECT rowid, channel FROM {FTS} ORDER BY rowid")
    channels = database("SELECT id, '#' || channel_id || '#' FROM feedback ORDER BY id")
    assert markers == channels
    if not isinstance(database, SqliteFile):
        return
    assert fts5_documents(database) == {row[0] for row in channels}
    # rank = 1 also compares the index with the content table; either check fails with
    # sqlite3.DatabaseError ("database disk image is malformed").
    database(f"INSERT INTO {FTS}({FTS}, rank) VALUES('integrity-check', 1)")


def assert_index_agrees_with_data(database: TestDatabase) -> None:
    assert (text_rows(database), value_rows(database)) == implied_rows(database)
    assert_fts_table_is_sound(database)


def field_ids(database: TestDatabase, channel_id: int) -> dict[str, int]:
    return dict(database("SELECT key, id FROM field WHERE channel_id = ?", (channel_id,)))


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


def test_a_created_feedback_has_one_row_per_indexable_value(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    field = field_ids(sql, pw.channel_id)
    mine = [row for row in text_rows(sql) if row[0] == feedback_id]
    assert mine == sorted(
        [
            (feedback_id, field["message"], "grüsse aus köln"),
            (feedback_id, field["source"], "web form"),
        ]
    )
    assert [row for row in value_rows(sql) if row[0] == feedback_id] == sorted(
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
    assert fts_matches(sql, "GRÜßE") == [feedback_id]
    assert_index_agrees_with_data(sql)


def test_blank_values_index_only_the_number_and_the_empty_keyword(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, BLANK)
    field = field_ids(sql, pw.channel_id)
    assert [row for row in text_rows(sql) if row[0] == feedback_id] == []
    assert [row for row in value_rows(sql) if row[0] == feedback_id] == sorted(
        [(feedback_id, field["label"], "", None), (feedback_id, field["score"], None, 0.0)],
        key=repr,
    )
    assert_index_agrees_with_data(sql)


def test_many_creates_across_projects_keep_the_index_in_step(client, world, sql):
    for n in range(12):
        pw = world.a if n % 3 else world.b
        create(client, pw, {**FULL, "message": f"message number {n}", "score": n})
    assert_index_agrees_with_data(sql)
    assert len(fts_matches(sql, "number 1")) == 3  # 1, 10 and 11


# --- updates ---------------------------------------------------------------------------------


def test_an_update_reindexes_the_changed_values(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"message": "Neue Wörter", "kind": "idea", "tags": ["docs"]})
    assert_index_agrees_with_data(sql)
    assert fts_matches(sql, "Köln") == []
    assert fts_matches(sql, "WÖRTER") == [feedback_id]
    assert search(client, pw, {"message": "Köln"}) == []
    assert search(client, pw, {"message": "wörter"}) == [feedback_id]
    assert search(client, pw, {"kind": "bug"}) == []
    assert search(client, pw, {"kind": "idea"}) == [feedback_id]
    assert search(client, pw, {"tags": ["ui"]}) == []
    assert search(client, pw, {"tags": ["docs"]}) == [feedback_id]
    # Values that did not change are still found.
    assert search(client, pw, {"label": "red", "source": "web"}) == [feedback_id]


def test_an_update_by_a_new_option_name_indexes_the_new_option(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"kind": "feature", "tags": ["ui", "mobile"]})
    assert_index_agrees_with_data(sql)
    assert search(client, pw, {"kind": "feature"}) == [feedback_id]
    assert search(client, pw, {"tags": ["mobile", "ui"]}) == [feedback_id]
    assert search(client, pw, {"searchText": "mobile"}) == [feedback_id]


def test_clearing_values_removes_their_rows(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, FULL)
    update(client, pw, feedback_id, {"message": "", "kind": None, "tags": [], "seen_at": None})
    assert_index_agrees_with_data(sql)
    kept = {row[1] for row in value_rows(sql) if row[0] == feedback_id}
    field = field_ids(sql, pw.channel_id)
    assert kept == {field["label"], field["score"]}
    assert [row[1] for row in text_rows(sql) if row[0] == feedback_id] == [field["source"]]
    assert search(client, pw, {"searchText": "Köln"}) == []
    assert search(client, pw, {"searchText": "bug"}) == []


def test_repeated_updates_leave_only_the_last_text_findable(client, world, sql):
    pw = world.a
    feedback_id = create(client, pw, {"message": "version 0"})
    for n in range(1, 9):
        update(client, pw, feedback_id, {"message": f"version {n}", "score": n})
    assert_index_agrees_with_data(sql)
    assert search(client, pw, {"message": "version"}) == [feedback_id]
    assert fts_matches(sql, "version 8") == [feedback_id]
    for n in range(8):
        assert fts_matches(sql, f"version {n}") == []
        assert search(client, pw, {"message": f"version {n}"}) == []
    assert search(client, pw, {"score": 8}) == [feedback_id]


# --- deletes ---------------------------------------------------------------------------------


def test_deleting_feedback_removes_its_index_rows(client, world, sql):
    pw = world.a
    doomed = [create(client, pw, {**FULL, "message": f"doomed {n}"}) for n in range(3)]
    kept = create(client, pw, {**FULL, "message": "kept one"})
    response = client.delete(
        f"{pw.channel}/feedbacks", json={"feedbackIds": doomed}, headers=pw.headers
    )
    assert_empty(response)
    assert_index_agrees_with_data(sql)
    indexed = {row[0] for row in text_rows(sql) + value_rows(sql)}
    assert indexed.isdisjoint(doomed)
    assert kept in indexed
    assert fts_matches(sql, "doomed") == []
    assert search(client, pw, {"label": "red"}) == [kept]
    assert search(client, pw, {"searchText": "doomed"}) == []


def test_deleting_issues_unlinks_them_and_leaves_the_index_alone(client, world, sql):
    pw = world.a
    linked = create(client, pw, {**FULL, "issueNames": ["alpha issue 1", "alpha issue 2"]})
    before = (text_rows(sql), value_rows(sql))
    first, second = pw.issue_ids
    assert_empty(client.delete(f"{pw.base}/issues/{first}", headers=pw.headers))
    response = client.delete(f"{pw.base}/issues", json={"issueIds": [second]}, headers=pw.headers)
    assert_empty(response)
    assert (text_rows(sql), value_rows(sql)) == before
    assert_index_agrees_with_data(sql)
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
def old_app(
    empty_database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """An app on a fresh database migrated only to revision 0001 (no search index)."""
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS_DIRECTORY), revision="0001")
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()


def insert(database: TestDatabase, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(f'"{column}"' for column in row)
    marks = ", ".join("?" for _ in row)
    statement = f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) RETURNING id'
    [(row_id,)] = database(statement, tuple(row.values()))
    return int(row_id)


def insert_old_project(
    database: TestDatabase, channels: dict[str, tuple[FieldSpec, ...]]
) -> dict[str, int]:
    """A project and its channels (default fields first, then ``channels[name]``), written in
    plain SQL with revision 0001's columns: ``{"project": id, <channel name>: id, ...}``."""
    stamps = {"created_at": OLD_MOMENT, "updated_at": OLD_MOMENT}
    zone = {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}
    project = {"name": "old", "description": None, "timezone": json.dumps(zone)}
    ids = {"project": insert(database, "project", {**project, **stamps})}
    for name, specs in channels.items():
        channel = {"project_id": ids["project"], "name": name, "description": None}
        channel |= {"feedback_search_max_days": 365, "image_domains": "[]"}
        ids[name] = insert(database, "channel", {**channel, **stamps})
        fields = [(label, key, fmt, prop, ()) for label, key, fmt, prop in DEFAULT_FIELDS]
        fields += [(s.key, s.key, s.format, s.property, s.options) for s in specs]
        for order, (label, key, fmt, prop, options) in enumerate(fields):
            row = {"channel_id": ids[name], "key": key, "name": label, "description": None}
            row |= {"format": str(fmt), "property": str(prop), "status": "ACTIVE"}
            field_id = insert(database, "field", {**row, "order": order, **stamps})
            for option in options:
                row = {"field_id": field_id, "key": option, "name": option}
                insert(database, "option", {**row, "created_at": OLD_MOMENT})
    return ids


def insert_feedback(
    database: TestDatabase, channel_id: int, documents: list[dict[str, Any]]
) -> list[int]:
    """Feedback rows written as revision 0001 knew them (no index rows), in one statement."""
    rows = [(channel_id, json.dumps(document), OLD_MOMENT, OLD_MOMENT) for document in documents]
    values = ", ".join("(?, ?, ?, ?)" for _ in rows)
    statement = (
        f"INSERT INTO feedback (channel_id, data, created_at, updated_at) VALUES {values} "
        "RETURNING id"
    )
    ids = database(statement, tuple(value for row in rows for value in row))
    return sorted(row_id for (row_id,) in ids)


def upgrade(app: Flask) -> None:
    with app.app_context():
        upgrade_to_head()


def test_the_backfill_indexes_existing_feedback(old_app, empty_database):
    database = empty_database
    ids = insert_old_project(database, {"web": STANDARD_FIELDS, "other": STANDARD_FIELDS[::-1]})
    web, other = ids["web"], ids["other"]
    web_ids = insert_feedback(database, web, [FULL, BLANK, {"message": "Äpfel", "tags": ["docs"]}])
    other_ids = insert_feedback(database, other, [{**FULL, "message": "elsewhere Köln"}])
    upgrade(old_app)
    assert_index_agrees_with_data(database)
    assert len(text_rows(database)) == 5  # message and source of FULL twice, one "Äpfel"
    assert fts_matches(database, "köln") == [web_ids[0], other_ids[0]]
    # Each channel's own field ids are used, though both have a "message" field.
    message_fields = {row[1] for row in text_rows(database) if row[2].endswith("köln")}
    assert message_fields == {
        field_ids(database, web)["message"],
        field_ids(database, other)["message"],
    }

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


def test_the_backfill_covers_more_than_one_batch(old_app, empty_database):
    database = empty_database
    channel_id = insert_old_project(database, {"web": STANDARD_FIELDS})["web"]
    count = 5003  # the backfill reads 5000 feedback at a time
    documents = [{"message": f"entry {n:05d}", "score": n} for n in range(count)]
    ids = insert_feedback(database, channel_id, documents)
    upgrade(old_app)
    assert_index_agrees_with_data(database)
    assert {row[0] for row in text_rows(database)} == set(ids)
    assert {row[0] for row in value_rows(database)} == set(ids)
    for n in (0, 4999, 5000, 5002):
        assert fts_matches(database, f"entry {n:05d}") == [ids[n]]


def test_a_database_at_head_has_an_index_for_world_feedback(world: World, sql):
    """The fixtures' own feedback, created at head, is indexed like backfilled feedback."""
    assert {row[0] for row in text_rows(sql)} == set(world.a.feedback_ids + world.b.feedback_ids)
    assert_index_agrees_with_data(sql)
