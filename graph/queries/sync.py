"""Queries for the mobile sync event log."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.access import visible_mentor
from graph.info import Info
from graph.mentor_scope import require_mentor
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.sync_event import SyncEvent
from models.sync import SyncEventFilter, sync_event_count, sync_event_page


@strawberry.type
class SyncQueries:
    @strawberry.field(description="One sync event by id; null if there is none.")
    async def sync_event(self, info: Info, id: strawberry.ID) -> SyncEvent | None:
        return await info.context.loaders.sync_event.load(id)

    @strawberry.field(description="Sync events in the order the server received them.")
    async def sync_events(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        mentor_id: strawberry.ID | None = None,
        acknowledged: Annotated[
            bool | None,
            strawberry.argument(description="Default false: pending events. Null: all events."),
        ] = False,
    ) -> Connection[SyncEvent]:
        await require_mentor(info.context, mentor_id)
        where = SyncEventFilter(
            mentor_id=visible_mentor(info.context, mentor_id), acknowledged=acknowledged
        )
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: sync_event_page(where, offset=offset, limit=limit),
            count=sync_event_count(where),
            convert=SyncEvent.from_row,
        )
