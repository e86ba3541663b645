"""Hot-path benchmark (``make bench``): the requests a busy deployment serves most, through the
real served app over HTTP, on a board of 1,000,000 feedback, beside a bare Flask ceiling.

It seeds (or reuses) ``bench/data/bench.sqlite`` and copies it for the run, since creates and
votes change the data and the seed must stay reusable. On the copy it starts
``feedback-service serve`` (rate limiting on, limits raised out of reach) and the ceiling app
(one indexed SQLite read or one durable SQLite write per request) with the same gunicorn
workers and threads. Each scenario runs with 8 and with 32 keep-alive clients; req/s, p50,
p99, the ratio to the matching ceiling and the largest app worker's memory go to stdout and
to ``bench/results.json``. The run's copy is deleted at the end.

    python bench/hotpath_bench.py [--seconds 8] [--warmup 1] [--only NAME]... [--concurrency N]...
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from corpus import Corpus
from load import Request, RequestMaker, UnexpectedResponse, json_request
from report import (
    Measured,
    Measurement,
    Target,
    format_share,
    measure,
    print_table,
    progress,
    verdict,
    warn_if_busy,
    warn_if_disturbed,
    write_results,
)
from seed import (
    DEFAULT_PATH,
    DEFAULT_ROWS,
    DEFAULT_SEED,
    Generator,
    SeedInfo,
    end_user_email,
    end_user_external_id,
    end_user_name,
    ensure_seed,
    read_only,
)
from seeded_api import api_headers, channel_path, v1_search
from servers import RATE_LIMIT, THREADS, WORKERS, Server, running_servers, worker_rss_mb

from feedback_service.services.boards import STATUSES, TYPES
from feedback_service.timestamps import parse_timestamp, utcnow

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results.json"
CONCURRENCIES = (8, 32)
# Pages of the public list a board's visitors reach (20 feedback each, the API's default).
LIST_PAGES = 25
FILTERED_LIST_PAGES = 5
# Public ids the vote toggles pick from, read from the seed before the run.
SAMPLED_PUBLIC_IDS = 20_000
MAX_RSS_MB = 150
RATIO_TARGET = Target(min_ceiling_ratio=0.5, max_worker_rss_mb=MAX_RSS_MB)
LATENCY_TARGET = Target(p99_ms=100, max_worker_rss_mb=MAX_RSS_MB)
CEILING_READ = "ceiling: bare Flask + 1 SQLite read"
CEILING_WRITE = "ceiling: bare Flask + 1 SQLite write"


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str  # "app" or "ceiling"
    make: RequestMaker
    headers: dict[str, str]
    # The ceiling scenario whose req/s this one's is compared with, at the same concurrency.
    ceiling: str | None
    target: Target | None


# -- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """The seeded board and varied request bodies for it."""

    info: SeedInfo
    corpus: Corpus
    public_ids: list[str]

    @property
    def public_headers(self) -> dict[str, str]:
        return {"x-api-key": self.info.public_key}

    @cached_property
    def generator(self) -> Generator:
        start = parse_timestamp(self.info.created_from)
        assert start is not None
        return Generator(self.corpus, self.info.rows, start, self.info.issue_ids)

    def integration_document(self, rng: random.Random) -> dict[str, Any]:
        """A body like the seeded feedback's, as an integration pushes it now."""
        return self.generator.document(utcnow(), rng)

    def end_user(self, rng: random.Random) -> dict[str, str]:
        """A seeded end user, as a widget identifies them on every write."""
        n = rng.randint(1, self.info.end_users)
        return {
            "externalId": end_user_external_id(n),
            "email": end_user_email(n),
            "name": end_user_name(n),
        }

    def integration_create(self, rng: random.Random) -> Request:
        path = "/api" + channel_path(self.info) + "/feedbacks"
        return json_request("POST", path, self.integration_document(rng), 201)

    def public_create(self, rng: random.Random) -> Request:
        body = {
            "title": self.corpus.title(rng),
            "description": self.corpus.sentence(rng),
            "type": rng.choice(TYPES),
            "endUser": self.end_user(rng),
        }
        return json_request("POST", "/api/v1/feedback", body, 201)

    def get_one(self, rng: random.Random) -> Request:
        feedback_id = rng.randint(1, self.info.rows)
        path = "/api" + channel_path(self.info) + f"/feedbacks/{feedback_id}"
        return Request("GET", path, None, 200)

    def list_by_votes(self, rng: random.Random) -> Request:
        query = urlencode({"sortBy": "votes", "page": rng.randint(1, LIST_PAGES)})
        return Request("GET", f"/api/v1/feedback?{query}", None, 200)

    def list_by_votes_filtered(self, rng: random.Random) -> Request:
        params = {
            "sortBy": "votes",
            "status": rng.choice(STATUSES),
            "type": rng.choice(TYPES),
            "page": rng.randint(1, FILTERED_LIST_PAGES),
        }
        return Request("GET", f"/api/v1/feedback?{urlencode(params)}", None, 200)

    def vote_toggle(self, rng: random.Random) -> Request:
        path = f"/api/v1/feedback/{rng.choice(self.public_ids)}/vote"
        return json_request("POST", path, {"endUser": self.end_user(rng)}, 200)

    def search(self) -> RequestMaker:
        terms = self.corpus.moderate_terms
        return v1_search(self.info, lambda rng: {"searchText": rng.choice(terms)})


def ceiling_scenarios(board: Board) -> list[Scenario]:
    return [
        Scenario(
            CEILING_READ,
            "ceiling",
            lambda _rng: Request("GET", "/lookup", None, 200),
            {},
            None,
            None,
        ),
        Scenario(
            CEILING_WRITE,
            "ceiling",
            lambda rng: json_request("POST", "/write", board.integration_document(rng), 201),
            {},
            None,
            None,
        ),
    ]


def app_scenarios(board: Board) -> list[Scenario]:
    integration, public = api_headers(board.info), board.public_headers
    return [
        Scenario(
            "integration create feedback",
            "app",
            board.integration_create,
            integration,
            CEILING_WRITE,
            RATIO_TARGET,
        ),
        Scenario(
            "public create feedback",
            "app",
            board.public_create,
            public,
            CEILING_WRITE,
            RATIO_TARGET,
        ),
        Scenario(
            "integration get one", "app", board.get_one, integration, CEILING_READ, RATIO_TARGET
        ),
        Scenario(
            f"public list by votes (pages 1-{LIST_PAGES})",
            "app",
            board.list_by_votes,
            public,
            CEILING_READ,
            LATENCY_TARGET,
        ),
        Scenario(
            "public list by votes, status+type",
            "app",
            board.list_by_votes_filtered,
            public,
            CEILING_READ,
            LATENCY_TARGET,
        ),
        Scenario(
            "public vote toggle", "app", board.vote_toggle, public, CEILING_WRITE, RATIO_TARGET
        ),
        Scenario(
            "v1 search (common word)",
            "app",
            board.search(),
            integration,
            CEILING_READ,
            LATENCY_TARGET,
        ),
    ]


def sample_public_ids(path: Path, rows: int, count: int) -> list[str]:
    """Public ids of random seeded feedback (the bench cannot derive them from the seed)."""
    rng = random.Random(DEFAULT_SEED)
    ids = rng.sample(range(1, rows + 1), min(count, rows))
    with closing(read_only(path)) as connection:
        query = "SELECT public_id FROM feedback WHERE id = ?"
        return [connection.execute(query, (n,)).fetchone()[0] for n in ids]


# -- the run's copy of the seed ----------------------------------------------------------


@dataclass(frozen=True)
class RunCopy:
    path: Path
    bytes: int
    seconds: float


def copy_seed(seed_path: Path, run_dir: Path) -> RunCopy:
    """The seed (and its WAL, if one was left) copied and flushed to disk before the run:
    writeback of gigabytes of dirty pages would otherwise compete with every commit the
    write scenarios measure."""
    started = time.perf_counter()
    copied = 0
    target = run_dir / seed_path.name
    for suffix in ("", "-wal"):
        source = seed_path.with_name(seed_path.name + suffix)
        if not source.exists():
            continue
        destination = target.with_name(target.name + suffix)
        shutil.copyfile(source, destination)
        with destination.open("rb+") as copy:
            os.fsync(copy.fileno())
        copied += destination.stat().st_size
    return RunCopy(target, copied, time.perf_counter() - started)


@contextmanager
def run_directory(seed_path: Path) -> Iterator[Path]:
    """A fresh directory beside the seed (its file system: same disk, same fsync cost) for
    the copy, the servers' logs and instance folder; removed afterwards."""
    run_dir = seed_path.with_name("hotpath-run")
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    try:
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# -- measuring and reporting -------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    concurrency: int
    measurement: Measurement
    worker_rss_mb: float | None
    ceiling_rate: float | None

    @property
    def ratio(self) -> float | None:
        if not self.ceiling_rate:
            return None
        return self.measurement.result.rate / self.ceiling_rate

    @property
    def measured(self) -> Measured:
        m = self.measurement
        return Measured(m.p50, m.p99, self.ratio, self.worker_rss_mb)

    @property
    def verdict(self) -> str:
        return verdict(self.scenario.target, self.measured)

    def as_json(self) -> dict[str, Any]:
        target = self.scenario.target
        return {
            "scenario": self.scenario.name,
            "concurrency": self.concurrency,
            **self.measurement.as_json(),
            "ceiling": self.scenario.ceiling,
            "ratio_to_ceiling": None if self.ratio is None else round(self.ratio, 3),
            "worker_rss_mb_max": None if self.worker_rss_mb is None else round(self.worker_rss_mb),
            "target": None if target is None else target.as_json(),
            "met": None if target is None else self.verdict == "ok",
        }


HEADER = (
    "scenario",
    "clients",
    "req/s",
    "p50 ms",
    "p99 ms",
    "x ceiling",
    "RSS MB",
    "other CPU",
    "target",
    "",
)


def format_row(row: Row) -> tuple[str, ...]:
    target = row.scenario.target
    measurement = row.measurement
    return (
        row.scenario.name,
        str(row.concurrency),
        f"{measurement.result.rate:.1f}",
        f"{measurement.p50:.1f}",
        f"{measurement.p99:.1f}",
        "" if row.ratio is None else f"{row.ratio:.2f}",
        "?" if row.worker_rss_mb is None else f"{row.worker_rss_mb:.0f}",
        format_share(measurement.foreign_cpu),
        "" if target is None else target.describe(),
        row.verdict,
    )


def run_scenarios(
    scenarios: Sequence[Scenario], servers: dict[str, Server], args: argparse.Namespace
) -> list[Row]:
    """Every scenario at every concurrency, the ceilings first (the others are judged
    against them)."""
    rows: list[Row] = []
    rates: dict[tuple[str, int], float] = {}
    for scenario in scenarios:
        for concurrency in args.concurrency:
            progress(f"  {scenario.name}, {concurrency} clients ...")
            measurement = measure(
                servers,
                scenario.server,
                scenario.make,
                scenario.headers,
                concurrency=concurrency,
                seconds=args.seconds,
                warmup=args.warmup,
            )
            rates[scenario.name, concurrency] = measurement.result.rate
            rss = worker_rss_mb(servers[scenario.server])
            ceiling = rates.get((scenario.ceiling, concurrency)) if scenario.ceiling else None
            rows.append(Row(scenario, concurrency, measurement, rss, ceiling))
    return rows


def setup_json(
    info: SeedInfo, reused: bool, run_copy: RunCopy, args: argparse.Namespace
) -> dict[str, Any]:
    return {
        "feedback_rows": info.rows,
        "votes": info.votes,
        "end_users": info.end_users,
        "seed_seconds": info.seed_seconds,
        "seed_reused": reused,
        "run_copy_bytes": run_copy.bytes,
        "run_copy_seconds": round(run_copy.seconds, 1),
        "concurrency": args.concurrency,
        "workers": WORKERS,
        "threads": THREADS,
        "seconds_per_scenario": args.seconds,
        "warmup_seconds": args.warmup,
        "rate_limits": RATE_LIMIT,
        "list_pages": LIST_PAGES,
    }


# -- entry point -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help=f"client threads (repeatable; default {' and '.join(map(str, CONCURRENCIES))})",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds first")
    parser.add_argument(
        "--only", action="append", help="run scenarios whose name contains this (and ceilings)"
    )
    args = parser.parse_args(argv)
    args.concurrency = args.concurrency or list(CONCURRENCIES)
    return args


def chosen(scenarios: list[Scenario], only: Sequence[str] | None) -> list[Scenario]:
    if not only:
        return scenarios
    picked = [s for s in scenarios if s.server == "app" and any(o in s.name for o in only)]
    ceilings = {s.ceiling for s in picked}
    return [s for s in scenarios if s.name in ceilings] + picked


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database = args.path.resolve()
    load_before = warn_if_busy()
    info, reused = ensure_seed(database, args.rows, DEFAULT_SEED)
    print(f"{info.rows:,} feedback, seeding took {info.seed_seconds:.1f} s", end="")
    print(" (reused; --force in seed.py to rebuild)" if reused else "")
    public_ids = sample_public_ids(database, info.rows, SAMPLED_PUBLIC_IDS)
    board = Board(info, Corpus(DEFAULT_SEED), public_ids)
    scenarios = chosen(ceiling_scenarios(board) + app_scenarios(board), args.only)
    with run_directory(database) as run_dir:
        run_copy = copy_seed(database, run_dir)
        print(f"run copy: {run_copy.bytes / 1e9:.2f} GB in {run_copy.seconds:.1f} s")
        with running_servers(run_copy.path, run_dir) as servers:
            try:
                rows = run_scenarios(scenarios, servers, args)
            except UnexpectedResponse as error:
                print(f"bench stopped: {error}", file=sys.stderr)
                for server in servers.values():
                    print(f"-- {server.name} log --\n{server.log_tail()}", file=sys.stderr)
                return 1
    print_table([HEADER, *(format_row(row) for row in rows)])
    warn_if_disturbed([row.measurement.foreign_cpu for row in rows])
    missed = sum(1 for row in rows if row.verdict == "MISS")
    print(f"\n{missed} of {sum(1 for r in rows if r.scenario.target)} targets missed")
    write_results(
        RESULTS_PATH,
        load_before,
        setup_json(info, reused, run_copy, args),
        [row.as_json() for row in rows],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
