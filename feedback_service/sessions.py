"""The console's session cookie: signed, HttpOnly, SameSite=Lax, and Secure over https."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Marks the cookie Secure whenever the request came over https, and scopes it to the prefix.

    Behind a proxy, ``request.is_secure`` reflects X-Forwarded-Proto only when
    ``PROXY_FIX_X_PROTO`` trusts it; ``SESSION_COOKIE_SECURE`` forces the flag on.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and request.is_secure

    def get_cookie_path(self, app: Flask) -> str:
        # Mounted under a prefix (X-Forwarded-Prefix), the cookie is sent to this app only, not
        # to everything else on the host.
        if not app.config["SESSION_COOKIE_PATH"] and has_request_context() and request.script_root:
            return request.script_root
        return super().get_cookie_path(app)
