"""Signed upload URLs for the local store: an HMAC over key, content type and expiry.

The URL names one key; the key is random and a file is written under it once, so the URL is
single-use. Changing any part (another project's key, another type, a later expiry) breaks the
signature.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from feedback_service.errors import AppError


class UploadRefused(AppError):
    status = 403
    default_message = "Upload URL is invalid"


def signature(secret: str, key: str, content_type: str, expires: int) -> str:
    message = f"upload\n{key}\n{content_type}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_url(base_url: str, secret: str, key: str, content_type: str, expires: int) -> str:
    query = urlencode(
        {
            "type": content_type,
            "expires": expires,
            "signature": signature(secret, key, content_type, expires),
        }
    )
    return f"{base_url}{key}?{query}"


def check_signature(
    secret: str, key: str, content_type: str, expires: str, presented: str, now: float
) -> None:
    """:raises UploadRefused: tampered, malformed or expired."""
    if not expires.isascii() or not expires.isdecimal() or len(expires) > 12:
        raise UploadRefused()
    expected = signature(secret, key, content_type, int(expires))
    if not hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace")):
        raise UploadRefused()
    if int(expires) < now:
        raise UploadRefused("Upload URL has expired")
