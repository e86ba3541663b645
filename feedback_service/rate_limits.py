"""Rate limits per surface, from config, with Flask-Limiter.

One ``Limiter`` per app: the extension keeps per-app state (enabled, storage) on the object, so
sharing one between apps would let one app's settings leak into another's. Limits are shared
per surface (``scope``), so every write route of the public API draws on one budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter

# Imported for its side effect: registers the sqlite:// storage scheme with `limits`.
from feedback_service import ratelimit_storage  # noqa: F401
from feedback_service.client_address import client_key


def integration_key() -> str:
    """Per presented key: one busy integration does not slow another down."""
    presented = request.headers.get("x-api-key", "")
    return hashlib.sha256(presented.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def configured(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def init_app(app: Flask, public_api: Blueprint, integration_api: Blueprint) -> Limiter:
    limiter = Limiter(
        client_key,
        headers_enabled=True,
        strategy="fixed-window",
        # Without its store (say Redis is down) the limiter counts per process instead of
        # failing every request.
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    # Limits hold only a weak reference to their limiter, and a disabled limiter does not
    # register itself with the app: without this reference, a limited view would fail.
    app.extensions["feedback_service.limiter"] = limiter
    limiter.shared_limit(
        configured("RATELIMIT_PUBLIC_READ"),
        scope="public-read",
        # Per client, not per presented key: a key is public, and varying it must not buy a
        # fresh budget (the limit runs before the key is checked).
        key_func=client_key,
        methods=["GET"],
    )(public_api)
    limiter.shared_limit(
        configured("RATELIMIT_PUBLIC_WRITE"),
        scope="public-write",
        key_func=client_key,
        methods=["POST"],
    )(public_api)
    limiter.shared_limit(
        configured("RATELIMIT_INTEGRATION"), scope="integration", key_func=integration_key
    )(integration_api)
    _limit_console_sign_in(app, limiter)
    return limiter


def submitted_email() -> str:
    """Per account named in a sign-in form, so guesses spread over many addresses still count."""
    email = request.form.get("email", "").strip().lower()
    return hashlib.sha256(email.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _limit_console_sign_in(app: Flask, limiter: Limiter) -> None:
    """Sign-in and first-run forms: per client address, and per account for sign-in."""
    limit = configured("RATELIMIT_ADMIN_LOGIN")
    per_client = limiter.limit(limit, key_func=client_key, methods=["POST"], scope="admin-login")
    per_account = limiter.limit(
        limit, key_func=submitted_email, methods=["POST"], scope="admin-login-account"
    )
    # The views exist once the console is registered; wrapping them keeps the limits in
    # this module with the others.
    views = app.view_functions
    views["admin.login"] = per_account(per_client(views["admin.login"]))
    views["admin.setup"] = per_client(views["admin.setup"])
