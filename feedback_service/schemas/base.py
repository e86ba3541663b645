"""Shared schema pieces: loading with errors as a flat message list, timestamps on the wire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from feedback_service.errors import InvalidInput
from feedback_service.timestamps import to_iso


class BodySchema(Schema):
    """A request body. Unknown keys are dropped, as the reference server's whitelist does."""

    class Meta:
        unknown = EXCLUDE


class OutSchema(Schema):
    """A response body. Every field is always sent (null where allowed), so the OpenAPI
    document lists every property as required."""


class Timestamp(fields.Field[datetime]):
    """ISO 8601 UTC with milliseconds: ``2024-01-15T10:30:00.000Z``."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else to_iso(value)


def flatten_messages(messages: Any) -> list[str]:
    """Every message of a (nested) marshmallow error structure, once each, in order."""
    if isinstance(messages, str):
        return [messages]
    values = messages.values() if isinstance(messages, Mapping) else messages
    flat: list[str] = []
    for value in values:
        flat.extend(m for m in flatten_messages(value) if m not in flat)
    return flat


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Load ``data``; a failure becomes InvalidInput carrying every message, field by field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("body must be a JSON object")
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidInput(flatten_messages(error.messages)) from None
