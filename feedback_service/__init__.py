"""feedback_service: a self-hosted user-feedback hub."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback_service import cli, http_errors, metrics, rate_limits, request_ids
from feedback_service.blueprints import (
    admin,
    api_docs,
    integration_api,
    operations,
    public_api,
    uploads,
)
from feedback_service.config import load_config
from feedback_service.database import configure_engine
from feedback_service.extensions import csrf, db, migrate
from feedback_service.ids import DatabaseIdConverter
from feedback_service.json_provider import StrictJSONProvider
from feedback_service.schema import MIGRATIONS_DIRECTORY
from feedback_service.sessions import ConsoleSessionInterface


def _instance_path_from_environment() -> str | None:
    """``FEEDBACK_INSTANCE_PATH`` moves config, database and secret key out of the default."""
    path = os.environ.get("FEEDBACK_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def _trust_proxies(app: Flask) -> None:
    """Read client address, scheme, host and prefix from the configured proxy hops only."""
    hops = {
        name: int(app.config[f"PROXY_FIX_X_{name.upper()}"])
        for name in ("for", "proto", "host", "prefix")
    }
    if any(hops.values()):
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=hops["for"],
            x_proto=hops["proto"],
            x_host=hops["host"],
            x_prefix=hops["prefix"],
        )


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. It does no database I/O: ``init-db`` migrates."""
    app = Flask(
        __name__,
        instance_path=_instance_path_from_environment(),
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    load_config(app, test_config)
    app.json = StrictJSONProvider(app)
    app.url_map.converters["id"] = DatabaseIdConverter
    app.session_interface = ConsoleSessionInterface()

    db.init_app(app)
    configure_engine(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY), render_as_batch=True)

    app.register_blueprint(operations.bp)
    app.register_blueprint(integration_api.bp)
    app.register_blueprint(public_api.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(admin.bp)
    csrf.init_app(app)
    rate_limits.init_app(app, public_api=public_api.bp, integration_api=integration_api.bp)
    _trust_proxies(app)
    request_ids.init_app(app)
    metrics.init_app(app)
    http_errors.init_app(app)
    cli.init_app(app)
    return app
