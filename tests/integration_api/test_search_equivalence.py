"""Property tests: one filter, expressed through v1 POST, the simple GET and v2 POST, finds the
same feedback, and exactly the feedback an independent Python oracle picks from the data the
test inserted.

Each test builds one random channel (fixed seed, values from small pools so that filters match
something) and hypothesis draws filters against it. Known defects are pinned by the focused
tests in ``test_search.py`` and kept out of the pools here so that these properties can find
new ones: queries are never empty and use letters whose case folding is simple (no ``ß``,
ligatures or NUL), and v1 multiSelect filters are never empty.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ProjectWorld, World, make_feedback
from tests.helpers import Sql
from tests.integration_api.test_search import (
    LIMIT,
    get_search,
    new_channel,
    post_v1,
    post_v2,
    query,
    whole_result,
)

SEED = 20241122
FEEDBACK_COUNT = 40
CONDITIONS = ("CONTAINS", "IS", "BETWEEN")

MESSAGES = [
    "apple pie",
    "Äpfel und Birnen",
    "äpfel",
    "APPLE",
    "50% off",
    "100%",
    "snake_case_name",
    "snakeXcase",
    "naïve café",
    "NAÏVE",
    "über alles",
    "ÜBER",
    "x",
    "",
]
SOURCES = ["web", "Web form", "mobile app", "e-mail", "café"]
LABELS = ["red", "Red", "green", "10", "3", "2024-01-05T00:00:00.000Z"]
SCORES = [0, 1, 3, 3.5, 10, -1]
KINDS = ["bug", "idea"]
TAGS = ["ui", "api", "docs"]
SEEN = ["2024-01-05T00:00:00Z", "2024-02-10T12:30:00+09:00", "2024-03-01"]
ISSUES = ["first issue", "second issue", "third issue"]
SHOTS = ["https://cdn.example.com/apple.png", "https://cdn.example.com/red.png"]

TEXT_KEYS = ("message", "source")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
DAY_ONE = datetime(2024, 1, 1, tzinfo=UTC)
SEOUL = timezone(timedelta(hours=9))

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the data and the oracle -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One inserted feedback as the oracle sees it."""

    id: int
    data: dict[str, Any]
    created: datetime
    updated: datetime
    issue_names: frozenset[str]


@dataclass
class Dataset:
    pw: ProjectWorld
    rows: list[Row]
    issue_ids: dict[str, int] = field(default_factory=dict)
    foreign_ids: list[int] = field(default_factory=list)
    foreign_issue_ids: list[int] = field(default_factory=list)

    def linked(self, row: Row) -> set[int]:
        return {self.issue_ids[name] for name in row.issue_names}

    def expected(self, matches: Callable[[Row], bool]) -> list[int]:
        return sorted((row.id for row in self.rows if matches(row)), reverse=True)


def parse_time(text: str) -> datetime | None:
    """ISO 8601 (no zone means UTC) or RFC 2822, as the API documents."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_number(text: str) -> float | None:
    return float(text) if NUMBER.fullmatch(text) else None


def contains(value: Any, text: str) -> bool:
    return isinstance(value, str) and text.casefold() in value.casefold()


def seen_at(row: Row) -> datetime | None:
    value = row.data.get("seen_at")
    return parse_time(value) if value is not None else None


def matches_field_text(row: Row, key: str, text: str) -> bool:
    """``fieldKey=key&searchText=text``: the field's own comparison, by its format."""
    value = row.data.get(key)
    if key in TEXT_KEYS:
        return contains(value, text)
    if key in ("label", "kind"):
        return value == text
    if key == "tags":
        return text in (value or [])
    if key == "score":
        number = as_number(text)
        return number is not None and value is not None and value == number
    moment = parse_time(text)
    return moment is not None and seen_at(row) == moment


def matches_search_text(row: Row, text: str) -> bool:
    """``searchText`` alone: any text, keyword, select, multiSelect, number or date field."""
    keys = ("message", "source", "label", "kind", "tags", "score", "seen_at")
    return any(matches_field_text(row, key, text) for key in keys)


def in_window(moment: datetime | None, bounds: tuple[datetime, datetime]) -> bool:
    return moment is not None and bounds[0] <= moment < bounds[1]


def store(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def random_body(rng: random.Random) -> dict[str, Any]:
    def maybe(values: list[Any]) -> Any:
        return rng.choice([None, *values])

    body = {
        "message": maybe(MESSAGES),
        "source": maybe(SOURCES),
        "label": maybe(LABELS),
        "score": maybe(SCORES),
        "kind": maybe(KINDS),
        "seen_at": maybe(SEEN),
        "shots": rng.choice([None, SHOTS[:1], SHOTS]),
        "tags": rng.choice([None, rng.sample(TAGS, rng.randint(0, len(TAGS)))]),
    }
    body = {key: value for key, value in body.items() if value is not None}
    body["issueNames"] = rng.sample(ISSUES, rng.randint(0, 2))
    body["createdAt"] = (DAY_ONE + timedelta(minutes=rng.randint(0, 60 * 24 * 60))).isoformat()
    return body


@pytest.fixture
def dataset(app: Flask, world: World, sql: Sql) -> Dataset:
    """40 random feedback in a fresh channel of project A; updatedAt set 0-30 days after
    createdAt. Project A's first channel and project B hold the foreign feedback and issues."""
    rng = random.Random(SEED)
    pw = new_channel(app, world.a, "random")
    rows = []
    for _ in range(FEEDBACK_COUNT):
        body = random_body(rng)
        feedback_id = make_feedback(app, pw.project_id, pw.channel_id, body)
        created = datetime.fromisoformat(body.pop("createdAt"))
        updated = created + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        sql("UPDATE feedback SET updated_at = ? WHERE id = ?", (store(updated), feedback_id))
        names = frozenset(body.pop("issueNames"))
        rows.append(Row(feedback_id, body, created, updated, names))
    issue_ids = dict(sql("SELECT name, id FROM issue WHERE project_id = ?", (pw.project_id,)))
    return Dataset(
        pw,
        rows,
        issue_ids={name: issue_ids[name] for name in ISSUES},
        foreign_ids=world.a.feedback_ids + world.b.feedback_ids,
        foreign_issue_ids=[*world.b.issue_ids, *world.a.issue_ids],
    )


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Filter:
    """One filter: its meaning and every way each route can say it."""

    description: str
    matches: Callable[[Row], bool]
    v1: dict[str, Any] | None = None
    # Equivalent single v2 queries (one per condition that means the same).
    v2: tuple[dict[str, Any], ...] = ()
    get: dict[str, str] | None = None

    def __repr__(self) -> str:
        return self.description


def substrings(values: list[str], longest: int = 6) -> list[str]:
    found = {
        variant
        for value in values
        for start in range(len(value))
        for end in range(start + 1, min(len(value), start + longest) + 1)
        for variant in (value[start:end], value[start:end].upper(), value[start:end].lower())
    }
    return sorted(found)


TEXT_QUERIES = st.one_of(
    st.sampled_from(substrings(MESSAGES + SOURCES)),
    st.text(alphabet="aAäÄpPlLeEüÜïÏnNbBrR%_ xX", min_size=1, max_size=4),
)
NUMBER_TEXTS = ["0", "1", "3", "3.0", "3.5", "3.50", "10", "1e1", "-1", "2"]
DATE_TEXTS = [
    "2024-01-05T00:00:00Z",
    "2024-01-05T09:00:00+09:00",
    "2024-01-05",
    "Fri, 05 Jan 2024 00:00:00 GMT",
    "2024-02-10T03:30:00.000Z",
    "2024-03-01T00:00:00Z",
    "2024-03-02",
]
SEARCH_TEXTS = st.one_of(
    TEXT_QUERIES,
    st.sampled_from(LABELS + KINDS + TAGS + NUMBER_TEXTS + DATE_TEXTS + ["nope"]),
)


def all_conditions(key: str, value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(query(key, value, condition) for condition in CONDITIONS)


@st.composite
def text_filters(draw: st.DrawFn) -> Filter:
    key, text = draw(st.sampled_from(TEXT_KEYS)), draw(TEXT_QUERIES)
    return Filter(
        f"{key} contains {text!r}",
        lambda row: contains(row.data.get(key), text),
        v1={key: text},
        v2=all_conditions(key, text),
        get={"fieldKey": key, "searchText": text},
    )


@st.composite
def equality_filters(draw: st.DrawFn) -> Filter:
    key = draw(st.sampled_from(["label", "kind"]))
    pool = LABELS if key == "label" else [*KINDS, "nope"]
    value = draw(st.one_of(st.sampled_from(pool), TEXT_QUERIES))
    return Filter(
        f"{key} == {value!r}",
        lambda row: row.data.get(key) == value,
        v1={key: value},
        v2=all_conditions(key, value),
        get={"fieldKey": key, "searchText": value},
    )


@st.composite
def number_filters(draw: st.DrawFn) -> Filter:
    number = draw(st.sampled_from([*SCORES, 2, 3.0, -3]))
    return Filter(
        f"score == {number!r}",
        lambda row: row.data.get("score") == number,
        v1={"score": number},
        v2=all_conditions("score", number),
        get={"fieldKey": "score", "searchText": json.dumps(number)},
    )


@st.composite
def tag_filters(draw: st.DrawFn) -> Filter:
    """multiSelect: v1 and CONTAINS need every value, IS the exact set, BETWEEN nothing."""
    condition = draw(st.sampled_from(CONDITIONS))
    tags = draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))

    def held(row: Row) -> set[str]:
        return set(row.data.get("tags") or [])

    if condition == "IS":
        return Filter(
            f"tags IS {tags}",
            lambda row: held(row) == set(tags),
            v2=(query("tags", tags, "IS"),),
        )
    if condition == "BETWEEN":
        return Filter(
            f"tags BETWEEN {tags}", lambda row: True, v2=(query("tags", tags, "BETWEEN"),)
        )
    return Filter(
        f"tags CONTAINS {tags}",
        lambda row: bool(tags) and set(tags) <= held(row),
        v1={"tags": tags} if tags else None,
        v2=(query("tags", tags, "CONTAINS"),),
        get={"fieldKey": "tags", "searchText": tags[0]} if len(tags) == 1 else None,
    )


def bound_text(moment: datetime, form: str) -> str:
    """A window bound in one of the forms clients send: Z, an offset, or no zone (UTC)."""
    if form == "offset":
        return moment.astimezone(SEOUL).isoformat()
    if form == "naive":
        return moment.replace(tzinfo=None).isoformat()
    return moment.isoformat().replace("+00:00", "Z")


@st.composite
def window_filters(draw: st.DrawFn) -> Filter:
    key = draw(st.sampled_from(["createdAt", "updatedAt", "seen_at"]))
    gte = DAY_ONE + timedelta(minutes=draw(st.integers(-60 * 24 * 10, 60 * 24 * 95)))
    lt = gte + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    forms = st.sampled_from(["utc", "offset", "naive"])
    window = {"gte": bound_text(gte, draw(forms)), "lt": bound_text(lt, draw(forms))}

    def moment(row: Row) -> datetime | None:
        if key == "createdAt":
            return row.created
        return row.updated if key == "updatedAt" else seen_at(row)

    return Filter(
        f"{key} in {window}",
        lambda row: in_window(moment(row), (gte, lt)),
        v1={key: window},
        v2=all_conditions(key, window),
    )


def id_filters(ds: Dataset) -> st.SearchStrategy[Filter]:
    pool = [row.id for row in ds.rows] + ds.foreign_ids
    return st.lists(st.sampled_from(pool), max_size=6).map(
        lambda ids: Filter(
            f"ids {ids}",
            lambda row: row.id in ids,
            v1={"ids": ids},
            v2=all_conditions("ids", ids),
        )
    )


def issue_filters(ds: Dataset) -> st.SearchStrategy[Filter]:
    """v1 ``issueIds`` (any of them), v2 IS (exactly them) and CONTAINS (all of them), and
    ``issueName``."""
    ids = st.lists(
        st.sampled_from([*ds.issue_ids.values(), *ds.foreign_issue_ids[:1]]),
        unique=True,
        max_size=3,
    )

    def any_of(wanted: list[int]) -> Filter:
        return Filter(
            f"issueIds any of {wanted}",
            lambda row: bool(ds.linked(row) & set(wanted)),
            v1={"issueIds": wanted},
        )

    def exactly(wanted: list[int]) -> Filter:
        return Filter(
            f"issueIds IS {wanted}",
            lambda row: ds.linked(row) == set(wanted),
            v2=(query("issueIds", wanted, "IS"),),
        )

    def all_of(wanted: list[int]) -> Filter:
        return Filter(
            f"issueIds CONTAINS {wanted}",
            lambda row: set(wanted) <= ds.linked(row),
            v2=(query("issueIds", wanted, "CONTAINS"),),
        )

    def named(name: str) -> Filter:
        return Filter(
            f"issueName {name!r}",
            lambda row: name in row.issue_names,
            v1={"issueName": name},
            get={"issueName": name},
        )

    names = st.sampled_from([*ISSUES, "beta issue 1", "alpha issue 1", "nope"])
    return st.sampled_from([any_of, exactly, all_of, named]).flatmap(
        lambda build: (names if build is named else ids).map(build)
    )


@st.composite
def search_text_filters(draw: st.DrawFn) -> Filter:
    text = draw(SEARCH_TEXTS)
    key = draw(st.sampled_from([None, *TEXT_KEYS, "label", "kind", "tags", "score", "seen_at"]))
    if key is None:
        return Filter(
            f"searchText {text!r}",
            lambda row: matches_search_text(row, text),
            v1={"searchText": text},
        )
    return Filter(
        f"searchText {text!r} in {key}",
        lambda row: matches_field_text(row, key, text),
        v1={"searchText": text, "fieldKey": key},
        get={"fieldKey": key, "searchText": text},
    )


def any_filter(ds: Dataset) -> st.SearchStrategy[Filter]:
    """Any filter, each kind about equally likely (text ones twice as likely)."""
    kinds = [
        text_filters(),
        text_filters(),
        search_text_filters(),
        search_text_filters(),
        equality_filters(),
        number_filters(),
        tag_filters(),
        window_filters(),
        id_filters(ds),
        issue_filters(ds),
    ]
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


# --- running filters through each route ------------------------------------------------------


def v1_found(client: FlaskClient, pw: ProjectWorld, query_: dict[str, Any]) -> list[int]:
    return whole_result(post_v1(client, pw, query_, limit=LIMIT), 201)


def v2_found(client: FlaskClient, pw: ProjectWorld, **body: Any) -> list[int]:
    return whole_result(post_v2(client, pw, limit=LIMIT, **body), 201)


def get_found(client: FlaskClient, pw: ProjectWorld, params: dict[str, str]) -> list[int]:
    return whole_result(get_search(client, pw, limit=LIMIT, **params), 200)


def answers(client: FlaskClient, ds: Dataset, one: Filter) -> dict[str, list[int]]:
    """Every route's answer to one filter, by route."""
    found = {}
    if one.v1 is not None:
        found["v1"] = v1_found(client, ds.pw, one.v1)
    if one.get is not None:
        found["get"] = get_found(client, ds.pw, one.get)
    for v2_query in one.v2:
        found[f"v2 {v2_query['condition']}"] = v2_found(client, ds.pw, queries=[v2_query])
    return found


def disjoint(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    return first is not None and second is not None and not set(first) & set(second)


# --- properties ------------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_each_route_finds_exactly_what_the_oracle_picks(client, dataset, data):
    one = data.draw(any_filter(dataset), label="filter")
    expected = dataset.expected(one.matches)
    found = answers(client, dataset, one)
    assert found
    assert found == dict.fromkeys(found, expected)


@PROPERTY
@given(data=st.data())
def test_two_filters_are_and_ed_alike_in_v1_get_and_v2(client, dataset, data):
    first = data.draw(any_filter(dataset), label="first")
    second = data.draw(any_filter(dataset), label="second")
    expected = dataset.expected(lambda row: first.matches(row) and second.matches(row))
    pw = dataset.pw
    if disjoint(first.v1, second.v1):
        assert v1_found(client, pw, {**first.v1, **second.v1}) == expected, "v1"
    if disjoint(first.get, second.get):
        assert get_found(client, pw, {**first.get, **second.get}) == expected, "get"
    if first.v2 and second.v2:
        both = [first.v2[0], second.v2[-1]]
        assert v2_found(client, pw, queries=both) == expected, "v2 AND"
        assert v2_found(client, pw, queries=both, operator="AND") == expected, "v2 AND"
        assert v2_found(client, pw, queries=both[:1], defaultQueries=both[1:]) == expected
        assert v2_found(client, pw, defaultQueries=both, operator="OR") == expected


@PROPERTY
@given(data=st.data())
def test_v2_or_finds_what_either_query_finds(client, dataset, data):
    v2_filters = any_filter(dataset).filter(lambda one: bool(one.v2))
    first = data.draw(v2_filters, label="first")
    second = data.draw(v2_filters, label="second")
    expected = dataset.expected(lambda row: first.matches(row) or second.matches(row))
    queries = [first.v2[0], second.v2[0]]
    assert v2_found(client, dataset.pw, queries=queries, operator="OR") == expected
