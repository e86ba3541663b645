"""The servers a benchmark measures: the real app and the bare Flask ceiling, both under
gunicorn with the same workers and threads, started and always stopped together.

The app runs as production runs it (``feedback-service serve``, rate limiting on, its counters
in a SQLite file in the instance folder), with limits raised so far that a bench never meets
them: every bench client shares one address and one key, which production limits are not
sized for.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cpu import children

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
WORKERS = 2
THREADS = 4
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0
RATE_LIMIT = "1000000 per minute"
RATE_LIMITS = {
    "FEEDBACK_RATELIMIT_ENABLED": "true",
    **{
        f"FEEDBACK_RATELIMIT_{surface}": RATE_LIMIT
        for surface in ("PUBLIC_READ", "PUBLIC_WRITE", "INTEGRATION")
    },
}
CEILING_WRITES = "ceiling-writes.sqlite"
KIB_PER_MIB = 1024


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def venv_script(name: str) -> str:
    """A console script beside the running interpreter (the venv's), else from PATH."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: run `make install` first")
    return found


def launch(name: str, port: int, command: list[str], env: dict[str, str], workdir: Path) -> Server:
    """Start a server in its own session, so it and its workers can be stopped together;
    its output goes to a file (a pipe nobody reads would eventually block it)."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log_path)


def start_app(database: Path, workdir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        **RATE_LIMITS,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{database}",
        "FEEDBACK_INSTANCE_PATH": str(workdir / "instance"),
    }
    command = [venv_script("feedback-service"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS), "--no-migrate"]
    return launch("app", port, command, env, workdir)


def start_ceiling(database: Path, workdir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "BENCH_DATABASE": str(database),
        "BENCH_WRITE_DATABASE": str(workdir / CEILING_WRITES),
    }
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(BENCH_DIR)]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    command += ["--worker-class", "gthread", "--no-control-socket"]
    command += ["--bind", f"{HOST}:{port}", "ceiling_app:app"]
    return launch("ceiling", port, command, env, workdir)


def wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"http://{HOST}:{server.port}{path}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} server exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise SystemExit(f"{server.name} server not ready in {READY_TIMEOUT:g} s:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """SIGTERM to the gunicorn master (a graceful stop of its workers), then SIGKILL to the
    server's own process group if it lingers."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def running_servers(database: Path, workdir: Path) -> Iterator[dict[str, Server]]:
    """The app and the ceiling on ``database``, ready; always stopped afterwards, whatever
    happens in between. ``workdir`` takes their logs, the app's instance folder (its rate
    limit counters) and the ceiling's write database: put it on the database's file system,
    so that every fsync costs what the database's own do."""
    servers: dict[str, Server] = {}
    try:
        servers["app"] = start_app(database, workdir)
        servers["ceiling"] = start_ceiling(database, workdir)
        wait_ready(servers["app"], "/api/health")
        wait_ready(servers["ceiling"], "/lookup")
        yield servers
    finally:
        for server in servers.values():
            stop(server)


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process (VmRSS), None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / KIB_PER_MIB
    return None


def worker_rss_mb(server: Server) -> float | None:
    """The largest resident memory among the gunicorn master's workers (None: unknown)."""
    sizes = [size for pid in children(server.process.pid) if (size := rss_mb(pid)) is not None]
    return max(sizes, default=None)
