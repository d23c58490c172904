"""Mutations for milestones: detection from a summary, and admin corrections."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain import milestone_admin, milestones
from graph.audit import audited
from graph.info import Info
from graph.inputs import keep_unset, not_null
from graph.mutations.statuses import IfMatch
from graph.types.enums import MilestoneState
from graph.types.milestone import Milestone


@strawberry.input(description="The period a summary covers: a year and/or its first and last day.")
class SummaryPeriodInput:
    year: int | None = None
    start_date: date | None = None
    end_date: date | None = None


@strawberry.input(description="A mentor's figures for the period.")
class SummaryFiguresInput:
    total_hours: float
    unique_contacts_helped: int
    activity_count: int


@strawberry.input(description="An annual summary to detect milestones from.")
class MilestoneSummaryInput:
    mentor_id: strawberry.ID
    period: SummaryPeriodInput
    summary: SummaryFiguresInput

    def to_summary(self) -> milestones.Summary:
        return milestones.Summary(
            mentor_id=self.mentor_id,
            year=self.period.year,
            start_date=self.period.start_date,
            end_date=self.period.end_date,
            total_hours=self.summary.total_hours,
            unique_contacts_helped=self.summary.unique_contacts_helped,
            activity_count=self.summary.activity_count,
        )


@strawberry.input(description="An admin's correction of a milestone record.")
class UpdateMilestoneInput:
    status: MilestoneState | None = strawberry.UNSET
    value: float | None = strawberry.UNSET
    achieved_at: datetime | None = strawberry.UNSET


@strawberry.type(description="The mentor's milestones after a detection.")
class MilestoneDetection:
    milestones: list[Milestone]

    @strawberry.field(description="How many milestone records the mentor has.")
    def count(self) -> int:
        return len(self.milestones)


@strawberry.type(description="The answer to deleting a milestone record.")
class DeletedMilestone:
    deleted: bool
    id: strawberry.ID


@strawberry.type
class MilestoneMutations:
    @strawberry.mutation(
        description="Detect and persist milestones from a mentor's summary; idempotent, and an "
        "achieved milestone stays achieved."
    )
    async def detect_milestones(
        self, info: Info, input: MilestoneSummaryInput
    ) -> MilestoneDetection:
        async with info.context.unit_of_work() as session:
            await milestones.detect_from_summary(
                session, input.to_summary(), tz=info.context.config.timezone
            )
            audited(info, session, "Mentor", input.mentor_id)  # whose milestones (graph.audit)
        return MilestoneDetection(
            milestones=await info.context.loaders.milestones_of.load((input.mentor_id, None))
        )

    @strawberry.mutation(description="Correct a milestone record (an admin's decision).")
    async def update_milestone(
        self, info: Info, id: strawberry.ID, input: UpdateMilestoneInput, if_match: IfMatch = None
    ) -> Milestone:
        async with info.context.unit_of_work() as session:
            await milestone_admin.correct_milestone(
                session,
                milestone_id=id,
                status=not_null("status", input.status),
                value=not_null("value", input.value),
                achieved_at=keep_unset(input.achieved_at),
                if_match=if_match,
            )
            audited(info, session, "Milestone", id)
        found = await info.context.loaders.milestone.load(id)
        assert found is not None
        return found

    @strawberry.mutation(description="Delete a milestone record (detection may create it again).")
    async def delete_milestone(
        self, info: Info, id: strawberry.ID, if_match: IfMatch = None
    ) -> DeletedMilestone:
        async with info.context.unit_of_work() as session:
            await milestone_admin.delete_milestone(session, milestone_id=id, if_match=if_match)
            audited(info, session, "Milestone", id)
        return DeletedMilestone(deleted=True, id=id)
