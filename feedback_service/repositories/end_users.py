from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback_service.models import EndUser
from feedback_service.repositories.text_match import never_stored
from feedback_service.repositories.upsert import insert_ignoring_duplicates
from feedback_service.timestamps import utcnow


def find_end_user(session: Session, project_id: int, external_id: str) -> EndUser | None:
    if never_stored(session, external_id):
        return None
    stmt = select(EndUser).where(
        EndUser.project_id == project_id, EndUser.external_id == external_id
    )
    return session.scalar(stmt)


def ensure_end_user(session: Session, project_id: int, external_id: str) -> EndUser:
    """The project's end user with this external id, created if missing.

    Most calls find the user (every vote and comment of a known user comes here), so the
    lookup comes first. The insert ignores a row that a concurrent transaction created
    meanwhile, so two first requests of one user never fail on the unique key.
    """
    end_user = find_end_user(session, project_id, external_id)
    if end_user is not None:
        return end_user
    now = utcnow()
    row = {"project_id": project_id, "external_id": external_id, "created_at": now}
    insert_ignoring_duplicates(session, EndUser.__table__, {**row, "updated_at": now})
    end_user = find_end_user(session, project_id, external_id)
    assert end_user is not None  # inserted or already there, in this transaction's view
    return end_user
