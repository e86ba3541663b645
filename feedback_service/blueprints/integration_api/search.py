"""Feedback search routes: v1 POST, the simple GET, and v2 POST (all answer pages)."""

from __future__ import annotations

from typing import Any

from flask import request

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import CHANNEL
from feedback_service.blueprints.integration_api.requests import json_body, page_request
from feedback_service.errors import InvalidInput
from feedback_service.openapi.operation import documented
from feedback_service.schemas.base import load
from feedback_service.schemas.integration import (
    FeedbackFindQuery,
    FeedbackPageOut,
    SearchIn,
    SearchV2In,
    page_envelope,
)
from feedback_service.services import feedback_search as service

SIMPLE_SEARCH_KEYS = ("searchText", "fieldKey", "issueName")
# Built once and shared by the document and the views (loading or dumping never changes one).
SEARCH_IN, SEARCH_V2_IN, PAGE_OUT = SearchIn(), SearchV2In(), FeedbackPageOut()


@bp.post(CHANNEL + "/feedbacks/search")
@documented("Search feedback (v1)", status=201, body=SEARCH_IN, response=PAGE_OUT)
def search_feedback(project_id: int, channel_id: int) -> tuple[dict[str, Any], int]:
    body = load(SEARCH_IN, json_body())
    page, limit = page_request(body["limit"], body["page"])
    found = service.search_v1(
        project_id, channel_id, body["query"] or {}, body["sort"], page, limit
    )
    return page_envelope(found, PAGE_OUT), 201


@bp.get(CHANNEL + "/feedbacks")
@documented(
    "Find feedback by issue name or by one field's text",
    query=FeedbackFindQuery(),
    response=PAGE_OUT,
)
def find_feedback(project_id: int, channel_id: int) -> dict[str, Any]:
    """``?issueName=`` or ``?fieldKey=&searchText=``, answered by the v1 search."""
    query = {key: request.args[key] for key in SIMPLE_SEARCH_KEYS if request.args.get(key)}
    if "issueName" not in query and not ("fieldKey" in query and "searchText" in query):
        raise InvalidInput("Please provide either issueName or both fieldKey and searchText.")
    page, limit = page_request(request.args.get("limit"), request.args.get("page"))
    found = service.search_v1(project_id, channel_id, query, None, page, limit)
    return page_envelope(found, PAGE_OUT)


@bp.post("/v2" + CHANNEL + "/feedbacks/search")
@documented("Search feedback (v2)", status=201, body=SEARCH_V2_IN, response=PAGE_OUT)
def search_feedback_v2(project_id: int, channel_id: int) -> tuple[dict[str, Any], int]:
    body = load(SEARCH_V2_IN, json_body())
    page, limit = page_request(body["limit"], body["page"])
    found = service.search_v2(
        project_id,
        channel_id,
        body["queries"],
        body["default_queries"],
        body["operator"],
        body["sort"],
        page,
        limit,
    )
    return page_envelope(found, PAGE_OUT), 201
