"""Queries for mentors and the activity-type catalogue."""

from __future__ import annotations

import strawberry

from graph.access import visible_mentor
from graph.info import Info
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.mentor import ActivityType, Mentor
from models.mentors import ActivityType as ActivityTypeRow
from models.mentors import activity_type_count, activity_type_page, mentor_count, mentor_page


def _activity_type(row: ActivityTypeRow) -> ActivityType:
    return ActivityType(id=strawberry.ID(row.id), key=row.key, display_name=row.display_name)


@strawberry.type
class MentorQueries:
    @strawberry.field(description="One mentor by id; null if there is none.")
    async def mentor(self, info: Info, id: strawberry.ID) -> Mentor | None:
        return await info.context.loaders.mentor.load(id)

    @strawberry.field(description="All mentors, by id.")
    async def mentors(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[Mentor]:
        only = visible_mentor(info.context, None)
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: mentor_page(offset=offset, limit=limit, only=only),
            count=mentor_count(only=only),
            convert=Mentor.from_row,
        )

    @strawberry.field(description="The kinds of activity mentors log.")
    async def activity_types(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[ActivityType]:
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: activity_type_page(offset=offset, limit=limit),
            count=activity_type_count(),
            convert=_activity_type,
        )
