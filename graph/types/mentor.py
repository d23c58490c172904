"""The Mentor type: the root most screens start from."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.info import Info
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.types import mentor_stats
from graph.types.enums import MilestoneState
from models.mentors import Mentor as MentorRow
from models.statuses import PauseRecordFilter

if TYPE_CHECKING:
    from graph.types.milestone import Milestone
    from graph.types.pause_record import PauseRecord
    from graph.types.status import MentorStatus

MilestoneType = Annotated["Milestone", strawberry.lazy("graph.types.milestone")]
PauseRecordType = Annotated["PauseRecord", strawberry.lazy("graph.types.pause_record")]
MentorStatusType = Annotated["MentorStatus", strawberry.lazy("graph.types.status")]


async def _pause_records(
    info: Info, mentor_id: str, first: int | None, after: str | None, is_active: bool | None
) -> Connection[PauseRecord]:
    where = PauseRecordFilter(is_active=is_active)
    return await info.context.loaders.pause_records_of(
        mentor_id, where, Window.from_args(first, after)
    )


@strawberry.type(description="A peer mentor.")
class Mentor:
    id: strawberry.ID
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: MentorRow) -> Mentor:
        return cls(id=strawberry.ID(row.id), name=row.name, created_at=row.created_at)

    @strawberry.field(description="The mentor's current status; null if none is tracked.")
    async def status(self, info: Info) -> MentorStatusType | None:
        return await info.context.loaders.status.load(self.id)

    @strawberry.field(description="The mentor's pause records, newest first (one page of them).")
    async def pause_records(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        is_active: bool | None = None,
    ) -> list[PauseRecordType]:
        connection = await _pause_records(info, self.id, first, after, is_active)
        return connection.nodes

    @strawberry.field(description="The same page as `pauseRecords`, with cursors and totalCount.")
    async def pause_records_connection(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        is_active: bool | None = None,
    ) -> Connection[PauseRecordType]:
        return await _pause_records(info, self.id, first, after, is_active)

    @strawberry.field(description="The mentor's milestones (achieved, and the next of each type).")
    async def milestones(
        self, info: Info, status: MilestoneState | None = None
    ) -> list[MilestoneType]:
        return await info.context.loaders.milestones_of.load((self.id, status))

    personal_stats = mentor_stats.personal_stats
    monthly_series = mentor_stats.monthly_series
    monthly_series_connection = mentor_stats.monthly_series_connection
    activity_breakdown = mentor_stats.activity_breakdown
    activity_breakdown_connection = mentor_stats.activity_breakdown_connection
    contribution_history = mentor_stats.contribution_history
    contribution_history_connection = mentor_stats.contribution_history_connection


@strawberry.type(description="A kind of mentoring activity.")
class ActivityType:
    id: strawberry.ID
    key: str
    display_name: str
