"""Path converters shared by the console's routes."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

# SQLite and PostgreSQL ids are signed 64-bit integers.
MAX_ID = 2**63 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<id:name>``: a positive integer that fits the database's id column.

    A larger number would overflow the driver's integer binding (a 500) instead of naming
    nothing (a 404).
    """

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
