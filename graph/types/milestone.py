"""A mentor's standing against one milestone of the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.milestone_labels import accessibility_label
from domain.milestones import (
    MilestoneStatus,
    MilestoneType,
    printed_figure,
    progress_percentage,
    readable_figure,
    remaining_figure,
)
from graph.info import Info
from graph.scalars import Figure
from graph.types.enums import MilestoneKind, MilestoneState
from models.milestones import Milestone as MilestoneRow
from models.milestones import MilestoneDefinition
from models.unreadable import report_unreadable

if TYPE_CHECKING:
    from graph.types.mentor import Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]
# Rows written by older versions may hold a figure the domain refuses (NaN, Infinity, past its
# bound): the row is still answered, with its figures null (README "Hardening").
UNREADABLE = "Null when the stored figure cannot be read (a row an older version wrote)."


@strawberry.type(description="One milestone of the catalogue, as a mentor stands against it.")
class Milestone:
    id: strawberry.ID = strawberry.field(description="Stable for the (mentor, milestone) pair.")
    definition_key: str = strawberry.field(description="The catalogue entry, e.g. milestone_100h.")
    mentor_id: strawberry.ID
    name: str
    type: MilestoneKind
    status: MilestoneState
    threshold: int
    raw_value: strawberry.Private[float | None]  # None: the stored figure cannot be read
    achieved_at: datetime | None
    badge_image_url: str | None
    etag: str

    @classmethod
    def from_rows(cls, row: MilestoneRow, definition: MilestoneDefinition) -> Milestone:
        value = readable_figure(row.value)
        if value is None:
            report_unreadable("milestone value", row.id, f"{row.value!r} is not a figure")
        return cls(
            id=strawberry.ID(row.id),
            definition_key=row.definition_key,
            mentor_id=strawberry.ID(row.mentor_id),
            name=definition.name,
            type=MilestoneType(definition.type),
            status=MilestoneStatus(row.status),
            threshold=definition.threshold,
            raw_value=value,
            achieved_at=row.achieved_at,
            badge_image_url=definition.badge_image_url,
            etag=row.version,
        )

    @strawberry.field(
        description="The mentor's current figure for this type: an integer for counts, hours "
        f"to 2 decimal places. {UNREADABLE}"
    )
    def value(self) -> Figure | None:
        if self.raw_value is None:
            return None
        return Figure(printed_figure(self.type, self.raw_value))

    @strawberry.field(
        description=f"floor(100 * value / threshold), at most 100. {UNREADABLE} Null too for a "
        "catalogue threshold below 1, which older versions accepted."
    )
    def progress_percentage(self) -> int | None:
        if self.raw_value is None:
            return None
        if self.threshold < 1:  # no percentage of nothing
            report_unreadable("milestone threshold", self.definition_key, f"{self.threshold} < 1")
            return None
        return progress_percentage(self.raw_value, self.threshold)

    @strawberry.field(
        description="threshold - value, never below 0, in the same units and rounding as "
        f"`value` (so value + remaining == threshold exactly). {UNREADABLE}"
    )
    def remaining(self) -> Figure | None:
        if self.raw_value is None:
            return None
        return Figure(remaining_figure(self.type, self.threshold, self.raw_value))

    @strawberry.field(description="A sentence for screen readers, dates in the service's zone.")
    def accessibility_label(self, info: Info) -> str:
        return accessibility_label(
            kind=self.type,
            status=self.status,
            threshold=self.threshold,
            value=self.raw_value,
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
