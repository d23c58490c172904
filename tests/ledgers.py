"""Building small activity ledgers for stats tests, through the domain's own ingest."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.activities import ActivityInput, ActivityStatus
from domain.ledger import IngestCounts, record_activities
from models.database import Database, begin_write

# Late enough that every test ledger lies in the past.
RECORDED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def act(
    id: str,
    *,
    mentor: str,
    at: str,
    minutes: int = 60,
    type: str = "act_type_001",
    cancelled: bool = False,
    contact: str = "contact_1",
) -> ActivityInput:
    """One activity; `at` is an ISO 8601 instant such as 2026-03-25T09:00Z."""
    return ActivityInput(
        id=id,
        mentor_id=mentor,
        mentor_name=f"Mentor {mentor}",
        activity_type_id=type,
        contact_id=contact,
        started_at=datetime.fromisoformat(at).astimezone(UTC),
        duration_minutes=minutes,
        status=ActivityStatus.CANCELLED if cancelled else ActivityStatus.COMPLETED,
    )


async def record(database: Database, *activities: ActivityInput) -> IngestCounts:
    """Record activities in one transaction, as a GraphQL batch would."""
    async with database.sessions() as session:
        await begin_write(session)
        counts = await record_activities(session, list(activities), now=RECORDED_AT)
        await session.commit()
    return counts
