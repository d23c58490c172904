"""A mentor's standing against one milestone of the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Protocol

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
from models.unreadable import report_unreadable

if TYPE_CHECKING:
    from graph.types.mentor import Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]
# Rows written by older versions may hold a figure the domain refuses (NaN, Infinity, past its
# bound): the row is still answered, with its figures null (README "Hardening").
UNREADABLE = "Null when the stored figure cannot be read (a row an older version wrote)."


class StoredMilestone(Protocol):
    """A milestone row as read: an ORM object, or a plain row of `milestone_rows_of_mentors`."""

    @property
    def id(self) -> str: ...
    @property
    def mentor_id(self) -> str: ...
    @property
    def definition_key(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def achieved_at(self) -> datetime | None: ...
    @property
    def version(self) -> str: ...


class CatalogueEntry(Protocol):
    """The milestone's definition, as read (an ORM object, or the same plain row)."""

    @property
    def type(self) -> str: ...
    @property
    def threshold(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def badge_image_url(self) -> str | None: ...


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
    # The figures are computed with the object, not by resolvers: a screen reads thousands of
    # them, and a plain attribute costs graphql-core one getattr, a resolver far more.
    value: Figure | None = strawberry.field(
        description="The mentor's current figure for this type: an integer for counts, hours "
        f"to 2 decimal places. {UNREADABLE}"
    )
    progress_percentage: int | None = strawberry.field(
        description=f"floor(100 * value / threshold), at most 100. {UNREADABLE} Null too for a "
        "catalogue threshold below 1, which older versions accepted."
    )
    remaining: Figure | None = strawberry.field(
        description="threshold - value, never below 0, in the same units and rounding as "
        f"`value` (so value + remaining == threshold exactly). {UNREADABLE}"
    )

    @classmethod
    def from_rows(cls, row: StoredMilestone, definition: CatalogueEntry) -> Milestone:
        value = readable_figure(row.value)
        if value is None:
            report_unreadable("milestone value", row.id, f"{row.value!r} is not a figure")
        kind = MilestoneType(definition.type)
        threshold = definition.threshold
        return cls(
            id=strawberry.ID(row.id),
            definition_key=row.definition_key,
            mentor_id=strawberry.ID(row.mentor_id),
            name=definition.name,
            type=kind,
            status=MilestoneStatus(row.status),
            threshold=threshold,
            raw_value=value,
            achieved_at=row.achieved_at,
            badge_image_url=definition.badge_image_url,
            etag=row.version,
            value=None if value is None else Figure(printed_figure(kind, value)),
            progress_percentage=_percentage(row.definition_key, threshold, value),
            remaining=None if value is None else Figure(remaining_figure(kind, threshold, value)),
        )

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


def _percentage(definition_key: str, threshold: int, value: float | None) -> int | None:
    if value is None:
        return None
    if threshold < 1:  # no percentage of nothing
        report_unreadable("milestone threshold", definition_key, f"{threshold} < 1")
        return None
    return progress_percentage(value, threshold)


@strawberry.type(
    name="MilestoneDefinition", description="An entry of the milestone catalogue (data, not code)."
)
class MilestoneDefinitionType:
    key: str
    type: MilestoneKind
    threshold: int
    name: str
    badge_image_url: str | None
