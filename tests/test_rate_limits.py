"""Rate limits as served: exact across gunicorn workers, per surface, and in the API's shapes.

The served tests run ``feedback-service serve`` with several workers, because a limit that only
holds inside one process (``memory://``) lets each worker grant the whole budget (reliability
reference, 2.1 and 8.3 T-rate); one test shows that this setup does catch that. The counters'
SQLite storage is also tested on its own, in this process and from several processes.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from limits.storage import storage_from_string

from feedback_service.extensions import db
from feedback_service.ratelimit_storage import PURGE_EVERY, SQLiteStorage, path_from_uri
from feedback_service.services import boards, public_keys
from tests import served
from tests.conftest import make_test_app
from tests.databases import SqliteFile, TestDatabase
from tests.factories import make_project
from tests.served import Reply, Served, Site

REDIS_URI = "redis://127.0.0.1:6379"
# Nothing listens on port 1: the limiter's store is down from the start.
UNREACHABLE_REDIS_URI = "redis://127.0.0.1:1"
PUBLIC_429 = b'{"error":"Too many requests, please slow down"}\n'
WORKERS = 4
BURST = 40
LIMIT = 5
STORAGE_PROCESSES = 4
INCREMENTS_PER_PROCESS = 200


def identify_burst(server: Served) -> list[Reply]:
    """``BURST`` identify requests at once, each for its own end user."""
    calls = [
        server.public.call("POST", "/api/v1/identify", {"externalId": f"burst-{n}"})
        for n in range(BURST)
    ]
    return served.send_all(server.port, calls, BURST)


def assert_public_429(reply: Reply, limit: int) -> None:
    assert reply.status == 429, reply
    assert reply.raw == PUBLIC_429
    assert reply.headers["content-type"] == "application/json"
    assert 0 < int(reply.headers["retry-after"]) <= 60
    assert reply.headers["x-ratelimit-limit"] == str(limit)
    assert reply.headers["x-ratelimit-remaining"] == "0"


def assert_exactly_limit_granted(server: Served, replies: list[Reply]) -> None:
    assert Counter(reply.status for reply in replies) == {200: LIMIT, 429: BURST - LIMIT}, [
        str(reply) for reply in replies if reply.status not in (200, 429)
    ][:5]
    for reply in replies:
        if reply.status == 429:
            assert_public_429(reply, LIMIT)
    granted = {reply.json()["user"]["id"] for reply in replies if reply.status == 200}
    # The refused requests wrote nothing.
    created = server.site.cli.database.query("SELECT external_id FROM end_user")
    assert {external_id for (external_id,) in created} == granted
    assert len(granted) == LIMIT


def test_public_write_limit_is_exact_across_workers_with_sqlite_counters(site: Site):
    env = {"FEEDBACK_RATELIMIT_PUBLIC_WRITE": f"{LIMIT} per minute"}
    with served.serve(site, workers=WORKERS, env=env) as server:
        replies = identify_burst(server)
    assert_exactly_limit_granted(server, replies)
    # The default store: a SQLite file in the instance folder, one counter for the burst.
    counters = SqliteFile(site.cli.instance / "ratelimit.sqlite").query(
        "SELECT key, count FROM ratelimit_counter"
    )
    assert [(key.endswith(f"/public-write/{LIMIT}/1/minute"), n) for key, n in counters] == [
        (True, BURST)
    ]


def test_public_write_limit_is_exact_across_workers_with_redis(site: Site):
    store = redis.Redis.from_url(REDIS_URI)
    assert store.ping()  # Redis must run here: this test fails, never skips, without it.
    prefix = f"fbtest-{uuid.uuid4().hex}"
    pattern = f"*/{prefix}/*"
    env = {
        "FEEDBACK_RATELIMIT_PUBLIC_WRITE": f"{LIMIT} per minute",
        "FEEDBACK_RATELIMIT_STORAGE_URI": REDIS_URI,
        "FEEDBACK_RATELIMIT_KEY_PREFIX": prefix,
    }
    try:
        with served.serve(site, workers=WORKERS, env=env) as server:
            replies = identify_burst(server)
        assert_exactly_limit_granted(server, replies)
        # The counts were kept in Redis, not in a per-process fallback.
        keys = list(store.scan_iter(match=pattern))
        assert [
            (key.decode().endswith(f"/public-write/{LIMIT}/1/minute"), store.get(key))
            for key in keys
        ] == [(True, str(BURST).encode())]
        assert "falling back" not in server.log()
    finally:
        for key in store.scan_iter(match=pattern):
            store.delete(key)
        store.close()


def test_per_process_memory_counters_let_more_through(site: Site):
    """The same burst against ``memory://``: each worker grants its own budget."""
    env = {
        "FEEDBACK_RATELIMIT_PUBLIC_WRITE": f"{LIMIT} per minute",
        "FEEDBACK_RATELIMIT_STORAGE_URI": "memory://",
    }
    with served.serve(site, workers=WORKERS, env=env) as server:
        replies = identify_burst(server)
    statuses = Counter(reply.status for reply in replies)
    assert set(statuses) == {200, 429}
    assert statuses[200] > LIMIT
    for reply in replies:
        if reply.status == 429:
            assert_public_429(reply, LIMIT)


def test_integration_limit_answers_in_the_nestjs_shape(site: Site):
    other_key = site.create_api_key()
    env = {"FEEDBACK_RATELIMIT_INTEGRATION": "3 per minute"}
    with served.serve(site, workers=2, env=env) as server:
        api = server.integration
        project = f"/api/projects/{site.ids.project_id}"
        assert [api.get(project).status for _ in range(3)] == [200, 200, 200]

        # Every route of the integration API draws on the key's one budget.
        refused = api.get(f"{project}/categories?page=1")
        assert refused.status == 429, refused
        assert refused.json() == {
            "message": "ThrottlerException: Too Many Requests",
            "error": "Too Many Requests",
            "statusCode": 429,
            "path": f"{project}/categories?page=1",
        }
        assert refused.headers["content-type"] == "application/json"
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-ratelimit-limit"] == "3"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert api.get(project).status == 429

        # Per key: another key of the project has its own budget; the public API is apart.
        assert served.Api(server.port, other_key).get(project).status == 200
        assert server.public.get("/api/v1/feedback").status == 200


def test_public_reads_and_writes_have_separate_budgets(site: Site):
    """Writes and reads: one budget each per client address, whatever the key presented."""
    second_key = site.create_public_key()
    env = {
        "FEEDBACK_RATELIMIT_PUBLIC_WRITE": "3 per minute",
        "FEEDBACK_RATELIMIT_PUBLIC_READ": "4 per minute",
    }
    with served.serve(site, workers=2, env=env) as server:
        first = served.Api(server.port, site.ids.public_key)
        second = served.Api(server.port, second_key)
        first_elsewhere = served.Api(server.port, site.ids.public_key, "127.0.0.2")

        def identify(api: served.Api, name: str) -> int:
            return api.post("/api/v1/identify", {"externalId": name}).status

        assert [identify(first, "w1"), identify(second, "w2"), identify(first, "w3")] == [200] * 3
        # The address's write budget is spent, for every key and every write route.
        assert_public_429(second.post("/api/v1/identify", {"externalId": "w4"}), 3)
        assert_public_429(first.post("/api/v1/feedback", {"title": "Late"}), 3)
        # Another address writes on.
        assert identify(first_elsewhere, "w5") == 200

        # Reads are not touched by the spent write budget, and are counted apart.
        assert [first.get("/api/v1/feedback").status for _ in range(4)] == [200] * 4
        assert_public_429(first.get("/api/v1/feedback"), 4)
        # Per address: another key (even an invalid one) buys no fresh budget.
        assert_public_429(second.get("/api/v1/feedback"), 4)
        invalid = served.Api(server.port, "fhpk_not-a-key")
        assert_public_429(invalid.get("/api/v1/feedback"), 4)
        assert first_elsewhere.get("/api/v1/feedback").status == 200
        # Reads did not spend the other address's writes: 2 of its 3 remain.
        assert [identify(first_elsewhere, "w6"), identify(first_elsewhere, "w7")] == [200, 200]
        assert_public_429(first_elsewhere.post("/api/v1/identify", {"externalId": "w8"}), 3)
        # The health check is not limited.
        assert all(
            served.send(server.port, served.Call("GET", "/api/health")).status == 200
            for _ in range(6)
        )
    names = site.cli.database.query("SELECT external_id FROM end_user ORDER BY external_id")
    assert names == [("w1",), ("w2",), ("w3",), ("w5",), ("w6",), ("w7",)]
    assert site.cli.database.query("SELECT COUNT(*) FROM feedback") == [(0,)]


def test_served_limits_fall_back_to_memory_when_redis_is_down(site: Site):
    env = {
        "FEEDBACK_RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS_URI,
        "FEEDBACK_RATELIMIT_PUBLIC_WRITE": "2 per minute",
    }
    # One worker, so that the per-process fallback counts every request.
    with served.serve(site, workers=1, env=env) as server:
        statuses = [
            server.public.post("/api/v1/identify", {"externalId": f"down-{n}"}).status
            for n in range(2)
        ]
        assert statuses == [200, 200]
        assert_public_429(server.public.post("/api/v1/identify", {"externalId": "down-2"}), 2)
        assert server.public.get("/api/v1/feedback").status == 200
        assert server.integration.get(f"/api/projects/{site.ids.project_id}").status == 200
    log = server.log()
    assert "Rate limit storage unreachable - falling back to in-memory storage" in log
    assert '" 500 ' not in log


@pytest.fixture
def limited_app(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(
        database,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=UNREACHABLE_REDIS_URI,
        RATELIMIT_PUBLIC_WRITE="2 per minute",
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_in_process_app_answers_when_redis_is_down(limited_app: Flask):
    project_id = make_project(limited_app, "Down")
    with limited_app.app_context():
        board = boards.create_board(project_id, "Ideas")
        key = public_keys.create_public_key(project_id, board.id).key
    client = limited_app.test_client()
    headers = {"x-api-key": key}

    def identify(name: str) -> Any:
        return client.post("/api/v1/identify", json={"externalId": name}, headers=headers)

    assert [identify("a").status_code, identify("b").status_code] == [200, 200]
    refused = identify("c")
    assert refused.status_code == 429
    assert refused.get_data() == PUBLIC_429
    assert client.get("/api/v1/feedback", headers=headers).status_code == 200


# --- the SQLite counter storage on its own -----------------------------------------------------


@pytest.fixture
def counters(tmp_path: Path) -> SQLiteStorage:
    return SQLiteStorage(f"sqlite:///{tmp_path / 'counters.sqlite'}")


def test_incr_counts_up_per_key(counters: SQLiteStorage):
    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.incr("other", 60) == 1
    assert counters.incr("k", 60, amount=5) == 8
    assert (counters.get("k"), counters.get("other"), counters.get("missing")) == (8, 1, 0)


def test_expiry_is_set_by_the_first_hit_of_a_window(counters: SQLiteStorage):
    before = time.time()
    counters.incr("k", 60)
    after = time.time()
    first_expiry = counters.get_expiry("k")
    assert before + 60 <= first_expiry <= after + 60
    counters.incr("k", 60)
    assert counters.get_expiry("k") == first_expiry
    assert before <= counters.get_expiry("missing") <= time.time() + 1


def test_an_expired_counter_restarts(counters: SQLiteStorage):
    counters.incr("k", 60)
    with closing(sqlite3.connect(counters.path)) as connection, connection:
        connection.execute(
            "UPDATE ratelimit_counter SET count = 7, expires_at = ? WHERE key = 'k'",
            (time.time() - 1,),
        )
    assert counters.get("k") == 0
    before = time.time()
    assert counters.incr("k", 60) == 1
    assert counters.get("k") == 1
    assert counters.get_expiry("k") >= before + 60


def test_expired_counters_are_purged_every_so_many_hits(counters: SQLiteStorage):
    counters.incr("stale", 60)
    with closing(sqlite3.connect(counters.path)) as connection, connection:
        connection.execute("UPDATE ratelimit_counter SET expires_at = 0 WHERE key = 'stale'")
    for _ in range(PURGE_EVERY - 2):
        counters.incr("busy", 60)
    assert SqliteFile(Path(counters.path)).query(
        "SELECT key FROM ratelimit_counter ORDER BY key"
    ) == [
        ("busy",),
        ("stale",),
    ]
    counters.incr("busy", 60)  # the connection's PURGE_EVERY-th hit
    assert SqliteFile(Path(counters.path)).query("SELECT key, count FROM ratelimit_counter") == [
        ("busy", PURGE_EVERY - 1)
    ]


def test_clear_reset_and_check(counters: SQLiteStorage, tmp_path: Path):
    for key in ("a", "b", "c"):
        counters.incr(key, 60)
    counters.clear("a")
    assert (counters.get("a"), counters.get("b")) == (0, 1)
    assert counters.incr("a", 60) == 1
    assert counters.reset() == 3
    assert [counters.get(key) for key in ("a", "b", "c")] == [0, 0, 0]
    assert counters.check() is True
    nowhere = SQLiteStorage(f"sqlite:///{tmp_path / 'missing-folder' / 'counters.sqlite'}")
    assert nowhere.check() is False


def test_the_sqlite_scheme_is_registered_and_needs_a_path(tmp_path: Path):
    storage = storage_from_string(f"sqlite:///{tmp_path / 'counters.sqlite'}")
    assert isinstance(storage, SQLiteStorage)
    assert storage.path == str(tmp_path / "counters.sqlite")
    assert path_from_uri("sqlite:////var/lib/feedback/rl.sqlite") == "/var/lib/feedback/rl.sqlite"
    assert path_from_uri("sqlite:///relative.sqlite") == "relative.sqlite"
    for uri in ("sqlite://", "sqlite:///", "sqlite:relative.sqlite", "redis://127.0.0.1:6379"):
        with pytest.raises(ValueError, match="expected sqlite:///<path to a file>"):
            path_from_uri(uri)
    with pytest.raises(ValueError):
        storage_from_string("sqlite://")


def increment_many(uri: str, times: int, start: Any, out: Any) -> None:
    """A process of :func:`test_processes_share_one_exact_counter`."""
    storage = SQLiteStorage(uri)
    storage.check()  # open the connection (and create the table) before the race
    start.wait()
    out.put([storage.incr("shared", 60) for _ in range(times)])


def test_processes_share_one_exact_counter(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'counters.sqlite'}"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(STORAGE_PROCESSES)
    out = context.Queue()
    processes = [
        context.Process(
            target=increment_many, args=(uri, INCREMENTS_PER_PROCESS, start, out), daemon=True
        )
        for _ in range(STORAGE_PROCESSES)
    ]
    with served.running(processes):
        returned = [out.get(timeout=60) for _ in processes]
    total = STORAGE_PROCESSES * INCREMENTS_PER_PROCESS
    assert SQLiteStorage(uri).get("shared") == total
    # Each hit got its own count: no two processes ever read the same value.
    assert sorted(count for counts in returned for count in counts) == list(range(1, total + 1))
    # Within one process the counts only grow.
    assert all(counts == sorted(counts) for counts in returned)
