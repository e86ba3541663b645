"""Votes on a board's feedback: one per voter, and ``voteCount`` always equal to the rows.

A voter is an end user (``u<id>``) or, anonymously, the keyed hash of the client's network
(``a<hash>``). Each toggle is one write unit: the row change and the counter change commit
together, and on SQLite the unit holds the write lock from its start, so concurrent toggles by
any number of processes serialise.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from feedback_service.database import unit_of_work
from feedback_service.models import EndUser, Feedback
from feedback_service.repositories import end_users as end_users_repo
from feedback_service.repositories import feedback as feedback_repo
from feedback_service.repositories import votes as repo
from feedback_service.services.boards import board_feedback, board_feedback_id
from feedback_service.services.end_users import (
    EndUserClaim,
    acting_end_user,
    check_unproven_claim,
    verified_claim,
)
from feedback_service.services.public_keys import BoardAccess


@dataclass(frozen=True)
class VoteState:
    voted: bool
    vote_count: int


def end_user_voter(end_user: EndUser) -> str:
    return f"u{end_user.id}"


def anonymous_voter(client_key: str) -> str:
    return f"a{client_key}"


def add_first_vote(
    session: Session, feedback: Feedback, voter_key: str, end_user_id: int | None
) -> None:
    """The submitter's own vote on new feedback, counted on the row as the database has it."""
    if repo.add_vote(session, feedback.id, voter_key, end_user_id):
        count = feedback_repo.add_to_vote_count(session, feedback.id, 1)
        set_committed_value(feedback, "vote_count", count)


def toggle_vote(
    access: BoardAccess, public_id: str, claim: EndUserClaim | None, client_key: str
) -> VoteState:
    """Remove the voter's vote if there is one, else add it.

    :raises BoardFeedbackNotFound: :raises InvalidUserHash:
    """
    claim = verified_claim(access, claim)
    with unit_of_work(write=True) as session:
        feedback_id = board_feedback_id(session, access.channel_id, public_id)
        end_user = acting_end_user(session, access, claim)
        voter = end_user_voter(end_user) if end_user else anonymous_voter(client_key)
        feedback_repo.lock_feedback(session, feedback_id)
        if repo.remove_vote(session, feedback_id, voter):
            return VoteState(False, feedback_repo.add_to_vote_count(session, feedback_id, -1))
        added = repo.add_vote(session, feedback_id, voter, end_user.id if end_user else None)
        count = feedback_repo.add_to_vote_count(session, feedback_id, 1 if added else 0)
        return VoteState(True, count)


def viewer_has_voted(
    session: Session,
    access: BoardAccess,
    feedback_id: int,
    viewer: EndUserClaim | None,
    client_key: str,
) -> bool:
    """Whether the end user (checked by ``verified_claim``), else the anonymous client, voted.

    :raises InvalidUserHash: an unproven claim to a verified end user.
    """
    if viewer is None:
        return repo.has_voted(session, feedback_id, anonymous_voter(client_key))
    end_user = end_users_repo.find_end_user(session, access.project_id, viewer.external_id)
    if end_user is None:
        return False
    check_unproven_claim(end_user, viewer)
    return repo.has_voted(session, feedback_id, end_user_voter(end_user))


def viewer_claim(external_id: str | None, user_hash: str | None) -> EndUserClaim | None:
    """The claim a read makes with ``endUserId`` (and ``userHash``), if any."""
    return EndUserClaim(external_id, user_hash) if external_id is not None else None


def vote_state(
    access: BoardAccess,
    public_id: str,
    external_id: str | None,
    user_hash: str | None,
    client_key: str,
) -> VoteState:
    """:raises BoardFeedbackNotFound: :raises InvalidUserHash:"""
    viewer = verified_claim(access, viewer_claim(external_id, user_hash))
    with unit_of_work(write=False) as session:
        feedback = board_feedback(session, access.channel_id, public_id)
        voted = viewer_has_voted(session, access, feedback.id, viewer, client_key)
        return VoteState(voted, feedback.vote_count)
