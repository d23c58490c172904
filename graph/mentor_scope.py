"""The one rule for mentor-scoped entry points: an unknown mentor is NOT_FOUND, never empty.

Every root field that takes a `mentorId` (a filter of a list, the subject of a figure, the
mentor a subscription watches) calls this before reading, so REST (404) and GraphQL
(`NOT_FOUND`) answer an unknown id alike (docs/domain.md, "Errors").
"""

from __future__ import annotations

from domain.errors import NotFound
from graph.context import Context
from models.mentors import mentors_by_ids

MENTOR = "Mentor"


async def require_mentor(context: Context, mentor_id: str | None) -> None:
    """Raise NOT_FOUND unless `mentor_id` is None (no filter) or names a mentor."""
    if mentor_id is not None and await context.loaders.mentor.load(mentor_id) is None:
        raise NotFound(MENTOR, mentor_id)


async def require_watched_mentor(context: Context, mentor_id: str | None) -> None:
    """The same rule for a subscription: read in a short session of its own, since a
    subscription's context lives as long as the subscription and must not hold a transaction
    open while it waits for events."""
    if mentor_id is None:
        return
    async with context.database.sessions() as session:
        found = (await session.execute(mentors_by_ids([mentor_id]))).first()
    if found is None:
        raise NotFound(MENTOR, mentor_id)
