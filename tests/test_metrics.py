"""Prometheus metrics at ``/metrics``: exact counts across gunicorn workers, bounded labels, token.

Series are labelled by the route's URL rule, never the path, so ids in paths cannot multiply
them; paths no route matches share one ``<unmatched>`` label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from feedback_service.extensions import db
from tests import served
from tests.conftest import make_test_app
from tests.databases import TestDatabase
from tests.factories import World
from tests.served import Call, Reply, Site

REQUESTS = "feedback_service_http_requests_total"
DURATION_COUNT = "feedback_service_http_request_duration_seconds_count"
PROJECT_ROUTE = "/api/projects/<project_id>"
UNAUTHORIZED = b"401 Unauthorized: /metrics needs Authorization: Bearer <token>\n"
BOOTED_WORKER = re.compile(r"Booting worker with pid: (\d+)")
# Digits only: read as JSON from the environment it would become a number (STRING_KEYS).
TOKEN = "1234567890"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: bytes) -> Samples:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition.decode())
        for sample in family.samples
    }


def requests_of(samples: Samples, **labels: str) -> float:
    return samples.get((REQUESTS, tuple(sorted(labels.items()))), 0.0)


def durations_of(samples: Samples, method: str, route: str) -> float:
    return samples.get((DURATION_COUNT, (("method", method), ("route", route))), 0.0)


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=1.0.0; charset=utf-8"
    return parse(response.get_data())


# --- in process --------------------------------------------------------------------------------


def test_ids_in_paths_share_one_route_label(client: FlaskClient, world: World):
    assert client.get(world.a.base, headers=world.a.headers).status_code == 200
    assert client.get(world.b.base, headers=world.b.headers).status_code == 200
    assert client.get(world.b.base, headers=world.a.headers).status_code == 403

    samples = scrape(client)
    assert requests_of(samples, method="GET", route=PROJECT_ROUTE, status="200") == 2
    assert requests_of(samples, method="GET", route=PROJECT_ROUTE, status="403") == 1
    assert durations_of(samples, "GET", PROJECT_ROUTE) == 3
    routes = {dict(labels)["route"] for name, labels in samples if name == REQUESTS}
    assert routes == {PROJECT_ROUTE}


def test_unmatched_paths_and_unknown_methods_share_labels(client: FlaskClient):
    for path in ("/nope", "/nope/1", "/api/nope/2", "/admin/nope/3"):
        assert client.get(path).status_code == 404
    assert client.open("/api/health", method="BREW").status_code == 404

    samples = scrape(client)
    assert requests_of(samples, method="GET", route="<unmatched>", status="404") == 4
    assert requests_of(samples, method="other", route="<unmatched>", status="404") == 1
    assert durations_of(samples, "GET", "<unmatched>") == 4
    assert len([name for name, _ in samples if name == REQUESTS]) == 2


@pytest.fixture
def other_app(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "other-instance"))
    app = make_test_app(database)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_each_app_counts_its_own_requests(client: FlaskClient, other_app: Flask):
    other = other_app.test_client()
    for _ in range(3):
        assert client.get("/api/health").status_code == 200
    assert other.get("/api/health").status_code == 200

    route = {"method": "GET", "route": "/api/health", "status": "200"}
    assert requests_of(scrape(client), **route) == 3
    assert requests_of(scrape(other), **route) == 1


@pytest.fixture
def metrics_off(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(database, METRICS_ENABLED=False)
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_disabled_metrics_answer_like_a_missing_page(metrics_off: FlaskClient):
    missing = metrics_off.get("/nope")
    response = metrics_off.get("/metrics")
    assert response.status_code == missing.status_code == 404
    assert response.get_data() == missing.get_data()


@pytest.fixture
def guarded(
    database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FlaskClient]:
    monkeypatch.setenv("FEEDBACK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(database, METRICS_TOKEN="s3cret-token")
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer wrong-token",
        "Bearer s3cret-toke",
        "Bearer s3cret-token-and-more",
        "bearer S3CRET-TOKEN",
        "Basic czNjcmV0LXRva2VuOg==",
        "s3cret-token",
        "Bearer caf\u00e9",
    ],
)
def test_a_set_token_is_required(guarded: FlaskClient, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.get_data() == UNAUTHORIZED
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_token_opens_metrics(guarded: FlaskClient):
    response = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200
    # The refused scrape is counted like any request.
    assert guarded.get("/metrics").status_code == 401
    response = guarded.get("/metrics", headers={"Authorization": "bearer s3cret-token"})
    samples = parse(response.get_data())
    assert requests_of(samples, method="GET", route="/metrics", status="200") == 1
    assert requests_of(samples, method="GET", route="/metrics", status="401") == 1


# --- served by several workers -----------------------------------------------------------------


def served_scrape(port: int, token: str | None) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return served.send(port, Call("GET", "/metrics", headers=headers))


def test_served_counts_add_up_across_workers(site: Site, tmp_path: Path):
    ids = site.ids
    # The server makes its samples' directory here (TMPDIR), so the test can watch it.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    settings = {**served.LIMITS_OFF, "FEEDBACK_METRICS_TOKEN": TOKEN, "TMPDIR": str(scratch)}
    key = {"x-api-key": ids.secret_key}
    calls = [Call("GET", f"/api/projects/{ids.project_id}", headers=key) for _ in range(40)]
    # Another project's id: a 403, on the same route.
    calls += [Call("GET", f"/api/projects/{ids.project_id + 1000}", headers=key)] * 7
    calls += [Call("GET", f"/nope/{n}") for n in range(5)]

    with served.serve(site, workers=2, env=settings) as server:
        replies = served.send_all(server.port, calls, threads=8)
        assert [reply.status for reply in replies] == [200] * 40 + [403] * 7 + [404] * 5

        for token in (None, "123456789", f"{TOKEN}0"):
            refused = served_scrape(server.port, token)
            assert refused.status == 401
            assert refused.raw == UNAUTHORIZED
            assert refused.headers["www-authenticate"] == "Bearer"
        scraped = served_scrape(server.port, TOKEN)
        assert scraped.status == 200
        samples = parse(scraped.raw)

        [directory] = scratch.iterdir()
        workers = {int(pid) for pid in BOOTED_WORKER.findall(server.log())}
        files = sorted(path.name for path in directory.iterdir())
        assert files, "no worker wrote samples"
        assert {int(name.split("_")[1].split(".")[0]) for name in files} <= workers
        assert server.stop() == 0

    assert requests_of(samples, method="GET", route=PROJECT_ROUTE, status="200") == 40
    assert requests_of(samples, method="GET", route=PROJECT_ROUTE, status="403") == 7
    assert durations_of(samples, "GET", PROJECT_ROUTE) == 47
    assert requests_of(samples, method="GET", route="<unmatched>", status="404") == 5
    assert requests_of(samples, method="GET", route="/metrics", status="401") == 3
    # The stopped server removed its samples' directory.
    assert list(scratch.iterdir()) == []
