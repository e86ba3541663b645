"""``feedback-service backup FILE``: SQLite's online backup, taken while the service writes.

A served site takes a stream of writes through both APIs (see ``tests/write_stream.py``) while
the command, run as a process, backs the database up twice. Each backup must be a sound,
standalone database holding one moment of the service: every write answered before the backup
started, nothing sent after it ended, and every counter equal to the rows it counts. A restore
(the file put in place of the database) serves what the backup held.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import served, write_stream
from tests.cli_runner import Cli
from tests.databases import PostgresDatabase, SqliteFile
from tests.served import Served, Site
from tests.write_stream import SUBMITTED, Write

BACKUPS = 2
CLIENT_THREADS = 4
# Answers the stream gives before the first backup, between backups and after the last.
ANSWERS_BETWEEN = 25


@pytest.fixture
def server(template: Site, tmp_path: Path) -> Iterator[Served]:
    site = served.copy_site(template, tmp_path / "site")
    with served.serve(site, env=served.LIMITS_OFF) as running:
        yield running


def backup(cli: Cli, path: Path) -> dict[str, object]:
    printed = cli.json("backup", str(path))
    assert isinstance(printed["seconds"], float)
    [(page_size,)] = SqliteFile(path)("PRAGMA page_size")
    size = path.stat().st_size
    assert printed == {
        "path": str(path),
        "bytes": size,
        "pages": size // page_size,
        "seconds": printed["seconds"],
    }
    return printed


def assert_sound(copy: SqliteFile) -> None:
    """A checked, standalone database whose counters equal their rows."""
    assert copy("PRAGMA integrity_check") == [("ok",)]
    assert copy("PRAGMA foreign_key_check") == []
    # A rollback journal: the copy is one file, with no WAL beside it to lose.
    assert copy("PRAGMA journal_mode") == [("delete",)]
    write_stream.assert_counters_match_rows(copy)


def sent_after(writes: list[Write], moment: float) -> set[str]:
    return {w.key for w in writes if w.kind == SUBMITTED and w.succeeded and w.sent_at > moment}


@pytest.mark.sqlite_only(reason="SQLite's online backup of the database file")
def test_backups_taken_during_writes_hold_each_a_consistent_moment(server: Served, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    taken: list[tuple[SqliteFile, float, float]] = []
    with write_stream.writing(server, CLIENT_THREADS) as stream:
        for number in range(BACKUPS):
            stream.wait_for_answers(len(stream.snapshot()) + ANSWERS_BETWEEN)
            path = folder / f"backup-{number}.sqlite"
            started = time.monotonic()
            backup(server.site.cli, path)
            taken.append((SqliteFile(path), started, time.monotonic()))
        stream.wait_for_answers(len(stream.snapshot()) + ANSWERS_BETWEEN)
    writes = stream.snapshot()
    assert [w.answer for w in writes if not w.succeeded] == []
    write_stream.assert_answers(writes)
    for copy, started, ended in taken:
        assert_sound(copy)
        write_stream.assert_holds(copy, write_stream.expected_between(writes, started, ended))
        stored = {public_id for (public_id,) in copy("SELECT public_id FROM feedback")}
        # The stream went on writing into the database after the backup, not into the copy.
        assert sent_after(writes, ended) != set()
        assert sent_after(writes, ended) & stored == set()
    # Only the finished files: no partial copy, journal or WAL stays beside them.
    assert sorted(path.name for path in folder.iterdir()) == [
        f"backup-{number}.sqlite" for number in range(BACKUPS)
    ]
    write_stream.assert_counters_match_rows(server.site.cli.database)

    last, started, ended = taken[-1]
    assert_restore_serves(
        server, last, before=answered_before(writes, started), after=sent_after(writes, ended)
    )


def answered_before(writes: list[Write], moment: float) -> dict[str, str]:
    """Title by public id of the feedback answered before ``moment``, in answer order."""
    return {
        w.key: w.body["feedback"]["title"]
        for w in writes
        if w.kind == SUBMITTED and w.succeeded and w.answered_at < moment
    }


def assert_restore_serves(
    server: Served, backup: SqliteFile, before: dict[str, str], after: set[str]
) -> None:
    """Restore as docs/operations.md says: stop, replace the file, drop the WAL files, start;
    the service then answers with the backup's feedback, and without later feedback."""
    assert server.stop() == 0
    database = server.site.cli.database
    assert isinstance(database, SqliteFile)
    shutil.copyfile(backup.path, database.path)
    for suffix in ("-wal", "-shm"):
        Path(f"{database.path}{suffix}").unlink(missing_ok=True)
    with served.serve(server.site, env=served.LIMITS_OFF) as restored:
        # The last feedback answered before the backup started.
        public_id, title = list(before.items())[-1]
        read = restored.public.get(f"/api/v1/feedback/{public_id}")
        assert read.status == 200, read
        assert (read.json()["feedback"]["id"], read.json()["feedback"]["title"]) == (
            public_id,
            title,
        )
        gone = restored.public.get(f"/api/v1/feedback/{min(after)}")
        assert (gone.status, gone.json()) == (404, {"error": "Feedback not found"})
    # The service turned WAL back on.
    assert database("PRAGMA journal_mode") == [("wal",)]


@pytest.mark.sqlite_only(reason="backs up the SQLite file")
def test_force_replaces_an_existing_file_with_a_backup(cli: Cli, shop: int, tmp_path):
    path = tmp_path / "backup.sqlite"
    path.write_text("an older backup")
    stderr = cli.fails("backup", str(path), "--json")
    assert f"Error: {path} exists: give --force to replace it" in stderr
    assert path.read_text() == "an older backup"

    printed = cli.json("backup", str(path), "--force")
    assert printed["path"] == str(path)
    copy = SqliteFile(path)
    assert_sound(copy)
    assert copy("SELECT id, name FROM project") == [(shop, "Shop")]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []


@pytest.mark.sqlite_only(reason="backs up the SQLite file")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{database}", "{database} is the database itself or one of its files"),
        ("{tmp}/missing/backup.sqlite", "there is no folder {tmp}/missing"),
    ],
    ids=["the database", "no folder"],
)
def test_backup_refuses_a_destination_it_cannot_use(
    cli: Cli, shop: int, tmp_path, target: str, message: str
):
    database = cli.database
    assert isinstance(database, SqliteFile)
    before = database.path.read_bytes()
    values = {"database": database.path, "tmp": tmp_path}
    stderr = cli.fails("backup", target.format(**values), "--force", "--json")
    assert f"Error: {message.format(**values)}\n" in stderr
    assert "Traceback" not in stderr
    assert database.path.read_bytes() == before
    assert not (tmp_path / "missing").exists()


def test_backup_of_a_postgresql_database_points_to_pg_dump(tmp_path):
    # The command refuses before it connects: the database need not exist.
    cli = Cli(tmp_path / "instance", PostgresDatabase("feedback_never_created"))
    stderr = cli.fails("backup", str(tmp_path / "backup.sqlite"), "--json")
    assert stderr == (
        "Error: backup copies SQLite databases; this one is postgresql: "
        "use pg_dump (see docs/operations.md)\n"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "instance"]
