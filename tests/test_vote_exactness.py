"""Vote toggles under real concurrency: gunicorn with 4 workers, clients in threads and processes.

About 1,200 toggles by 15 voters on 2 feedback items, from 32 threads here and from 3 client
processes of 8 threads each. What must hold however the toggles interleave (reliability
reference, 8.3 T-http-toggle):

* every toggle is answered 200 with a boolean ``voted`` and an integer ``voteCount``;
* toggles of one voter on one feedback serialise, so their answers alternate: of n toggles
  exactly ceil(n / 2) answer ``voted: true``, and the voter's final state is the parity of n;
* ``feedback.vote_count`` equals the vote rows, and equals the count the answers imply;
* the database passes its own consistency check (``PRAGMA integrity_check``, amcheck).

Anonymous voters are told apart by their address: the clients connect from 127.0.0.1,
127.0.0.2 and 127.0.0.3 (the server trusts no proxy header).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import served
from tests.databases import TestDatabase
from tests.served import Call, Reply, Served, Site

WORKERS = 4
THREADS = 8
CLIENT_THREADS = 32
CLIENT_PROCESSES = 3
PROCESS_THREADS = 8
TOGGLES_IN_THREADS = 900
TOGGLES_PER_PROCESS = 100
IDENTIFIED_VOTERS = tuple(f"voter-{n:02d}" for n in range(12))
ANONYMOUS_VOTERS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
# The author of every feedback: its first vote, and never one of the voters above.
AUTHOR = "author"
AUTHOR_ADDRESS = "127.0.0.200"
RACERS = 32


# A voter: ("user", external id) or ("anonymous", client address).
Voter = tuple[str, str]


@pytest.fixture
def server(template: Site, tmp_path: Path) -> Iterator[Served]:
    site = served.copy_site(template, tmp_path / "site")
    with served.serve(site, workers=WORKERS, threads=THREADS, env=served.LIMITS_OFF) as running:
        yield running


def submit_feedback(server: Served, title: str) -> str:
    api = served.Api(server.port, server.site.ids.public_key, AUTHOR_ADDRESS)
    created = api.post("/api/v1/feedback", {"title": title, "endUser": {"externalId": AUTHOR}})
    assert created.status == 201, created
    assert created.json()["feedback"]["voteCount"] == 1
    return str(created.json()["feedback"]["id"])


def toggle(server: Served, voter: Voter, public_id: str) -> Call:
    kind, name = voter
    path = f"/api/v1/feedback/{public_id}/vote"
    if kind == "user":
        return served.Api(server.port, server.site.ids.public_key).call(
            "POST", path, {"endUser": {"externalId": name}}
        )
    return served.Api(server.port, server.site.ids.public_key, name).call("POST", path, {})


def vote_state(server: Served, voter: Voter, public_id: str) -> Reply:
    kind, name = voter
    path = f"/api/v1/feedback/{public_id}/vote"
    if kind == "user":
        return served.Api(server.port, server.site.ids.public_key).get(f"{path}?endUserId={name}")
    return served.Api(server.port, server.site.ids.public_key, name).get(path)


def vote_answers(replies: list[Reply]) -> list[bool | None]:
    """The ``voted`` of each 200 answer, its body checked; None for any other answer.

    Every request must have been answered: without an answer, whether its toggle happened is
    unknown. Any other answer rolled back, so it toggled nothing; such answers fail the test in
    :func:`assert_all_answered_200`, called last so that the counts are checked first.
    """
    unanswered = [reply.raw.decode() for reply in replies if reply.status == served.NO_REPLY]
    assert not unanswered, unanswered[:3]
    states: list[bool | None] = []
    for reply in replies:
        if reply.status != 200:
            states.append(None)
            continue
        body = reply.json()
        assert set(body) == {"voted", "voteCount"}, reply
        assert type(body["voted"]) is bool, reply
        assert type(body["voteCount"]) is int, reply
        assert body["voteCount"] >= 0, reply
        states.append(body["voted"])
    return states


def assert_all_answered_200(server: Served, replies: list[Reply]) -> None:
    statuses = Counter(reply.status for reply in replies)
    unexpected = [str(reply) for reply in replies if reply.status != 200][:5]
    busy = [line for line in server.log().splitlines() if "busy past the busy timeout" in line]
    assert statuses == {200: len(replies)}, (unexpected, busy[:5])
    assert "Traceback" not in server.log()


def alternates(states: list[bool]) -> bool:
    """Serialised toggles of one voter, from no vote: ceil(n / 2) added, floor(n / 2) removed."""
    return Counter(states) == Counter({True: (len(states) + 1) // 2, False: len(states) // 2})


def assert_counts_match_rows(database: TestDatabase) -> dict[str, int]:
    """Every feedback's ``vote_count`` equals its vote rows; the counts by public id."""
    rows = database.query(
        "SELECT f.public_id, f.vote_count, "
        "(SELECT COUNT(*) FROM vote v WHERE v.feedback_id = f.id) FROM feedback f",
    )
    assert rows, "no feedback in the database"
    assert [(public_id, count) for public_id, count, _ in rows] == [
        (public_id, actual) for public_id, _, actual in rows
    ]
    assert database.integrity_problems() == []
    return {public_id: count for public_id, count, _ in rows}


def identified_votes(database: TestDatabase) -> set[tuple[str, str]]:
    """(external id, feedback public id) of every end user's vote row."""
    rows = database.query(
        "SELECT e.external_id, f.public_id FROM vote v "
        "JOIN end_user e ON e.id = v.end_user_id JOIN feedback f ON f.id = v.feedback_id",
    )
    return {(external_id, public_id) for external_id, public_id in rows}


def anonymous_votes(database: TestDatabase) -> Counter[str]:
    """Anonymous vote rows per feedback public id."""
    rows = database.query(
        "SELECT f.public_id FROM vote v JOIN feedback f ON f.id = v.feedback_id "
        "WHERE v.voter_key LIKE 'a%'",
    )
    return Counter(public_id for (public_id,) in rows)


def run_from_threads_and_processes(
    server: Served, in_threads: list[Call], per_process: list[list[Call]]
) -> list[Reply]:
    """Send ``in_threads`` from this process and each ``per_process`` list from its own process,
    all starting together; the replies in the order of the calls, this process's first."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(per_process) + 1)
    out = context.Queue()
    processes = [
        context.Process(
            target=served.send_in_process,
            args=(server.port, tag, calls, PROCESS_THREADS, start, out),
            daemon=True,
        )
        for tag, calls in enumerate(per_process)
    ]
    with served.running(processes):
        start.wait(timeout=60)
        replies = served.send_all(server.port, in_threads, CLIENT_THREADS)
        by_tag = dict(out.get(timeout=120) for _ in processes)
    for tag in range(len(per_process)):
        replies += by_tag[tag]
    return replies


def test_concurrent_toggles_keep_counts_exact(server: Served):
    database = server.site.cli.database
    feedback = [submit_feedback(server, "Dark mode"), submit_feedback(server, "Export to CSV")]
    voters: list[Voter] = [("user", name) for name in IDENTIFIED_VOTERS]
    voters += [("anonymous", address) for address in ANONYMOUS_VOTERS]
    rng = random.Random(20261122)
    total = TOGGLES_IN_THREADS + CLIENT_PROCESSES * TOGGLES_PER_PROCESS
    plan = [(rng.choice(voters), rng.choice(feedback)) for _ in range(total)]
    calls = [toggle(server, voter, public_id) for voter, public_id in plan]
    in_threads = calls[:TOGGLES_IN_THREADS]
    rest = calls[TOGGLES_IN_THREADS:]
    per_process = [
        rest[n * TOGGLES_PER_PROCESS : (n + 1) * TOGGLES_PER_PROCESS]
        for n in range(CLIENT_PROCESSES)
    ]

    replies = run_from_threads_and_processes(server, in_threads, per_process)

    assert len(replies) == len(plan) == total
    states = vote_answers(replies)
    answers: defaultdict[tuple[Voter, str], list[bool]] = defaultdict(list)
    net_change: Counter[str] = Counter()
    for (voter, public_id), voted in zip(plan, states, strict=True):
        if voted is not None:
            answers[voter, public_id].append(voted)
            net_change[public_id] += 1 if voted else -1
    # One voter's toggles on one feedback alternate, starting with an added vote.
    for key, voter_states in answers.items():
        assert alternates(voter_states), (key, Counter(voter_states))
    voted_at_end = {key for key, voter_states in answers.items() if len(voter_states) % 2 == 1}

    counts = assert_counts_match_rows(database)
    assert counts == {public_id: 1 + net_change[public_id] for public_id in feedback}
    expected_identified = {
        (name, public_id) for ((kind, name), public_id) in voted_at_end if kind == "user"
    }
    expected_identified |= {(AUTHOR, public_id) for public_id in feedback}
    assert identified_votes(database) == expected_identified
    assert anonymous_votes(database) == Counter(
        public_id for ((kind, _), public_id) in voted_at_end if kind == "anonymous"
    )
    # The API reports the same state to each voter.
    for voter in voters:
        for public_id in feedback:
            state = vote_state(server, voter, public_id)
            assert state.status == 200, state
            assert state.json() == {
                "voted": (voter, public_id) in voted_at_end,
                "voteCount": counts[public_id],
            }
    # A clean shutdown checkpoints the WAL into the file, which still holds the same counts.
    assert server.stop() == 0
    assert assert_counts_match_rows(database) == counts
    # No 5xx (and no other answer) at all.
    assert_all_answered_200(server, replies)


def race(server: Served, call: Call, racers: int) -> list[Reply]:
    """Send ``call`` from ``racers`` threads released together."""
    start = threading.Barrier(racers)

    def send_when_released(_: int) -> Reply:
        start.wait(timeout=30)
        return served.send_or_describe(server.port, call)

    with ThreadPoolExecutor(max_workers=racers) as pool:
        return list(pool.map(send_when_released, range(racers)))


def test_simultaneous_first_votes_of_one_voter_serialise(server: Served):
    database = server.site.cli.database
    public_id = submit_feedback(server, "Keyboard shortcuts")

    # A new end user: the racing toggles also race to create them.
    identified = race(server, toggle(server, ("user", "racer"), public_id), RACERS)
    states = [voted for voted in vote_answers(identified) if voted is not None]
    assert alternates(states), Counter(states)
    stays = len(states) % 2  # 0 when all 32 succeed
    assert assert_counts_match_rows(database) == {public_id: 1 + stays}
    assert len(identified_votes(database)) == 1 + stays
    assert database.query("SELECT COUNT(*) FROM end_user WHERE external_id = 'racer'") == [(1,)]

    # An anonymous voter from a new address, an odd number of times: one vote stays.
    anonymous = race(server, toggle(server, ("anonymous", "127.0.0.9"), public_id), RACERS - 1)
    states = [voted for voted in vote_answers(anonymous) if voted is not None]
    assert alternates(states), Counter(states)
    assert assert_counts_match_rows(database) == {public_id: 1 + stays + len(states) % 2}
    assert anonymous_votes(database) == Counter({public_id: len(states) % 2})
    assert vote_state(server, ("anonymous", "127.0.0.9"), public_id).json() == {
        "voted": len(states) % 2 == 1,
        "voteCount": 1 + stays + len(states) % 2,
    }
    assert_all_answered_200(server, identified + anonymous)
