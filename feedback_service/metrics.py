"""Prometheus metrics: requests answered and their latencies, per route.

Series are labelled by the route's URL rule (``/api/projects/<project_id>``), never by the path
a client sent, so their number stays bounded whatever clients send; a path no route
matches counts as ``<unmatched>``.

Under ``feedback-service serve`` every gunicorn worker writes its samples to files in a
directory the master created before forking (prometheus_client's multiprocess mode), and a
scrape, whichever worker answers it, adds up the files of all of them. Without that directory
(tests, the development server) samples live in a registry of the app's own, so several apps in
one process never share or collide on series.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from flask import Flask, Response, request, request_finished, request_started
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import values as prometheus_values

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"
# Any other method is counted as "other": a method name is client input.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_EXTENSION = "feedback_service.metrics"
_STARTED = "feedback_service.metrics.started"


class RequestMetrics:
    """The app's request counter and latency histogram, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "feedback_service_http_requests",
            "HTTP requests answered, by method, route and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "feedback_service_http_request_duration_seconds",
            "Seconds from the start of a request's handling to its response, by method and route.",
            ("method", "route"),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        """The text a scrape returns: every worker's samples in multiprocess mode."""
        if MULTIPROCESS_VARIABLE not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


def for_app(app: Flask) -> RequestMetrics | None:
    """The app's metrics, None when ``METRICS_ENABLED`` is off."""
    return app.extensions.get(_EXTENSION)


def _request_started(sender: Flask, **_: Any) -> None:
    request.environ[_STARTED] = time.perf_counter()


def _request_finished(sender: Flask, response: Response, **_: Any) -> None:
    seconds = time.perf_counter() - request.environ[_STARTED]
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    sender.extensions[_EXTENSION].observe(request.method, route, response.status_code, seconds)


def init_app(app: Flask) -> None:
    if not app.config["METRICS_ENABLED"]:
        return
    app.extensions[_EXTENSION] = RequestMetrics()
    # Signals, not before/after_request functions: they bracket every other hook, the rate
    # limiter's and the error handlers' included.
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)


def share_between_processes() -> str:
    """Switch to multiprocess mode before gunicorn forks; the samples' new directory.

    prometheus_client decides where samples live when it is imported, which happened when the
    app was built; it decides again here, once the variable is set. No sample exists yet (the
    series are created by the first request), so none is left behind in process memory.
    """
    directory = tempfile.mkdtemp(prefix="feedback-service-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = directory
    prometheus_values.ValueClass = prometheus_values.get_value_class()
    return directory


def worker_exited(pid: int) -> None:
    """Drop a dead worker's live gauges; its counters stay, so totals never go back."""
    multiprocess.mark_process_dead(pid)
