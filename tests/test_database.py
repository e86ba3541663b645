"""SQLite connection settings, units of work, migrations, foreign keys and counters."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    delete,
    func,
    insert,
    make_url,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from feedback_service.database import (
    WRITE_OPTION,
    WRITER_LOCK_SUFFIX,
    sqlite_file_path,
    unit_of_work,
)
from feedback_service.extensions import db
from feedback_service.models import Category, Channel, Project
from feedback_service.schema import described_by_models, head_revision, upgrade_to_head
from tests.conftest import make_test_app
from tests.databases import SqliteFile, TestDatabase
from tests.factories import World, make_feedback, make_issue

SEOUL = {"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}


def try_begin_immediate(database: Path) -> None:
    """Take and release the write lock from a separate connection that never waits."""
    with closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")


def schema_snapshot(database: TestDatabase) -> dict[str, list[str]]:
    return {table: database.column_names(table) for table in database.table_names()}


def alembic_versions(database: TestDatabase) -> list[tuple[str]]:
    return database("SELECT version_num FROM alembic_version")


@pytest.fixture
def new_file_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """``new_file_app(database, **config)``: an app on a database the test made."""
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    apps: list[Flask] = []

    def build(database: TestDatabase, **overrides: Any) -> Flask:
        apps.append(make_test_app(database, **overrides))
        return apps[-1]

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def unfavourable_connection(database: Path) -> sqlite3.Connection:
    """A driver connection starting from the opposite of every setting the app wants."""
    connection = sqlite3.connect(database, timeout=0, check_same_thread=False)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA foreign_keys=OFF")
    return connection


@pytest.fixture(params=["migrated database", "new file, unfavourable driver defaults"])
def pragma_app(request: pytest.FixtureRequest, tmp_path: Path, new_file_app) -> Flask:
    if request.param == "migrated database":
        return request.getfixturevalue("app")
    database = SqliteFile(tmp_path / "new.sqlite")  # journal_mode starts as "delete"
    options = {"creator": lambda: unfavourable_connection(database.path)}
    return new_file_app(database, SQLALCHEMY_ENGINE_OPTIONS=options)


@pytest.mark.sqlite_only(reason="SQLite's per-connection PRAGMAs")
@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("synchronous", 2), ("foreign_keys", 1), ("busy_timeout", 5000)],
)
def test_every_pooled_connection_has_the_sqlite_pragma(pragma_app, pragma, expected):
    with pragma_app.app_context():
        # Two connections checked out at once are two distinct DBAPI connections.
        read_only = db.engine.execution_options(**{WRITE_OPTION: False})
        with read_only.connect() as first, read_only.connect() as second:
            assert first.connection.dbapi_connection is not second.connection.dbapi_connection
            for connection in (first, second):
                value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                assert value == expected


@pytest.mark.sqlite_only(reason="SQLite's database-wide write lock")
def test_writing_unit_of_work_holds_the_write_lock_from_its_start(app, database_path):
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(text("SELECT count(*) FROM project"))
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            try_begin_immediate(database_path)


@pytest.mark.sqlite_only(reason="SQLite's database-wide write lock")
def test_reading_unit_of_work_leaves_the_write_lock_free(app, database_path):
    with app.app_context(), unit_of_work(write=False) as session:
        session.execute(text("SELECT count(*) FROM project"))
        try_begin_immediate(database_path)


@contextmanager
def session_autobegun() -> Iterator[None]:
    db.session.execute(text("SELECT 1"))
    try:
        yield
    finally:
        db.session.rollback()


@contextmanager
def enclosing_unit() -> Iterator[None]:
    with unit_of_work(write=False):
        yield


@pytest.mark.parametrize("open_transaction", [session_autobegun, enclosing_unit])
def test_unit_of_work_refuses_to_start_inside_an_open_transaction(app, open_transaction):
    with app.app_context(), open_transaction():
        assert db.session().in_transaction()
        with (
            pytest.raises(RuntimeError, match="open transaction"),
            unit_of_work(write=True),
        ):
            pass


def test_unit_of_work_commits_when_the_block_succeeds(app, sql):
    with app.app_context(), unit_of_work(write=True) as session:
        session.add(Project(name="Kept", timezone=SEOUL))
    assert sql("SELECT count(*) FROM project WHERE name = 'Kept'") == [(1,)]


@pytest.mark.sqlite_only(reason="SQLite's database-wide write lock")
def test_failing_unit_of_work_rolls_back_and_releases_the_lock(app, sql, database_path):
    with app.app_context():
        with pytest.raises(ValueError, match="boom"), unit_of_work(write=True) as session:
            session.add(Project(name="Doomed", timezone=SEOUL))
            session.flush()  # the INSERT has run inside the transaction
            raise ValueError("boom")
        # Checked before the app context ends, whose teardown would roll back anyway.
        assert not db.session().in_transaction()
        try_begin_immediate(database_path)
    assert sql("SELECT count(*) FROM project WHERE name = 'Doomed'") == [(0,)]


def test_a_failed_unit_leaves_rows_read_by_earlier_units_readable(app):
    """A rollback expires what its session holds; rows earlier units returned must not be
    among them, or reading one would open a transaction that blocks every later unit."""
    with app.app_context():
        with unit_of_work(write=True) as session:
            session.add(Project(name="Shop", timezone=SEOUL))
        with unit_of_work(write=False) as session:
            project = session.scalars(select(Project)).one()
        with pytest.raises(ValueError, match="boom"), unit_of_work(write=True):
            raise ValueError("boom")
        assert project.name == "Shop"
        assert not db.session().in_transaction()
        with unit_of_work(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Project)) == 1


def test_upgrade_to_head_creates_every_table_on_an_empty_database(new_file_app, empty_database):
    database = empty_database
    with new_file_app(database).app_context():
        upgrade_to_head()
        head = head_revision()
        db.engine.dispose()
    tables = set(schema_snapshot(database))
    assert set(db.metadata.tables) | {"alembic_version"} <= tables
    assert alembic_versions(database) == [(head,)]


def test_upgrade_to_head_twice_leaves_schema_and_revision_unchanged(new_file_app, empty_database):
    database = empty_database
    with new_file_app(database).app_context():
        upgrade_to_head()
        db.engine.dispose()
        first = (schema_snapshot(database), alembic_versions(database))
        upgrade_to_head()
        db.engine.dispose()
    assert (schema_snapshot(database), alembic_versions(database)) == first
    assert first[0], "the first upgrade created no schema"


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": described_by_models})
        assert compare_metadata(context, db.metadata) == []
        # The comparison does see differences: a model table missing from the file is one.
        extended = MetaData()
        for table in db.metadata.tables.values():
            table.to_metadata(extended)
        Table("not_migrated", extended, Column("id", Integer, primary_key=True))
        differences = compare_metadata(context, extended)
        assert [diff[0] for diff in differences] == ["add_table"]


def test_foreign_keys_reject_a_row_pointing_at_nothing(app, sql):
    with (
        app.app_context(),
        pytest.raises(IntegrityError, match=r"(?i)foreign key"),
        unit_of_work(write=True) as session,
    ):
        session.execute(insert(Channel).values(project_id=999_999, name="orphan"))
    assert sql("SELECT count(*) FROM channel WHERE name = 'orphan'") == [(0,)]


def count(sql, table: str, column: str, value: int) -> int:
    return sql(f"SELECT count(*) FROM {table} WHERE {column} = ?", (value,))[0][0]


def rows_of_project(sql, project_id: int, channel_id: int) -> dict[str, int]:
    by_project = ("channel", "api_key", "issue", "category")
    by_channel = ("feedback", "field")
    return {
        **{table: count(sql, table, "project_id", project_id) for table in by_project},
        **{table: count(sql, table, "channel_id", channel_id) for table in by_channel},
    }


def test_deleting_a_project_cascades_to_its_rows_and_spares_others(app, world: World, sql):
    before_a = rows_of_project(sql, world.a.project_id, world.a.channel_id)
    before_b = rows_of_project(sql, world.b.project_id, world.b.channel_id)
    assert all(before_a.values())
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(delete(Project).where(Project.id == world.a.project_id))
    assert set(rows_of_project(sql, world.a.project_id, world.a.channel_id).values()) == {0}
    assert rows_of_project(sql, world.b.project_id, world.b.channel_id) == before_b


def test_deleting_a_category_sets_its_issues_category_to_null(app, client, world: World, sql):
    a = world.a
    issue_id = a.issue_ids[0]
    response = client.put(f"{a.base}/issues/{issue_id}/category/{a.category_id}", headers=a.headers)
    assert response.status_code == 200
    assert sql("SELECT category_id FROM issue WHERE id = ?", (issue_id,)) == [(a.category_id,)]
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(delete(Category).where(Category.id == a.category_id))
    assert sql("SELECT category_id FROM issue WHERE id = ?", (issue_id,)) == [(None,)]


def test_concurrent_links_to_one_issue_keep_feedback_count_exact(app, world: World, sql):
    a = world.a
    threads = 16
    issue_id = make_issue(app, a.project_id, "popular")
    feedback_ids = [
        make_feedback(app, a.project_id, a.channel_id, {"message": f"report {n}"})
        for n in range(threads)
    ]
    start = threading.Barrier(threads, timeout=30)

    def attach(feedback_id: int) -> int:
        client = app.test_client()
        start.wait()
        response = client.post(
            f"{a.channel}/feedbacks/{feedback_id}/issue/{issue_id}", headers=a.headers
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(attach, feedback_ids))

    assert statuses == [201] * threads
    links = count(sql, "feedback_issue", "issue_id", issue_id)
    feedback_count = sql("SELECT feedback_count FROM issue WHERE id = ?", (issue_id,))[0][0]
    assert (feedback_count, links) == (threads, threads)


@pytest.mark.sqlite_only(reason="the writer queue in front of SQLite's write lock")
def test_a_second_writer_of_the_process_queues_before_asking_sqlite(database):
    """Writers of one process take turns before BEGIN IMMEDIATE, and time out as busy.

    While the first writer holds the lock, the second one waits without a database
    connection: it never joins SQLite's busy polling, where waiters can be passed over.
    """
    app = make_test_app(database, SQLITE_BUSY_TIMEOUT_MS=400)
    holding, release, waited = threading.Event(), threading.Event(), threading.Event()
    in_use: list[int] = []

    def hold_the_write_lock() -> None:
        with app.app_context(), unit_of_work(write=True) as session:
            session.execute(text("SELECT 1"))
            holding.set()
            release.wait(10)

    def watch_connections(pool: Any) -> None:
        while not waited.is_set():
            in_use.append(pool.checkedout())
            waited.wait(0.01)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert holding.wait(10)
        with app.app_context():
            watcher = threading.Thread(target=watch_connections, args=(db.engine.pool,))
            watcher.start()
            try:
                with (
                    pytest.raises(OperationalError, match="database is locked"),
                    unit_of_work(write=True),
                ):
                    pass
            finally:
                waited.set()
                watcher.join(10)
    finally:
        release.set()
        holder.join(10)
    assert len(in_use) > 5 and set(in_use) == {1}
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(text("SELECT 1"))
    with app.app_context():
        db.engine.dispose()


@contextmanager
def writer_lock_file(database: Path) -> Iterator[int]:
    """The lock file the writers of every process take turns on, opened as another process
    would open it."""
    descriptor = os.open(str(database) + WRITER_LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def lock_is_free(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return True


@pytest.mark.sqlite_only(reason="the writer lock file beside a SQLite database")
def test_a_writing_unit_holds_the_writer_lock_file_other_processes_wait_on(app, database_path):
    with writer_lock_file(database_path) as other_process:
        with app.app_context(), unit_of_work(write=True) as session:
            session.execute(text("SELECT 1"))
            assert not lock_is_free(other_process)
        assert lock_is_free(other_process)
        with app.app_context(), unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
            assert lock_is_free(other_process)


@pytest.mark.sqlite_only(reason="the writer lock file beside a SQLite database")
def test_a_writer_waits_for_the_lock_file_no_longer_than_the_busy_timeout(make_app, database_path):
    impatient = make_app(SQLITE_BUSY_TIMEOUT_MS=200)
    with writer_lock_file(database_path) as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        with (
            impatient.app_context(),
            pytest.raises(OperationalError, match="database is locked"),
            unit_of_work(write=True) as session,
        ):
            session.execute(insert(Project).values(name="never", timezone=SEOUL))
    with impatient.app_context(), unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////srv/feedback.sqlite", "/srv/feedback.sqlite"),
        ("sqlite:///relative.sqlite", "relative.sqlite"),
        ("sqlite:///file:/srv/feedback.sqlite?uri=true", "/srv/feedback.sqlite"),
        ("sqlite:///file:/srv/with%20space.sqlite?uri=true&mode=rw", "/srv/with space.sqlite"),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
    ],
)
def test_the_file_a_sqlite_url_names(url, path):
    assert sqlite_file_path(make_url(url)) == path


@pytest.mark.sqlite_only(reason="a SQLite URI filename")
def test_an_app_on_a_uri_filename_writes_and_locks_beside_its_file(
    tmp_path, new_file_app, empty_database
):
    database = tmp_path / "uri.sqlite"
    app = new_file_app(empty_database, DATABASE_URL=f"sqlite:///file:{database}?uri=true")
    with app.app_context():
        upgrade_to_head()
        with unit_of_work(write=True) as session:
            session.execute(insert(Project).values(name="Shop", timezone=SEOUL))
    assert os.path.exists(str(database) + WRITER_LOCK_SUFFIX)
    assert SqliteFile(database)("SELECT name FROM project") == [("Shop",)]
