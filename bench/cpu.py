"""How much of the machine's CPU went to processes other than the bench's during a scenario.

The bench needs every core: the servers and the load generator share them. Another job on the
machine (a test suite, a build) silently inflates latencies, so each scenario reports the share
of CPU time that neither the bench process nor the servers' process trees used. Linux only
(``/proc``); elsewhere the share is unknown and reported as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# /proc/stat cpu fields counted as busy: user, nice, system, irq, softirq, steal.
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def _total_busy_ticks() -> int:
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    return sum(int(fields[i]) for i in BUSY_FIELDS if i < len(fields))


def _process_ticks(pid: int) -> int:
    """utime + stime of one process (all its threads), 0 if it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    """A process's child processes (Linux only; none elsewhere)."""
    try:
        text = (PROC / str(pid) / "task" / str(pid) / "children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _tree_ticks(roots: Iterable[int]) -> int:
    total, pending = 0, list(roots)
    while pending:
        pid = pending.pop()
        total += _process_ticks(pid)
        pending += children(pid)
    return total


@dataclass(frozen=True)
class CpuSample:
    busy: int
    ours: int


def sample(server_pids: Iterable[int]) -> CpuSample | None:
    """Busy ticks of the machine and of the bench (this process and the server trees)."""
    if not (PROC / "stat").exists():
        return None
    return CpuSample(_total_busy_ticks(), _process_ticks(os.getpid()) + _tree_ticks(server_pids))


def foreign_share(
    before: CpuSample | None, after: CpuSample | None, seconds: float
) -> float | None:
    """Share (0..1) of all cores' time spent by other processes between two samples."""
    if before is None or after is None or seconds <= 0:
        return None
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    capacity = seconds * ticks_per_second * (os.cpu_count() or 1)
    others = (after.busy - before.busy) - (after.ours - before.ours)
    return max(0.0, others / capacity)
