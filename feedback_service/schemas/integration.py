"""Wire shapes of the ABC-compatible integration API.

Input messages follow the class-validator wording the reference server sends, since clients
may match on them.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import INCLUDE, Schema, fields, post_dump, post_load, validate

from feedback_service.models import Feedback, IssueStatus
from feedback_service.repositories.pagination import Page
from feedback_service.schemas.base import BodySchema, OutSchema, Timestamp
from feedback_service.services.feedback_search import CONDITIONS, OPERATORS
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


LENIENT_NUMBER = {
    "type": "integer",
    "description": "Read leniently: leading digits count; anything else or < 1 means the default",
}


SORT = {
    "type": "object",
    "additionalProperties": {"type": "string", "enum": ["ASC", "DESC"]},
    "description": "Field key to ASC or DESC; ties are broken by id, newest first",
}
V2_QUERY = {
    "type": "object",
    "properties": {
        "key": {"type": "string"},
        "value": {},
        "condition": {"type": "string", "enum": list(CONDITIONS)},
    },
    "required": ["key", "value", "condition"],
}


class SearchIn(BodySchema):
    """A v1 search body; ``limit`` and ``page`` are read leniently by ``page_request``."""

    limit = fields.Raw(load_default=None, metadata=LENIENT_NUMBER)
    page = fields.Raw(load_default=None, metadata=LENIENT_NUMBER)
    query = fields.Dict(
        load_default=dict,
        allow_none=True,
        error_messages={"invalid": "query must be an object", "null": "query must be an object"},
        metadata={
            "description": "Field key to the value looked for; searchText looks in every "
            "text field, issueIds in the linked issues, createdAt takes {gte, lt}"
        },
    )
    sort = fields.Raw(load_default=None, metadata=SORT)


class SearchV2In(BodySchema):
    """A v2 search body; each query is checked against the channel by the service."""

    limit = fields.Raw(load_default=None, metadata=LENIENT_NUMBER)
    page = fields.Raw(load_default=None, metadata=LENIENT_NUMBER)
    queries = fields.List(
        fields.Raw(metadata=V2_QUERY),
        load_default=list,
        error_messages={"invalid": "queries must be an array", "null": "queries must be an array"},
    )
    default_queries = fields.List(
        fields.Raw(metadata=V2_QUERY),
        load_default=list,
        data_key="defaultQueries",
        metadata={"description": "Conditions ANDed with the result of ``queries``"},
        error_messages={
            "invalid": "defaultQueries must be an array",
            "null": "defaultQueries must be an array",
        },
    )
    operator = fields.Raw(
        load_default=None, metadata={"type": "string", "enum": list(OPERATORS), "default": "AND"}
    )
    sort = fields.Raw(load_default=None, metadata=SORT)


class PagedQuery(Schema):
    limit = fields.Raw(metadata=LENIENT_NUMBER)
    page = fields.Raw(metadata=LENIENT_NUMBER)


class CategoryListQuery(PagedQuery):
    categoryName = fields.String(metadata={"description": "Names containing this text"})
    sort_by_name = fields.String(
        data_key="sort[name]",
        validate=validate.OneOf(["ASC", "DESC"]),
        metadata={"description": "Order by name"},
    )


class FeedbackFindQuery(PagedQuery):
    """``issueName``, or ``fieldKey`` with ``searchText``."""

    issueName = fields.String(metadata={"description": "Feedback linked to this issue"})
    fieldKey = fields.String(metadata={"description": "The field searchText is looked for in"})
    searchText = fields.String()


class UploadUrlQuery(Schema):
    extension = fields.String(required=True, metadata={"description": "png, jpg, ..."})


class FeedbackValuesIn(Schema):
    """Field values by field key; which keys and values are valid depends on the channel."""

    class Meta:
        unknown = INCLUDE


class CreatedOut(OutSchema):
    id = fields.Integer()


class ProjectOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    # Stored in its wire shape: {"countryCode", "name", "offset"}.
    timezone = fields.Dict()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")


class OptionOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    key = fields.String()


class FieldOut(OutSchema):
    """The reference's field shape plus ``property`` and ``options``, which it leaves out."""

    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    format = fields.String()
    status = fields.String()
    property = fields.String()
    options = fields.List(fields.Nested(OptionOut))


class CategoryOut(OutSchema):
    id = fields.Integer()
    name = fields.String()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")


class CategoryRefOut(OutSchema):
    id = fields.Integer()
    name = fields.String()


class IssueOut(OutSchema):
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


class FeedbackIssueOut(OutSchema):
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


class FeedbackOut(OutSchema):
    """``{...field values, id, createdAt, updatedAt, issues}``, field values first."""

    class Meta:
        # Tells the document that the channel's field values come beside these keys.
        unknown = INCLUDE

    id = fields.Integer()
    created_at = Timestamp(data_key="createdAt")
    updated_at = Timestamp(data_key="updatedAt")
    issues = fields.List(fields.Nested(FeedbackIssueOut))

    @post_dump(pass_original=True)
    def values_first(self, data: dict[str, Any], feedback: Feedback, **_: Any) -> dict[str, Any]:
        return {**feedback.data, **data}


class PageMetaOut(OutSchema):
    itemCount = fields.Integer()
    totalItems = fields.Integer()
    itemsPerPage = fields.Integer()
    currentPage = fields.Integer()
    totalPages = fields.Integer()


def page_of(item: type[Schema]) -> type[Schema]:
    """The ``{items, meta}`` page of ``item``, named after it (``IssueOut``: ``IssuePageOut``)."""
    return OutSchema.from_dict(
        {"items": fields.List(fields.Nested(item)), "meta": fields.Nested(PageMetaOut)},
        name=item.__name__.removesuffix("Out") + "PageOut",
    )


CategoryPageOut = page_of(CategoryOut)
IssuePageOut = page_of(IssueOut)
FeedbackPageOut = page_of(FeedbackOut)


def page_envelope(page: Page[Any], page_schema: Schema) -> dict[str, Any]:
    """``{items, meta}`` with the reference's meta keys, dumped by a ``page_of`` schema."""
    envelope: dict[str, Any] = page_schema.dump(
        {
            "items": page.items,
            "meta": {
                "itemCount": len(page.items),
                "totalItems": page.total,
                "itemsPerPage": page.limit,
                "currentPage": page.page,
                "totalPages": math.ceil(page.total / page.limit),
            },
        }
    )
    return envelope
