"""Run the app under gunicorn from ``feedback-service serve``."""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from flask import Flask, current_app
from gunicorn.app.base import BaseApplication

from feedback_service import metrics
from feedback_service.extensions import db
from feedback_service.request_ids import RequestIdFormatter

# One line per request: client, time, request line, status, bytes, duration and the request id
# the client was given (the X-Request-Id response header).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
# The app's own log lines (warnings, tracebacks) as gunicorn writes its error log, with the id
# of the request they are about.
APP_LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] [request %(request_id)s] %(message)s"
APP_LOG_DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"
# Seconds a stopping worker has to finish the requests it is handling.
GRACEFUL_TIMEOUT = 30
# Seconds an idle connection stays open for the next request. A proxy keeping connections to
# the app alive must close them sooner (nginx: `keepalive_timeout` below this in the upstream).
KEEPALIVE = 5


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving an already built app; workers fork from this process."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def forget_worker(_arbiter: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: runs in the master when a worker has exited."""
    metrics.worker_exited(worker.pid)


def log_beside_gunicorn(app: Flask) -> None:
    """Send the app's log records to stderr, where gunicorn's error log goes, and only there."""
    handler = logging.StreamHandler()
    handler.setFormatter(RequestIdFormatter(APP_LOG_FORMAT, APP_LOG_DATE_FORMAT))
    app.logger.handlers[:] = [handler]
    # Not also through the handler the migrations configure on the root logger.
    app.logger.propagate = False


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # A connection must never cross fork(): workers open their own.
    db.engine.dispose()
    log_beside_gunicorn(app)
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "timeout": 60,
        "keepalive": KEEPALIVE,
        "proc_name": "feedback-service",
        # gunicorn's runtime control socket lives at one path per user, so two servers on a
        # machine would fight over it; nothing here uses it.
        "control_socket_disable": True,
    }
    samples = None
    if metrics.for_app(app) is not None:
        samples = metrics.share_between_processes()
        options["child_exit"] = forget_worker
    master = os.getpid()
    try:
        GunicornServer(app, options).run()
    finally:
        # gunicorn ends a worker with sys.exit() inside run(), so workers leave through here
        # too: only the master removes the directory they all write to.
        if samples is not None and os.getpid() == master:
            shutil.rmtree(samples, ignore_errors=True)
