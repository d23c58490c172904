"""Queries for the activity ledger."""

from __future__ import annotations

import strawberry

from graph.access import visible_mentor
from graph.info import Info
from graph.mentor_scope import require_mentor
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.activity import Activity
from models.activities import activity_count, activity_page


@strawberry.type
class ActivityQueries:
    @strawberry.field(description="One activity by id; null if there is none.")
    async def activity(self, info: Info, id: strawberry.ID) -> Activity | None:
        return await info.context.loaders.stats.activity.load(id)

    @strawberry.field(description="Activities, newest first, optionally of one mentor.")
    async def activities(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        mentor_id: strawberry.ID | None = None,
    ) -> Connection[Activity]:
        await require_mentor(info.context, mentor_id)
        shown = visible_mentor(info.context, mentor_id)
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: activity_page(mentor_id=shown, offset=offset, limit=limit),
            count=activity_count(mentor_id=shown),
            convert=Activity.from_row,
        )
