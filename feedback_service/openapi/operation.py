"""What a view declares about itself for the OpenAPI document.

The declaration sits on the view, next to the route, so that a route cannot change without
the document in sight; the schemas named here are the ones the view loads and dumps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import Schema

ATTRIBUTE = "openapi_operation"
JSON = "application/json"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """One API operation: its summary, input and success response.

    ``response`` is None for an empty body, a marshmallow schema for JSON, or a JSON Schema
    dict for another media type. ``errors`` lists the statuses this operation
    answers beyond those every operation of its API can answer (see ``document.Surface``).
    """

    summary: str
    status: int = 200
    response: Schema | dict[str, Any] | None = None
    body: Schema | None = None
    query: Schema | None = None
    errors: tuple[int, ...] = ()
    description: str | None = None
    body_media_type: str = JSON
    response_media_type: str = JSON


def documented(summary: str, **details: Any) -> Callable[[View], View]:
    """Attach an ``Operation`` to a view; ``details`` are its other fields."""
    operation = Operation(summary, **details)

    def attach(view: View) -> View:
        setattr(view, ATTRIBUTE, operation)
        return view

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, ATTRIBUTE, None)
