"""The rules a feedback's field values follow, per field format, on create and on update.

Messages match the reference server's, since integration clients match on them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ada_url

from feedback_service.errors import InvalidInput
from feedback_service.models import Channel, Field, FieldFormat, FieldProperty, FieldStatus
from feedback_service.services.query_parsing import is_int64
from feedback_service.timestamps import parse_timestamp, to_iso

# Keys the integration API never accepts as field values on create (createdAt backdates).
RESERVED_KEYS = frozenset({"id", "ids", "issues", "issueIds", "createdAt", "updatedAt"})
ISSUE_NAMES_KEY = "issueNames"
MAX_ISSUE_NAMES = 50
MAX_ISSUE_NAME_LENGTH = 255
MAX_OPTION_LENGTH = 255
ISSUES_ARE_LINKED = (
    "issues are linked through POST and DELETE .../feedbacks/{feedbackId}/issue/{issueId}"
)


def render(value: Any) -> str:
    """A value as JSON.stringify prints it, for error messages."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return is_int64(value)


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_date(value: Any) -> bool:
    return value is None or (isinstance(value, str) and parse_timestamp(value) is not None)


def value_is_valid(field_: Field, value: Any) -> bool:
    """Whether ``value`` is acceptable for the field's format (option *keys* for selects)."""
    checks: dict[FieldFormat, Callable[[Any], bool]] = {
        FieldFormat.number: _is_number,
        FieldFormat.text: lambda v: isinstance(v, str),
        FieldFormat.keyword: lambda v: isinstance(v, str),
        FieldFormat.select: lambda v: (
            v is None or (isinstance(v, str) and v in field_.option_keys())
        ),
        FieldFormat.multiSelect: lambda v: _is_string_list(v) and set(v) <= field_.option_keys(),
        FieldFormat.date: _is_date,
        FieldFormat.images: _is_string_list,
    }
    return checks[field_.format](value)


def normalise(field_: Field, value: Any) -> Any:
    """Dates are stored as ISO 8601 UTC so that range queries compare them correctly; a
    multiSelect holds each option once."""
    if field_.format is FieldFormat.multiSelect:
        return list(dict.fromkeys(value))
    if field_.format is FieldFormat.date and isinstance(value, str):
        parsed = parse_timestamp(value)
        assert parsed is not None  # value_is_valid ran first
        return to_iso(parsed)
    return value


def check_image_domains(
    channel: Channel, key: str, urls: list[str], own_images: str | None = None
) -> None:
    """Every URL's host, as a browser parses it, must be on the channel's whitelist.

    URLs of images this service stored for the channel (under ``own_images``, an absolute URL
    prefix) always pass.
    """
    if not channel.image_domains:
        return
    allowed = set(channel.image_domains)
    for url in urls:
        try:
            parsed = ada_url.URL(url)
        except ValueError:
            raise InvalidInput(f"invalid image link: {url} (fieldKey: {key})") from None
        if parsed.hostname not in allowed and not _is_own_image(parsed, own_images):
            raise InvalidInput(f"invalid domain in image link: {parsed.hostname} (fieldKey: {key})")


def _is_own_image(parsed: ada_url.URL, own_images: str | None) -> bool:
    if own_images is None:
        return False
    own = ada_url.URL(own_images)
    # Parsed, so dot segments and backslashes are resolved as a browser resolves them.
    return parsed.origin == own.origin and parsed.pathname.startswith(own.pathname)


@dataclass
class NewFeedback:
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    issue_names: list[str] = field(default_factory=list)


def read_issue_names(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput("issueNames must be array")
    names: list[str] = []
    for name in value:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_ISSUE_NAME_LENGTH:
            raise InvalidInput(
                f"issueNames must be array of non-empty strings of at most "
                f"{MAX_ISSUE_NAME_LENGTH} characters"
            )
        if name not in names:
            names.append(name)
    if len(names) > MAX_ISSUE_NAMES:
        raise InvalidInput(f"issueNames must contain no more than {MAX_ISSUE_NAMES} elements")
    return names


def validate_new_feedback(
    channel: Channel, body: Mapping[str, Any], own_images: str | None = None
) -> NewFeedback:
    """Check a create body against the channel's fields, in the reference server's order."""
    result = NewFeedback()
    if ISSUE_NAMES_KEY in body:
        result.issue_names = read_issue_names(body[ISSUE_NAMES_KEY])
    fields_by_key = {f.key: f for f in channel.fields}
    for key, value in body.items():
        if key == ISSUE_NAMES_KEY:
            continue
        if key in RESERVED_KEYS and key != "createdAt":
            raise InvalidInput(f"reserved field key is unavailable: {key}")
        field_ = fields_by_key.get(key)
        if field_ is None:
            raise InvalidInput(f"invalid field key: {key}")
        if not value_is_valid(field_, value):
            raise InvalidInput(
                f"invalid value: (value: {render(value)}, type: {field_.format}, fieldKey: {key})"
            )
        if field_.format is FieldFormat.images:
            check_image_domains(channel, key, value, own_images)
        if key == "createdAt":
            result.created_at = parse_timestamp(value) if value is not None else None
        else:
            result.data[key] = normalise(field_, value)
    return result


@dataclass
class FeedbackChanges:
    data: dict[str, Any] = field(default_factory=dict)
    # (field, option name) pairs for select values that name no existing option yet.
    new_options: list[tuple[Field, str]] = field(default_factory=list)


def _option_key(field_: Field, name: str, changes: FeedbackChanges) -> str:
    """Update takes option *names*; an unknown name becomes a new option (key = name)."""
    for option in field_.options:
        if option.name == name:
            return option.key
    if name in field_.option_keys():
        return name
    if (field_, name) not in changes.new_options:
        changes.new_options.append((field_, name))
    return name


def _map_option_names(field_: Field, value: Any, changes: FeedbackChanges) -> tuple[Any, bool]:
    """Translate select values from names to keys; the flag says the shape was right."""

    def acceptable(name: Any) -> bool:
        return isinstance(name, str) and 0 < len(name) <= MAX_OPTION_LENGTH

    if field_.format is FieldFormat.select:
        if value is None:
            return value, True
        if not acceptable(value):
            return value, False
        return _option_key(field_, value, changes), True
    if not isinstance(value, list) or not all(acceptable(name) for name in value):
        return value, False
    return [_option_key(field_, name, changes) for name in value], True


def validate_feedback_changes(
    channel: Channel, body: Mapping[str, Any], own_images: str | None = None
) -> FeedbackChanges:
    """Check an update body: only EDITABLE, ACTIVE fields, with the reference's messages."""
    changes = FeedbackChanges()
    fields_by_key = {f.key: f for f in channel.fields}
    for key, value in body.items():
        field_ = fields_by_key.get(key)
        if field_ is None:
            raise InvalidInput("invalid field name")
        if key == "issues":
            raise InvalidInput(ISSUES_ARE_LINKED)
        if field_.property is FieldProperty.READ_ONLY:
            raise InvalidInput("this field is read-only")
        if field_.status is FieldStatus.INACTIVE:
            raise InvalidInput("this field is disabled")
        valid = True
        if field_.format in (FieldFormat.select, FieldFormat.multiSelect):
            value, valid = _map_option_names(field_, value, changes)
        elif not value_is_valid(field_, value):
            valid = False
        if not valid:
            raise InvalidInput(
                f"{key}: invalid value (value: {render(value)}, format: {field_.format})"
            )
        if field_.format is FieldFormat.images:
            check_image_domains(channel, key, value, own_images)
        changes.data[key] = normalise(field_, value)
    return changes
