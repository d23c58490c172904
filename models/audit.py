"""The audit trail: one row per entity each write changed, written in the write's transaction
(graph.audit), and the statements that page it newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Insert,
    Integer,
    Select,
    and_,
    func,
    insert,
    select,
    true,
)
from sqlmodel import Field, SQLModel, col

from models.types import UTCDateTime

# BIGINT on PostgreSQL (BIGSERIAL: the trail only grows); SQLite autoincrements only a column
# declared exactly INTEGER PRIMARY KEY (its rowid), which is 64 bits there anyway.
AUDIT_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        # Newest first, whole or filtered by who or by what: each list reads one index in order.
        Index("ix_audit_events_at", "at", "id"),
        Index("ix_audit_events_actor", "actor", "at", "id"),
        Index("ix_audit_events_entity", "entity_id", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=AUDIT_ID)
    actor: str = Field(max_length=255)  # the token's `sub` (OIDC bounds it at 255 characters)
    role: str | None = Field(default=None, max_length=32)  # None: no role of this service
    action: str = Field(max_length=64)  # the mutation's GraphQL field name
    entity_type: str = Field(max_length=64)
    entity_id: str = Field(max_length=255)
    at: datetime = Field(sa_type=UTCDateTime)
    request_id: str = Field(max_length=64)


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """Which audit events a list shows; `None` means "any"."""

    actor: str | None = None
    entity_id: str | None = None


def _audit_conditions(where: AuditFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if where.actor is not None:
        conditions.append(col(AuditEvent.actor) == where.actor)
    if where.entity_id is not None:
        conditions.append(col(AuditEvent.entity_id) == where.entity_id)
    return and_(*conditions)


def insert_audit_events() -> Insert:
    """The insert the unit of work runs with one parameter set per audited entity."""
    return insert(AuditEvent)


def audit_event_page(where: AuditFilter, *, offset: int, limit: int) -> Select[AuditEvent]:
    """Newest first; within one second (timestamps are whole seconds), the later insert first."""
    return (
        select(AuditEvent)
        .where(_audit_conditions(where))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset(offset)
        .limit(limit)
    )


def audit_event_count(where: AuditFilter) -> Select[int]:
    return select(func.count()).select_from(AuditEvent).where(_audit_conditions(where))
