"""A stream of writes through both HTTP APIs of a served site, and what a database must hold.

Each client thread repeats one cycle on the site's board: submit feedback (public API: a
feedback, an end user and the author's vote), vote on it as a new end user, comment on it, push
a feedback linked to an issue (integration API) and, every few cycles, delete that one again.
Every counter the service keeps (a channel's and an issue's feedback count, a feedback's vote
and comment counts) and the search index move with these writes.

Each write is recorded with when it was sent and answered, so a test can tell which writes a
database taken at some moment must hold (every one answered before) and must not hold.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests import served
from tests.databases import TestDatabase
from tests.served import Served

# The writes of one cycle, and the status each is answered with.
SUBMITTED = "submitted"
VOTED = "voted"
COMMENTED = "commented"
PUSHED = "pushed"
DELETED = "deleted"
SUCCESS = {SUBMITTED: 201, VOTED: 200, COMMENTED: 201, PUSHED: 201, DELETED: 200}
# Every DELETE_EVERY-th cycle deletes the feedback it pushed.
DELETE_EVERY = 3
ISSUES = ("stream issue 0", "stream issue 1", "stream issue 2")
# Seconds to wait for a number of answers; far beyond what the stream needs.
WAIT_LIMIT = 60.0


@dataclass(frozen=True)
class Write:
    kind: str
    # submitted: the feedback's public id; voted: (public id, voter's external id);
    # commented: (public id, comment's public id); pushed and deleted: (the feedback's id, its
    # title), as SQLite hands a deleted feedback's id to the next one. None when the write did
    # not succeed.
    key: Any
    status: int
    # The JSON answer ({} when empty); None unless the write succeeded.
    body: Any
    # The answer as received, for failure messages.
    answer: str
    sent_at: float
    answered_at: float

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCESS[self.kind]


class WriteStream:
    """Client threads writing to ``server`` until stopped, or until a write fails (say, because
    the server is gone): each thread ends at its first write not answered with success."""

    def __init__(self, server: Served, threads: int) -> None:
        self.server = server
        self.writes: list[Write] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(number,), daemon=True)
            for number in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=WAIT_LIMIT)
            assert not thread.is_alive(), "a client thread did not stop"

    def snapshot(self) -> list[Write]:
        with self._lock:
            return list(self.writes)

    def wait_for_answers(self, count: int) -> None:
        """Block until ``count`` writes were answered in all."""
        deadline = time.monotonic() + WAIT_LIMIT
        while len(self.snapshot()) < count:
            assert time.monotonic() < deadline, f"only {len(self.snapshot())} writes answered"
            assert any(t.is_alive() for t in self._threads), self.snapshot()[-3:]
            time.sleep(0.01)

    def _client(self, number: int) -> None:
        for cycle in itertools.count():
            if self._stop.is_set() or not self._cycle(f"{number}-{cycle}", cycle):
                return

    def _write(self, kind: str, call: served.Call, key: Callable[[Any], Any]) -> Any:
        """Send one write and record it; its answer's JSON ({} when empty), None on failure."""
        sent_at = time.monotonic()
        reply = served.send_or_describe(self.server.port, call)
        answered_at = time.monotonic()
        body = None
        if reply.status == SUCCESS[kind]:
            body = reply.json() if reply.raw else {}
        write = Write(
            kind=kind,
            key=None if body is None else key(body),
            status=reply.status,
            body=body,
            answer=str(reply),
            sent_at=sent_at,
            answered_at=answered_at,
        )
        with self._lock:
            self.writes.append(write)
        return body

    def _cycle(self, name: str, cycle: int) -> bool:
        """One cycle of writes; False at the first write not answered with success."""
        public = self.server.public
        integration = self.server.integration
        ids = self.server.site.ids
        board = f"/api/projects/{ids.project_id}/channels/{ids.board_id}/feedbacks"

        submitted = self._write(
            SUBMITTED,
            public.call(
                "POST",
                "/api/v1/feedback",
                {"title": f"stream {name}", "endUser": {"externalId": f"author-{name}"}},
            ),
            key=lambda body: body["feedback"]["id"],
        )
        if submitted is None:
            return False
        public_id = submitted["feedback"]["id"]
        voter = f"voter-{name}"
        voted = self._write(
            VOTED,
            public.call(
                "POST", f"/api/v1/feedback/{public_id}/vote", {"endUser": {"externalId": voter}}
            ),
            key=lambda _body: (public_id, voter),
        )
        if voted is None:
            return False
        commented = self._write(
            COMMENTED,
            public.call(
                "POST",
                f"/api/v1/feedback/{public_id}/comments",
                {"content": f"comment {name}", "endUser": {"externalId": voter}},
            ),
            key=lambda body: (public_id, body["comment"]["id"]),
        )
        if commented is None:
            return False
        title = f"pushed {name}"
        pushed = self._write(
            PUSHED,
            integration.call(
                "POST", board, {"title": title, "issueNames": [ISSUES[cycle % len(ISSUES)]]}
            ),
            key=lambda body: (body["id"], title),
        )
        if pushed is None:
            return False
        if cycle % DELETE_EVERY != DELETE_EVERY - 1:
            return True
        deleted = self._write(
            DELETED,
            integration.call("DELETE", board, {"feedbackIds": [pushed["id"]]}),
            key=lambda _body: (pushed["id"], title),
        )
        return deleted is not None


@contextmanager
def writing(server: Served, threads: int) -> Iterator[WriteStream]:
    """A stream of writes for the duration of the block."""
    stream = WriteStream(server, threads)
    stream.start()
    try:
        yield stream
    finally:
        stream.stop()


def assert_answers(writes: list[Write]) -> None:
    """Each successful write was answered with the body its API promises."""
    for write in writes:
        if not write.succeeded:
            continue
        body = write.body
        if write.kind == SUBMITTED:
            counts = (body["feedback"]["voteCount"], body["feedback"]["commentCount"])
            assert counts == (1, 0), write.answer
        elif write.kind == VOTED:
            assert body == {"voted": True, "voteCount": 2}, write.answer
        elif write.kind == COMMENTED:
            assert body["comment"]["content"].startswith("comment "), write.answer
        elif write.kind == PUSHED:
            assert list(body) == ["id"], write.answer
        else:
            assert body == {}, write.answer


@dataclass(frozen=True)
class Expected:
    """What a copy of the database taken between two moments must and must not hold."""

    submitted: set[str]
    voted: set[tuple[str, str]]
    commented: set[tuple[str, str]]
    present: set[tuple[int, str]]
    absent: set[tuple[int, str]]


def expected_between(writes: list[Write], taken_from: float, taken_until: float) -> Expected:
    """For a database taken at some moment in ``[taken_from, taken_until]``.

    Every write answered with success before ``taken_from`` is in it; a pushed feedback stays
    unless a delete of it was sent before ``taken_until`` (that delete may or may not be in).
    """

    def answered(kind: str) -> set[Any]:
        return {
            w.key for w in writes if w.kind == kind and w.succeeded and w.answered_at < taken_from
        }

    deleting = {w.key for w in writes if w.kind == DELETED and w.sent_at < taken_until}
    return Expected(
        submitted=answered(SUBMITTED),
        voted=answered(VOTED),
        commented=answered(COMMENTED),
        present=answered(PUSHED) - deleting,
        absent=answered(DELETED),
    )


def assert_holds(database: TestDatabase, expected: Expected) -> None:
    """Every write ``expected`` names is there, every deleted feedback is gone."""
    public_ids = {public_id for (public_id,) in database("SELECT public_id FROM feedback")}
    assert expected.submitted - public_ids == set()
    votes = database(
        "SELECT f.public_id, e.external_id FROM vote v "
        "JOIN feedback f ON f.id = v.feedback_id JOIN end_user e ON e.id = v.end_user_id"
    )
    assert expected.voted - set(votes) == set()
    comments = database(
        "SELECT f.public_id, c.public_id FROM comment c JOIN feedback f ON f.id = c.feedback_id"
    )
    assert expected.commented - set(comments) == set()
    stored = titled(database("SELECT id, data FROM feedback"))
    assert expected.present - stored == set()
    assert expected.absent & stored == set()
    linked = titled(
        database(
            "SELECT f.id, f.data FROM feedback_issue l JOIN feedback f ON f.id = l.feedback_id"
        )
    )
    assert expected.present - linked == set()


def titled(rows: list[tuple[Any, ...]]) -> set[tuple[int, str]]:
    """``(id, title)`` of ``(id, data)`` rows."""
    return {(feedback_id, json.loads(data)["title"]) for feedback_id, data in rows}


# Each counter the service keeps, beside the rows it counts: (id, stored, counted) per row.
COUNTERS = {
    "channel.feedback_count": "SELECT id, feedback_count, "
    "(SELECT COUNT(*) FROM feedback f WHERE f.channel_id = channel.id) FROM channel",
    "issue.feedback_count": "SELECT id, feedback_count, "
    "(SELECT COUNT(*) FROM feedback_issue l WHERE l.issue_id = issue.id) FROM issue",
    "feedback.vote_count": "SELECT id, vote_count, "
    "(SELECT COUNT(*) FROM vote v WHERE v.feedback_id = feedback.id) FROM feedback",
    "feedback.comment_count": "SELECT id, comment_count, "
    "(SELECT COUNT(*) FROM comment c WHERE c.feedback_id = feedback.id) FROM feedback",
}


def assert_counters_match_rows(database: TestDatabase) -> None:
    """Every counter equals its rows, and the search index has one row per feedback."""
    wrong = {
        name: [row for row in database(statement) if row[1] != row[2]]
        for name, statement in COUNTERS.items()
    }
    assert wrong == {name: [] for name in COUNTERS}
    [(feedback,)] = database("SELECT COUNT(*) FROM feedback")
    [(indexed,)] = database("SELECT COUNT(*) FROM feedback_fts")
    [(matched,)] = database("SELECT COUNT(*) FROM feedback f JOIN feedback_fts s ON s.rowid = f.id")
    assert (indexed, matched) == (feedback, feedback)
