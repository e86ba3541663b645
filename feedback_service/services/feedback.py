"""Feedback in a channel: create, read, update, delete, and link to issues."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback_service.database import unit_of_work
from feedback_service.errors import FeedbackNotFound, InvalidInput, IssueNameDuplicated, UnknownId
from feedback_service.models import Channel, Feedback, Issue, IssueStatus, Option
from feedback_service.public_ids import FEEDBACK_PREFIX, new_public_id
from feedback_service.repositories import feedback as repo
from feedback_service.repositories import issues as issues_repo
from feedback_service.repositories import search_index
from feedback_service.repositories.project_names import name_taken
from feedback_service.services import field_values
from feedback_service.services.boards import refuse_new_board_options, with_board_defaults
from feedback_service.services.channels import channel_definition
from feedback_service.services.field_values import MAX_ISSUE_NAME_LENGTH
from feedback_service.services.issues import issues_for_names
from feedback_service.timestamps import utcnow


def _feedback(session: Session, channel_id: int, feedback_id: int) -> Feedback:
    feedback = repo.get_feedback(session, channel_id, feedback_id)
    if feedback is None:
        raise FeedbackNotFound()
    return feedback


def create_feedback(
    project_id: int, channel_id: int, body: Mapping[str, Any], own_images: str | None = None
) -> Feedback:
    """Validate ``body`` against the channel's fields, store it and link ``issueNames``.

    Issue names are looked up in this project only; missing ones are created. Image URLs
    under ``own_images`` (this service's uploads for the channel) pass the domain whitelist.

    :raises ChannelNotFound: :raises InvalidInput:
    """
    with unit_of_work(write=True) as session:
        channel = channel_definition(session, project_id, channel_id)
        return insert_feedback(session, channel, body, own_images=own_images)


def insert_feedback(
    session: Session,
    channel: Channel,
    body: Mapping[str, Any],
    own_images: str | None = None,
    **columns: Any,
) -> Feedback:
    """Store a feedback with its index rows and counts, in the caller's unit of work.

    A board's feedback gets a public id, and a type and status when it has none. ``columns``
    sets further columns (the public API's end user and metadata).

    :raises InvalidInput:
    """
    if channel.is_board:
        body = with_board_defaults(body)
        columns = {"public_id": new_public_id(FEEDBACK_PREFIX), **columns}
    new = field_values.validate_new_feedback(channel, body, own_images)
    now = utcnow()
    feedback = Feedback(
        channel_id=channel.id,
        data=new.data,
        created_at=new.created_at or now,
        updated_at=now,
        # Set here: the row is inserted without the ORM, which would apply column defaults.
        vote_count=0,
        comment_count=0,
        **columns,
    )
    feedback.id = repo.insert_feedback(session, feedback)
    search_index.index_feedback(session, feedback.id, channel.id, feedback.data, channel.fields)
    repo.add_to_channel_count(session, channel.id, 1)
    if new.issue_names:
        for issue in issues_for_names(session, channel.project_id, new.issue_names):
            if repo.link_issue(session, feedback.id, issue.id, now):
                issues_repo.add_to_feedback_count(session, issue.id, 1)
    return feedback


def get_feedback(project_id: int, channel_id: int, feedback_id: int) -> Feedback:
    """:raises ChannelNotFound: :raises FeedbackNotFound:"""
    with unit_of_work(write=False) as session:
        channel_definition(session, project_id, channel_id)
        return _feedback(session, channel_id, feedback_id)


def update_feedback(
    project_id: int,
    channel_id: int,
    feedback_id: int,
    body: Mapping[str, Any],
    own_images: str | None = None,
) -> None:
    """Change EDITABLE, ACTIVE fields; unknown select option names become options.

    :raises ChannelNotFound: :raises FeedbackNotFound: :raises InvalidInput:
    """
    with unit_of_work(write=True) as session:
        channel = channel_definition(session, project_id, channel_id)
        feedback = _feedback(session, channel_id, feedback_id)
        changes = field_values.validate_feedback_changes(channel, body, own_images)
        refuse_new_board_options(channel, changes.new_options)
        for field_, name in changes.new_options:
            session.add(Option(field_id=field_.id, key=name, name=name))
        # A new dict, so the JSON column sees the change.
        feedback.data = {**feedback.data, **changes.data}
        feedback.updated_at = max(utcnow(), feedback.updated_at)
        session.flush()
        search_index.reindex_feedback(
            session, feedback.id, channel.id, feedback.data, channel.fields
        )


def delete_feedback(project_id: int, channel_id: int, feedback_ids: Sequence[int]) -> int:
    """Delete those of ``feedback_ids`` that are in the channel; others are ignored.

    :raises ChannelNotFound:
    """
    with unit_of_work(write=True) as session:
        channel_definition(session, project_id, channel_id)
        deleted = repo.delete_feedback(session, channel_id, feedback_ids)
        repo.add_to_channel_count(session, channel_id, -deleted)
        return deleted


def _check_link_ends(
    session: Session, project_id: int, channel_id: int, feedback_id: int, issue_id: int
) -> None:
    channel_definition(session, project_id, channel_id)
    if not repo.feedback_exists(session, channel_id, feedback_id):
        raise FeedbackNotFound()
    if issues_repo.get_issue(session, project_id, issue_id) is None:
        raise UnknownId()


def attach_issue(project_id: int, channel_id: int, feedback_id: int, issue_id: int) -> None:
    """Link an issue of this project once; linking again changes nothing.

    :raises ChannelNotFound: :raises FeedbackNotFound: :raises UnknownId: an unknown issue
    """
    with unit_of_work(write=True) as session:
        _check_link_ends(session, project_id, channel_id, feedback_id, issue_id)
        now = utcnow()
        if repo.link_issue(session, feedback_id, issue_id, now):
            issues_repo.add_to_feedback_count(session, issue_id, 1)
            repo.touch(session, feedback_id, now)


def detach_issue(project_id: int, channel_id: int, feedback_id: int, issue_id: int) -> None:
    """Remove a link if present; the count only drops when a link was removed.

    :raises ChannelNotFound: :raises FeedbackNotFound: :raises UnknownId: an unknown issue
    """
    with unit_of_work(write=True) as session:
        _check_link_ends(session, project_id, channel_id, feedback_id, issue_id)
        if repo.unlink_issue(session, feedback_id, issue_id):
            issues_repo.add_to_feedback_count(session, issue_id, -1)
            repo.touch(session, feedback_id, utcnow())


def link_new_issue(project_id: int, channel_id: int, feedback_id: int, name: str) -> Issue:
    """Create an issue (status INIT) and link the feedback to it, both or neither.

    :raises ChannelNotFound: :raises FeedbackNotFound: :raises InvalidInput: a blank or long
    name. :raises IssueNameDuplicated: the project has an issue of that name.
    """
    name = name.strip()
    if not name or len(name) > MAX_ISSUE_NAME_LENGTH:
        raise InvalidInput(f"issue name must be 1 to {MAX_ISSUE_NAME_LENGTH} characters")
    try:
        with unit_of_work(write=True) as session:
            channel_definition(session, project_id, channel_id)
            _feedback(session, channel_id, feedback_id)
            if name_taken(session, Issue, project_id, name):
                raise IssueNameDuplicated()
            issue = Issue(project_id=project_id, name=name, status=IssueStatus.INIT)
            session.add(issue)
            session.flush()
            now = utcnow()
            repo.link_issue(session, feedback_id, issue.id, now)
            issues_repo.add_to_feedback_count(session, issue.id, 1)
            repo.touch(session, feedback_id, now)
    except IntegrityError:
        # Only reachable on databases where writers do not queue (PostgreSQL).
        raise IssueNameDuplicated() from None
    return issue
