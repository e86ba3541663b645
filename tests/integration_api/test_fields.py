"""Integration API ``GET .../channels/{c}/fields``: the channel's ACTIVE fields.

The reference lists ``{id, key, name, format, status}``; we add ``property`` and ``options``.
"""

from __future__ import annotations

from typing import Any

from tests.factories import make_channel
from tests.helpers import Sql

# (key, name, format, property) of every field on the standard test channel, in order.
STANDARD = [
    ("id", "ID", "number", "READ_ONLY"),
    ("createdAt", "Created", "date", "READ_ONLY"),
    ("updatedAt", "Updated", "date", "READ_ONLY"),
    ("issues", "Issue", "multiSelect", "EDITABLE"),
    ("message", "message", "text", "EDITABLE"),
    ("label", "label", "keyword", "EDITABLE"),
    ("score", "score", "number", "EDITABLE"),
    ("kind", "kind", "select", "EDITABLE"),
    ("tags", "tags", "multiSelect", "EDITABLE"),
    ("seen_at", "seen_at", "date", "EDITABLE"),
    ("shots", "shots", "images", "EDITABLE"),
    ("source", "source", "text", "READ_ONLY"),
]


def fields_url(base: str, channel_id: int) -> str:
    return f"{base}/channels/{channel_id}/fields"


def expected_fields(sql: Any, channel_id: int, keys: list[str] | None = None) -> list[dict]:
    """The wire shape of the channel's fields, with ids read from the database."""
    ids = dict(sql("SELECT key, id FROM field WHERE channel_id = ?", (channel_id,)))
    result = []
    for key, name, format_, property_ in STANDARD:
        if keys is not None and key not in keys:
            continue
        options = sql(
            "SELECT id, name, key FROM option WHERE field_id = ? ORDER BY id", (ids[key],)
        )
        result.append(
            {
                "id": ids[key],
                "key": key,
                "name": name,
                "format": format_,
                "status": "ACTIVE",
                "property": property_,
                "options": [{"id": i, "name": n, "key": k} for i, n, k in options],
            }
        )
    return result


def deactivate(sql: Sql, channel_id: int, key: str) -> None:
    sql("UPDATE field SET status = 'INACTIVE' WHERE channel_id = ? AND key = ?", (channel_id, key))


def test_fields_list_the_defaults_first_then_the_channel_fields_with_options(client, world, sql):
    response = client.get(f"{world.a.channel}/fields", headers=world.a.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_fields(sql, world.a.channel_id)
    assert [f["key"] for f in body[:4]] == ["id", "createdAt", "updatedAt", "issues"]
    options = {f["key"]: [(o["key"], o["name"]) for o in f["options"]] for f in body}
    assert options["kind"] == [("bug", "bug"), ("idea", "idea")]
    assert options["tags"] == [("ui", "ui"), ("api", "api"), ("docs", "docs")]
    assert list(body[0]) == ["id", "key", "name", "format", "status", "property", "options"]


def test_fields_show_only_this_channels_fields(client, world, sql):
    response = client.get(f"{world.b.channel}/fields", headers=world.b.headers)

    assert response.status_code == 200
    assert response.get_json() == expected_fields(sql, world.b.channel_id)
    own_ids = {
        row[0] for row in sql("SELECT id FROM field WHERE channel_id = ?", (world.b.channel_id,))
    }
    assert {f["id"] for f in response.get_json()} == own_ids


def test_fields_omit_inactive_fields(client, world, sql):
    for key in ("label", "kind"):
        deactivate(sql, world.a.channel_id, key)

    response = client.get(f"{world.a.channel}/fields", headers=world.a.headers)

    assert response.status_code == 200
    active = [key for key, *_ in STANDARD if key not in ("label", "kind")]
    assert response.get_json() == expected_fields(sql, world.a.channel_id, active)


def test_fields_of_a_channel_without_custom_fields_are_the_four_defaults(app, client, world, sql):
    channel_id = make_channel(app, world.a.project_id, name="bare", specs=())

    response = client.get(fields_url(world.a.base, channel_id), headers=world.a.headers)

    assert response.status_code == 200
    defaults = ["id", "createdAt", "updatedAt", "issues"]
    assert response.get_json() == expected_fields(sql, channel_id, defaults)


def test_fields_of_a_channel_of_another_project_are_channel_not_found(client, world):
    url = fields_url(world.a.base, world.b.channel_id)

    response = client.get(url, headers=world.a.headers)

    assert response.status_code == 400
    assert response.get_json() == {
        "code": "ChannelNotFound",
        "message": "channel is not found",
        "statusCode": 400,
        "path": url,
    }
