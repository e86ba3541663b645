"""Database ids in URLs and forms: positive, and within the database's integer range.

A larger number would overflow the driver's integer binding (a 500) instead of naming
nothing (a 404, or the surface's "not found" message).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

# SQLite and PostgreSQL ids are signed 64-bit integers.
MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """The id ``text`` spells in ASCII digits, or None (also for 0 and out-of-range ids)."""
    # isdecimal alone would let other scripts' digits through.
    if not text or not (text.isascii() and text.isdecimal()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class DatabaseIdConverter(IntegerConverter):
    """``<id:name>`` in a route: an id as :func:`parse_id` reads it."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
