"""Category routes: create, list with a name filter, rename, delete."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, request

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import PROJECT
from feedback_service.blueprints.integration_api.requests import empty, json_body, page_request
from feedback_service.openapi.operation import documented
from feedback_service.schemas.base import load
from feedback_service.schemas.integration import (
    CategoryIn,
    CategoryListQuery,
    CategoryPageOut,
    CreatedOut,
    page_envelope,
)
from feedback_service.services import categories as service

CATEGORY = PROJECT + "/categories/<category_id>"
# `sort[name]=ASC` in a query string, the qs-style form of the reference's `sort` object.
SORT_PARAMETER = re.compile(r"^sort\[(\w+)\]$")
CATEGORY_PAGE_OUT = CategoryPageOut()


def _sort_from_query() -> dict[str, str]:
    sort = {}
    for parameter, value in request.args.items():
        match = SORT_PARAMETER.match(parameter)
        if match:
            sort[match.group(1)] = value
    return sort


@bp.post(PROJECT + "/categories")
@documented("Create a category", status=201, body=CategoryIn(), response=CreatedOut())
def create_category(project_id: int) -> tuple[dict[str, int], int]:
    name = load(CategoryIn(), json_body())["name"]
    return {"id": service.create_category(project_id, name).id}, 201


@bp.get(PROJECT + "/categories")
@documented("List categories", query=CategoryListQuery(), response=CATEGORY_PAGE_OUT)
def list_categories(project_id: int) -> dict[str, Any]:
    page, limit = page_request(request.args.get("limit"), request.args.get("page"))
    found = service.list_categories(
        project_id, request.args.get("categoryName"), _sort_from_query(), page, limit
    )
    return page_envelope(found, CATEGORY_PAGE_OUT)


@bp.put(CATEGORY)
@documented("Rename a category", body=CategoryIn(), errors=(404,))
def rename_category(project_id: int, category_id: int) -> Response:
    service.rename_category(project_id, category_id, load(CategoryIn(), json_body())["name"])
    return empty()


@bp.delete(CATEGORY)
@documented("Delete a category; its issues stay, without a category", errors=(404,))
def delete_category(project_id: int, category_id: int) -> Response:
    service.delete_category(project_id, category_id)
    return empty()
