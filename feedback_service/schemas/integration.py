"""Wire shapes of the ABC-compatible integration API.

Input messages follow the class-validator wording the reference server sends, since clients
may match on them.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, fields, post_dump, post_load, validate

from feedback_service.models import Feedback, IssueStatus
from feedback_service.repositories.pagination import Page
from feedback_service.schemas.base import BodySchema, Timestamp
from feedback_service.services.issues import IssueFields
from feedback_service.services.query_parsing import INT64

MAX_IDS_PER_REQUEST = 1000
STATUS_VALUES = [status.value for status in IssueStatus]


def _text(
    name: str,
    *,
    required: bool = False,
    min_length: int | None = None,
    max_length: int | None = None,
    allow_none: bool = False,
    data_key: str | None = None,
) -> fields.String:
    checks = []
    if min_length is not None:
        checks.append(
            validate.Length(
                min=min_length,
                error=f"{name} must be longer than or equal to {min_length} characters",
            )
        )
    if max_length is not None:
        checks.append(
            validate.Length(
                max=max_length,
                error=f"{name} must be shorter than or equal to {max_length} characters",
            )
        )
    must_be_string = f"{name} must be a string"
    return fields.String(
        required=required,
        allow_none=allow_none,
        data_key=data_key,
        validate=checks,
        error_messages={
            "required": must_be_string,
            "invalid": must_be_string,
            "null": must_be_string,
        },
    )


def _id_list(name: str) -> fields.List:
    each = f"each value in {name} must be a number conforming to the specified constraints"
    return fields.List(
        fields.Integer(
            strict=True,
            validate=validate.Range(min=-INT64, max=INT64 - 1, error=each),
            error_messages={"invalid": each, "null": each},
        ),
        required=True,
        data_key=name,
        validate=validate.Length(
            max=MAX_IDS_PER_REQUEST,
            error=f"{name} must contain no more than {MAX_IDS_PER_REQUEST} elements",
        ),
        error_messages={
            "required": f"{name} must be an array",
            "invalid": f"{name} must be an array",
            "null": f"{name} must be an array",
        },
    )


class IssueIn(BodySchema):
    name = _text("name", required=True, min_length=1, max_length=30)
    description = _text("description", max_length=50, allow_none=True)
    status = fields.String(
        allow_none=True,
        validate=validate.OneOf(
            STATUS_VALUES,
            error="status must be one of the following values: " + ", ".join(STATUS_VALUES),
        ),
        error_messages={
            "invalid": "status must be one of the following values: " + ", ".join(STATUS_VALUES)
        },
    )
    external_issue_id = _text("externalIssueId", allow_none=True, data_key="externalIssueId")

    @post_load
    def to_fields(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        status = data.get("status")
        data["fields"] = IssueFields(
            name=data["name"],
            description=data.get("description"),
            status=IssueStatus(status) if status else None,
            external_issue_id=data.get("external_issue_id"),
        )
        return data


class IssueUpdateIn(IssueIn):
    # The reference server's update DTO requires description (a string or null).
    description = _text("description", required=True, max_length=50, allow_none=True)


class CategoryIn(BodySchema):
    name = _text("name", required=True, min_length=1, max_length=255)


class FeedbackIdsIn(BodySchema):
    feedback_ids = _id_list("feedbackIds")


class IssueIdsIn(BodySchema):
    issue_ids = _id_list("issueIds")


class SearchIn(BodySchema):
    """A v1 search body; ``limit`` and ``page`` are read leniently by ``page_request``."""

    limit = fields.Raw(load_default=None)
    page = fields.Raw(load_default=None)
    query = fields.Dict(
        load_default=dict,
        allow_none=True,
        error_messages={"invalid": "query must be an object", "null": "query must be an object"},
    )
    sort = fields.Raw(load_default=None)


class SearchV2In(BodySchema):
    """A v2 search body; each query is checked against the channel by the service."""

    limit = fields.Raw(load_default=None)
    page = fields.Raw(load_default=None)
    queries = fields.List(
        fields.Raw(),
        load_default=list,
        error_messages={"invalid": "queries must be an array", "null": "queries must be an array"},
    )
    default_queries = fields.List(
        fields.Raw(),
        load_default=list,
        data_key="defaultQueries",
        error_messages={
            "invalid": "defaultQueries must be an array",
            "null": "defaultQueries must be an array",
        },
    )
    operator = fields.Raw(load_default=None)
    sort = fields.Raw(load_default=None)


class ProjectOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    # Stored in its wire shape: {"countryCode", "name", "offset"}.
    timezone = fields.Dict()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")


class OptionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    key = fields.String()


class FieldOut(Schema):
    """The reference's field shape plus ``property`` and ``options``, which it leaves out."""

    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    format = fields.String()
    status = fields.String()
    property = fields.String()
    options = fields.List(fields.Nested(OptionOut))


class CategoryOut(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")


class CategoryRefOut(Schema):
    id = fields.Integer()
    name = fields.String()


class IssueOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String()
    external_issue_id = fields.String(data_key="externalIssueId", allow_none=True)
    feedback_count = fields.Integer(data_key="feedbackCount")
    # Documented by the reference but never loaded there; we send it.
    category = fields.Nested(CategoryRefOut, allow_none=True)
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")


class FeedbackIssueOut(Schema):
    """An issue as feedback items carry it, in the reference's key order."""

    id = fields.Integer()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")
    # Issues are never soft-deleted here.
    deleted_at = fields.Constant(None, data_key="deletedAt")
    name = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String()
    external_issue_id = fields.String(data_key="externalIssueId", allow_none=True)
    feedback_count = fields.Integer(data_key="feedbackCount")


class FeedbackOut(Schema):
    """``{...field values, id, createdAt, updatedAt, issues}``, field values first."""

    id = fields.Integer()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")
    issues = fields.List(fields.Nested(FeedbackIssueOut))

    @post_dump(pass_original=True)
    def values_first(self, data: dict[str, Any], feedback: Feedback, **_: Any) -> dict[str, Any]:
        return {**feedback.data, **data}


def page_envelope(page: Page[Any], item_schema: Schema) -> dict[str, Any]:
    """``{items, meta}`` with the reference's meta keys."""
    items = item_schema.dump(page.items, many=True)
    return {
        "items": items,
        "meta": {
            "itemCount": len(items),
            "totalItems": page.total,
            "itemsPerPage": page.limit,
            "currentPage": page.page,
            "totalPages": math.ceil(page.total / page.limit),
        },
    }
