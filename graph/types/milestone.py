"""A mentor's standing against one milestone of the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.milestone_labels import accessibility_label
from domain.milestones import MilestoneStatus, MilestoneType, progress_percentage
from graph.context import Info
from graph.types.enums import MilestoneKind, MilestoneState
from models.milestones import Milestone as MilestoneRow
from models.milestones import MilestoneDefinition

if TYPE_CHECKING:
    from graph.types.mentor import Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]


@strawberry.type(description="One milestone of the catalogue, as a mentor stands against it.")
class Milestone:
    id: strawberry.ID = strawberry.field(description="Stable for the (mentor, milestone) pair.")
    definition_key: str = strawberry.field(description="The catalogue entry, e.g. milestone_100h.")
    mentor_id: strawberry.ID
    name: str
    type: MilestoneKind
    status: MilestoneState
    threshold: int
    value: float = strawberry.field(description="The mentor's current figure for this type.")
    achieved_at: datetime | None
    badge_image_url: str | None
    etag: str

    @classmethod
    def from_rows(cls, row: MilestoneRow, definition: MilestoneDefinition) -> Milestone:
        return cls(
            id=strawberry.ID(row.id),
            definition_key=row.definition_key,
            mentor_id=strawberry.ID(row.mentor_id),
            name=definition.name,
            type=MilestoneType(definition.type),
            status=MilestoneStatus(row.status),
            threshold=definition.threshold,
            value=row.value,
            achieved_at=row.achieved_at,
            badge_image_url=definition.badge_image_url,
            etag=row.version,
        )

    @strawberry.field(description="floor(100 * value / threshold), at most 100.")
    def progress_percentage(self) -> int:
        return progress_percentage(self.value, self.threshold)

    @strawberry.field(description="How much is left to reach the threshold (0 once achieved).")
    def remaining(self) -> float:
        return max(0.0, self.threshold - self.value)

    @strawberry.field(description="A sentence for screen readers, dates in the service's zone.")
    def accessibility_label(self, info: Info) -> str:
        return accessibility_label(
            kind=self.type,
            status=self.status,
            threshold=self.threshold,
            value=self.value,
            achieved_at=self.achieved_at,
            tz=info.context.config.timezone,
        )

    @strawberry.field
    async def mentor(self, info: Info) -> MentorType:
        mentor = await info.context.loaders.mentor.load(self.mentor_id)
        assert mentor is not None, "a milestone always has its mentor (foreign key)"
        return mentor


@strawberry.type(
    name="MilestoneDefinition", description="An entry of the milestone catalogue (data, not code)."
)
class MilestoneDefinitionType:
    key: str
    type: MilestoneKind
    threshold: int
    name: str
    badge_image_url: str | None
