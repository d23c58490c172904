"""Queries for milestones and their catalogue."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from domain.milestone_admin import achieved_window
from domain.milestones import MilestoneStatus, MilestoneType
from graph.access import visible_mentor
from graph.info import Info
from graph.mentor_scope import require_mentor
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.enums import MilestoneKind, MilestoneState
from graph.types.milestone import Milestone, MilestoneDefinitionType
from models.milestones import MilestoneFilter, definitions, milestone_count, milestone_page
from models.types import utcnow


def _milestone(row: Any) -> Milestone:
    return Milestone.from_rows(row.Milestone, row.MilestoneDefinition)


async def milestone_list(
    info: Info, where: MilestoneFilter, window: Window
) -> Connection[Milestone]:
    return await paged(
        info.context,
        window,
        rows=lambda offset, limit: milestone_page(where, offset=offset, limit=limit),
        count=milestone_count(where),
        convert=_milestone,
        whole_rows=True,
    )


@strawberry.type
class MilestoneQueries:
    @strawberry.field(description="One milestone record by id; null if there is none.")
    async def milestone(self, info: Info, id: strawberry.ID) -> Milestone | None:
        return await info.context.loaders.milestone.load(id)

    @strawberry.field(description="Milestone records, by mentor then catalogue order.")
    async def milestones(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        mentor_id: strawberry.ID | None = None,
        type: MilestoneKind | None = None,
        status: MilestoneState | None = None,
    ) -> Connection[Milestone]:
        await require_mentor(info.context, mentor_id)
        shown = visible_mentor(info.context, mentor_id)
        where = MilestoneFilter(mentor_id=shown, type=type, status=status)
        return await milestone_list(info, where, Window.from_args(first, after))

    @strawberry.field(
        description="Milestones a mentor achieved in a period: a `year`, or `startDate` and "
        "`endDate` (inclusive), read in the service's time zone; default the current year."
    )
    async def new_milestones(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        year: int | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Milestone]:
        await require_mentor(info.context, mentor_id)
        tz = info.context.config.timezone
        since, before = achieved_window(
            year=year,
            start_date=start_date,
            end_date=end_date,
            tz=tz,
            today=utcnow().astimezone(tz).date(),
        )
        where = MilestoneFilter(
            mentor_id=mentor_id,
            status=MilestoneStatus.ACHIEVED,
            achieved_from=since,
            achieved_before=before,
        )
        return await milestone_list(info, where, Window.from_args(first, after))

    @strawberry.field(description="The milestone catalogue, by type and threshold.")
    async def milestone_definitions(self, info: Info) -> list[MilestoneDefinitionType]:
        return [
            MilestoneDefinitionType(
                key=row.key,
                type=MilestoneType(row.type),
                threshold=row.threshold,
                name=row.name,
                badge_image_url=row.badge_image_url,
            )
            for row in (await info.context.read(definitions())).scalars()
        ]
