"""A real ``feedback-service serve`` (gunicorn) for tests, and a tiny JSON client for it.

A site is set up through the command line (``--json``): a project, a board, a public key for
the board and a secret API key. Setting one up costs a few CLI runs, so each test process builds
one template (:func:`session_template`) and every server starts on a copy of it
(:func:`copy_site`).

The client sends each request on its own connection, optionally from another loopback address
(``127.0.0.2`` and so on): the server binds 127.0.0.1, and Linux answers the whole 127/8 on the
loopback, so tests get distinct client addresses without trusting any proxy header.

:func:`send_all` and :func:`send_in_process` are plain module functions and :class:`Call` and
:class:`Reply` are plain data, so client processes started with ``spawn`` can use them.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli_runner import CONSOLE_SCRIPT, Cli
from tests.databases import TestDatabase
from tests.test_e2e_serve import (
    GRACEFUL_TIMEOUT,
    STARTUP_TIMEOUT,
    HttpClient,
    Server,
    free_port,
)

REQUEST_TIMEOUT = 30.0
# Server settings that keep rate limits out of tests about something else.
LIMITS_OFF = {"FEEDBACK_RATELIMIT_ENABLED": "false"}
# A reply the client could not get (connection refused or reset, timeout): never an HTTP status.
NO_REPLY = -1


# --- the JSON client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request: ``body`` is sent as JSON unless None; ``source`` is the client address."""

    method: str
    path: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    source: str = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    status: int
    # Header names in lower case.
    headers: Mapping[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)

    def __str__(self) -> str:
        return f"{self.status} {self.raw[:300]!r}"


def send(port: int, call: Call) -> Reply:
    headers = dict(call.headers)
    payload = None
    if call.body is not None:
        payload = json.dumps(call.body)
        headers["content-type"] = "application/json"
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=REQUEST_TIMEOUT, source_address=(call.source, 0)
    )
    try:
        connection.request(call.method, call.path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)


def send_or_describe(port: int, call: Call) -> Reply:
    """Like :func:`send`, but a failure to get any answer becomes a ``NO_REPLY`` reply."""
    try:
        return send(port, call)
    except (OSError, http.client.HTTPException):
        return Reply(NO_REPLY, {}, traceback.format_exc().encode())


def send_all(port: int, calls: Iterable[Call], threads: int) -> list[Reply]:
    """Send the calls from ``threads`` threads at once; the replies in the order of the calls."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda call: send_or_describe(port, call), calls))


def send_in_process(
    port: int, tag: int, calls: list[Call], threads: int, start: Any, out: Any
) -> None:
    """A client process: wait at the ``start`` barrier, send, put ``(tag, replies)`` on ``out``."""
    start.wait(timeout=STARTUP_TIMEOUT)
    out.put((tag, send_all(port, calls, threads)))


@dataclass(frozen=True)
class Api:
    """Requests with one key (``x-api-key``) from one client address."""

    port: int
    key: str = ""
    source: str = "127.0.0.1"

    def call(self, method: str, path: str, body: Any = None) -> Call:
        headers = {"x-api-key": self.key} if self.key else {}
        return Call(method, path, body, headers, self.source)

    def get(self, path: str) -> Reply:
        return send(self.port, self.call("GET", path))

    def post(self, path: str, body: Any = None) -> Reply:
        return send(self.port, self.call("POST", path, body))


# --- setting a site up -------------------------------------------------------------------------


@dataclass(frozen=True)
class Provisioned:
    project_id: int
    board_id: int
    public_key: str
    secret_key: str


@dataclass(frozen=True)
class Site:
    """A database and instance folder, and the command line on them."""

    cli: Cli
    ids: Provisioned

    def create_public_key(self) -> str:
        """Another public key for the same board."""
        ids = self.ids
        created = self.cli.json(
            "create-public-key", "--project", str(ids.project_id), "--channel", str(ids.board_id)
        )
        return str(created["key"])

    def create_api_key(self) -> str:
        return str(self.cli.json("create-api-key", "--project", str(self.ids.project_id))["key"])


def provision(cli: Cli) -> Provisioned:
    """Create a project, a board, its public key and a secret key on a migrated database."""
    project_id = cli.json("create-project", "--name", "Served")["id"]
    board_id = cli.json("create-board", "--project", str(project_id), "--name", "Ideas")["id"]
    public_key = cli.json(
        "create-public-key", "--project", str(project_id), "--channel", str(board_id)
    )["key"]
    secret_key = cli.json("create-api-key", "--project", str(project_id))["key"]
    return Provisioned(project_id, board_id, public_key, secret_key)


def provision_template(directory: Path, migrated: TestDatabase) -> Site:
    """A site in ``directory``, on a copy of the ``migrated`` database."""
    directory.mkdir(parents=True, exist_ok=True)
    cli = Cli(directory / "instance", migrated.clone(directory, "served"))
    return Site(cli, provision(cli))


# One template per pytest process (per xdist worker), shared by every module that serves.
_templates: dict[Path, Site] = {}


def session_template(tmp_path_factory: Any, migrated: TestDatabase) -> Site:
    """The template site of this test session, provisioned on first use.

    Call this from a session-scoped fixture, with pytest's ``tmp_path_factory`` and the
    ``migrated_template`` database of ``tests/conftest.py``.
    """
    base = tmp_path_factory.getbasetemp()
    if base not in _templates:
        _templates[base] = provision_template(tmp_path_factory.mktemp("served-template"), migrated)
    return _templates[base]


def copy_site(template: Site, directory: Path) -> Site:
    """A copy of the template's database and instance folder (its secret key) in ``directory``."""
    source = template.cli
    directory.mkdir(parents=True, exist_ok=True)
    # Every CLI run closed its connections, so the template can be copied.
    cli = Cli(directory / "instance", source.database.clone(directory, "served"))
    shutil.copytree(source.instance, cli.instance)
    return Site(cli, template.ids)


# --- serving -----------------------------------------------------------------------------------


@dataclass
class Served:
    site: Site
    port: int
    server: Server
    env: dict[str, str]

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.server.process

    @property
    def public(self) -> Api:
        return Api(self.port, self.site.ids.public_key)

    @property
    def integration(self) -> Api:
        return Api(self.port, self.site.ids.secret_key)

    def log(self) -> str:
        return self.server.log.read_text()

    def wait_for_workers(self, workers: int) -> None:
        """Wait until gunicorn has forked every worker.

        A SIGTERM that reaches the arbiter while it is still forking workers can reach a new
        worker before that worker installs its own handlers; the signal is then lost and
        shutdown takes the whole graceful timeout (30 s).
        """
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while self.log().count("Booting worker with pid") < workers:
            assert time.monotonic() < deadline, f"workers did not boot:\n{self.log()}"
            assert self.process.poll() is None, f"server exited early:\n{self.log()}"
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, then wait for gunicorn's graceful shutdown, killing it if that times out.

        The exit status: 0 after a clean shutdown, -9 when it had to be killed. Safe to repeat.
        """
        self.server.stop()
        try:
            return self.process.wait(timeout=GRACEFUL_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@contextmanager
def serve(
    site: Site, *, workers: int = 2, threads: int = 4, env: Mapping[str, str] | None = None
) -> Iterator[Served]:
    """Serve ``site`` on a free loopback port until the block ends, even when it raises.

    ``env`` adds ``FEEDBACK_*`` settings to the server's environment.
    """
    served = start_server(site, workers=workers, threads=threads, env=env)
    try:
        served.server.wait_until_healthy()
        served.wait_for_workers(workers)
        yield served
    finally:
        served.stop()


def start_server(
    site: Site,
    *,
    workers: int,
    threads: int,
    env: Mapping[str, str] | None = None,
    own_session: bool = False,
) -> Served:
    """Start ``feedback-service serve`` on ``site`` (not yet answering); ``own_session`` makes
    gunicorn lead a process group of its own, which one ``killpg`` ends whole."""
    port = free_port()
    server_env = {**site.cli.env, **(env or {})}
    log = site.cli.instance.parent / f"server-{port}.log"
    command = [str(CONSOLE_SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=server_env,
            cwd=site.cli.instance.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=own_session,
        )
    return Served(site, port, Server(process, log, HttpClient(port)), server_env)


@contextmanager
def running(processes: list[Any]) -> Iterator[None]:
    """Start the processes; on leaving, each must have exited with 0 (stragglers are ended)."""
    try:
        for process in processes:
            process.start()
        yield
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
