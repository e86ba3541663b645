"""Run the app under gunicorn from ``feedback-service serve``."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from gunicorn.app.base import BaseApplication

from feedback_service.extensions import db


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


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # A connection must never cross fork(): workers open their own.
    db.engine.dispose()
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "errorlog": "-",
        "graceful_timeout": 30,
        "timeout": 60,
        "proc_name": "feedback-service",
        # gunicorn's runtime control socket lives at one path per user, so two servers on a
        # machine would fight over it; nothing here uses it.
        "control_socket_disable": True,
    }
    GunicornServer(app, options).run()
