"""End to end: set up with the CLI, serve with gunicorn, drive the API over real HTTP."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import CONSOLE_SCRIPT, Cli
from tests.databases import TestDatabase

STARTUP_TIMEOUT = 20.0
# gunicorn's graceful_timeout as `feedback-service serve` configures it.
GRACEFUL_TIMEOUT = 30.0
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) ')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Response:
    status: int
    body: Any


@dataclass
class HttpClient:
    """A tiny JSON client that remembers every request the server answered."""

    port: int
    key: str = ""
    answered: list[tuple[str, str, int]] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None) -> Response:
        headers = {"x-api-key": self.key} if self.key else {}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["content-type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        self.answered.append((method, path, response.status))
        return Response(response.status, json.loads(raw) if raw else None)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path
    http: HttpClient

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited early:\n{self.log.read_text()}"
            try:
                if self.http.request("GET", "/api/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"no healthy answer within {STARTUP_TIMEOUT} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)


@dataclass
class Provisioned:
    project_id: int
    channel_id: int
    key: str


@pytest.fixture
def provisioned(tmp_path: Path, empty_database: TestDatabase) -> tuple[Cli, Provisioned]:
    """A database made only through the command line: project, channel, key."""
    cli = Cli(tmp_path / "instance", empty_database)
    cli.ok("init-db")
    project_id = cli.json("create-project", "--name", "Shop")["id"]
    channel = cli.json(
        "create-channel",
        "--project",
        str(project_id),
        "--name",
        "web",
        "--field",
        "message:text",
        "--field",
        "kind:select:bug|idea",
    )
    key = cli.json("create-api-key", "--project", str(project_id))["key"]
    return cli, Provisioned(project_id, channel["id"], key)


@pytest.fixture
def server(provisioned: tuple[Cli, Provisioned], tmp_path: Path) -> Iterator[Server]:
    cli, ids = provisioned
    port = free_port()
    log = tmp_path / "server.log"
    command = [str(CONSOLE_SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "2"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=cli.env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, log, HttpClient(port, ids.key))
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()
        try:
            process.wait(timeout=GRACEFUL_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def access_log(log: Path) -> Counter[tuple[str, str, int]]:
    lines = (ACCESS_LINE.search(line) for line in log.read_text().splitlines())
    return Counter((m["method"], m["path"], int(m["status"])) for m in lines if m)


def test_served_api_round_trip_and_graceful_shutdown(server: Server, provisioned):
    _, ids = provisioned
    api = server.http
    base = f"/api/projects/{ids.project_id}"
    channel = f"{base}/channels/{ids.channel_id}"

    created = api.request("POST", f"{base}/issues", {"name": "Login broken"})
    assert created.status == 201
    login_issue = created.body["id"]

    created = api.request(
        "POST",
        f"{channel}/feedbacks",
        {"message": "cannot log in", "kind": "bug", "issueNames": ["Login broken", "Slow"]},
    )
    assert created.status == 201
    feedback = f"{channel}/feedbacks/{created.body['id']}"

    got = api.request("GET", feedback)
    assert got.status == 200
    assert (got.body["id"], got.body["message"], got.body["kind"]) == (
        created.body["id"],
        "cannot log in",
        "bug",
    )
    assert [issue["name"] for issue in got.body["issues"]] == ["Login broken", "Slow"]
    assert got.body["issues"][0]["feedbackCount"] == 1

    assert api.request("PUT", feedback, {"message": "still cannot log in"}).status == 200
    assert api.request("GET", feedback).body["message"] == "still cannot log in"

    other_issue = api.request("POST", f"{base}/issues", {"name": "Crash"}).body["id"]
    assert api.request("POST", f"{feedback}/issue/{other_issue}").status == 201
    linked = api.request("GET", feedback).body["issues"]
    assert other_issue in [issue["id"] for issue in linked]
    assert api.request("DELETE", f"{feedback}/issue/{other_issue}").status == 200
    unlinked = api.request("GET", feedback).body["issues"]
    assert other_issue not in [issue["id"] for issue in unlinked]

    found = api.request("POST", f"{base}/issues/search", {"query": {"name": "Login"}})
    assert found.status == 201
    assert [(i["id"], i["feedbackCount"]) for i in found.body["items"]] == [(login_issue, 1)]
    assert found.body["meta"]["totalItems"] == 1

    fields = api.request("GET", f"{channel}/fields")
    assert fields.status == 200
    assert [f["key"] for f in fields.body] == [
        "id",
        "createdAt",
        "updatedAt",
        "issues",
        "message",
        "kind",
    ]

    deleted = api.request("DELETE", f"{channel}/feedbacks", {"feedbackIds": [created.body["id"]]})
    assert deleted.status == 200
    assert api.request("GET", feedback).status == 400
    assert api.request("GET", f"{base}/issues/{login_issue}").body["feedbackCount"] == 0

    server.stop()
    assert server.process.wait(timeout=GRACEFUL_TIMEOUT) == 0
    assert access_log(server.log) == Counter(api.answered)
