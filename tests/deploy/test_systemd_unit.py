"""``docs/deploy/feedback-service.service``: checked by systemd's own tools, and its commands run.

No service manager runs on a test machine, so nothing starts the unit as systemd would. Instead
``systemd-analyze verify`` checks it (every key known, the commands executable),
``systemd-analyze security --offline`` rates its sandboxing, and the test runs the unit's own
command lines as systemd would: its environment and environment file, in its working directory,
ExecStartPre before ExecStart, a notify socket for ``Type=notify``, ExecReload, and its stop
signal within its stop timeout. Only the installation paths and the port are replaced; the
sandbox itself (ProtectSystem=, User=, ...) only systemd can apply.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from feedback_service import server as app_server
from tests.cli_runner import CONSOLE_SCRIPT
from tests.databases import TestDatabase
from tests.test_e2e_serve import STARTUP_TIMEOUT, HttpClient, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "docs" / "deploy" / "feedback-service.service"
SYSTEMD_ANALYZE = Path(os.environ.get("SYSTEMD_ANALYZE_PATH", "/usr/bin/systemd-analyze"))
INSTALLED_SCRIPT = "/opt/feedback-service/bin/feedback-service"
STATE_DIRECTORY = "/var/lib/feedback-service"
ENVIRONMENT_FILE = "/etc/feedback-service/feedback-service.env"
SHIPPED_PORT = "--port 8000"
# systemd-analyze's exposure scale times ten: 20 is "2.0 OK", the best band.
MAX_EXPOSURE = 20
# Sections -> keys -> values in order (systemd keys may repeat, such as Environment=).
Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """A unit file's settings: comments dropped, backslash-continued lines joined."""
    sections: Unit = {}
    values: dict[str, list[str]] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            values = sections.setdefault(line[1:-1], {})
            continue
        key, separator, value = line.partition("=")
        assert separator, f"not a setting: {line!r}"
        values.setdefault(key.strip(), []).append(value.strip())
    return sections


def only(unit: Unit, key: str) -> str:
    [value] = unit["Service"][key]
    return value


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"not a plain time span: {value!r}"
    return int(match[1]) * (60 if match[2] == "min" else 1)


def read_environment_file(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return dict(pairs)


@dataclass(frozen=True)
class Installed:
    """The shipped unit as installed on this machine: real paths, a free port."""

    path: Path
    unit: Unit
    state: Path
    port: int

    def environment(self) -> dict[str, str]:
        """What systemd gives ExecStart: Environment= lines, then the environment file."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("FEEDBACK")}
        for line in self.unit["Service"]["Environment"]:
            env.update(assignment.split("=", 1) for assignment in shlex.split(line))
        [file_setting] = self.unit["Service"]["EnvironmentFile"]
        # A leading "-" makes the file optional; this test writes it.
        env.update(read_environment_file(Path(file_setting.removeprefix("-"))))
        return env

    def command(self, key: str) -> list[str]:
        return shlex.split(only(self.unit, key))


def require_systemd_analyze() -> None:
    if not os.access(SYSTEMD_ANALYZE, os.X_OK):
        pytest.fail(f"no systemd-analyze at {SYSTEMD_ANALYZE}: install Debian's systemd package")


@pytest.fixture
def installed(tmp_path: Path, empty_database: TestDatabase) -> Installed:
    state = tmp_path / "state"
    state.mkdir()
    environment_file = tmp_path / "feedback-service.env"
    # The site's own settings, as an operator writes them: here, this test's database.
    environment_file.write_text(f"# this site\nFEEDBACK_DATABASE_URL={empty_database.url}\n")
    port = free_port()
    text = SHIPPED.read_text()
    for old, new in {
        INSTALLED_SCRIPT: str(CONSOLE_SCRIPT),
        STATE_DIRECTORY: str(state),
        ENVIRONMENT_FILE: str(environment_file),
        SHIPPED_PORT: f"--port {port}",
    }.items():
        assert old in text, f"{SHIPPED.name} no longer mentions {old}"
        text = text.replace(old, new)
    path = tmp_path / SHIPPED.name
    path.write_text(text)
    return Installed(path, parse_unit(text), state, port)


def test_systemd_analyze_verify_finds_nothing_to_say(installed: Installed):
    require_systemd_analyze()
    result = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", "--man=no", str(installed.path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings: any output at all fails.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_sandbox_rates_ok(installed: Installed):
    require_systemd_analyze()
    result = subprocess.run(
        [
            str(SYSTEMD_ANALYZE),
            "security",
            "--offline=yes",
            f"--threshold={MAX_EXPOSURE}",
            "--no-pager",
            str(installed.path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rating = re.search(
        r"Overall exposure level for feedback-service\.service: (\d+\.\d) OK", result.stdout
    )
    assert rating, result.stdout
    assert float(rating[1]) * 10 <= MAX_EXPOSURE


def test_the_stop_timeout_outlasts_gunicorns_graceful_shutdown():
    """Else systemd kills requests that gunicorn would still have finished."""
    unit = parse_unit(SHIPPED.read_text())
    assert seconds(only(unit, "TimeoutStopSec")) > app_server.GRACEFUL_TIMEOUT
    assert only(unit, "KillSignal") == "SIGTERM"  # gunicorn's graceful shutdown
    assert only(unit, "KillMode") == "mixed"  # to the arbiter alone; it stops its workers


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """The socket systemd listens on for ``sd_notify``, with the sender's credentials."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(tmp_path / "notify"))
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        listener.settimeout(STARTUP_TIMEOUT)
        yield listener


def receive_notification(listener: socket.socket) -> tuple[str, int]:
    """The next notification's text and the pid of the process that sent it."""
    credentials = struct.Struct("3i")  # pid, uid, gid
    message, ancillary, _, _ = listener.recvmsg(4096, socket.CMSG_SPACE(credentials.size))
    [(level, kind, data)] = ancillary
    assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS)
    pid, _, _ = credentials.unpack(data)
    return message.decode(), pid


def booted_workers(log: Path) -> int:
    return log.read_text().count("Booting worker with pid")


def wait_for(condition: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def test_the_units_commands_migrate_serve_notify_reload_and_stop(
    installed: Installed,
    notify_socket: socket.socket,
    empty_database: TestDatabase,
    tmp_path: Path,
):
    service = installed.unit["Service"]
    assert service["Type"] == ["notify"]
    env = installed.environment()
    working_directory = Path(only(installed.unit, "WorkingDirectory"))
    assert env["FEEDBACK_INSTANCE_PATH"] == str(working_directory) == str(installed.state)
    assert env["FEEDBACK_PROXY_FIX_X_FOR"] == "1"

    migrated = subprocess.run(
        installed.command("ExecStartPre"),
        env=env,
        cwd=working_directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert {"project", "feedback", "vote"} <= set(empty_database.table_names())

    log = tmp_path / "service.log"
    with log.open("wb") as output:
        command = installed.command("ExecStart")
        process = subprocess.Popen(
            command,
            env={**env, "NOTIFY_SOCKET": notify_socket.getsockname()},
            cwd=working_directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # NotifyAccess=main: the process systemd started must be the one that says READY.
        message, sender = receive_notification(notify_socket)
        assert "READY=1" in message.splitlines()
        assert sender == process.pid
        health = HttpClient(installed.port)
        assert health.request("GET", "/api/health").status == 200
        # The instance folder is where the unit says, and holds the app's secret key.
        assert (installed.state / "secret_key").is_file()

        # ExecReload: gunicorn replaces every worker and keeps answering. (A signal that reaches
        # gunicorn while it is still forking workers can be lost: wait for them first.)
        workers = int(command[command.index("--workers") + 1])
        wait_for(lambda: booted_workers(log) == workers, log)
        reload_command = installed.command("ExecReload")
        reload_command = [part.replace("$MAINPID", str(process.pid)) for part in reload_command]
        subprocess.run(reload_command, check=True, timeout=30)
        wait_for(lambda: booted_workers(log) == 2 * workers, log)
        assert health.request("GET", "/api/health").status == 200

        process.send_signal(signal.Signals[only(installed.unit, "KillSignal")])
        assert process.wait(timeout=seconds(only(installed.unit, "TimeoutStopSec"))) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Shutting down: Master" in log.read_text()
