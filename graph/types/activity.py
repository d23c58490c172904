"""Activities: the ledger's rows as GraphQL types, and the input that records them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeAlias

import strawberry

from domain.activities import ActivityInput
from domain.activities import ActivityStatus as ActivityStatusValue
from graph.info import Info
from models.activities import Activity as ActivityRow

if TYPE_CHECKING:
    from graph.types.mentor import ActivityType, Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]
ActivityTypeType = Annotated["ActivityType", strawberry.lazy("graph.types.mentor")]

strawberry.enum(
    ActivityStatusValue,
    name="ActivityStatus",
    description="Whether the activity took place (`completed`) or not (`cancelled`).",
    graphql_name_from="value",
)
ActivityStatus: TypeAlias = ActivityStatusValue


@strawberry.type(description="One logged piece of mentoring work.")
class Activity:
    id: strawberry.ID
    mentor_id: strawberry.ID
    activity_type_id: strawberry.ID
    contact_id: strawberry.ID = strawberry.field(description="The person helped.")
    started_at: datetime
    duration_minutes: int
    status: ActivityStatus

    @classmethod
    def from_row(cls, row: ActivityRow) -> Activity:
        return cls(
            id=strawberry.ID(row.id),
            mentor_id=strawberry.ID(row.mentor_id),
            activity_type_id=strawberry.ID(row.activity_type_id),
            contact_id=strawberry.ID(row.contact_id),
            started_at=row.started_at,
            duration_minutes=row.duration_minutes,
            status=ActivityStatusValue(row.status),
        )

    @classmethod
    def from_input(cls, activity: ActivityInput) -> Activity:
        """The activity as recorded (the ledger stores exactly the input's fields)."""
        return cls(
            id=strawberry.ID(activity.id),
            mentor_id=strawberry.ID(activity.mentor_id),
            activity_type_id=strawberry.ID(activity.activity_type_id),
            contact_id=strawberry.ID(activity.contact_id),
            started_at=activity.started_at,
            duration_minutes=activity.duration_minutes,
            status=activity.status,
        )

    @strawberry.field
    async def mentor(self, info: Info) -> MentorType:
        mentor = await info.context.loaders.mentor.load(self.mentor_id)
        assert mentor is not None, "an activity always has its mentor (foreign key)"
        return mentor

    @strawberry.field
    async def activity_type(self, info: Info) -> ActivityTypeType:
        found = await info.context.loaders.stats.activity_type.load(self.activity_type_id)
        assert found is not None, "an activity always has its type (foreign key)"
        return found


@strawberry.input(description="One activity; recording an id again updates it if it changed.")
class RecordActivityInput:
    id: strawberry.ID
    mentor_id: strawberry.ID
    mentor_name: str | None = strawberry.field(
        default=None, description="Names the mentor if the service does not know them yet."
    )
    activity_type_id: strawberry.ID
    contact_id: strawberry.ID
    started_at: datetime
    duration_minutes: int
    status: ActivityStatus

    def to_domain(self) -> ActivityInput:
        return ActivityInput(
            id=self.id,
            mentor_id=self.mentor_id,
            mentor_name=self.mentor_name,
            activity_type_id=self.activity_type_id,
            contact_id=self.contact_id,
            started_at=self.started_at,
            duration_minutes=self.duration_minutes,
            status=self.status,
        )


@strawberry.type(description="What recording a batch did: counts per outcome, and the activities.")
class RecordActivitiesPayload:
    inserted: int
    updated: int = strawberry.field(description="Known ids whose data changed.")
    unchanged: int = strawberry.field(description="Known ids sent again with the same data.")
    activities: list[Activity]
