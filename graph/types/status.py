"""A mentor's status (the state machine's current state)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from domain.status_rules import StatusValue, is_eligible_for_assignment
from domain.validation import json_object_problem
from graph.info import Info
from graph.pagination import MAX_PAGE_SIZE, After, First, Window
from graph.types.enums import MentorStatusValue
from models.statuses import MentorStatus as MentorStatusRow
from models.sync import SyncEventFilter
from models.unreadable import report_unreadable

if TYPE_CHECKING:
    from graph.types.mentor import Mentor
    from graph.types.sync_event import SyncEvent

MentorType = Annotated["Mentor", strawberry.lazy("graph.types.mentor")]
SyncEventType = Annotated["SyncEvent", strawberry.lazy("graph.types.sync_event")]


@strawberry.type(description="Where one mentor stands now.")
class MentorStatus:
    mentor_id: strawberry.ID
    status: MentorStatusValue
    pause_start_date: datetime | None
    expected_return_date: datetime | None
    pause_reason: str | None
    stored_metadata: strawberry.Private[object]
    last_updated: datetime
    etag: str = strawberry.field(
        description="Changes whenever the status does; pass it as `ifMatch` to write safely."
    )

    @classmethod
    def from_row(cls, row: MentorStatusRow) -> MentorStatus:
        return cls(
            mentor_id=strawberry.ID(row.mentor_id),
            status=StatusValue(row.status),
            pause_start_date=row.pause_start_date,
            expected_return_date=row.expected_return_date,
            pause_reason=row.pause_reason,
            stored_metadata=row.extra,
            last_updated=row.last_updated,
            etag=row.version,
        )

    @strawberry.field(
        description="Free-form JSON object kept with the status; null when what is stored "
        'cannot be read back (a row an older version wrote, README "Hardening").'
    )
    def metadata(self) -> JSON | None:
        # Checked on read by the rule writes follow: a lone surrogate, NaN or a value nested
        # past the bound would fail the response encoder, and so the whole list.
        found = json_object_problem(self.stored_metadata, "metadata")
        if found is not None:
            report_unreadable("mentor status metadata", self.mentor_id, ": ".join(found))
            return None
        return JSON(self.stored_metadata)

    @strawberry.field(description="True exactly when the status is `paused`.")
    def is_paused(self) -> bool:
        return self.status is StatusValue.PAUSED

    @strawberry.field(description="True exactly when the status is `active`.")
    def is_eligible_for_assignment(self) -> bool:
        return is_eligible_for_assignment(self.status)

    @strawberry.field(description="Sync events not yet acknowledged, oldest first.")
    async def pending_events(
        self, info: Info, first: First = MAX_PAGE_SIZE, after: After = None
    ) -> list[SyncEventType]:
        where = SyncEventFilter(acknowledged=False)
        page = await info.context.loaders.sync_events_of(
            self.mentor_id, where, Window.from_args(first, after)
        )
        return page.nodes

    @strawberry.field
    async def mentor(self, info: Info) -> MentorType:
        mentor = await info.context.loaders.mentor.load(self.mentor_id)
        assert mentor is not None, "a status row always has its mentor (foreign key)"
        return mentor
