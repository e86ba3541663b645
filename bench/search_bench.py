"""Feedback search benchmark (``make bench``): every kind of search, through the real
served app over HTTP, on one channel of 1,000,000 feedback.

It seeds (or reuses) ``bench/data/bench.sqlite``, starts ``feedback-service serve`` on it and
a bare Flask "ceiling" app (one indexed SQLite lookup per request) with the same gunicorn
workers and threads, then drives each scenario with 8 keep-alive clients for a fixed time
and prints req/s, p50 and p99 beside the targets. The numbers also go to
``bench/results-search.json``. Search terms, values and windows vary per request, so no
single cached query flatters the results.

    python bench/search_bench.py [--seconds 8] [--warmup 1] [--only NAME]...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cpu
from corpus import Corpus
from load import LoadResult, Request, RequestMaker, json_request, run_load
from seed import CATEGORIES, DEFAULT_PATH, DEFAULT_ROWS, DEFAULT_SEED, TAGS, SeedInfo, ensure_seed

from feedback_service.timestamps import parse_timestamp, to_iso

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-search.json"
HOST = "127.0.0.1"
CONCURRENCY = 8
WORKERS = 2
THREADS = 4
LIMIT = 10
WINDOW_DAYS = 30
# Window ends, in days before the newest feedback: recent windows (what the admin UI asks
# by default) and old ones (which an id-ordered scan reaches last).
WINDOW_OFFSETS = (0, 45, 90, 135, 180, 225, 270, 320)
POPULAR_ISSUES = 50
# A 1-minute load average above this share of the cores means someone else is busy.
BUSY_LOAD_SHARE = 0.5
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0


@dataclass(frozen=True)
class Target:
    """Latency goals in milliseconds; None means no goal for that percentile."""

    p50_ms: float | None
    p99_ms: float | None

    def met(self, p50: float, p99: float) -> bool:
        return (self.p50_ms is None or p50 < self.p50_ms) and (
            self.p99_ms is None or p99 < self.p99_ms
        )

    def describe(self) -> str:
        limits = (("p50", self.p50_ms), ("p99", self.p99_ms))
        return " ".join(f"{name}<{ms:g}" for name, ms in limits if ms is not None)


SEARCH_TARGET = Target(p50_ms=30, p99_ms=100)
PAGE_TARGET = Target(p50_ms=50, p99_ms=None)


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str  # "app" or "ceiling"
    make: RequestMaker
    target: Target | None


# -- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    """Paths and varied request values for the seeded project and channel."""

    info: SeedInfo
    corpus: Corpus

    @property
    def channel(self) -> str:
        """The channel's path below ``/api`` (v1) or ``/api/v2`` (v2)."""
        return f"/projects/{self.info.project_id}/channels/{self.info.channel_id}"

    def v1(self, query: Callable[[random.Random], dict[str, Any]], page: int = 1) -> RequestMaker:
        path = "/api" + self.channel + "/feedbacks/search"
        return lambda rng: json_request(
            "POST", path, {"query": query(rng), "limit": LIMIT, "page": page}, 201
        )

    def simple(self, field_key: str, terms: Sequence[str]) -> RequestMaker:
        def make(rng: random.Random) -> Request:
            params = {"fieldKey": field_key, "searchText": rng.choice(terms), "limit": LIMIT}
            return Request(
                "GET", "/api" + self.channel + "/feedbacks?" + urlencode(params), None, 200
            )

        return make

    def v2(self, body: Callable[[random.Random], dict[str, Any]]) -> RequestMaker:
        path = "/api/v2" + self.channel + "/feedbacks/search"
        return lambda rng: json_request("POST", path, {**body(rng), "limit": LIMIT}, 201)

    def window(self, rng: random.Random) -> dict[str, str]:
        """A 30-day ``{gte, lt}`` range inside the seeded year."""
        newest = parse_timestamp(self.info.created_to)
        assert newest is not None
        end = newest - timedelta(days=rng.choice(WINDOW_OFFSETS))
        return {"gte": to_iso(end - timedelta(days=WINDOW_DAYS)), "lt": to_iso(end)}

    def issue_ids(self, rng: random.Random) -> list[int]:
        return [rng.choice(self.info.issue_ids[:POPULAR_ISSUES])]


def text_scenarios(api: Api) -> list[Scenario]:
    common, rare = api.corpus.moderate_terms, api.corpus.rare_terms
    return [
        Scenario(
            "v1 searchText (common word)",
            "app",
            api.v1(lambda rng: {"searchText": rng.choice(common)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 searchText (rare word)",
            "app",
            api.v1(lambda rng: {"searchText": rng.choice(rare)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 message CONTAINS",
            "app",
            api.v1(lambda rng: {"message": rng.choice(common)}),
            SEARCH_TARGET,
        ),
        Scenario("GET fieldKey=message", "app", api.simple("message", common), SEARCH_TARGET),
    ]


def value_scenarios(api: Api) -> list[Scenario]:
    categories, tags = list(CATEGORIES), list(TAGS)
    return [
        Scenario(
            "v1 select category",
            "app",
            api.v1(lambda rng: {"category": rng.choice(categories)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 number rating",
            "app",
            api.v1(lambda rng: {"rating": rng.randint(1, 5)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 multiSelect tags",
            "app",
            api.v1(lambda rng: {"tags": [rng.choice(tags)]}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 createdAt 30 days",
            "app",
            api.v1(lambda rng: {"createdAt": api.window(rng)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 seen_at 30 days",
            "app",
            api.v1(lambda rng: {"seen_at": api.window(rng)}),
            SEARCH_TARGET,
        ),
        Scenario(
            "v1 issueIds",
            "app",
            api.v1(lambda rng: {"issueIds": api.issue_ids(rng)}),
            SEARCH_TARGET,
        ),
    ]


def v2_body(api: Api, rng: random.Random) -> dict[str, Any]:
    """What the admin UI sends: a text and a select filter within a createdAt window."""
    return {
        "queries": [
            {
                "key": "message",
                "value": rng.choice(api.corpus.moderate_terms),
                "condition": "CONTAINS",
            },
            {"key": "category", "value": rng.choice(list(CATEGORIES)), "condition": "IS"},
        ],
        "operator": "AND",
        "defaultQueries": [{"key": "createdAt", "value": api.window(rng), "condition": "BETWEEN"}],
    }


def page_scenarios(api: Api) -> list[Scenario]:
    return [
        Scenario(
            "v2 text AND select, 30 days",
            "app",
            api.v2(lambda rng: v2_body(api, rng)),
            SEARCH_TARGET,
        ),
        Scenario("unfiltered page 1 (+total)", "app", api.v1(lambda _rng: {}), PAGE_TARGET),
        Scenario(
            "unfiltered page 1000 (+total)", "app", api.v1(lambda _rng: {}, 1000), PAGE_TARGET
        ),
    ]


def ceiling_scenario() -> Scenario:
    return Scenario(
        "ceiling: bare Flask + 1 SQLite lookup",
        "ceiling",
        lambda _rng: Request("GET", "/lookup", None, 200),
        None,
    )


def all_scenarios(info: SeedInfo, corpus: Corpus) -> list[Scenario]:
    api = Api(info, corpus)
    return [
        ceiling_scenario(),
        *text_scenarios(api),
        *value_scenarios(api),
        *page_scenarios(api),
    ]


# -- servers -----------------------------------------------------------------------------


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
        "FEEDBACK_DATABASE_URL": f"sqlite:///{database}",
        "FEEDBACK_INSTANCE_PATH": str(workdir / "instance"),
    }
    command = [venv_script("feedback-service"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS), "--no-migrate"]
    return launch("app", port, command, env, workdir)


def start_ceiling(database: Path, workdir: Path) -> Server:
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE": str(database)}
    command = [sys.executable, "-m", "gunicorn", "--chdir", str(BENCH_DIR)]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    command += ["--worker-class", "gthread", "--no-control-socket"]
    command += ["--bind", f"{HOST}:{port}", "ceiling_app:app"]
    return launch("ceiling", port, command, env, workdir)


def wait_ready(server: Server, path: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    request = urllib.request.Request(f"http://{HOST}:{server.port}{path}", headers=headers)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} server exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
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
def running_servers(database: Path, info: SeedInfo) -> Iterator[dict[str, Server]]:
    """Both servers, ready; always stopped afterwards, whatever happens in between."""
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        workdir = Path(tmp)
        try:
            servers["app"] = start_app(database, workdir)
            servers["ceiling"] = start_ceiling(database, workdir)
            wait_ready(servers["app"], f"/api/projects/{info.project_id}", api_headers(info))
            wait_ready(servers["ceiling"], "/lookup", {})
            yield servers
        finally:
            for server in servers.values():
                stop(server)


def api_headers(info: SeedInfo) -> dict[str, str]:
    return {"x-api-key": info.api_key}


# -- measuring and reporting -------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    result: LoadResult
    # Share of the machine's CPU that other processes used meanwhile (None: unknown).
    foreign_cpu: float | None

    @property
    def p50(self) -> float:
        return self.result.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.result.percentile(0.99)

    @property
    def total_items(self) -> int | None:
        """``meta.totalItems`` of one response: shows how much each search matched."""
        if self.scenario.server != "app" or self.result.sample is None:
            return None
        return json.loads(self.result.sample)["meta"]["totalItems"]

    @property
    def verdict(self) -> str:
        target = self.scenario.target
        if target is None:
            return ""
        return "ok" if target.met(self.p50, self.p99) else "MISS"

    def as_json(self) -> dict[str, Any]:
        target = self.scenario.target
        return {
            "scenario": self.scenario.name,
            "requests": self.result.requests,
            "req_per_s": round(self.result.rate, 1),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "total_items_sample": self.total_items,
            "target": None if target is None else asdict(target),
            "met": None if target is None else self.verdict == "ok",
            "foreign_cpu_share": None if self.foreign_cpu is None else round(self.foreign_cpu, 3),
        }


def measure(
    scenario: Scenario, servers: dict[str, Server], info: SeedInfo, args: argparse.Namespace
) -> Row:
    headers = api_headers(info) if scenario.server == "app" else {}
    server_pids = [server.process.pid for server in servers.values()]
    before, started = cpu.sample(server_pids), time.perf_counter()
    result = run_load(
        HOST,
        servers[scenario.server].port,
        scenario.make,
        headers=headers,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
        seed=DEFAULT_SEED,
    )
    elapsed = time.perf_counter() - started
    return Row(scenario, result, cpu.foreign_share(before, cpu.sample(server_pids), elapsed))


HEADER = ("scenario", "reqs", "req/s", "p50 ms", "p99 ms", "total items", "other CPU", "target", "")
# Above this share of CPU used by other processes, a scenario's numbers are suspect.
FOREIGN_CPU_WARNING = 0.05


def format_row(row: Row) -> tuple[str, ...]:
    total = row.total_items
    target = row.scenario.target
    return (
        row.scenario.name,
        str(row.result.requests),
        f"{row.result.rate:.1f}",
        f"{row.p50:.1f}",
        f"{row.p99:.1f}",
        "" if total is None else f"{total:,}",
        "?" if row.foreign_cpu is None else f"{row.foreign_cpu:.0%}",
        "" if target is None else target.describe(),
        row.verdict,
    )


def print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def warn_if_busy() -> float:
    """The load average before the run, with a warning when other work is running: the
    servers and the clients need all the cores, so results would come out pessimistic."""
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > BUSY_LOAD_SHARE * cpus:
        print(
            f"warning: load average {load:.2f} on {cpus} cores before starting; other work "
            "competes with the servers and the numbers will be pessimistic",
            file=sys.stderr,
        )
    return load


def write_results(
    rows: Sequence[Row], info: SeedInfo, reused: bool, args: Any, load_before: float
) -> None:
    results = {
        "measured_at": to_iso(datetime.now().astimezone()),
        "machine": {
            "load_average_before": round(load_before, 2),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "setup": {
            "feedback_rows": info.rows,
            "seed_seconds": info.seed_seconds,
            "seed_reused": reused,
            "concurrency": args.concurrency,
            "workers": WORKERS,
            "threads": THREADS,
            "seconds_per_scenario": args.seconds,
            "warmup_seconds": args.warmup,
            "limit": LIMIT,
        },
        "scenarios": [row.as_json() for row in rows],
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")


# -- entry point -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help="client threads (1: service time)"
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds first")
    parser.add_argument("--only", action="append", help="run scenarios whose name contains this")
    return parser.parse_args(argv)


def chosen(scenarios: list[Scenario], only: Sequence[str] | None) -> list[Scenario]:
    if not only:
        return scenarios
    return [s for s in scenarios if s.server == "ceiling" or any(o in s.name for o in only)]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database = args.path.resolve()
    load_before = warn_if_busy()
    info, reused = ensure_seed(database, args.rows, DEFAULT_SEED)
    print(f"{info.rows:,} feedback, seeding took {info.seed_seconds:.1f} s", end="")
    print(" (reused; --force in seed.py to rebuild)" if reused else "")
    scenarios = chosen(all_scenarios(info, Corpus(DEFAULT_SEED)), args.only)
    rows: list[Row] = []
    with running_servers(database, info) as servers:
        for scenario in scenarios:
            print(f"  {scenario.name} ...", file=sys.stderr, flush=True)
            rows.append(measure(scenario, servers, info, args))
    print_table([HEADER, *(format_row(row) for row in rows)])
    write_results(rows, info, reused, args, load_before)
    disturbed = [row for row in rows if (row.foreign_cpu or 0) > FOREIGN_CPU_WARNING]
    if disturbed:
        print(
            f"\nwarning: other processes used over {FOREIGN_CPU_WARNING:.0%} of the CPU during "
            f"{len(disturbed)} scenario(s) (column 'other CPU'): rerun on an idle machine"
        )
    missed = [row.scenario.name for row in rows if row.verdict == "MISS"]
    print(f"\n{len(missed)} of {sum(1 for r in rows if r.scenario.target)} targets missed")
    print(f"results written to {RESULTS_PATH.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
