"""Every console route, as an admin, with hostile query and form values: never a 500."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.admin.console import Console
from tests.factories import World
from tests.helpers import Sql

HOSTILE = [
    "99999999999999999999999",
    "-1",
    "0",
    "\x00",
    "\uff11",
    "'; DROP TABLE feedback; --",
    "<script>x</script>",
    "2024-02-30",
    "x" * 5000,
]
QUERY_NAMES = [
    "page",
    "q",
    "sort",
    "issue",
    "from",
    "to",
    "days",
    "status",
    "category",
    "f.score",
    "f.seen_at",
    "f.kind",
    "f.tags",
    "f.message",
    "project_id",
    "_anchor",
]


def concrete_rules(app: Flask, world: World, sql: Sql) -> list[tuple[str, str]]:
    [(field_id,)] = sql(
        "SELECT id FROM field WHERE channel_id = ? AND key = 'kind'", (world.a.channel_id,)
    )
    [(user_id,)] = sql("SELECT min(id) FROM admin_user")
    [(key_id,)] = sql("SELECT id FROM api_key WHERE project_id = ?", (world.a.project_id,))
    ids = {
        "project_id": world.a.project_id,
        "channel_id": world.a.channel_id,
        "feedback_id": world.a.feedback_ids[0],
        "issue_id": world.a.issue_ids[0],
        "category_id": world.a.category_id,
        "field_id": field_id,
        "user_id": user_id,
        "key_id": key_id,
        "fmt": "csv",
        "token": "nothing",
        "filename": "console.css",
    }
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.logout":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_no_console_route_answers_500(
    app: Flask,
    world: World,
    admin_console: Console,
    sql,
    value: str,
) -> None:
    query = {name: value for name in QUERY_NAMES}
    failures = []
    for method, path in concrete_rules(app, world, sql):
        if method == "GET":
            response = admin_console.get(path, query_string=query)
        else:
            form = {
                name: value
                for name in (
                    "name",
                    "description",
                    "timezone",
                    "search_max_days",
                    "key",
                    "format",
                    "property",
                    "status",
                    "order",
                    "options",
                    "new_options",
                    "storage",
                    "image_domains",
                    "s3_endpoint",
                    "channel_id",
                    "origins",
                    "role",
                    "email",
                    "password",
                    "confirm",
                    "content",
                    "issue_id",
                    "issue_name",
                    "external_issue_id",
                    "edit",
                    "v.score",
                    "v.seen_at",
                    "v.kind",
                    "channel-name",
                    "channel-search_max_days",
                    "category_id",
                )
            }
            response = admin_console.post(path, form, query_string=query)
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code}")
        response.close()  # static files answer with an open file
    assert failures == []
