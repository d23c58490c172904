"""Mutations for mentors, statuses and pause records: each is one domain call."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain import mentors, statuses
from graph.audit import audited
from graph.info import Info
from graph.inputs import (
    CreateMentorInput,
    CreateMentorStatusInput,
    CreatePauseRecordInput,
    MentorStatusFields,
    UpdatePauseRecordInput,
)
from graph.types.mentor import Mentor
from graph.types.pause_record import PauseRecord
from graph.types.status import MentorStatus

IfMatch = Annotated[
    str | None,
    strawberry.argument(
        description="The `etag` you last read; the write is refused (PRECONDITION_FAILED) if "
        "the record changed since."
    ),
]


@strawberry.type(description="The answer to deleting a mentor status.")
class DeletedMentorStatus:
    deleted: bool
    mentor_id: strawberry.ID


@strawberry.type(description="The answer to deleting a pause record.")
class DeletedPauseRecord:
    deleted: bool
    id: strawberry.ID


@strawberry.type
class StatusMutations:
    @strawberry.mutation(description="Register a mentor; it starts `active`.")
    async def create_mentor(self, info: Info, input: CreateMentorInput) -> Mentor:
        async with info.context.unit_of_work() as session:
            row = await mentors.create_mentor(session, mentor_id=input.id, name=input.name)
            audited(info, session, "Mentor", row.id)
        return Mentor.from_row(row)

    @strawberry.mutation(description="Start tracking a mentor's status.")
    async def create_mentor_status(
        self, info: Info, input: CreateMentorStatusInput
    ) -> MentorStatus:
        async with info.context.unit_of_work() as session:
            row = await statuses.create_status(
                session, mentor_id=input.mentor_id, changes=input.to_changes()
            )
            audited(info, session, "MentorStatus", row.mentor_id)
        return MentorStatus.from_row(row)

    @strawberry.mutation(description="Change a status (through the state machine) or its details.")
    async def update_mentor_status(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        input: MentorStatusFields,
        if_match: IfMatch = None,
    ) -> MentorStatus:
        async with info.context.unit_of_work() as session:
            row = await statuses.update_status(
                session, mentor_id=mentor_id, changes=input.to_changes(), if_match=if_match
            )
            audited(info, session, "MentorStatus", row.mentor_id)
        return MentorStatus.from_row(row)

    @strawberry.mutation(description="Stop tracking a status; an open pause is closed first.")
    async def delete_mentor_status(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        if_match: IfMatch = None,
    ) -> DeletedMentorStatus:
        async with info.context.unit_of_work() as session:
            await statuses.delete_status(session, mentor_id=mentor_id, if_match=if_match)
            audited(info, session, "MentorStatus", mentor_id)
        return DeletedMentorStatus(deleted=True, mentor_id=mentor_id)

    @strawberry.mutation(description="Pause a mentor by opening a pause record.")
    async def create_pause_record(self, info: Info, input: CreatePauseRecordInput) -> PauseRecord:
        async with info.context.unit_of_work() as session:
            row = await statuses.open_pause(
                session, mentor_id=input.mentor_id, details=input.to_details()
            )
            audited(info, session, "PauseRecord", row.id)
        return PauseRecord.from_row(row)

    @strawberry.mutation(
        description="Edit a pause record; closing the active one resumes the mentor."
    )
    async def update_pause_record(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdatePauseRecordInput,
        if_match: IfMatch = None,
    ) -> PauseRecord:
        async with info.context.unit_of_work() as session:
            row = await statuses.update_pause(
                session, record_id=id, changes=input.to_changes(), if_match=if_match
            )
            audited(info, session, "PauseRecord", row.id)
        return PauseRecord.from_row(row)

    @strawberry.mutation(description="Delete a closed pause record (close an active one first).")
    async def delete_pause_record(
        self,
        info: Info,
        id: strawberry.ID,
        if_match: IfMatch = None,
    ) -> DeletedPauseRecord:
        async with info.context.unit_of_work() as session:
            await statuses.delete_pause(session, record_id=id, if_match=if_match)
            audited(info, session, "PauseRecord", id)
        return DeletedPauseRecord(deleted=True, id=id)
