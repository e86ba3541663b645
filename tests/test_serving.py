"""``feedback-service serve``: its size settings, and a graceful stop that completes requests.

(``tests/test_e2e_serve.py`` stops an idle server; here a request is in flight at SIGTERM.)
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import time
from contextlib import closing

import pytest

from tests import served
from tests.cli_runner import CONSOLE_SCRIPT
from tests.served import REQUEST_TIMEOUT, Served, Site
from tests.test_e2e_serve import STARTUP_TIMEOUT, HttpClient, Server, free_port

BOOTED_WORKER = re.compile(r"Booting worker with pid: (\d+)")


# --- graceful stop -----------------------------------------------------------------------------


def connection_after_health(probe: http.client.HTTPConnection) -> str:
    """The ``Connection`` header of a health check on a kept-alive connection."""
    probe.request("GET", "/api/health")
    response = probe.getresponse()
    response.read()
    assert response.status == 200
    return str(response.getheader("Connection"))


def read_interim_response(upload: socket.socket) -> bytes:
    received = b""
    while not received.endswith(b"\r\n\r\n"):
        chunk = upload.recv(1)
        assert chunk, f"connection closed after {received!r}"
        received += chunk
    return received


def test_a_request_in_flight_at_sigterm_is_completed(site: Site):
    ids = site.ids
    body = json.dumps({"name": "sent while stopping"}).encode()
    head = (
        f"POST /api/projects/{ids.project_id}/issues HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nx-api-key: {ids.secret_key}\r\nX-Request-Id: in-flight\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    with served.serve(site, workers=1, env=served.LIMITS_OFF) as server:
        probe = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
        address = ("127.0.0.1", server.port)
        with closing(probe), socket.create_connection(address, REQUEST_TIMEOUT) as upload:
            assert connection_after_health(probe) == "keep-alive"
            upload.sendall(head)
            # gunicorn answers 100 Continue as it hands the request to the app, which then
            # waits for the body: the request is in flight.
            assert read_interim_response(upload) == b"HTTP/1.1 100 Continue\r\n\r\n"

            server.server.stop()  # SIGTERM
            # A stopping worker answers on a kept-alive connection with "Connection: close":
            # once it does, the worker has taken the signal.
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while connection_after_health(probe) != "close":
                assert time.monotonic() < deadline, server.log()

            upload.sendall(body)
            response = http.client.HTTPResponse(upload)
            try:
                response.begin()
                answer = (response.status, json.loads(response.read()))
                request_id = response.getheader("X-Request-Id")
            finally:
                response.close()
        assert server.stop() == 0

    [(issue_id,)] = site.cli.database.query(
        "SELECT id FROM issue WHERE project_id = ? AND name = 'sent while stopping'",
        (ids.project_id,),
    )
    assert answer == (201, {"id": issue_id})
    assert request_id == "in-flight"


# --- size settings -----------------------------------------------------------------------------


def test_serve_takes_its_size_from_the_settings(site: Site):
    port = free_port()
    env = {**site.cli.env, **served.LIMITS_OFF, "FEEDBACK_WORKERS": "3", "FEEDBACK_THREADS": "2"}
    log = site.cli.instance.parent / "server.log"
    command = [str(CONSOLE_SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=log.parent, stdout=output, stderr=subprocess.STDOUT
        )
    server = Served(site, port, Server(process, log, HttpClient(port)), env)
    try:
        server.server.wait_until_healthy()
        server.wait_for_workers(3)
    finally:
        assert server.stop() == 0
    assert len(BOOTED_WORKER.findall(server.log())) == 3


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FEEDBACK_WORKERS", "many", "setting WORKERS: 'many' is not a valid integer range."),
        ("FEEDBACK_THREADS", "65", "setting THREADS: 65 is not in the range 1<=x<=64."),
    ],
)
def test_serve_refuses_a_bad_size_setting(site: Site, variable: str, value: str, message: str):
    site.cli.extra_env[variable] = value
    assert site.cli.fails("serve", "--port", "0") == f"Error: {message}\n"
