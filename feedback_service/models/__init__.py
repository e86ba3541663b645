"""Every model, imported here so the metadata (and Alembic) sees all tables."""

from feedback_service.models.admin import AdminUser, Role, SetupToken
from feedback_service.models.board import (
    BOARD_COUNT_TABLE,
    Comment,
    EndUser,
    PublicKey,
    Vote,
)
from feedback_service.models.feedback import Feedback, feedback_issue
from feedback_service.models.issue import Category, Issue, IssueStatus
from feedback_service.models.project import (
    ApiKey,
    Channel,
    Field,
    FieldFormat,
    FieldProperty,
    FieldStatus,
    Option,
    Project,
)
from feedback_service.models.search import FTS_TABLE, FTS_TEXT_COLUMNS, FeedbackValue

__all__ = [
    "BOARD_COUNT_TABLE",
    "FTS_TABLE",
    "FTS_TEXT_COLUMNS",
    "AdminUser",
    "ApiKey",
    "Category",
    "Channel",
    "Comment",
    "EndUser",
    "Feedback",
    "FeedbackValue",
    "Field",
    "FieldFormat",
    "FieldProperty",
    "FieldStatus",
    "Issue",
    "IssueStatus",
    "Option",
    "Project",
    "PublicKey",
    "Role",
    "SetupToken",
    "Vote",
    "feedback_issue",
]
