"""Changing a channel's fields after it was created (the console's field editor).

A field's key and format never change: stored values are keyed by the key and were validated
against the format, and text fields own a full-text column by creation order. Fields are never
deleted either; INACTIVE hides one from the APIs and from new input.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback_service.database import unit_of_work
from feedback_service.errors import Conflict, FieldNotFound, InvalidInput
from feedback_service.models import Channel, Field, FieldFormat, FieldProperty, FieldStatus, Option
from feedback_service.services.channels import (
    DEFAULT_FIELDS,
    MAX_NAME_LENGTH,
    RESERVED_NAMES,
    SELECTABLE,
    FieldSpec,
    channel_in_project,
    check_field_specs,
)
from feedback_service.services.field_values import MAX_OPTION_LENGTH

DEFAULT_KEYS = frozenset(key for _label, key, _format, _property in DEFAULT_FIELDS)
# What the public API relies on in a board: these fields and their options stay as created.
BOARD_KEYS = frozenset({"title", "description", "type", "status"})


@dataclass(frozen=True)
class FieldDraft:
    key: str
    name: str
    format: FieldFormat
    property: FieldProperty
    description: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldChanges:
    name: str
    description: str | None
    property: FieldProperty
    status: FieldStatus
    order: int
    # Option names to add to a select or multiSelect field (each also becomes its key).
    new_options: tuple[str, ...] = ()


def is_locked(channel: Channel, field_: Field) -> bool:
    """Default fields, and a board's own fields, cannot be edited."""
    return field_.key in DEFAULT_KEYS or (channel.is_board and field_.key in BOARD_KEYS)


def _field_name(channel: Channel, name: str, except_id: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"field name must be 1 to {MAX_NAME_LENGTH} characters")
    if name in RESERVED_NAMES:
        raise InvalidInput(f"field name {name!r} is reserved")
    if any(f.name == name and f.id != except_id for f in channel.fields):
        raise Conflict(f"the channel already has a field named {name!r}")
    return name


def _check_options(field_: Field | None, options: tuple[str, ...]) -> None:
    taken = field_.option_keys() if field_ else set()
    for option in options:
        if not option.strip() or len(option) > MAX_OPTION_LENGTH:
            raise InvalidInput(f"an option is 1 to {MAX_OPTION_LENGTH} characters")
        if option in taken:
            raise InvalidInput(f"option {option!r} exists already")


def _channel_field(channel: Channel, field_id: int) -> Field:
    field_ = next((f for f in channel.fields if f.id == field_id), None)
    if field_ is None:
        raise FieldNotFound()
    return field_


def add_field(project_id: int, channel_id: int, draft: FieldDraft) -> Field:
    """Append a field to the channel.

    :raises ChannelNotFound: :raises InvalidInput: :raises Conflict: the name is taken.
    """
    with unit_of_work(write=True) as session:
        channel = channel_in_project(session, project_id, channel_id)
        custom = [
            FieldSpec(f.key, f.format, f.property)
            for f in channel.fields
            if f.key not in DEFAULT_KEYS
        ]
        check_field_specs(
            [*custom, FieldSpec(draft.key, draft.format, draft.property, draft.options)]
        )
        _check_options(None, draft.options)
        field_ = Field(
            key=draft.key,
            name=_field_name(channel, draft.name or draft.key),
            description=draft.description,
            format=draft.format,
            property=draft.property,
            status=FieldStatus.ACTIVE,
            order=max((f.order for f in channel.fields), default=0) + 1,
            options=[Option(key=option, name=option) for option in draft.options],
        )
        channel.fields.append(field_)
        return field_


def update_field(project_id: int, channel_id: int, field_id: int, changes: FieldChanges) -> Field:
    """:raises ChannelNotFound: :raises FieldNotFound: :raises InvalidInput: :raises Conflict:"""
    with unit_of_work(write=True) as session:
        channel = channel_in_project(session, project_id, channel_id)
        field_ = _channel_field(channel, field_id)
        if is_locked(channel, field_):
            raise InvalidInput(f"field {field_.key!r} belongs to every channel or board as is")
        if changes.new_options and field_.format not in SELECTABLE:
            raise InvalidInput("only select and multiSelect fields take options")
        _check_options(field_, changes.new_options)
        field_.name = _field_name(channel, changes.name, except_id=field_.id)
        field_.description = changes.description
        field_.property = changes.property
        field_.status = changes.status
        field_.order = changes.order
        field_.options.extend(Option(key=name, name=name) for name in changes.new_options)
        return field_
