"""Creating mentors: every new mentor starts `active`, so every mentor has a status."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict
from domain.events import record_status_change
from domain.status_rules import StatusValue
from domain.validation import check_id, check_name
from models.mentors import Mentor
from models.statuses import MentorStatus


async def create_mentor(session: AsyncSession, *, mentor_id: str, name: str) -> Mentor:
    """Register a mentor, with an `active` status."""
    check_id("id", mentor_id)
    check_name("name", name)
    if await session.get(Mentor, mentor_id) is not None:
        raise Conflict(f"mentor '{mentor_id}' already exists")
    mentor = Mentor(id=mentor_id, name=name)
    session.add(mentor)
    await session.flush()
    status = MentorStatus(mentor_id=mentor_id, status=StatusValue.ACTIVE)
    session.add(status)
    record_status_change(session, status)
    await session.flush()
    return mentor
