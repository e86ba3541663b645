"""Seed a benchmark database: one board with 1,000,000 realistic feedback.

The schema, project, board, fields, keys and issues are made by the project's own code
(migrations and services), so the benchmark measures the real layout. End users, feedback and
votes are bulk-inserted, through a raw sqlite3 connection, because a million service calls
would take hours; their index rows still come from the app's own ``search_index.index_rows``,
their documents from its ``with_board_defaults``, their public ids and voter keys in its
formats and their column values from its own SQLAlchemy types, so they are exactly what the
app would have written. A sidecar JSON file marks a finished seed (and holds the API key,
which the database only stores hashed), so a complete database is reused instead of rebuilt.

    python bench/seed.py [--rows 1000000] [--path bench/data/bench.sqlite] [--force]
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from corpus import Corpus
from flask import Flask

from feedback_service import create_app
from feedback_service.extensions import db
from feedback_service.models import (
    FTS_TABLE,
    EndUser,
    Feedback,
    Field,
    FieldFormat,
    IssueStatus,
    Vote,
    feedback_issue,
)
from feedback_service.public_ids import ALPHABET, FEEDBACK_PREFIX
from feedback_service.public_ids import LENGTH as PUBLIC_ID_LENGTH
from feedback_service.repositories import search_index
from feedback_service.repositories.search_index import index_rows
from feedback_service.schema import head_revision, schema_is_current, upgrade_to_head
from feedback_service.services import api_keys, channels, issues, projects, public_keys
from feedback_service.services.boards import BOARD_FIELDS, STATUSES, TYPES, with_board_defaults
from feedback_service.services.channels import FieldSpec
from feedback_service.services.votes import end_user_voter
from feedback_service.timestamps import to_iso, utcnow

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = BENCH_DIR / "data" / "bench.sqlite"
DEFAULT_ROWS = 1_000_000
DEFAULT_SEED = 20240601
# Bump when the generated data changes shape, so old databases are rebuilt, not reused.
DATA_FORMAT = 3
BATCH_ROWS = 25_000
SPAN_DAYS = 365
ISSUE_COUNT = 200
LINKED_SHARE = 0.05

CATEGORIES = {"bug": 30, "idea": 25, "question": 20, "praise": 15, "other": 10}
TAGS = {
    "ui": 30,
    "performance": 20,
    "mobile": 18,
    "web": 12,
    "billing": 8,
    "security": 5,
    "accessibility": 4,
    "integration": 3,
}
TAG_COUNTS = {0: 30, 1: 40, 2: 20, 3: 10}
RATINGS = {1: 15, 2: 10, 3: 20, 4: 25, 5: 30}
RATING_SHARE = 0.85
SEEN_AT_SHARE = 0.9
# In the order of the app's own lists, so a changed list fails loudly (zip strict) here.
TYPE_WEIGHTS = dict(zip(TYPES, (30, 45, 15, 10), strict=True))
STATUS_WEIGHTS = dict(zip(STATUSES, (40, 15, 12, 8, 15, 10), strict=True))
END_USERS = 10_000
END_USER_PREFIX = "user-"
# Zipf-like votes: P(votes >= n) = (n + 1) ** -VOTE_EXPONENT, so about 31% of feedback has a
# vote, the mean is about 1 and the most voted have a few thousand (at most END_USERS).
VOTE_EXPONENT = 1.7
ISSUE_PROBLEMS = ("fails", "is slow", "shows an error", "looks wrong", "is missing", "crashes")

# The board's own fields first (as create-board makes them), then the searched ones.
FIELD_SPECS = (
    *BOARD_FIELDS,
    FieldSpec(key="message", format=FieldFormat.text),
    FieldSpec(key="category", format=FieldFormat.select, options=tuple(CATEGORIES)),
    FieldSpec(key="tags", format=FieldFormat.multiSelect, options=tuple(TAGS)),
    FieldSpec(key="rating", format=FieldFormat.number),
    FieldSpec(key="seen_at", format=FieldFormat.date),
)


@dataclass(frozen=True)
class SeedInfo:
    """What the benchmark needs to know about a finished seed (the sidecar's content)."""

    data_format: int
    rows: int
    seed: int
    revision: str
    project_id: int
    channel_id: int
    api_key: str
    public_key: str
    end_users: int
    votes: int
    issue_ids: list[int]
    created_from: str
    created_to: str
    seed_seconds: float


@dataclass(frozen=True)
class Setup:
    """The objects made through the services before the bulk insert."""

    project_id: int
    channel_id: int
    api_key: str
    public_key: str
    fields: list[Field]
    issue_ids: list[int]


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".seed.json")


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def bench_app(path: Path) -> Flask:
    """The project's app on the bench database; a fixed secret keeps it off instance/."""
    return create_app({"DATABASE_URL": database_url(path), "SECRET_KEY": "bench"})


# -- reuse -------------------------------------------------------------------------------


def read_sidecar(path: Path) -> SeedInfo | None:
    try:
        return SeedInfo(**json.loads(sidecar_path(path).read_text()))
    except (FileNotFoundError, TypeError, ValueError):
        return None


SCHEMA_OBJECTS = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master "
    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
)


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def schema_objects(path: Path) -> list[tuple[str, ...]]:
    with closing(read_only(path)) as connection:
        return connection.execute(SCHEMA_OBJECTS).fetchall()


def migrated_schema() -> list[tuple[str, ...]]:
    """The schema the migrations build today, from a scratch database: a seed is only
    reusable if it has exactly this (a migration edited in place keeps its revision id)."""
    with tempfile.TemporaryDirectory(prefix="bench-schema-") as scratch:
        path = Path(scratch) / "schema.sqlite"
        app = bench_app(path)
        with app.app_context():
            upgrade_to_head()
            db.engine.dispose()
        return schema_objects(path)


def feedback_count(path: Path) -> int:
    with closing(read_only(path)) as connection:
        return connection.execute("SELECT count(*) FROM feedback").fetchone()[0]


def reusable(path: Path, rows: int, seed: int) -> SeedInfo | None:
    """The seed info if ``path`` holds a finished seed of these parameters with today's
    schema; a stale or half-written database is rebuilt instead."""
    info = read_sidecar(path)
    if info is None or not path.exists():
        return None
    if (info.data_format, info.rows, info.seed) != (DATA_FORMAT, rows, seed):
        return None
    app = bench_app(path)
    with app.app_context():
        current = schema_is_current() and head_revision() == info.revision
        db.engine.dispose()
    if not current or schema_objects(path) != migrated_schema():
        report("the bench database's schema differs from the migrations': rebuilding")
        return None
    return info if feedback_count(path) == rows else None


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".seed.json"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


# -- setup through the services ----------------------------------------------------------


def issue_names(corpus: Corpus, count: int) -> list[str]:
    """Distinct, plausible issue names such as 'checkout fails'."""
    terms = corpus.moderate_terms + corpus.words[40:200]
    names = (f"{term} {problem}" for term in terms for problem in ISSUE_PROBLEMS)
    unique = list(dict.fromkeys(names))
    random.Random(corpus.seed).shuffle(unique)
    return unique[:count]


def create_issues(project_id: int, corpus: Corpus) -> list[int]:
    statuses = list(IssueStatus)
    ids = []
    for index, name in enumerate(issue_names(corpus, ISSUE_COUNT)):
        fields = issues.IssueFields(
            name=name, description=f"Reported {name}.", status=statuses[index % len(statuses)]
        )
        ids.append(issues.create_issue(project_id, fields).id)
    return ids


def create_setup(app: Flask, corpus: Corpus) -> Setup:
    """Schema by the migrations, everything else by the services, as an operator would."""
    with app.app_context():
        upgrade_to_head()
        project = projects.create_project("Bench", "hot path benchmark", "Asia/Seoul")
        channel = channels.create_channel(project.id, "web", FIELD_SPECS, is_board=True)
        _key, raw_key = api_keys.create_api_key(project.id)
        public_key = public_keys.create_public_key(project.id, channel.id).key
        issue_ids = create_issues(project.id, corpus)
        fields = channels.get_channel(project.id, channel.id).fields
        db.engine.dispose()
    return Setup(project.id, channel.id, raw_key, public_key, list(fields), issue_ids)


# -- generated rows ----------------------------------------------------------------------


def cumulative(choices: dict[Any, int]) -> tuple[list[Any], list[int]]:
    """``(population, cum_weights)`` for ``random.choices``, computed once."""
    return list(choices), list(itertools.accumulate(choices.values()))


def pick(rng: random.Random, choices: tuple[list[Any], list[int]]) -> Any:
    return rng.choices(choices[0], cum_weights=choices[1])[0]


CATEGORY_CHOICES = cumulative(CATEGORIES)
TAG_CHOICES = cumulative(TAGS)
TAG_COUNT_CHOICES = cumulative(TAG_COUNTS)
RATING_CHOICES = cumulative(RATINGS)
TYPE_CHOICES = cumulative(TYPE_WEIGHTS)
STATUS_CHOICES = cumulative(STATUS_WEIGHTS)


def end_user_external_id(end_user_id: int) -> str:
    return f"{END_USER_PREFIX}{end_user_id}"


def end_user_email(end_user_id: int) -> str:
    return f"{end_user_external_id(end_user_id)}@example.com"


def end_user_name(end_user_id: int) -> str:
    return f"User {end_user_id}"


@dataclass(frozen=True)
class Generator:
    """Feedback documents, timestamps and issue links, deterministic per batch."""

    corpus: Corpus
    rows: int
    start: datetime
    issue_ids: Sequence[int]

    @cached_property
    def issue_weights(self) -> list[float]:
        return list(itertools.accumulate(1.0 / rank for rank in range(1, len(self.issue_ids) + 1)))

    def created_at(self, feedback_id: int, rng: random.Random) -> datetime:
        """Increasing with the id, spread evenly over the span, with jitter."""
        step = SPAN_DAYS * 86400 / self.rows
        return self.start + timedelta(seconds=(feedback_id - 1 + rng.random()) * step)

    def document(self, created: datetime, rng: random.Random) -> dict[str, Any]:
        """What an integration would push to the board, as the app stores it."""
        tag_count = pick(rng, TAG_COUNT_CHOICES)
        tags = set(rng.choices(TAG_CHOICES[0], cum_weights=TAG_CHOICES[1], k=tag_count))
        data: dict[str, Any] = {
            "title": self.corpus.title(rng),
            "type": pick(rng, TYPE_CHOICES),
            "status": pick(rng, STATUS_CHOICES),
            "message": self.corpus.sentence(rng),
            "category": pick(rng, CATEGORY_CHOICES),
            "tags": sorted(tags),
        }
        if rng.random() < RATING_SHARE:
            data["rating"] = pick(rng, RATING_CHOICES)
        if rng.random() < SEEN_AT_SHARE:
            data["seen_at"] = to_iso(created - timedelta(seconds=rng.uniform(0, 3 * 86400)))
        return with_board_defaults(data)

    @staticmethod
    def public_id(rng: random.Random) -> str:
        return FEEDBACK_PREFIX + "".join(rng.choices(ALPHABET, k=PUBLIC_ID_LENGTH))

    @staticmethod
    def voters(rng: random.Random) -> list[int]:
        """The end users (ids) who voted: a Zipf-like count of distinct ones."""
        count = int((1.0 - rng.random()) ** (-1.0 / VOTE_EXPONENT)) - 1
        return rng.sample(range(1, END_USERS + 1), min(count, END_USERS)) if count else []

    def linked_issues(self, rng: random.Random) -> list[int]:
        """1-3 distinct issues for 5% of feedback; popular issues collect more."""
        if rng.random() >= LINKED_SHARE:
            return []
        picked = rng.choices(self.issue_ids, cum_weights=self.issue_weights, k=rng.randint(1, 3))
        return sorted(set(picked))


@dataclass
class Batch:
    feedback: list[tuple[Any, ...]]
    fts: list[dict[str, Any]]
    values: list[dict[str, Any]]
    links: list[tuple[Any, ...]]
    votes: list[tuple[Any, ...]]


def column_processor(column: Any) -> Callable[[Any], Any]:
    """The app's own conversion of a Python value for ``column`` (JSON text, UTC datetime
    text), so bulk rows are stored byte-for-byte as the ORM would store them."""
    dialect = db.engine.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor or (lambda value: value)


# The app's voter key of each seeded end user, by id.
VOTER_KEYS = [""] + [end_user_voter(EndUser(id=n)) for n in range(1, END_USERS + 1)]


def build_batch(
    generator: Generator, fields: list[Field], first_id: int, last_id: int, channel_id: int
) -> Batch:
    rng = random.Random(f"{generator.corpus.seed}:{first_id}")
    as_json = column_processor(Feedback.__table__.c.data)
    as_time = column_processor(Feedback.__table__.c.created_at)
    as_link_time = column_processor(feedback_issue.c.created_at)
    as_vote_time = column_processor(Vote.__table__.c.created_at)
    batch = Batch([], [], [], [], [])
    for feedback_id in range(first_id, last_id + 1):
        created = generator.created_at(feedback_id, rng)
        data = generator.document(created, rng)
        stamp = as_time(created)
        voters = generator.voters(rng)
        batch.feedback.append(
            (
                feedback_id,
                channel_id,
                as_json(data),
                stamp,
                stamp,
                generator.public_id(rng),
                len(voters),
            )
        )
        fts_row, values = index_rows(feedback_id, channel_id, data, fields)
        batch.fts.append(fts_row)
        batch.values += values
        link_time = as_link_time(created)
        batch.links += [(feedback_id, i, link_time) for i in generator.linked_issues(rng)]
        # Votes carry the feedback's own time: nothing reads when a vote was cast.
        vote_time = as_vote_time(created)
        batch.votes += [(feedback_id, VOTER_KEYS[n], n, vote_time) for n in voters]
    return batch


def end_user_rows(project_id: int, created: datetime) -> list[tuple[Any, ...]]:
    stamp = column_processor(EndUser.__table__.c.created_at)(created)
    return [
        (n, project_id, end_user_external_id(n), end_user_email(n), end_user_name(n), stamp, stamp)
        for n in range(1, END_USERS + 1)
    ]


# -- bulk insert -------------------------------------------------------------------------

INSERT_FEEDBACK = (
    "INSERT INTO feedback "
    "(id, channel_id, data, created_at, updated_at, public_id, vote_count, comment_count) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
)
INSERT_END_USER = (
    "INSERT INTO end_user (id, project_id, external_id, email, name, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_VOTE = (
    "INSERT INTO vote (feedback_id, voter_key, end_user_id, created_at) VALUES (?, ?, ?, ?)"
)
# The FTS5 row's columns as the app's own table definition names them (rowid, channel, c0...).
FTS_COLUMNS = [column.name for column in search_index.fts.columns]
INSERT_FTS = (
    f"INSERT INTO {FTS_TABLE} ({', '.join(FTS_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in FTS_COLUMNS)})"
)
INSERT_VALUE = (
    "INSERT INTO feedback_value (feedback_id, field_id, text_value, num_value) "
    "VALUES (:feedback_id, :field_id, :text_value, :num_value)"
)
INSERT_LINK = "INSERT INTO feedback_issue (feedback_id, issue_id, created_at) VALUES (?, ?, ?)"
# The counters the app keeps in SQL on every write, set once to their exact values.
COUNTERS = (
    "UPDATE issue SET feedback_count = "
    "(SELECT count(*) FROM feedback_issue WHERE feedback_issue.issue_id = issue.id)",
    "UPDATE channel SET feedback_count = "
    "(SELECT count(*) FROM feedback WHERE feedback.channel_id = channel.id)",
)


def bulk_connection(path: Path) -> sqlite3.Connection:
    """A connection tuned for one-off loading: no journal and no fsync (a crash only loses
    a seed that is rebuilt anyway), a large page cache for the index b-trees."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1048576")
    connection.execute("PRAGMA temp_store=MEMORY")
    return connection


def insert_end_users(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    connection.execute("BEGIN")
    connection.executemany(INSERT_END_USER, rows)
    connection.execute("COMMIT")


def insert_batch(connection: sqlite3.Connection, batch: Batch) -> None:
    connection.execute("BEGIN")
    connection.executemany(INSERT_FEEDBACK, batch.feedback)
    connection.executemany(INSERT_FTS, batch.fts)
    connection.executemany(INSERT_VALUE, batch.values)
    connection.executemany(INSERT_LINK, batch.links)
    connection.executemany(INSERT_VOTE, batch.votes)
    connection.execute("COMMIT")


def batch_bounds(rows: int) -> Iterator[tuple[int, int]]:
    for first in range(1, rows + 1, BATCH_ROWS):
        yield first, min(first + BATCH_ROWS - 1, rows)


def load_feedback(path: Path, app: Flask, setup: Setup, generator: Generator) -> int:
    """Insert end users, feedback and their rows; the number of votes."""
    connection = bulk_connection(path)
    try:
        with app.app_context():
            insert_end_users(connection, end_user_rows(setup.project_id, generator.start))
            for first, last in batch_bounds(generator.rows):
                batch = build_batch(generator, setup.fields, first, last, setup.channel_id)
                insert_batch(connection, batch)
                progress(last, generator.rows)
        for statement in COUNTERS:
            connection.execute(statement)
        # Back to the mode the app runs in (WAL is persistent in the file).
        connection.execute("PRAGMA journal_mode=WAL")
        return connection.execute("SELECT count(*) FROM vote").fetchone()[0]
    finally:
        connection.close()


def report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def progress(done: int, total: int) -> None:
    if done % 200_000 < BATCH_ROWS or done == total:
        report(f"  {done:>9,} / {total:,} feedback")


# -- entry points ------------------------------------------------------------------------


# The index layout the bulk insert writes: index_rows(feedback_id, channel_id, data, fields)
# returning (one FTS5 row, feedback_value rows).
INDEX_ROWS_PARAMETERS = ["feedback_id", "channel_id", "data", "fields"]


def check_index_layout() -> None:
    """Refuse early (before deleting anything) if the app's search index layout is not the
    one ``insert_batch`` writes, rather than seed a database the app would misread."""
    parameters = list(inspect.signature(index_rows).parameters)
    if parameters != INDEX_ROWS_PARAMETERS:
        raise SystemExit(
            f"bench/seed.py writes the index rows of index_rows{tuple(INDEX_ROWS_PARAMETERS)};"
            f" the app now has index_rows{tuple(parameters)}: update build_batch and"
            " insert_batch to match"
        )


def seed(path: Path, rows: int, seed_value: int) -> SeedInfo:
    """Build the database from scratch and write the sidecar last, marking it complete."""
    check_index_layout()
    started = time.perf_counter()
    remove_database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(seed_value)
    app = bench_app(path)
    setup = create_setup(app, corpus)
    start = utcnow() - timedelta(days=SPAN_DAYS)
    generator = Generator(corpus, rows, start, setup.issue_ids)
    votes = load_feedback(path, app, setup, generator)
    with app.app_context():
        revision = head_revision()
    info = SeedInfo(
        data_format=DATA_FORMAT,
        rows=rows,
        seed=seed_value,
        revision=revision,
        project_id=setup.project_id,
        channel_id=setup.channel_id,
        api_key=setup.api_key,
        public_key=setup.public_key,
        end_users=END_USERS,
        votes=votes,
        issue_ids=setup.issue_ids,
        created_from=to_iso(start),
        created_to=to_iso(start + timedelta(days=SPAN_DAYS)),
        seed_seconds=round(time.perf_counter() - started, 1),
    )
    sidecar_path(path).write_text(json.dumps(asdict(info), indent=2) + "\n")
    return info


def ensure_seed(
    path: Path = DEFAULT_PATH, rows: int = DEFAULT_ROWS, seed_value: int = DEFAULT_SEED
) -> tuple[SeedInfo, bool]:
    """``(info, reused)``: the existing complete seed, or a fresh one."""
    info = reusable(path, rows, seed_value)
    if info is not None:
        return info, True
    report(f"seeding {rows:,} feedback into {path} ...")
    return seed(path, rows, seed_value), False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="rebuild even if complete")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.force:
        remove_database(args.path)
    info, reused = ensure_seed(args.path.resolve(), args.rows, args.seed)
    state = "reused" if reused else "seeded"
    print(f"{state} {info.rows:,} feedback; seeding took {info.seed_seconds:.1f} s")


if __name__ == "__main__":
    main()
