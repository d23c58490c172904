"""Queries for mentor statuses and pause records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graph.access import visible_mentor
from graph.info import Info
from graph.mentor_scope import require_mentor
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.enums import MentorStatusValue
from graph.types.pause_record import PauseRecord
from graph.types.status import MentorStatus
from models.statuses import (
    PauseRecordFilter,
    pause_record_count,
    pause_record_page,
    status_count,
    status_page,
)
from models.types import utcnow


@strawberry.type
class StatusQueries:
    @strawberry.field(
        description="One mentor's current status; null if none is tracked, NOT_FOUND for an "
        "unknown mentor."
    )
    async def mentor_status(self, info: Info, mentor_id: strawberry.ID) -> MentorStatus | None:
        status = await info.context.loaders.status.load(mentor_id)
        if status is None:  # only on this path: a tracked status proves its mentor exists
            await require_mentor(info.context, mentor_id)
        return status

    @strawberry.field(description="Every tracked status, by mentor id, optionally of one kind.")
    async def mentor_statuses(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        status: MentorStatusValue | None = None,
    ) -> Connection[MentorStatus]:
        mentor_id = visible_mentor(info.context, None)
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: status_page(
                status=status, offset=offset, limit=limit, mentor_id=mentor_id
            ),
            count=status_count(status=status, mentor_id=mentor_id),
            convert=MentorStatus.from_row,
        )

    @strawberry.field(description="One pause record by id; null if there is none.")
    async def pause_record(self, info: Info, id: strawberry.ID) -> PauseRecord | None:
        return await info.context.loaders.pause_record.load(id)

    @strawberry.field(description="Pause records, newest first, optionally filtered.")
    async def pause_records(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        mentor_id: strawberry.ID | None = None,
        is_active: bool | None = None,
        overdue: Annotated[
            bool,
            strawberry.argument(description="Only active pauses whose expected return has passed."),
        ] = False,
    ) -> Connection[PauseRecord]:
        await require_mentor(info.context, mentor_id)
        now: datetime | None = utcnow() if overdue else None
        where = PauseRecordFilter(
            mentor_id=visible_mentor(info.context, mentor_id), is_active=is_active, overdue_at=now
        )
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: pause_record_page(where, offset=offset, limit=limit),
            count=pause_record_count(where),
            convert=PauseRecord.from_row,
        )
