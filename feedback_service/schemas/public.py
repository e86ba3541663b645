"""Wire shapes of the Feedhog-compatible public API.

Field error messages read like the reference's (``Title is required``, ``Invalid type. Must be
one of: ...``); each request schema drops unknown keys, as zod's object schemas do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import ada_url
from marshmallow import ValidationError, fields, post_load, pre_load, validate

from feedback_service.models import Comment, Feedback
from feedback_service.schemas.base import BodySchema, OutSchema, Timestamp
from feedback_service.services.board_feedback import SORTS, FeedbackDetail
from feedback_service.services.boards import (
    DEFAULT_TYPE,
    INITIAL_STATUS,
    STATUSES,
    TITLE_MAX_LENGTH,
    TYPES,
)
from feedback_service.services.end_users import EndUserClaim

MAX_DESCRIPTION_LENGTH = 10_000
MAX_COMMENT_LENGTH = 5_000
MAX_SEARCH_LENGTH = 200
MAX_METADATA_BYTES = 16_384
MAX_PAGE = 1_000_000_000
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def _one_of(label: str, choices: Sequence[str]) -> str:
    return f"Invalid {label}. Must be one of: {', '.join(choices)}"


def _string(
    label: str,
    *,
    max_length: int,
    required: bool = False,
    data_key: str | None = None,
) -> fields.String:
    """A string field; null is accepted (and means "none") unless the field is required."""
    return fields.String(
        required=required,
        allow_none=not required,
        data_key=data_key,
        validate=validate.Length(
            max=max_length, error=f"{label} must be {max_length} characters or less"
        ),
        error_messages={
            "required": f"{label} is required",
            "null": f"{label} is required",
            "invalid": f"{label} must be a string",
        },
    )


def _not_blank(label: str) -> validate.Validator:
    def check(value: str) -> None:
        if not value.strip():
            raise ValidationError(f"{label} is required")

    return check


def _web_url(value: str | None) -> None:
    """Avatar URLs end up in ``<img src>``: only absolute http(s) URLs."""
    if value is None:
        return
    try:
        scheme = ada_url.URL(value).protocol
    except ValueError:
        scheme = None
    if scheme not in ("http:", "https:"):
        raise ValidationError("Invalid URL")


class JsonObject(fields.Dict):
    """A JSON object of bounded size (metadata)."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        self.label = label
        super().__init__(
            allow_none=True,
            error_messages={"invalid": f"{label} must be an object"},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        size = len(json.dumps(loaded, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        if size > MAX_METADATA_BYTES:
            raise ValidationError(f"{self.label} must be at most {MAX_METADATA_BYTES} bytes")
        return loaded


class EndUserIn(BodySchema):
    externalId = _string("External ID", max_length=255, required=True)
    email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=320, error="Email must be 320 characters or less"),
        error_messages={"invalid": "Invalid email"},
    )
    name = _string("Name", max_length=255)
    avatarUrl = _string("Avatar URL", max_length=2048)
    metadata = JsonObject("Metadata")
    userHash = _string("User hash", max_length=128)

    # Nested under `endUser`, a value that is not an object gets this message.
    error_messages: ClassVar[dict[str, str]] = {"type": "End user must be an object"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["externalId"].validators.append(_not_blank("External ID"))
        self.fields["avatarUrl"].validators.append(_web_url)

    @post_load
    def to_claim(self, data: dict[str, Any], **_: Any) -> EndUserClaim:
        names = {"email": "email", "name": "name", "avatarUrl": "avatar_url", "metadata": "meta"}
        attributes = {names[key]: value for key, value in data.items() if key in names}
        return EndUserClaim(data["externalId"], data.get("userHash"), attributes)


def _end_user() -> fields.Nested:
    return fields.Nested(EndUserIn, allow_none=True)


class FeedbackIn(BodySchema):
    title = _string("Title", max_length=TITLE_MAX_LENGTH, required=True)
    description = _string("Description", max_length=MAX_DESCRIPTION_LENGTH)
    type = fields.String(
        load_default=DEFAULT_TYPE,
        validate=validate.OneOf(TYPES, error=_one_of("type", TYPES)),
        error_messages={"invalid": _one_of("type", TYPES), "null": _one_of("type", TYPES)},
    )
    metadata = JsonObject("Metadata")
    endUser = _end_user()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["title"].validators.append(_not_blank("Title"))


class VoteIn(BodySchema):
    endUser = _end_user()


class CommentIn(BodySchema):
    content = _string("Content", max_length=MAX_COMMENT_LENGTH, required=True)
    endUser = _end_user()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["content"].validators.append(_not_blank("Content"))


class _CommaList(fields.Field[list[str]]):
    """``a,b`` (or the parameter repeated): each value one of ``choices``."""

    def __init__(self, label: str, choices: Sequence[str], **kwargs: Any) -> None:
        self.message = _one_of(label, choices)
        self.choices = frozenset(choices)
        super().__init__(
            load_default=list,
            metadata={"type": "string", "description": "Comma-separated: " + ", ".join(choices)},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        items = [item.strip() for item in str(value).split(",") if item.strip()]
        if any(item not in self.choices for item in items):
            raise ValidationError(self.message)
        return list(dict.fromkeys(items))


def _whole_number(label: str, maximum: int | None = None) -> fields.Integer:
    message = f"{label} must be a positive integer"
    return fields.Integer(
        strict=False,
        validate=validate.Range(
            min=1,
            max=maximum,
            error=message if maximum is None else f"{label} must be from 1 to {maximum}",
        ),
        error_messages={"invalid": message},
    )


class ListQuery(BodySchema):
    status = _CommaList("status", STATUSES)
    type = _CommaList("type", TYPES)
    search = _string("Search", max_length=MAX_SEARCH_LENGTH)
    sortBy = fields.String(
        load_default="newest",
        validate=validate.OneOf(list(SORTS), error=_one_of("sortBy", list(SORTS))),
    )
    page = _whole_number("Page", MAX_PAGE)
    limit = _whole_number("Limit")

    @pre_load
    def merge_repeats(self, data: Any, **_: Any) -> dict[str, str]:
        """Empty parameters count as absent; a repeated list parameter joins its values."""
        getlist = getattr(data, "getlist", None)
        merged: dict[str, str] = {}
        for key in data:
            values = getlist(key) if getlist else [data[key]]
            joined = ",".join(v for v in values if v != "")
            if joined:
                merged[key] = joined if key in ("status", "type") else values[-1]
        return merged

    @post_load
    def with_defaults(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data.setdefault("page", 1)
        # More than the maximum is served as the maximum, and the envelope says so.
        data["limit"] = min(data.get("limit", DEFAULT_LIMIT), MAX_LIMIT)
        return data


class ViewerQuery(BodySchema):
    endUserId = _string("End user ID", max_length=255)
    userHash = _string("User hash", max_length=128)

    @pre_load
    def drop_empty_user(self, data: Any, **_: Any) -> dict[str, str]:
        """``?endUserId=`` means no end user; an empty userHash is checked like a body's."""
        return {k: v for k, v in data.items() if not (k == "endUserId" and v == "")}


class AuthorOut(OutSchema):
    name = fields.String(allow_none=True)
    avatarUrl = fields.String(attribute="avatar_url", allow_none=True)


class FeedbackItemOut(OutSchema):
    id = fields.String(attribute="public_id")
    title = fields.String(attribute="data.title", dump_default="")
    description = fields.String(attribute="data.description", dump_default=None, allow_none=True)
    # The integration API may set these to null; the defaults are for absent values.
    type = fields.String(attribute="data.type", dump_default=DEFAULT_TYPE, allow_none=True)
    status = fields.String(attribute="data.status", dump_default=INITIAL_STATUS, allow_none=True)
    voteCount = fields.Integer(attribute="vote_count")
    commentCount = fields.Integer(attribute="comment_count")
    createdAt = Timestamp(attribute="created_at")
    endUser = fields.Nested(AuthorOut, attribute="end_user", allow_none=True)


def comment_author(comment: Comment) -> dict[str, Any] | None:
    if comment.is_team:
        return {"name": comment.author_name, "isTeam": True}
    if comment.end_user is None:
        return None
    return AuthorOut().dump(comment.end_user)


class CommentOut(OutSchema):
    id = fields.String(attribute="public_id")
    content = fields.String()
    createdAt = Timestamp(attribute="created_at")
    author = fields.Function(
        comment_author,
        metadata={
            "type": "object",
            "nullable": True,
            "properties": {
                "name": {"type": "string", "nullable": True},
                "avatarUrl": {"type": "string", "nullable": True},
                "isTeam": {"type": "boolean"},
            },
            "additionalProperties": False,
            "description": "The end user who wrote it, or the team (isTeam); null if unknown",
        },
    )


class FeedbackDetailOut(FeedbackItemOut):
    """A ``FeedbackDetail``: the list item's fields, whether the viewer voted, the comments."""

    userHasVoted = fields.Boolean(attribute="user_has_voted")
    comments = fields.Nested(CommentOut, many=True)

    def get_attribute(self, obj: FeedbackDetail, attr: str, default: Any) -> Any:
        source = obj if attr in ("user_has_voted", "comments") else obj.feedback
        return super().get_attribute(source, attr, default)


class UserOut(OutSchema):
    id = fields.String(attribute="external_id")
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    avatarUrl = fields.String(attribute="avatar_url", allow_none=True)
    createdAt = Timestamp(attribute="created_at")


class VoteOut(OutSchema):
    voted = fields.Boolean()
    voteCount = fields.Integer(attribute="vote_count")


class CreatedFeedbackOut(OutSchema):
    feedback = fields.Nested(FeedbackItemOut)


class FeedbackDetailEnvelopeOut(OutSchema):
    feedback = fields.Nested(FeedbackDetailOut)


class CreatedCommentOut(OutSchema):
    comment = fields.Nested(CommentOut)


class IdentifiedUserOut(OutSchema):
    user = fields.Nested(UserOut)


class FeedbackListOut(OutSchema):
    items = fields.List(fields.Nested(FeedbackItemOut))
    total = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()
    totalPages = fields.Integer()


_FEEDBACK_ITEMS_OUT = FeedbackItemOut(many=True)


def page_envelope(items: list[Feedback], total: int, page: int, limit: int) -> dict[str, Any]:
    return {
        "items": _FEEDBACK_ITEMS_OUT.dump(items),
        "total": total,
        "page": page,
        "limit": limit,
        "totalPages": -(-total // limit),
    }
