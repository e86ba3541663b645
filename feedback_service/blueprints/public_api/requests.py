"""Reading public API requests: the JSON body, the board, the client."""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import Schema, ValidationError

from feedback_service.services.public_keys import BoardAccess

NOT_AN_OBJECT = "Expected a JSON object"


def board() -> BoardAccess:
    access: BoardAccess = g.board
    return access


def load_body(schema: Schema) -> Any:
    """The body loaded by ``schema``; an empty body reads as ``{}``.

    Any content type is read as JSON, as the reference server does.

    :raises ValidationError:
    """
    raw = request.get_data(cache=True)
    body = request.get_json(force=True) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValidationError({"_schema": [NOT_AN_OBJECT]})
    return schema.load(body)


def load_query(schema: Schema) -> Any:
    """:raises ValidationError:"""
    return schema.load(request.args)
