"""Schemathesis against the served app: for every operation of the OpenAPI document, generated
requests (valid and invalid) must get no 5xx and only responses the document describes
(status, content type, body, headers).

Path ids of the project and its board are fixed to the served site's, so requests get past
the key check and reach the operations; the other ids are generated. Rate limits are raised
so that the fuzzing is not answered 429 throughout. Examples are derandomized: a run is
repeatable, and a failure names the case to replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.served import Served, Site, copy_site, serve

EXAMPLES_PER_OPERATION = 200
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
UNLIMITED = "1000000 per minute"


@pytest.fixture(scope="module")
def served(template: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    site = copy_site(template, Path(tmp_path_factory.mktemp("contract")))
    limits = {
        f"FEEDBACK_RATELIMIT_{name}": UNLIMITED
        for name in ("PUBLIC_READ", "PUBLIC_WRITE", "INTEGRATION")
    }
    with serve(site, workers=1, threads=4, env=limits) as running:
        yield running


# The published document (docs/openapi.json), which test_openapi_document keeps equal to
# the one the app serves.
schema = schemathesis.openapi.from_path(
    Path(__file__).parents[1] / "docs" / "openapi.json",
    config=schemathesis.Config.from_dict({"generation": {"max-examples": EXAMPLES_PER_OPERATION}}),
)


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_response_keeps_to_the_document(case: schemathesis.Case, served: Served) -> None:
    ids = served.site.ids
    key = ids.public_key if case.operation.path.startswith("/api/v1/") else ids.secret_key
    for name, value in (("project_id", ids.project_id), ("channel_id", ids.board_id)):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
    case.call_and_validate(
        base_url=f"http://127.0.0.1:{served.port}", headers={"x-api-key": key}, checks=CHECKS
    )
