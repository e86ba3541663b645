"""A small closed-loop HTTP load generator: N threads, each with its own keep-alive
connection, sending requests back to back for a fixed time and timing each one.

Closed loop (a thread sends its next request only when the last answered) is how a pool of
API clients behaves, and with a fixed concurrency it makes req/s and latency two views of
the same run. Only the standard library is used, so the bench needs nothing new installed.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    expected_status: int


RequestMaker = Callable[[random.Random], Request]


def json_request(method: str, path: str, payload: Any, expected_status: int) -> Request:
    return Request(method, path, json.dumps(payload).encode(), expected_status)


class UnexpectedResponse(RuntimeError):
    """A response other than the expected status: the numbers would be meaningless."""


@dataclass
class LoadResult:
    latencies: list[float]
    seconds: float
    sample: bytes | None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile in milliseconds (``share`` in 0..1)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class _Shared:
    """State the worker threads share: the clock, the results and the first failure."""

    measure_from: float
    stop_at: float
    latencies: list[float] = field(default_factory=list)
    last_finish: float = 0.0
    sample: bytes | None = None
    failure: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Client:
    """One keep-alive connection; reconnects once if the server closed it while idle."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.connection = http.client.HTTPConnection(host, port, timeout=120)

    def send(self, request: Request) -> tuple[int, bytes]:
        try:
            return self._send(request)
        except RETRYABLE:
            self.connection.close()
            return self._send(request)

    def _send(self, request: Request) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        self.connection.request(request.method, request.path, request.body, headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def _worker(client: _Client, make: RequestMaker, rng: random.Random, shared: _Shared) -> None:
    while shared.failure is None:
        started = time.perf_counter()
        if started >= shared.stop_at:
            return
        request = make(rng)
        try:
            status, body = client.send(request)
        except (OSError, http.client.HTTPException) as error:
            with shared.lock:
                shared.failure = f"{request.method} {request.path} failed: {error!r}"
            return
        finished = time.perf_counter()
        with shared.lock:
            if status != request.expected_status:
                shared.failure = (
                    f"{request.method} {request.path} answered {status} "
                    f"(expected {request.expected_status}): {body[:500]!r}"
                )
                return
            if shared.sample is None:
                shared.sample = body
            if started >= shared.measure_from:
                shared.latencies.append(finished - started)
                shared.last_finish = max(shared.last_finish, finished)


def run_load(
    host: str,
    port: int,
    make: RequestMaker,
    *,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    warmup: float,
    seed: int,
) -> LoadResult:
    """Drive ``make``'s requests with ``concurrency`` threads for ``warmup + seconds``.

    Requests started during the warm-up are not timed (connections, caches and the
    servers' lazily built state settle there). Raises UnexpectedResponse on any response
    other than the expected status.
    """
    now = time.perf_counter()
    shared = _Shared(measure_from=now + warmup, stop_at=now + warmup + seconds)
    clients = [_Client(host, port, headers) for _ in range(concurrency)]
    threads = [
        threading.Thread(
            target=_worker, args=(client, make, random.Random(seed * 1000 + i), shared)
        )
        for i, client in enumerate(clients)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for client in clients:
            client.close()
    if shared.failure is not None:
        raise UnexpectedResponse(shared.failure)
    elapsed = shared.last_finish - shared.measure_from
    return LoadResult(shared.latencies, elapsed, shared.sample)
