"""What SQLite's one-writer-at-a-time gives for free, kept on PostgreSQL, where writers run
side by side: a name taken by a concurrent writer is a conflict (never a 500), the last
active admin stays, and text PostgreSQL refuses is the client's error.

Each race is made deterministic: another connection holds an uncommitted row (or a row lock)
while the service runs, and commits when the service is known to be waiting on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from typing import Any

import psycopg
import pytest
from flask import Flask

from feedback_service.database import TOO_LONG_REFUSED
from feedback_service.errors import Conflict, InvalidInput
from feedback_service.models import Role
from feedback_service.services import admin_users, projects
from tests.admin.console import make_user
from tests.databases import POSTGRES_SERVER, PostgresDatabase, TestDatabase
from tests.helpers import assert_json, bad_request

pytestmark = pytest.mark.postgresql_only(reason="SQLite's writers queue: these races cannot occur")

WAIT_SECONDS = 20.0


@contextmanager
def open_transaction(database: TestDatabase) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own on the test's database, in a transaction committed on leaving."""
    assert isinstance(database, PostgresDatabase)
    with closing(psycopg.connect(POSTGRES_SERVER, dbname=database.name)) as connection:
        yield connection
        connection.commit()


def waiting_on_a_lock(database: TestDatabase) -> bool:
    """Whether some connection to the test's database waits for a lock another one holds."""
    rows = database(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    return bool(rows[0][0])


def run_until_it_waits(
    app: Flask, database: TestDatabase, call: Callable[[], Any]
) -> tuple[ThreadPoolExecutor, Future[Any]]:
    def in_app() -> Any:
        with app.app_context():
            return call()

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(in_app)
    deadline = time.monotonic() + WAIT_SECONDS
    while not waiting_on_a_lock(database):
        assert not future.done(), future.result()
        assert time.monotonic() < deadline, "the service never waited for the other writer"
        time.sleep(0.02)
    return pool, future


def test_a_name_taken_by_a_concurrent_writer_is_a_conflict(app: Flask, database: TestDatabase):
    with open_transaction(database) as other:
        other.execute(
            "INSERT INTO project (name, timezone, created_at, updated_at) "
            "VALUES ('Shop', '{}', now(), now())"
        )
        # The service's check cannot see the uncommitted row; its insert waits on the key.
        pool, future = run_until_it_waits(
            app, database, lambda: projects.create_project("Shop", None, "UTC")
        )
    with pool, pytest.raises(Conflict, match="a project named 'Shop' already exists"):
        future.result(timeout=WAIT_SECONDS)
    assert database("SELECT name FROM project") == [("Shop",)]


def test_two_admins_demoted_at_once_leave_one_active_admin(app: Flask, database: TestDatabase):
    first = make_user(app, Role.admin, "first@example.com")
    second = make_user(app, Role.admin, "second@example.com")
    ids = dict(database("SELECT email, id FROM admin_user"))
    barrier = threading.Barrier(2)

    def demote(email: str) -> str:
        with app.app_context():
            barrier.wait(WAIT_SECONDS)
            try:
                admin_users.update_user(ids[email], role=Role.viewer, active=True)
            except InvalidInput as refused:
                return str(refused.message)
            return "demoted"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(demote, [first, second]))

    assert outcomes == ["demoted", "the console needs at least one active admin"]
    assert database("SELECT count(*) FROM admin_user WHERE role = 'admin' AND active") == [(1,)]


def test_text_longer_than_its_column_is_refused_with_400(client, world, sql):
    path = f"{world.a.base}/issues"
    before = sql("SELECT count(*) FROM issue")

    response = client.post(
        path, json={"name": "long id", "externalIssueId": "x" * 300}, headers=world.a.headers
    )

    assert_json(response, 400, bad_request(path, TOO_LONG_REFUSED))
    assert sql("SELECT count(*) FROM issue") == before
