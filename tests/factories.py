"""Keyword-only async factories that make data through the domain layer (so it is always valid)."""

from __future__ import annotations

from datetime import datetime

from domain import mentors, statuses
from domain.statuses import PauseDetails
from models.activities import Activity
from models.database import Database, begin_write
from models.mentors import Mentor
from models.statuses import PauseRecord


async def make_mentor(database: Database, *, id: str, name: str | None = None) -> Mentor:
    async with database.sessions() as session:
        await begin_write(session)
        mentor = await mentors.create_mentor(session, mentor_id=id, name=name or f"Mentor {id}")
        await session.commit()
    return mentor


async def make_pause(
    database: Database,
    *,
    mentor_id: str,
    start_date: datetime | None = None,
    expected_return_date: datetime | None = None,
    reason: str | None = "personal_leave",
) -> PauseRecord:
    async with database.sessions() as session:
        await begin_write(session)
        record = await statuses.open_pause(
            session,
            mentor_id=mentor_id,
            details=PauseDetails(
                start_date=start_date, expected_return_date=expected_return_date, reason=reason
            ),
        )
        await session.commit()
    return record


async def add_ledger(database: Database, *activities: Activity) -> None:
    """Write activities straight into the ledger (the detection tests' input)."""
    async with database.sessions() as session:
        await begin_write(session)
        session.add_all(activities)
        await session.commit()


def activity(
    id: str,
    *,
    mentor_id: str,
    started_at: datetime,
    minutes: int = 60,
    contact: str = "contact_1",
    status: str = "completed",
    type_id: str = "act_type_001",
) -> Activity:
    return Activity(
        id=id,
        mentor_id=mentor_id,
        activity_type_id=type_id,
        contact_id=contact,
        started_at=started_at,
        duration_minutes=minutes,
        status=status,
    )
