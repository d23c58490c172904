"""The audit trail's write side: every mutation says what it changed, and the unit of work writes
it in the write's own transaction.

Inside its `async with info.context.unit_of_work() as session:` block, a mutation calls
`audited(info, session, entity_type, *ids)` once, after its domain call succeeded. Just before
committing, `Context.unit_of_work` calls `write_audit`, which inserts one `audit_events` row per
entity (the action is the mutation's GraphQL field name) with the caller and the request id. So a
rolled-back write leaves no audit row, and an audit row that cannot be written rolls the write
back. A unit of work that never called `audited` is refused (RuntimeError): a mutation without
an audit record is a bug, and a new mutation that forgets fails its first test.

- One row per entity: `recordActivities` one per activity; a delete names the deleted id.
- `detectMilestones` writes one row for the mentor (entity type `Mentor`, even when nothing
  changed, as every call of a write leaves a row): it settles that mentor's whole milestone set,
  and the domain does not say which of its rows it rewrote.
- Callers of writes that changed nothing still leave their row (an idempotent replay of
  `submitStatusEvent` names the event it replays), except a batch of zero activities, which
  names no entity and writes no row.
- The caller is the context's principal. Without one (code that bypasses the API; the access
  policy refuses every anonymous operation), the actor is `system` and the role null, as it is
  for a token naming no role of this service.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from auth.principal import Principal
from graph.info import Info
from models.audit import insert_audit_events
from models.database import execute_core
from models.types import utcnow

_PENDING = "mentor_gateway_pending_audit"
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Audited:
    """One entity a mutation changed."""

    action: str
    entity_type: str
    entity_id: str


def audited(info: Info, session: AsyncSession, entity_type: str, *entity_ids: str) -> None:
    """Record that this mutation changed these entities (deletes: the deleted ids)."""
    pending: dict[Audited, None] = session.info.setdefault(_PENDING, {})
    for entity_id in entity_ids:  # a dict: once per entity, in the order given
        pending[Audited(info.field_name, entity_type, str(entity_id))] = None


async def write_audit(
    session: AsyncSession, *, principal: Principal | None, request_id: str
) -> int:
    """Insert the recorded entities' audit rows in the session's transaction; how many."""
    pending: dict[Audited, None] | None = session.info.pop(_PENDING, None)
    if pending is None:
        raise RuntimeError(
            "a write recorded no audit entry: call graph.audit.audited(...) in its unit of work"
        )
    if not pending:
        return 0
    actor = SYSTEM_ACTOR if principal is None else principal.subject
    role = None if principal is None or principal.role is None else principal.role.value
    at = utcnow()
    rows = [
        {
            "actor": actor,
            "role": role,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "at": at,
            "request_id": request_id,
        }
        for entry in pending
    ]
    await execute_core(session, insert_audit_events(), rows)
    return len(rows)


def discard_audit(session: AsyncSession) -> None:
    """Forget what a rolled-back write recorded."""
    session.info.pop(_PENDING, None)
