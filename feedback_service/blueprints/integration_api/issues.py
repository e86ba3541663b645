"""Issue routes: create, get, search, update, delete, and category assignment."""

from __future__ import annotations

from typing import Any

from flask import Response

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import PROJECT
from feedback_service.blueprints.integration_api.requests import empty, json_body, page_request
from feedback_service.openapi.operation import documented
from feedback_service.schemas.base import load
from feedback_service.schemas.integration import (
    CreatedOut,
    IssueIdsIn,
    IssueIn,
    IssueOut,
    IssuePageOut,
    IssueUpdateIn,
    SearchIn,
    page_envelope,
)
from feedback_service.services import issues as service

ISSUE = PROJECT + "/issues/<issue_id>"
ISSUE_PAGE_OUT = IssuePageOut()


@bp.post(PROJECT + "/issues")
@documented("Create an issue", status=201, body=IssueIn(), response=CreatedOut())
def create_issue(project_id: int) -> tuple[dict[str, int], int]:
    fields = load(IssueIn(), json_body())["fields"]
    return {"id": service.create_issue(project_id, fields).id}, 201


@bp.get(ISSUE)
@documented("Get an issue", response=IssueOut())
def get_issue(project_id: int, issue_id: int) -> dict[str, Any]:
    return IssueOut().dump(service.get_issue(project_id, issue_id))


@bp.post(PROJECT + "/issues/search")
@documented("Search issues", status=201, body=SearchIn(), response=ISSUE_PAGE_OUT)
def search_issues(project_id: int) -> tuple[dict[str, Any], int]:
    body = load(SearchIn(), json_body())
    page, limit = page_request(body["limit"], body["page"])
    found = service.search_issues(project_id, body["query"] or {}, body["sort"], page, limit)
    return page_envelope(found, ISSUE_PAGE_OUT), 201


@bp.put(ISSUE)
@documented("Update an issue", body=IssueUpdateIn())
def update_issue(project_id: int, issue_id: int) -> Response:
    service.update_issue(project_id, issue_id, load(IssueUpdateIn(), json_body())["fields"])
    return empty()


@bp.delete(ISSUE)
@documented("Delete an issue")
def delete_issue(project_id: int, issue_id: int) -> Response:
    service.delete_issue(project_id, issue_id)
    return empty()


@bp.delete(PROJECT + "/issues")
@documented("Delete issues", body=IssueIdsIn())
def delete_issues(project_id: int) -> Response:
    service.delete_issues(project_id, load(IssueIdsIn(), json_body())["issue_ids"])
    return empty()


@bp.put(ISSUE + "/category/<category_id>")
@documented("File an issue under a category", errors=(404,))
def set_category(project_id: int, issue_id: int, category_id: int) -> Response:
    service.set_category(project_id, issue_id, category_id)
    return empty()


@bp.delete(ISSUE + "/category/<category_id>")
@documented("Take an issue out of its category", errors=(404,))
def clear_category(project_id: int, issue_id: int, category_id: int) -> Response:
    service.clear_category(project_id, issue_id, category_id)
    return empty()
