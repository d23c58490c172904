"""Mutations for the mobile sync event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain import sync
from graph.audit import audited
from graph.info import Info
from graph.inputs import StatusEventInput, UpdateSyncEventInput, keep_unset, not_null
from graph.mutations.statuses import IfMatch
from graph.types.sync_event import SyncEvent

IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Retries with the same key (for the same mentor) replay the first answer and "
        "apply nothing twice; kept 72 hours."
    ),
]


@strawberry.type(description="The answer to deleting a sync event.")
class DeletedSyncEvent:
    deleted: bool
    id: strawberry.ID
    deleted_at: datetime


@strawberry.type
class SyncMutations:
    @strawberry.mutation(
        description="Log a status event from the app; apply it if legal and not stale "
        "(`accepted`), otherwise log it with a `rejectionReason`."
    )
    async def submit_status_event(
        self, info: Info, input: StatusEventInput, idempotency_key: IdempotencyKey = None
    ) -> SyncEvent:
        async with info.context.unit_of_work() as session:
            row = await sync.submit_event(
                session, input.to_submission(), idempotency_key=idempotency_key
            )
            audited(info, session, "SyncEvent", row.id)
        return SyncEvent.from_row(row)

    @strawberry.mutation(description="Acknowledge a sync event or change its note.")
    async def update_sync_event(
        self, info: Info, id: strawberry.ID, input: UpdateSyncEventInput, if_match: IfMatch = None
    ) -> SyncEvent:
        async with info.context.unit_of_work() as session:
            row = await sync.annotate_event(
                session,
                event_id=id,
                acknowledged=not_null("acknowledged", input.acknowledged),
                reason=keep_unset(input.reason),
                if_match=if_match,
            )
            audited(info, session, "SyncEvent", row.id)
        return SyncEvent.from_row(row)

    @strawberry.mutation(description="Remove a sync event from the log (the status stays).")
    async def delete_sync_event(
        self, info: Info, id: strawberry.ID, if_match: IfMatch = None
    ) -> DeletedSyncEvent:
        async with info.context.unit_of_work() as session:
            deleted_at = await sync.delete_event(session, event_id=id, if_match=if_match)
            audited(info, session, "SyncEvent", id)
        return DeletedSyncEvent(deleted=True, id=id, deleted_at=deleted_at)
