"""Channels and their typed fields."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import ada_url
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from feedback_service.database import unique_or, unit_of_work
from feedback_service.errors import ChannelNotFound, Conflict, InvalidInput, ProjectNotFound
from feedback_service.models import (
    FTS_TEXT_COLUMNS,
    Channel,
    Field,
    FieldFormat,
    FieldProperty,
    FieldStatus,
    Option,
)
from feedback_service.repositories import channels as repo
from feedback_service.repositories import projects as projects_repo
from feedback_service.services.field_values import RESERVED_KEYS

MAX_NAME_LENGTH = 255
FIELD_KEY = re.compile(r"^[a-z0-9_]+$", re.IGNORECASE)
RESERVED_NAMES = frozenset({"ID", "Created", "Updated", "Issue"})
SELECTABLE = (FieldFormat.select, FieldFormat.multiSelect)

# Every channel starts with these, in this order, as in the reference server.
DEFAULT_FIELDS = (
    ("ID", "id", FieldFormat.number, FieldProperty.READ_ONLY),
    ("Created", "createdAt", FieldFormat.date, FieldProperty.READ_ONLY),
    ("Updated", "updatedAt", FieldFormat.date, FieldProperty.READ_ONLY),
    ("Issue", "issues", FieldFormat.multiSelect, FieldProperty.EDITABLE),
)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    format: FieldFormat
    property: FieldProperty = FieldProperty.EDITABLE
    options: tuple[str, ...] = field(default_factory=tuple)


def check_field_specs(specs: Sequence[FieldSpec]) -> None:
    text_fields = sum(spec.format is FieldFormat.text for spec in specs)
    if text_fields > FTS_TEXT_COLUMNS:
        # Each text field has a column of its own in the full-text index.
        raise InvalidInput(f"a channel can have at most {FTS_TEXT_COLUMNS} text fields")
    seen: set[str] = set()
    for spec in specs:
        if not FIELD_KEY.match(spec.key):
            raise InvalidInput(f"field key {spec.key!r} must match [a-z0-9_]+")
        if spec.key in RESERVED_KEYS or spec.key in RESERVED_NAMES:
            raise InvalidInput(f"field key {spec.key!r} is reserved")
        if spec.key in seen:
            raise InvalidInput(f"field key {spec.key!r} is given twice")
        seen.add(spec.key)
        if spec.options and spec.format not in SELECTABLE:
            raise InvalidInput(f"field {spec.key!r}: only select and multiSelect take options")
        if len(set(spec.options)) != len(spec.options) or not all(spec.options):
            raise InvalidInput(f"field {spec.key!r}: options must be non-empty and distinct")


def normalise_image_domain(host: str) -> str:
    """A bare host name as a browser would parse it (lower case, IDNA), or InvalidInput."""
    candidate = host.strip()
    try:
        parsed = ada_url.URL(f"https://{candidate}/").hostname
    except ValueError:
        parsed = None
    # Anything that would make the text more than a host (a path, a port, user info...).
    if not candidate or parsed is None or any(c in candidate for c in "/\\@:?#% "):
        raise InvalidInput(
            f"invalid image domain: {host!r} (expected a host name such as cdn.example.com)"
        )
    return parsed


def _channel_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"channel name must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def create_channel(
    project_id: int,
    name: str,
    specs: Sequence[FieldSpec],
    image_domains: Sequence[str] = (),
    description: str | None = None,
    *,
    is_board: bool = False,
) -> Channel:
    """Create a channel with the four default fields followed by ``specs``.

    :raises InvalidInput: bad name, field or domain. :raises ProjectNotFound:
    :raises Conflict: the project already has a channel of that name.
    """
    name = _channel_name(name)
    check_field_specs(specs)
    domains = sorted({normalise_image_domain(host) for host in image_domains})
    conflict = Conflict(f"project {project_id} already has a channel named {name!r}")
    with unique_or(conflict), unit_of_work(write=True) as session:
        if projects_repo.get_project(session, project_id) is None:
            raise ProjectNotFound()
        if repo.channel_name_taken(session, project_id, name):
            raise conflict
        defaults = [
            Field(
                key=key,
                name=label,
                format=fmt,
                property=prop,
                status=FieldStatus.ACTIVE,
                options=[],
            )
            for label, key, fmt, prop in DEFAULT_FIELDS
        ]
        custom = [
            Field(
                key=spec.key,
                name=spec.key,
                format=spec.format,
                property=spec.property,
                status=FieldStatus.ACTIVE,
                options=[Option(key=option, name=option) for option in spec.options],
            )
            for spec in specs
        ]
        fields = defaults + custom
        for order, field_ in enumerate(fields):
            field_.order = order
        channel = Channel(
            project_id=project_id,
            name=name,
            description=description,
            image_domains=domains,
            fields=fields,
            is_board=is_board,
        )
        session.add(channel)
    return channel


def channel_in_project(session: Session, project_id: int, channel_id: int) -> Channel:
    """The project's channel with its fields, inside a caller's unit of work.

    :raises ChannelNotFound: also for another project's channel.
    """
    channel = repo.get_channel(session, project_id, channel_id)
    if channel is None:
        raise ChannelNotFound()
    return channel


# Per engine (one per app), so that apps on other databases never share definitions.
_definitions: WeakKeyDictionary[Engine, dict[tuple[int, int], Channel]] = WeakKeyDictionary()
_definitions_guard = threading.Lock()


def _cached_definitions(session: Session) -> dict[tuple[int, int], Channel]:
    engine = session.get_bind()
    with _definitions_guard:
        return _definitions.setdefault(engine, {})


def channel_definition(session: Session, project_id: int, channel_id: int) -> Channel:
    """The project's channel with its fields, as ``channel_in_project`` loads it, from this
    process's cache while the channel's definition stamp is unchanged.

    The stamp is read in the caller's unit of work, so a change that any process committed
    before the unit began is seen. The rows are detached and shared between threads: read them
    only (services that change a channel load it with ``channel_in_project``). The feedback
    count is not part of the definition: read it with ``repositories.channels.feedback_count``.

    :raises ChannelNotFound: also for another project's channel.
    """
    version = repo.definition_version(session, project_id, channel_id)
    if version is None:
        raise ChannelNotFound()
    definitions = _cached_definitions(session)
    cached = definitions.get((project_id, channel_id))
    if cached is not None and cached.definition_version == version:
        return cached
    channel = channel_in_project(session, project_id, channel_id)
    # Its fields and options go with it (the relationships cascade expunge).
    session.expunge(channel)
    definitions[(project_id, channel_id)] = channel
    return channel


def get_channel(project_id: int, channel_id: int) -> Channel:
    """The channel with its fields and options. :raises ChannelNotFound:"""
    with unit_of_work(write=False) as session:
        return channel_in_project(session, project_id, channel_id)


def active_fields(project_id: int, channel_id: int) -> list[Field]:
    """The fields the integration API lists. :raises ChannelNotFound:"""
    channel = get_channel(project_id, channel_id)
    return [f for f in channel.fields if f.status is FieldStatus.ACTIVE]


def update_channel(
    project_id: int, channel_id: int, name: str, description: str | None, search_max_days: int
) -> Channel:
    """:raises ChannelNotFound: :raises InvalidInput: :raises Conflict: the name is taken."""
    name = _channel_name(name)
    if search_max_days == 0 or search_max_days < -1:
        raise InvalidInput("the search window is a number of days, or -1 for unlimited")
    with unit_of_work(write=True) as session:
        channel = channel_in_project(session, project_id, channel_id)
        if name != channel.name and repo.channel_name_taken(session, project_id, name):
            raise Conflict(f"project {project_id} already has a channel named {name!r}")
        channel.name = name
        channel.description = description
        channel.feedback_search_max_days = search_max_days
        return channel


def list_channels(project_id: int) -> list[Channel]:
    """The project's channels by name (without their fields)."""
    with unit_of_work(write=False) as session:
        return repo.list_channels(session, project_id)
