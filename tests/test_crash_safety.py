"""Crash safety: SIGKILL every server process in the middle of a stream of writes, restart.

The served site takes writes through both APIs from several client threads (see
``tests/write_stream.py``) until one ``killpg`` ends the gunicorn arbiter and both workers at
once. A server restarted on the same files must find the database intact, every write it had
acknowledged there and readable through the APIs, no acknowledged delete undone, and every
counter equal to the rows it counts.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import served, write_stream
from tests.databases import SqliteFile
from tests.served import NO_REPLY, Served, Site
from tests.write_stream import COMMENTED, PUSHED, SUBMITTED, VOTED, Write

WORKERS = 2
CLIENT_THREADS = 6
# Writes answered before the kill.
ANSWERS_BEFORE_KILL = 150


@contextmanager
def serve_in_own_session(site: Site) -> Iterator[Served]:
    """``served.serve``, but gunicorn leads a process group of its own (``served.serve``'s
    shares pytest's), so that one ``killpg`` reaches the arbiter and every worker at once."""
    server = served.start_server(
        site, workers=WORKERS, threads=4, env=served.LIMITS_OFF, own_session=True
    )
    process = server.process
    try:
        server.server.wait_until_healthy()
        server.wait_for_workers(WORKERS)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def acknowledged(writes: list[Write], kind: str) -> list[Write]:
    return [w for w in writes if w.kind == kind and w.succeeded]


def assert_readable_through_the_apis(server: Served, writes: list[Write]) -> None:
    """Every acknowledged feedback answers with its title, acknowledged vote and comment."""
    voter = {public_id: name for public_id, name in (w.key for w in acknowledged(writes, VOTED))}
    comments: dict[str, set[str]] = {}
    for public_id, comment_id in (w.key for w in acknowledged(writes, COMMENTED)):
        comments.setdefault(public_id, set()).add(comment_id)
    for write in acknowledged(writes, SUBMITTED):
        public_id = write.key
        path = f"/api/v1/feedback/{public_id}"
        if public_id in voter:
            path += f"?endUserId={voter[public_id]}"
        read = server.public.get(path)
        assert read.status == 200, read
        feedback = read.json()["feedback"]
        assert (feedback["id"], feedback["title"]) == (public_id, write.body["feedback"]["title"])
        assert feedback["userHasVoted"] is (public_id in voter)
        shown = {comment["id"] for comment in feedback["comments"]}
        assert comments.get(public_id, set()) - shown == set()

    ids = server.site.ids
    board = f"/api/projects/{ids.project_id}/channels/{ids.board_id}/feedbacks"
    expected = write_stream.expected_between(writes, math.inf, math.inf)
    for feedback_id, title in expected.present:
        read = server.integration.get(f"{board}/{feedback_id}")
        assert read.status == 200, read
        body = read.json()
        assert (body["id"], body["title"]) == (feedback_id, title)
        [issue] = body["issues"]
        assert issue["name"] in write_stream.ISSUES


@pytest.mark.sqlite_only(reason="checks the SQLite file and its WAL after a SIGKILL")
def test_acknowledged_writes_survive_a_sigkill_of_every_server_process(template: Site, tmp_path):
    site = served.copy_site(template, tmp_path / "site")
    database = site.cli.database
    assert isinstance(database, SqliteFile)
    with (
        serve_in_own_session(site) as server,
        write_stream.writing(server, CLIENT_THREADS) as stream,
    ):
        stream.wait_for_answers(ANSWERS_BEFORE_KILL)
        killed_at = time.monotonic()
        os.killpg(server.process.pid, signal.SIGKILL)
        assert server.process.wait() == -signal.SIGKILL
    writes = stream.snapshot()

    # Until the kill every write succeeded; from then on none was answered at all.
    assert [w.answer for w in writes if not w.succeeded and w.status != NO_REPLY] == []
    assert [w for w in writes if w.status == NO_REPLY and w.answered_at < killed_at] == []
    write_stream.assert_answers(writes)
    assert len(acknowledged(writes, PUSHED)) >= ANSWERS_BEFORE_KILL // 6
    # No shutdown ran: the last commits are still in the WAL, for the restart to recover.
    assert Path(f"{database.path}-wal").stat().st_size > 0

    with served.serve(site, workers=WORKERS, env=served.LIMITS_OFF) as restarted:
        assert database("PRAGMA integrity_check") == [("ok",)]
        assert database("PRAGMA foreign_key_check") == []
        write_stream.assert_holds(
            database, write_stream.expected_between(writes, killed_at, math.inf)
        )
        write_stream.assert_counters_match_rows(database)
        assert_readable_through_the_apis(restarted, writes)
