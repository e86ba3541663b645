"""Integration API project info: ``GET /api/projects/{projectId}`` (compat spec §1.4.12)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import World, make_key, make_project
from tests.helpers import Sql, forbidden, wire_timestamp

WIRE_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
MASTER_KEY = "M" * 20
SEOUL = {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}


def project_url(project_id: int | str) -> str:
    return f"/api/projects/{project_id}"


def expected_project(sql: Sql, project_id: int, **shown: Any) -> dict[str, Any]:
    """The wire body: ``shown`` values plus the stored timestamps."""
    [(created, updated)] = sql(
        "SELECT created_at, updated_at FROM project WHERE id = ?", (project_id,)
    )
    return {
        "id": project_id,
        **shown,
        "createdAt": wire_timestamp(created),
        "updatedAt": wire_timestamp(updated),
    }


def utc_offset(zone: str) -> str:
    offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_get_returns_the_project_with_its_timezone(
    client: FlaskClient, world: World, sql: Sql
) -> None:
    response = client.get(project_url(world.a.project_id), headers=world.a.headers)

    assert response.status_code == 200
    assert response.get_json() == expected_project(
        sql, world.a.project_id, name="alpha", description=None, timezone=SEOUL
    )


def test_get_sends_timestamps_in_utc_with_milliseconds(client: FlaskClient, world: World) -> None:
    body = client.get(project_url(world.a.project_id), headers=world.a.headers).get_json()

    assert WIRE_TIMESTAMP.fullmatch(body["createdAt"])
    assert WIRE_TIMESTAMP.fullmatch(body["updatedAt"])


@pytest.mark.parametrize(
    ("zone", "country"),
    [("America/New_York", "US"), ("Europe/Berlin", "DE"), ("Asia/Kolkata", "IN")],
)
def test_get_shows_the_description_and_another_timezone(
    app: Flask, client: FlaskClient, sql: Sql, zone: str, country: str
) -> None:
    project_id = make_project(app, "described", description="Our shop", timezone=zone)
    headers = {"x-api-key": make_key(app, project_id)}

    response = client.get(project_url(project_id), headers=headers)

    assert response.status_code == 200
    assert response.get_json() == expected_project(
        sql,
        project_id,
        name="described",
        description="Our shop",
        timezone={"countryCode": country, "name": zone, "offset": utc_offset(zone)},
    )


@pytest.mark.parametrize("whose", ["other project", "missing"])
def test_get_with_a_key_of_another_project_is_forbidden(
    client: FlaskClient, world: World, whose: str
) -> None:
    url = project_url(world.b.project_id if whose == "other project" else 999_999)

    response = client.get(url, headers=world.a.headers)

    assert (response.status_code, response.get_json()) == (403, forbidden(url))


def test_get_with_the_master_key_opens_any_project(
    app: Flask, client: FlaskClient, world: World, sql: Sql
) -> None:
    app.config["MASTER_API_KEY"] = MASTER_KEY

    response = client.get(project_url(world.b.project_id), headers={"x-api-key": MASTER_KEY})

    assert response.status_code == 200
    assert response.get_json() == expected_project(
        sql, world.b.project_id, name="beta", description=None, timezone=SEOUL
    )


@pytest.mark.parametrize(
    ("project_id", "body"),
    [
        (
            "999999",
            {"code": "ProjectNotFound", "message": "project is not found", "statusCode": 400},
        ),
        (
            "1e3",
            {
                "message": "Validation failed (numeric string is expected)",
                "error": "Bad Request",
                "statusCode": 400,
            },
        ),
    ],
)
def test_get_with_the_master_key_and_no_such_project_is_400(
    app: Flask, client: FlaskClient, world: World, project_id: str, body: Any
) -> None:
    app.config["MASTER_API_KEY"] = MASTER_KEY
    url = project_url(project_id)

    response = client.get(url, headers={"x-api-key": MASTER_KEY})

    assert (response.status_code, response.get_json()) == (400, {**body, "path": url})
