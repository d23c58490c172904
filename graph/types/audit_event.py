"""One row of the audit trail: who wrote what, when, in which request."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.audit import AuditEvent as AuditEventRow


@strawberry.type(description="One entity a write changed: who, what, when, in which request.")
class AuditEvent:
    id: strawberry.ID
    actor: str = strawberry.field(
        description="The caller's subject (the token's `sub`); `system` for writes that did not "
        "come through the API."
    )
    role: str | None = strawberry.field(
        description="The caller's role then (`mentor`, `coordinator`, `admin`); null for none."
    )
    action: str = strawberry.field(description="The mutation, e.g. `createPauseRecord`.")
    entity_type: str = strawberry.field(description="What it changed, e.g. `PauseRecord`.")
    entity_id: strawberry.ID = strawberry.field(description="Its id (a deleted one's too).")
    at: datetime = strawberry.field(description="When the write was made (UTC, to the second).")
    request_id: str = strawberry.field(
        description="The request that made the write; one request's rows share it."
    )

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        assert row.id is not None, "a stored row has its id"
        return cls(
            id=strawberry.ID(str(row.id)),
            actor=row.actor,
            role=row.role,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=strawberry.ID(row.entity_id),
            at=row.at,
            request_id=row.request_id,
        )
