"""Errors raised by services. Each surface renders them in its own wire shape.

``status`` is the status the integration API gives (the reference server answers most "not
found" cases with 400); ``code`` is its domain error code, where it has one.
"""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code: str | None = None
    default_message = "Bad Request"

    def __init__(self, message: str | list[str] | None = None) -> None:
        self.message: str | list[str] = message if message is not None else self.default_message
        super().__init__(self.message)


class InvalidInput(AppError):
    """The request is well-formed but its content breaks a rule."""


class ProjectNotFound(AppError):
    code = "ProjectNotFound"
    default_message = "project is not found"


class ChannelNotFound(AppError):
    code = "ChannelNotFound"
    default_message = "channel is not found"


class UnknownId(AppError):
    """An id in the path of a feedback route that names nothing in the channel or project."""

    default_message = "unknown id"


class FeedbackNotFound(UnknownId):
    pass


class IssueNotFound(AppError):
    code = "IssueNotFound"
    default_message = "issue is not found"


class IssueNameDuplicated(AppError):
    code = "IssueNameDuplicated"
    default_message = "issue name is duplicated"


class IssueInvalidName(AppError):
    code = "IssueInvalidName"
    default_message = "Issue name is invalid: Duplicated name"


class CategoryNotFound(AppError):
    status = 404
    code = "CategoryNotFound"
    default_message = "category is not found"


class CategoryNameDuplicated(AppError):
    code = "CategoryNameDuplicated"
    default_message = "category name is duplicated"


class CategoryNameInvalid(AppError):
    code = "CategoryNameInvalid"
    default_message = "category name is invalid: Invalid name"


class Conflict(AppError):
    """A command-line or console request that would duplicate a unique name."""

    status = 409


class BoardFeedbackNotFound(AppError):
    """A public id that names no feedback on the key's board."""

    status = 404
    default_message = "Feedback not found"


class InvalidUserHash(AppError):
    """An end user's ``userHash`` is missing where required, or wrong."""

    status = 401
    default_message = "Invalid user hash"


class OriginNotAllowed(AppError):
    """A browser origin that the project does not allow to call the public API."""

    status = 403
    default_message = "Origin not allowed"


class UserNotFound(AppError):
    status = 404
    default_message = "user is not found"


class SetupClosed(AppError):
    status = 404
    default_message = "this setup link has expired or was already used"


class FieldNotFound(AppError):
    status = 404
    default_message = "field is not found"
