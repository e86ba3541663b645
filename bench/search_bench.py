"""Feedback search benchmark (``make bench-search``): every kind of search, through the real
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
import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from corpus import Corpus
from load import Request, RequestMaker, json_request
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
from seed import CATEGORIES, DEFAULT_PATH, DEFAULT_ROWS, DEFAULT_SEED, TAGS, SeedInfo, ensure_seed
from seeded_api import LIMIT, api_headers, channel_path, v1_search
from servers import THREADS, WORKERS, Server, running_servers

from feedback_service.timestamps import parse_timestamp, to_iso

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-search.json"
CONCURRENCY = 8
WINDOW_DAYS = 30
# Window ends, in days before the newest feedback: recent windows (what the admin UI asks
# by default) and old ones (which an id-ordered scan reaches last).
WINDOW_OFFSETS = (0, 45, 90, 135, 180, 225, 270, 320)
POPULAR_ISSUES = 50

SEARCH_TARGET = Target(p50_ms=30, p99_ms=100)
PAGE_TARGET = Target(p50_ms=50)


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
        return channel_path(self.info)

    def v1(self, query: Callable[[random.Random], dict[str, Any]], page: int = 1) -> RequestMaker:
        return v1_search(self.info, query, page)

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


# -- measuring and reporting -------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    measurement: Measurement

    @property
    def total_items(self) -> int | None:
        """``meta.totalItems`` of one response: shows how much each search matched."""
        sample = self.measurement.result.sample
        if self.scenario.server != "app" or sample is None:
            return None
        return json.loads(sample)["meta"]["totalItems"]

    @property
    def verdict(self) -> str:
        measured = Measured(self.measurement.p50, self.measurement.p99)
        return verdict(self.scenario.target, measured)

    def as_json(self) -> dict[str, Any]:
        target = self.scenario.target
        return {
            "scenario": self.scenario.name,
            **self.measurement.as_json(),
            "total_items_sample": self.total_items,
            "target": None if target is None else target.as_json(),
            "met": None if target is None else self.verdict == "ok",
        }


def measure_row(
    scenario: Scenario, servers: dict[str, Server], info: SeedInfo, args: argparse.Namespace
) -> Row:
    headers = api_headers(info) if scenario.server == "app" else {}
    measurement = measure(
        servers,
        scenario.server,
        scenario.make,
        headers,
        concurrency=args.concurrency,
        seconds=args.seconds,
        warmup=args.warmup,
    )
    return Row(scenario, measurement)


HEADER = ("scenario", "reqs", "req/s", "p50 ms", "p99 ms", "total items", "other CPU", "target", "")


def format_row(row: Row) -> tuple[str, ...]:
    total = row.total_items
    target = row.scenario.target
    measurement = row.measurement
    return (
        row.scenario.name,
        str(measurement.result.requests),
        f"{measurement.result.rate:.1f}",
        f"{measurement.p50:.1f}",
        f"{measurement.p99:.1f}",
        "" if total is None else f"{total:,}",
        format_share(measurement.foreign_cpu),
        "" if target is None else target.describe(),
        row.verdict,
    )


def setup_json(info: SeedInfo, reused: bool, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "feedback_rows": info.rows,
        "seed_seconds": info.seed_seconds,
        "seed_reused": reused,
        "concurrency": args.concurrency,
        "workers": WORKERS,
        "threads": THREADS,
        "seconds_per_scenario": args.seconds,
        "warmup_seconds": args.warmup,
        "limit": LIMIT,
    }


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
    # Searches only read: the servers run on the seed itself.
    with (
        tempfile.TemporaryDirectory(prefix="feedback-bench-") as workdir,
        running_servers(database, Path(workdir)) as servers,
    ):
        for scenario in scenarios:
            progress(f"  {scenario.name} ...")
            rows.append(measure_row(scenario, servers, info, args))
    print_table([HEADER, *(format_row(row) for row in rows)])
    warn_if_disturbed([row.measurement.foreign_cpu for row in rows])
    missed = [row.scenario.name for row in rows if row.verdict == "MISS"]
    print(f"\n{len(missed)} of {sum(1 for r in rows if r.scenario.target)} targets missed")
    write_results(
        RESULTS_PATH,
        load_before,
        setup_json(info, reused, args),
        [row.as_json() for row in rows],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
