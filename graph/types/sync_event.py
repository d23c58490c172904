"""A status event the mobile app sent, as the server logged it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.status_rules import StatusEvent, StatusValue
from domain.sync import RejectionReason
from graph.info import Info
from graph.types.enums import MentorStatusEvent, MentorStatusValue, SyncRejectionReason
from models.sync import SyncEvent as SyncEventRow

if TYPE_CHECKING:
    from graph.types.mentor import Mentor

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]


@strawberry.type(description="A status event from the mobile app; pending until acknowledged.")
class SyncEvent:
    id: strawberry.ID
    mentor_id: strawberry.ID
    event_type: MentorStatusEvent
    reason: str | None
    client_timestamp: datetime
    server_timestamp: datetime
    accepted: bool = strawberry.field(description="Whether the event changed the status.")
    resulting_status: MentorStatusValue = strawberry.field(
        description="The mentor's status after the event (unchanged if it was rejected)."
    )
    rejection_reason: SyncRejectionReason | None
    acknowledged: bool
    created_at: datetime
    updated_at: datetime
    etag: str

    @classmethod
    def from_row(cls, row: SyncEventRow) -> SyncEvent:
        return cls(
            id=strawberry.ID(row.id),
            mentor_id=strawberry.ID(row.mentor_id),
            event_type=StatusEvent(row.event_type),
            reason=row.reason,
            client_timestamp=row.client_timestamp,
            server_timestamp=row.server_timestamp,
            accepted=row.accepted,
            resulting_status=StatusValue(row.resulting_status),
            rejection_reason=RejectionReason(row.rejection_reason)
            if row.rejection_reason
            else None,
            acknowledged=row.acknowledged,
            created_at=row.created_at,
            updated_at=row.updated_at,
            etag=row.version,
        )

    @strawberry.field
    async def mentor(self, info: Info) -> MentorType:
        mentor = await info.context.loaders.mentor.load(self.mentor_id)
        assert mentor is not None, "a sync event always has its mentor (foreign key)"
        return mentor
