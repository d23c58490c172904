"""The audit trail, for admins (graph.access)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.info import Info
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.queries.lists import paged
from graph.types.audit_event import AuditEvent
from models.audit import AuditFilter, audit_event_count, audit_event_page


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit trail, newest first: one event per entity each write changed."
    )
    async def audit_events(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        actor: Annotated[
            str | None, strawberry.argument(description="Only this caller's (a subject).")
        ] = None,
        entity_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this entity's.")
        ] = None,
    ) -> Connection[AuditEvent]:
        where = AuditFilter(actor=actor, entity_id=entity_id)
        return await paged(
            info.context,
            Window.from_args(first, after),
            rows=lambda offset, limit: audit_event_page(where, offset=offset, limit=limit),
            count=audit_event_count(where),
            convert=AuditEvent.from_row,
        )
