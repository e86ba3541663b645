"""The benchmark's ceiling: bare Flask endpoints doing one indexed SQLite read, or one write.

Served by gunicorn with the same workers and threads as the real app, it shows what the
HTTP stack, the load generator and SQLite cost on this machine by themselves, so the app's
numbers can be read as "this much slower than the cheapest possible request".

    BENCH_DATABASE=bench/data/bench.sqlite BENCH_WRITE_DATABASE=/some/dir/writes.sqlite \
        gunicorn --chdir bench ceiling_app:app
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading

from flask import Flask, Response, request

DATABASE = os.environ.get("BENCH_DATABASE", "")
WRITE_DATABASE = os.environ.get("BENCH_WRITE_DATABASE", "")
LOOKUP = "SELECT data FROM feedback WHERE id = ?"
DOCUMENTS = "CREATE TABLE IF NOT EXISTS document (id INTEGER PRIMARY KEY, data TEXT NOT NULL)"
INSERT = "INSERT INTO document (data) VALUES (?)"
# The app's per-connection settings (feedback_service/database.py).
WRITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
)

app = Flask(__name__)
_local = threading.local()
# One writer per process asks SQLite for the lock, as in the app: threads polling SQLite's
# busy handler would wait longer than the write itself takes.
_writer = threading.Lock()


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


def write_connection() -> sqlite3.Connection:
    """One connection per thread to a database of its own, so the ceiling never writes the
    app's data; transactions are begun explicitly, as the app's are."""
    existing = getattr(_local, "write_connection", None)
    if existing is None:
        existing = sqlite3.connect(WRITE_DATABASE, isolation_level=None)
        for pragma in WRITE_PRAGMAS:
            existing.execute(pragma)
        existing.execute(DOCUMENTS)
        _local.write_connection = existing
    return existing


@app.get("/lookup")
def lookup() -> Response:
    """One primary-key lookup of a random feedback, answered as its JSON document."""
    db = connection()
    row = db.execute(LOOKUP, (random.randint(1, _local.max_id),)).fetchone()
    return Response(row[0], mimetype="application/json")


@app.post("/write")
def write() -> tuple[dict[str, int], int]:
    """The posted JSON document, stored in one durable transaction; answers its id."""
    document = json.dumps(request.get_json(force=True))
    db = write_connection()
    with _writer:
        db.execute("BEGIN IMMEDIATE")
        try:
            new_id = db.execute(INSERT, (document,)).lastrowid
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return {"id": new_id}, 201
