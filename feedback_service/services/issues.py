"""Issues of a project: CRUD, search, categories, and lookup by name for feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import (
    CategoryNotFound,
    InvalidInput,
    IssueInvalidName,
    IssueNameDuplicated,
    IssueNotFound,
)
from feedback_service.models import Category, Issue, IssueStatus
from feedback_service.repositories import categories as categories_repo
from feedback_service.repositories import issues as repo
from feedback_service.repositories.pagination import Page
from feedback_service.repositories.project_names import name_taken
from feedback_service.repositories.text_match import contains_ignoring_case
from feedback_service.services.query_parsing import date_range, is_int64, sort_order

SORT_COLUMNS = {
    "id": Issue.id,
    "name": Issue.name,
    # Workflow order (INIT first), as the reference's enum column sorts, not alphabetical.
    "status": case({status: rank for rank, status in enumerate(IssueStatus)}, value=Issue.status),
    "externalIssueId": Issue.external_issue_id,
    "feedbackCount": Issue.feedback_count,
    "createdAt": Issue.created_at,
    "updatedAt": Issue.updated_at,
}
SUBSTRING_COLUMNS = {
    "name": Issue.name,
    "description": Issue.description,
    "externalIssueId": Issue.external_issue_id,
}
DATE_COLUMNS = {"createdAt": Issue.created_at, "updatedAt": Issue.updated_at}


@dataclass(frozen=True)
class IssueFields:
    """Validated issue attributes; ``None`` for status or externalIssueId means 'not given'."""

    name: str
    description: str | None
    status: IssueStatus | None = None
    external_issue_id: str | None = None


def _issue(session: Session, project_id: int, issue_id: int) -> Issue:
    issue = repo.get_issue(session, project_id, issue_id)
    if issue is None:
        raise IssueNotFound()
    return issue


def issues_for_names(session: Session, project_id: int, names: Sequence[str]) -> list[Issue]:
    """The project's issues with these names, creating (status INIT) those that are missing."""
    found = {issue.name: issue for issue in repo.issues_named(session, project_id, names)}
    for name in names:
        if name not in found:
            found[name] = Issue(project_id=project_id, name=name, status=IssueStatus.INIT)
            session.add(found[name])
    session.flush()
    return [found[name] for name in names]


def create_issue(project_id: int, fields: IssueFields, category_id: int | None = None) -> Issue:
    """Create an issue, filed under ``category_id`` when given, in one transaction.

    :raises IssueNameDuplicated: :raises CategoryNotFound:
    """
    try:
        with unit_of_work(write=True) as session:
            if name_taken(session, Issue, project_id, fields.name):
                raise IssueNameDuplicated()
            issue = Issue(
                project_id=project_id,
                name=fields.name,
                description=fields.description,
                status=fields.status or IssueStatus.INIT,
                external_issue_id=fields.external_issue_id,
                category=_category_or_none(session, project_id, category_id),
            )
            session.add(issue)
    except IntegrityError:
        # Only reachable on databases where writers do not queue (PostgreSQL).
        raise IssueNameDuplicated() from None
    return issue


def get_issue(project_id: int, issue_id: int) -> Issue:
    """:raises IssueNotFound:"""
    with unit_of_work(write=False) as session:
        return _issue(session, project_id, issue_id)


def update_issue(project_id: int, issue_id: int, fields: IssueFields) -> None:
    """Replace name and description; status and externalIssueId only when given.

    :raises IssueNotFound: :raises IssueInvalidName: the name belongs to another issue.
    """
    try:
        with unit_of_work(write=True) as session:
            issue = _issue(session, project_id, issue_id)
            if name_taken(session, Issue, project_id, fields.name, except_id=issue_id):
                raise IssueInvalidName()
            issue.name = fields.name
            issue.description = fields.description
            if fields.status is not None:
                issue.status = fields.status
            if fields.external_issue_id is not None:
                issue.external_issue_id = fields.external_issue_id
    except IntegrityError:
        raise IssueInvalidName() from None


def delete_issue(project_id: int, issue_id: int) -> None:
    """Delete one issue; its feedback links go with it. :raises IssueNotFound:"""
    with unit_of_work(write=True) as session:
        session.delete(_issue(session, project_id, issue_id))


def delete_issues(project_id: int, issue_ids: Sequence[int]) -> int:
    """Delete those of ``issue_ids`` that belong to the project; others are ignored."""
    with unit_of_work(write=True) as session:
        return repo.delete_issues(session, project_id, issue_ids)


def _is_status(value: Any) -> bool:
    return isinstance(value, str) and value in IssueStatus.__members__


def _query_conditions(query: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The v1 ``query`` object of issue search as SQL conditions (AND-ed)."""
    conditions: list[ColumnElement[bool]] = []
    for key, value in query.items():
        if key in DATE_COLUMNS:
            window = date_range(key, value, require_both=False)
            conditions.extend(window.conditions(DATE_COLUMNS[key]))
        elif key == "id":
            if not is_int64(value):
                raise InvalidInput("id must be number")
            conditions.append(Issue.id == value)
        elif key == "statuses":
            if not isinstance(value, list) or not all(_is_status(status) for status in value):
                raise InvalidInput("statuses must be array of " + ", ".join(IssueStatus))
            conditions.append(Issue.status.in_(value))
        elif key == "status":
            if not _is_status(value):
                raise InvalidInput("status must be one of " + ", ".join(IssueStatus))
            conditions.append(Issue.status == value)
        elif key == "categoryId":
            if not is_int64(value):
                raise InvalidInput("categoryId must be number")
            # 0 means "no category", as in the reference console's issue search.
            conditions.append(
                Issue.category_id.is_(None) if value == 0 else Issue.category_id == value
            )
        elif key == "searchText":
            if not isinstance(value, str):
                raise InvalidInput("searchText must be string")
            if value:
                conditions.append(_search_text(value))
        elif key in SUBSTRING_COLUMNS:
            if not isinstance(value, str):
                raise InvalidInput(f"{key} must be string")
            conditions.append(contains_ignoring_case(SUBSTRING_COLUMNS[key], value))
        else:
            raise InvalidInput(f"invalid key in query: {key}")
    return conditions


def _search_text(text: str) -> ColumnElement[bool]:
    """Substring of name, description or external id, or the id itself when numeric."""
    alternatives = [contains_ignoring_case(col, text) for col in SUBSTRING_COLUMNS.values()]
    if text.isascii() and text.isdecimal() and len(text) <= 19 and is_int64(int(text)):
        alternatives.append(Issue.id == int(text))
    return or_(*alternatives)


def search_issues(
    project_id: int, query: Mapping[str, Any], sort: Any, page: int, limit: int
) -> Page[Issue]:
    """:raises InvalidInput: an unknown key or a badly typed value in ``query`` or ``sort``."""
    conditions = _query_conditions(query)
    order = sort_order(sort, SORT_COLUMNS)
    with unit_of_work(write=False) as session:
        return repo.search_issues(session, project_id, conditions, order, page, limit)


def set_category(project_id: int, issue_id: int, category_id: int) -> None:
    """:raises IssueNotFound: :raises CategoryNotFound:"""
    with unit_of_work(write=True) as session:
        issue = _issue(session, project_id, issue_id)
        category = categories_repo.get_category(session, project_id, category_id)
        if category is None:
            raise CategoryNotFound()
        issue.category = category


def clear_category(project_id: int, issue_id: int, category_id: int) -> None:
    """:raises IssueNotFound: :raises InvalidInput: the issue is not in that category."""
    with unit_of_work(write=True) as session:
        issue = _issue(session, project_id, issue_id)
        if issue.category_id != category_id:
            raise InvalidInput("Category id does not match")
        issue.category = None


@dataclass(frozen=True)
class BoardColumn:
    """One status of the kanban board: its first issues and how many it holds in all."""

    status: IssueStatus
    issues: list[Issue]
    total: int


@dataclass(frozen=True)
class LinkedFeedback:
    id: int
    channel_id: int
    channel_name: str
    created_at: datetime
    # The first non-empty text field value, in the channel's field order; None when none.
    summary: str | None


def board_columns(project_id: int, per_column: int) -> list[BoardColumn]:
    """Every status in workflow order, each with its most linked issues (at most ``per_column``)."""
    with unit_of_work(write=False) as session:
        totals = repo.count_by_status(session, project_id)
        return [
            BoardColumn(
                status,
                repo.most_linked_in_status(session, project_id, status, per_column),
                totals.get(status, 0),
            )
            for status in IssueStatus
        ]


def set_status(project_id: int, issue_id: int, status: IssueStatus) -> Issue:
    """:raises IssueNotFound:"""
    with unit_of_work(write=True) as session:
        issue = _issue(session, project_id, issue_id)
        issue.status = status
    return issue


def _category_or_none(
    session: Session, project_id: int, category_id: int | None
) -> Category | None:
    if category_id is None:
        return None
    category = categories_repo.get_category(session, project_id, category_id)
    if category is None:
        raise CategoryNotFound()
    return category


def replace_issue(
    project_id: int, issue_id: int, fields: IssueFields, category_id: int | None
) -> Issue:
    """Set every attribute from a form that shows them all, in one transaction.

    Unlike ``update_issue``, a missing external id or category clears it: a form field left
    empty means "none". A missing status keeps the current one.

    :raises IssueNotFound: :raises IssueNameDuplicated: :raises CategoryNotFound:
    """
    try:
        with unit_of_work(write=True) as session:
            issue = _issue(session, project_id, issue_id)
            if name_taken(session, Issue, project_id, fields.name, except_id=issue_id):
                raise IssueNameDuplicated()
            issue.category = _category_or_none(session, project_id, category_id)
            issue.name = fields.name
            issue.description = fields.description
            issue.status = fields.status or issue.status
            issue.external_issue_id = fields.external_issue_id
    except IntegrityError:
        raise IssueNameDuplicated() from None
    return issue


def linked_feedback(project_id: int, issue_id: int, limit: int) -> list[LinkedFeedback]:
    """The newest ``limit`` feedback linked to the issue. :raises IssueNotFound:"""
    with unit_of_work(write=False) as session:
        _issue(session, project_id, issue_id)
        rows = repo.linked_feedback(session, project_id, issue_id, limit)
        text_keys = repo.text_field_keys(session, {row.channel_id for row, _ in rows})
    return [
        LinkedFeedback(
            id=row.id,
            channel_id=row.channel_id,
            channel_name=channel_name,
            created_at=row.created_at,
            summary=_first_text(row.data, text_keys.get(row.channel_id, [])),
        )
        for row, channel_name in rows
    ]


def _first_text(data: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None
