"""Error bodies of both APIs, as the OpenAPI document describes them.

The error handlers of each API build these bodies; the document's response checks (the
contract tests) hold the two together.
"""

from __future__ import annotations

from marshmallow import Schema, fields

STRING_OR_STRINGS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class IntegrationErrorOut(Schema):
    """The NestJS error shape: ``error`` names the status, or ``code`` the domain error."""

    statusCode = fields.Integer(required=True)
    message = fields.Raw(
        required=True,
        metadata={
            **STRING_OR_STRINGS,
            "description": "What went wrong; a list of messages for invalid input",
        },
    )
    error = fields.String(metadata={"description": "The status's reason phrase"})
    code = fields.String(metadata={"description": "The domain error, such as IssueNotFound"})
    path = fields.String(required=True)


class InputErrorsOut(Schema):
    """zod's ``flatten()``: messages about the whole input, and field by field."""

    formErrors = fields.List(fields.String(), required=True)
    fieldErrors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), required=True
    )


class PublicErrorOut(Schema):
    error = fields.String(required=True)
    details = fields.Nested(InputErrorsOut, metadata={"description": "Only for invalid input"})
