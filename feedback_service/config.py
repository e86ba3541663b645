"""Configuration: defaults, then ``instance/config.py``, then ``FEEDBACK_*`` environment variables.

A test mapping replaces the last two steps so that a developer's own instance file or shell
environment can never leak into a test run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ENV_PREFIX = "FEEDBACK"

# Values taken verbatim from the environment: ``from_prefixed_env`` parses values as JSON, which
# would turn a key such as "123", "1e3" or "null" into a number or None.
STRING_KEYS = (
    "DATABASE_URL",
    "MASTER_API_KEY",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_PUBLIC_READ",
    "RATELIMIT_PUBLIC_WRITE",
    "RATELIMIT_INTEGRATION",
    "RATELIMIT_ADMIN_LOGIN",
    "UPLOAD_FOLDER",
    "PUBLIC_URL",
    "METRICS_TOKEN",
)
RATELIMIT_FILE = "ratelimit.sqlite"


class DefaultConfig:
    DATABASE_URL = "sqlite:///feedback.sqlite"
    # The integration API accepts this key for every project when set (ABC's MASTER_API_KEY).
    MASTER_API_KEY: str | None = None
    # JSON bodies of the integration API; the reference server's limit is 1 MiB.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Largest page any list of the integration API returns; larger `limit`s are clamped.
    MAX_PAGE_SIZE = 1000
    # Milliseconds a writer waits for SQLite's write lock before giving up with 503.
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # Screenshots. Files go to <instance>/uploads unless UPLOAD_FOLDER names another folder.
    UPLOAD_FOLDER: str | None = None
    # Largest multipart request (all files and fields) of feedbacks-with-images.
    UPLOAD_MAX_REQUEST_BYTES = 50 * 1024 * 1024
    UPLOAD_MAX_FILES = 10
    UPLOAD_MAX_FILE_BYTES = 10 * 1024 * 1024
    # Width x height of one image (a decompression bomb decodes to far more).
    UPLOAD_MAX_PIXELS = 40_000_000
    # Seconds a signed upload URL stays valid (image-upload-url).
    UPLOAD_URL_TTL = 300
    # The address clients reach this service at, e.g. https://feedback.example.com: upload
    # URLs are built on it and images under it pass every channel's domain whitelist. Unset,
    # the address of the request is used.
    PUBLIC_URL: str | None = None
    # Comments the public API returns with one feedback (the oldest first).
    PUBLIC_MAX_COMMENTS = 500
    # Proxy hops in front of the app whose X-Forwarded-* headers are trusted (0: none). Client
    # addresses, used by rate limits and anonymous votes, come from these headers only.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PREFIX = 0
    # Rate limits (Flask-Limiter syntax). Counters live in a SQLite file in the instance folder
    # unless RATELIMIT_STORAGE_URI names another store, such as redis://127.0.0.1:6379.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI: str | None = None
    # Public API reads, per client address.
    RATELIMIT_PUBLIC_READ = "300 per minute"
    # Public API writes (feedback, votes, comments, identify), per client address.
    RATELIMIT_PUBLIC_WRITE = "60 per minute"
    # Integration API, per presented API key.
    RATELIMIT_INTEGRATION = "6000 per minute"
    # Sign-in attempts on the console, per client address and, separately, per account.
    RATELIMIT_ADMIN_LOGIN = "10 per minute"
    # The console's session cookie; it is also marked Secure on every https request.
    SESSION_COOKIE_NAME = "feedback_console"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # A console session ends after this many seconds without a request.
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    # CSRF tokens are checked by the console only (the APIs are not signed in by cookie).
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    # `serve`: gunicorn worker processes and threads per process (the --workers and --threads
    # defaults). SQLite takes one writer at a time, so a few processes with threads each serve
    # best; more processes only add writers polling for the lock.
    WORKERS = 2
    THREADS = 4
    # Prometheus metrics at /metrics (off: /metrics answers 404 and nothing is counted).
    METRICS_ENABLED = True
    # When set, /metrics requires `Authorization: Bearer <token>`; unset, it is open to anyone
    # who can reach it.
    METRICS_TOKEN: str | None = None


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Fill ``app.config`` in precedence order and derive the SQLAlchemy settings."""
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env(ENV_PREFIX)
        for key in STRING_KEYS:
            raw = os.environ.get(f"{ENV_PREFIX}_{key}")
            if raw is not None:
                app.config[key] = raw
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = f"sqlite:///{Path(app.instance_path, RATELIMIT_FILE)}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path, "uploads"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret_key(Path(app.instance_path))


def read_or_create_secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, generating it (mode 0600) on first run."""
    key_file = instance_path / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        pass
    # Write a private temporary file, then hard-link it into place: the link either creates the
    # finished file or fails because another process won the race, whose key we then read.
    tmp = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(tmp, key_file)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return key_file.read_text().strip()
