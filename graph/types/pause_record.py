"""A pause record: one period during which a mentor was paused."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.info import Info
from models.statuses import PauseRecord as PauseRecordRow

if TYPE_CHECKING:
    from graph.types.mentor import Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]


@strawberry.type(description="One period during which a mentor was (or is) paused.")
class PauseRecord:
    id: strawberry.ID
    mentor_id: strawberry.ID
    start_date: datetime
    expected_return_date: datetime | None
    end_date: datetime | None = strawberry.field(
        description="When the pause ended; null while active."
    )
    is_active: bool
    reason: str | None
    created_at: datetime
    etag: str = strawberry.field(
        description="Changes whenever the record does; pass it as `ifMatch` to write safely."
    )

    @classmethod
    def from_row(cls, row: PauseRecordRow) -> PauseRecord:
        return cls(
            id=strawberry.ID(row.id),
            mentor_id=strawberry.ID(row.mentor_id),
            start_date=row.start_date,
            expected_return_date=row.expected_return_date,
            end_date=row.end_date,
            is_active=row.is_active,
            reason=row.reason,
            created_at=row.created_at,
            etag=row.version,
        )

    @strawberry.field
    async def mentor(self, info: Info) -> MentorType:
        mentor = await info.context.loaders.mentor.load(self.mentor_id)
        assert mentor is not None, "a pause record always has its mentor (foreign key)"
        return mentor
