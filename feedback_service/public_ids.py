"""Public ids of the public API (``fb_...``, ``cmt_...``): random, so they reveal no counts."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits
# 16 characters of 36: 82 bits, so a collision is never expected (a unique index backs it).
LENGTH = 16
FEEDBACK_PREFIX = "fb_"
COMMENT_PREFIX = "cmt_"


def new_public_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
