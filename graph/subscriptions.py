"""Live updates over graphql-transport-ws at `/graphql`, fed by the broker after each commit."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from domain.events import STATUS_CHANGED
from domain.milestones import MILESTONE_ACHIEVED
from graph.info import Info
from graph.mentor_scope import require_watched_mentor
from graph.types.milestone import Milestone
from graph.types.status import MentorStatus
from models.milestones import milestones_by_ids
from models.statuses import MentorStatus as MentorStatusRow
from models.statuses import status_of


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The new status each time one changes, through any entry point."
    )
    async def mentor_status_changed(
        self,
        info: Info,
        mentor_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Omit to watch every mentor.")
        ] = None,
    ) -> AsyncGenerator[MentorStatus, None]:
        context = info.context
        await require_watched_mentor(context, mentor_id)
        async for announcement in context.broker.subscribe(STATUS_CHANGED, mentor_id):
            if announcement.payload is not None:
                yield MentorStatus.from_row(MentorStatusRow.model_validate(announcement.payload))
                continue
            # The change was too large to carry in the notification: read the committed row.
            async with context.database.sessions() as session:
                row = (await session.execute(status_of(announcement.key))).scalar_one_or_none()
            if row is not None:
                yield MentorStatus.from_row(row)

    @strawberry.subscription(description="Each milestone a mentor achieves, after it is saved.")
    async def milestone_achieved(
        self,
        info: Info,
        mentor_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Omit to watch every mentor.")
        ] = None,
    ) -> AsyncGenerator[Milestone, None]:
        context = info.context
        await require_watched_mentor(context, mentor_id)
        async for announcement in context.broker.subscribe(MILESTONE_ACHIEVED, mentor_id):
            # The announcement names the committed record; read it with its catalogue entry.
            key = str((announcement.payload or {}).get("id", ""))
            async with context.database.sessions() as session:
                found = (await session.execute(milestones_by_ids([key]))).first()
            if found is not None:
                yield Milestone.from_rows(found.Milestone, found.MilestoneDefinition)
