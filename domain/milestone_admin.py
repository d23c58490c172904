"""Admin corrections of milestone records (PUT/DELETE), and the periods milestones are read in."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.changes import KEEP, Keep, given
from domain.errors import BadInput, NotFound
from domain.events import record_change
from domain.milestones import MILESTONE_ACHIEVED, MilestoneStatus
from domain.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    check_calendar_date,
    check_instant,
    check_span,
    local_midnight,
)
from domain.statuses import check_if_match
from domain.validation import check_number
from models.milestones import Milestone, milestone
from models.types import new_version, utcnow

MILESTONE = "Milestone"


async def load_milestone(session: AsyncSession, milestone_id: str) -> Milestone:
    row = (await session.execute(milestone(milestone_id, for_update=True))).scalar_one_or_none()
    if row is None:
        raise NotFound(MILESTONE, milestone_id)
    return row


async def correct_milestone(
    session: AsyncSession,
    *,
    milestone_id: str,
    status: MilestoneStatus | Keep = KEEP,
    value: float | Keep = KEEP,
    achieved_at: datetime | Keep | None = KEEP,
    if_match: str | None,
) -> Milestone:
    """An admin's correction: may set any status, value or moment (detection never lowers them)."""
    row = await load_milestone(session, milestone_id)
    check_if_match(resource=MILESTONE, key=milestone_id, current=row.version, if_match=if_match)
    was_achieved = row.status == MilestoneStatus.ACHIEVED
    if given(value):
        row.value = check_number("achieved_value", value)
    if given(status):
        row.status = status
    if given(achieved_at):
        row.achieved_at = achieved_at and check_instant("achieved_at", achieved_at)
    if row.status == MilestoneStatus.ACHIEVED and row.achieved_at is None:
        row.achieved_at = utcnow()
    if row.status == MilestoneStatus.IN_PROGRESS:
        row.achieved_at = None
    row.updated_at = utcnow()
    row.version = new_version()
    if row.status == MilestoneStatus.ACHIEVED and not was_achieved:
        record_change(session, topic=MILESTONE_ACHIEVED, key=row.mentor_id, row=row)
    await session.flush()
    return row


async def delete_milestone(
    session: AsyncSession, *, milestone_id: str, if_match: str | None
) -> None:
    row = await load_milestone(session, milestone_id)
    check_if_match(resource=MILESTONE, key=milestone_id, current=row.version, if_match=if_match)
    await session.delete(row)
    await session.flush()


def achieved_window(
    *,
    year: int | None,
    start_date: date | None,
    end_date: date | None,
    tz: ZoneInfo,
    today: date,
) -> tuple[datetime, datetime]:
    """[from, before) in UTC for a `year`, or inclusive `start_date`..`end_date` (at most
    MAX_PERIOD_YEARS), read in `tz`; neither: the current calendar year."""
    if (start_date is None) != (end_date is None):
        raise BadInput.field("start_date" if start_date is None else "end_date", "give both dates")
    if start_date is not None and end_date is not None:
        if year is not None:
            raise BadInput.field("year", "give a year or start_date and end_date, not both")
        check_calendar_date("start_date", start_date)
        check_calendar_date("end_date", end_date)
        if start_date > end_date:
            raise BadInput.field("start_date", "must not be after end_date")
        check_span(start_date, end_date)
        first, last = start_date, end_date
    else:
        chosen = year if year is not None else today.year
        if not FIRST_YEAR <= chosen <= LAST_YEAR:
            raise BadInput.field("year", f"must be between {FIRST_YEAR} and {LAST_YEAR}")
        first, last = date(chosen, 1, 1), date(chosen, 12, 31)
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
