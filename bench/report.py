"""What the benchmarks share around a measurement: driving one scenario while watching the
machine, targets, the table on stdout and the results file."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cpu
from load import LoadResult, RequestMaker, run_load
from servers import HOST, Server

from feedback_service.timestamps import to_iso

# A 1-minute load average above this share of the cores means someone else is busy.
BUSY_LOAD_SHARE = 0.5
# Above this share of CPU used by other processes, a scenario's numbers are suspect.
FOREIGN_CPU_WARNING = 0.05
LOAD_SEED = 20240601


@dataclass(frozen=True)
class Measured:
    """A scenario's figures that targets are judged on (None: not known for this row)."""

    p50_ms: float
    p99_ms: float
    ceiling_ratio: float | None = None
    worker_rss_mb: float | None = None


@dataclass(frozen=True)
class Target:
    """Goals for one scenario; None means no goal for that figure."""

    p50_ms: float | None = None
    p99_ms: float | None = None
    # The scenario's req/s over the ceiling's at the same concurrency, at least this.
    min_ceiling_ratio: float | None = None
    max_worker_rss_mb: float | None = None

    def met(self, measured: Measured) -> bool:
        return (
            _below(measured.p50_ms, self.p50_ms)
            and _below(measured.p99_ms, self.p99_ms)
            and _below(measured.worker_rss_mb, self.max_worker_rss_mb)
            and (
                self.min_ceiling_ratio is None
                or (measured.ceiling_ratio or 0.0) >= self.min_ceiling_ratio
            )
        )

    def describe(self) -> str:
        goals = []
        if self.min_ceiling_ratio is not None:
            goals.append(f">={self.min_ceiling_ratio:g}x ceiling")
        goals += [
            f"{name}<{value:g}"
            for name, value in (
                ("p50", self.p50_ms),
                ("p99", self.p99_ms),
                ("RSS", self.max_worker_rss_mb),
            )
            if value is not None
        ]
        return " ".join(goals)

    def as_json(self) -> dict[str, float]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def _below(value: float | None, limit: float | None) -> bool:
    """Under the limit; a figure that could not be read misses any limit it has."""
    return limit is None or (value is not None and value < limit)


def verdict(target: Target | None, measured: Measured) -> str:
    if target is None:
        return ""
    return "ok" if target.met(measured) else "MISS"


@dataclass(frozen=True)
class Measurement:
    result: LoadResult
    # Share of the machine's CPU that other processes used meanwhile (None: unknown).
    foreign_cpu: float | None

    @property
    def p50(self) -> float:
        return self.result.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.result.percentile(0.99)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.result.requests,
            "req_per_s": round(self.result.rate, 1),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "foreign_cpu_share": None if self.foreign_cpu is None else round(self.foreign_cpu, 3),
        }


def measure(
    servers: dict[str, Server],
    server: str,
    make: RequestMaker,
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
) -> Measurement:
    """Drive one scenario against ``servers[server]``, watching other processes' CPU."""
    server_pids = [running.process.pid for running in servers.values()]
    before, started = cpu.sample(server_pids), time.perf_counter()
    result = run_load(
        HOST,
        servers[server].port,
        make,
        headers=headers,
        concurrency=concurrency,
        seconds=seconds,
        warmup=warmup,
        seed=LOAD_SEED,
    )
    elapsed = time.perf_counter() - started
    after = cpu.sample(server_pids)
    return Measurement(result, cpu.foreign_share(before, after, elapsed))


def format_share(share: float | None) -> str:
    return "?" if share is None else f"{share:.0%}"


def print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """The first row is the header; the first column is left-aligned, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def warn_if_busy() -> float:
    """The load average before the run, with a warning when other work is running: the
    servers and the clients need all the cores, so results would come out pessimistic."""
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > BUSY_LOAD_SHARE * cpus:
        progress(
            f"warning: load average {load:.2f} on {cpus} cores before starting; other work "
            "competes with the servers and the numbers will be pessimistic"
        )
    return load


def warn_if_disturbed(shares: Sequence[float | None]) -> None:
    disturbed = [share for share in shares if (share or 0) > FOREIGN_CPU_WARNING]
    if disturbed:
        print(
            f"\nwarning: other processes used over {FOREIGN_CPU_WARNING:.0%} of the CPU during "
            f"{len(disturbed)} scenario(s) (column 'other CPU'): rerun on an idle machine"
        )


def machine(load_before: float) -> dict[str, Any]:
    return {
        "load_average_before": round(load_before, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def write_results(
    path: Path, load_before: float, setup: dict[str, Any], scenarios: list[dict[str, Any]]
) -> None:
    results = {
        "measured_at": to_iso(datetime.now().astimezone()),
        "machine": machine(load_before),
        "setup": setup,
        "scenarios": scenarios,
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {path.relative_to(path.parent.parent)}")
