"""Helpers shared by several test modules: expected error bodies, response assertions,
database snapshots and the integration API's route table.

Helpers that only one module uses stay in that module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from tests.databases import TestDatabase
from tests.factories import ProjectWorld

# The ``sql`` fixture: ``sql(statement, params) -> rows`` on the test's database.
Sql = TestDatabase

# The master key of the ``master_client`` fixture's app.
MASTER_KEY = "master-key-for-tests-0123456789"
NOT_NUMERIC = "Validation failed (numeric string is expected)"

# A Flask rule parameter, with or without a converter: ``<id>`` or ``<int:id>``.
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


# --- expected response bodies ------------------------------------------------------------------


def bad_request(path: str, message: str | list[str]) -> dict[str, Any]:
    """The NestJS 400 body: ``message`` is a string or a list of validation messages."""
    return {"message": message, "error": "Bad Request", "statusCode": 400, "path": path}


def too_large(path: str) -> dict[str, Any]:
    """The NestJS 413 body of a request over a size limit."""
    return {
        "message": "Request body is too large",
        "error": "Payload Too Large",
        "statusCode": 413,
        "path": path,
    }


def forbidden(path: str) -> dict[str, Any]:
    """The 403 body of a request without a valid key for the project."""
    return {"message": "Forbidden resource", "error": "Forbidden", "statusCode": 403, "path": path}


def domain_error(path: str, code: str, message: str, status: int = 400) -> dict[str, Any]:
    """The body of a domain error such as ``IssueNotFound``."""
    return {"code": code, "message": message, "statusCode": status, "path": path}


def category_not_found(path: str) -> dict[str, Any]:
    return domain_error(path, "CategoryNotFound", "category is not found", 404)


def page_meta(item_count: int, total: int, limit: int, page: int) -> dict[str, int]:
    """The ``meta`` object of a paginated listing."""
    return {
        "itemCount": item_count,
        "totalItems": total,
        "itemsPerPage": limit,
        "currentPage": page,
        "totalPages": math.ceil(total / limit),
    }


def wire_timestamp(stored: str) -> str:
    """A stored timestamp (``2024-01-15 10:30:00.123456``) in the wire format."""
    return datetime.fromisoformat(stored).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- response assertions -----------------------------------------------------------------------


def assert_json(response: TestResponse, status: int, body: Any) -> None:
    assert (response.status_code, response.get_json()) == (status, body)


def assert_empty(response: TestResponse, status: int = 200) -> None:
    assert (response.status_code, response.data) == (status, b"")


# --- database ----------------------------------------------------------------------------------


def database_rows(sql: Sql) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    tables = sql.table_names()
    return {table: sorted(sql(f'SELECT * FROM "{table}"'), key=repr) for table in tables}


# --- integration routes ------------------------------------------------------------------------


def integration_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) for every integration API route, HEAD and OPTIONS left out."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("integration_api.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    )


def rule_parameters(rule: str) -> list[str]:
    """The parameter names of a rule, in path order."""
    return _RULE_PARAMETER.findall(rule)


def build_path(rule: str, ids: Mapping[str, str | int], query: str = "") -> str:
    """A rule with each parameter replaced by its value in ``ids``, and ``query`` appended."""
    path = _RULE_PARAMETER.sub(lambda match: str(ids[match.group(1)]), rule)
    return f"{path}?{query}" if query else path


def path_ids(project: ProjectWorld) -> dict[str, int]:
    """A project's value for every path parameter the integration API uses."""
    return {
        "project_id": project.project_id,
        "channel_id": project.channel_id,
        "feedback_id": project.feedback_ids[0],
        "issue_id": project.issue_ids[0],
        "category_id": project.category_id,
    }


def problem_summary(problems: list[str], shown: int = 8) -> str:
    """The first few problems of a sweep, and how many there were."""
    more = len(problems) - shown
    return "\n".join(problems[:shown] + ([f"... and {more} more"] if more > 0 else []))
