"""The benchmark's ceiling: a bare Flask endpoint doing one indexed SQLite lookup.

Served by gunicorn with the same workers and threads as the real app, it shows what the
HTTP stack, the load generator and SQLite cost on this machine by themselves, so a search's
numbers can be read as "this much slower than the cheapest possible request".

    BENCH_DATABASE=bench/data/bench.sqlite gunicorn --chdir bench ceiling_app:app
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading

from flask import Flask, Response

DATABASE = os.environ.get("BENCH_DATABASE", "")
LOOKUP = "SELECT data FROM feedback WHERE id = ?"

app = Flask(__name__)
_local = threading.local()


def connection() -> sqlite3.Connection:
    """One connection per thread (sqlite3 connections must not be shared), in WAL mode
    like the real app's, opened read-only so the ceiling can never touch the data."""
    existing = getattr(_local, "connection", None)
    if existing is None:
        existing = sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True)
        existing.execute("PRAGMA journal_mode=WAL")
        _local.connection = existing
        _local.max_id = existing.execute("SELECT max(id) FROM feedback").fetchone()[0]
    return existing


@app.get("/lookup")
def lookup() -> Response:
    """One primary-key lookup of a random feedback, answered as its JSON document."""
    db = connection()
    row = db.execute(LOOKUP, (random.randint(1, _local.max_id),)).fetchone()
    return Response(row[0], mimetype="application/json")
