"""Mutations that record activities: idempotent by activity id, one transaction per call."""

from __future__ import annotations

import strawberry

from domain import clock
from domain.ledger import MAX_BATCH, record_activities
from graph.audit import audited
from graph.info import Info
from graph.types.activity import Activity, RecordActivitiesPayload, RecordActivityInput


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(
        description="Record one activity (a new mentor is created, named by `mentorName`). "
        "The same id again changes nothing, or updates the activity if its data differs."
    )
    async def record_activity(self, info: Info, input: RecordActivityInput) -> Activity:
        activity = input.to_domain()
        async with info.context.unit_of_work() as session:
            await record_activities(session, [activity], now=clock.now())
            audited(info, session, "Activity", activity.id)
        return Activity.from_input(activity)

    @strawberry.mutation(
        description=f"Record up to {MAX_BATCH} activities in one transaction: all of them, or "
        "none if any is invalid (each problem is listed in `extensions.fields`)."
    )
    async def record_activities(
        self, info: Info, input: list[RecordActivityInput]
    ) -> RecordActivitiesPayload:
        activities = [item.to_domain() for item in input]
        async with info.context.unit_of_work() as session:
            counts = await record_activities(session, activities, now=clock.now())
            audited(info, session, "Activity", *(activity.id for activity in activities))
        return RecordActivitiesPayload(
            inserted=counts.inserted,
            updated=counts.updated,
            unchanged=counts.unchanged,
            activities=[Activity.from_input(activity) for activity in activities],
        )
