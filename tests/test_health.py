"""``GET /api/health``: the reference server's terminus shape, with the answering process.

Each indicator (``database``, ``process``) appears under ``details``, and under ``info`` when
up or under ``error`` when down; ``status`` is "ok" with 200 or "error" with 503.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests import served
from tests.databases import SqliteFile
from tests.served import Served, Site
from tests.test_e2e_serve import STARTUP_TIMEOUT

DATABASE_DOWN = {"status": "down", "message": "OperationalError"}


def process_of(body: dict[str, Any]) -> dict[str, Any]:
    """The body's process indicator, after checking its uptime is a plausible number."""
    process = body["details"]["process"]
    assert isinstance(process["uptimeSeconds"], float | int)
    assert process["uptimeSeconds"] >= 0
    assert isinstance(process["pid"], int)
    return dict(process)


def healthy(process: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "ok",
        "info": {"database": {"status": "up"}, "process": process},
        "error": {},
        "details": {"database": {"status": "up"}, "process": process},
    }


def test_health_reports_the_database_and_this_process(client: FlaskClient):
    response = client.get("/api/health")
    assert response.status_code == 200
    process = process_of(response.json)
    assert process == {
        "status": "up",
        "pid": os.getpid(),
        "uptimeSeconds": process["uptimeSeconds"],
    }
    assert response.json == healthy(process)


# --- served: the database goes away and comes back ---------------------------------------------


@pytest.fixture
def site_with_data_folder(template: Site, tmp_path: Path) -> Site:
    """A site whose database file is alone in a folder of its own, ``data/``."""
    site = served.copy_site(template, tmp_path / "site")
    assert isinstance(site.cli.database, SqliteFile)
    data = tmp_path / "data"
    data.mkdir()
    database = SqliteFile(site.cli.database.path.rename(data / "served.sqlite"))
    return Site(dataclasses.replace(site.cli, database=database), site.ids)


def wait_for_log(server: Served, text: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while text not in server.log():
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{server.log()}"
        time.sleep(0.05)


def health(server: Served) -> tuple[int, dict[str, Any]]:
    reply = served.send(server.port, served.Call("GET", "/api/health"))
    return reply.status, reply.json()


@pytest.mark.sqlite_only(reason="takes the SQLite file's folder away")
def test_served_health_is_503_while_the_database_is_unreachable(
    site_with_data_folder: Site, tmp_path: Path
):
    data, away = tmp_path / "data", tmp_path / "data-away"
    with served.serve(site_with_data_folder, workers=1, env=served.LIMITS_OFF) as server:
        status, body = health(server)
        first = process_of(body)
        assert (status, body) == (200, healthy(first))

        # A worker that is running keeps its open connections; one started after the folder
        # went away (here by a reload, SIGHUP) cannot open the file.
        data.rename(away)
        server.process.send_signal(signal.SIGHUP)
        wait_for_log(server, f"Worker exiting (pid: {first['pid']})")

        status, body = health(server)
        process = process_of(body)
        assert process["pid"] != first["pid"]
        assert (status, body) == (
            503,
            {
                "status": "error",
                "info": {"process": process},
                "error": {"database": DATABASE_DOWN},
                "details": {"database": DATABASE_DOWN, "process": process},
            },
        )

        away.rename(data)
        status, body = health(server)
        assert (status, body) == (200, healthy(process_of(body)))
        assert server.stop() == 0
