"""Status events sent by mobile clients, and the idempotency keys that make retries safe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Delete,
    Index,
    Select,
    and_,
    delete,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import Field, SQLModel, col

from models.paging import count_per_parent, page_per_parent
from models.statuses import STATUS_VALUES
from models.types import StoredEnum, UTCDateTime, new_version, utcnow


class SyncEvent(SQLModel, table=True):
    __tablename__ = "sync_event"
    __table_args__ = (
        Index("ix_sync_event_mentor_ack", "mentor_id", "acknowledged", "server_timestamp"),
        Index("ix_sync_event_ack_time", "acknowledged", "server_timestamp"),
    )

    id: str = Field(primary_key=True, max_length=32)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    # Unknown values (README "Hardening"): an event reads as the deactivate event, a status as
    # inactive (as in models.statuses), a rejection reason as null.
    event_type: str = Field(
        sa_type=StoredEnum("domain.status_rules:StatusEvent", fallback="DeactivateMentorEvent")
    )
    reason: str | None = Field(default=None, max_length=500)
    client_timestamp: datetime = Field(sa_type=UTCDateTime)
    server_timestamp: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted: bool
    resulting_status: str = Field(sa_type=StoredEnum(STATUS_VALUES, fallback="inactive", length=16))
    rejection_reason: str | None = Field(
        default=None, sa_type=StoredEnum("domain.sync:RejectionReason", fallback=None)
    )
    acknowledged: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: str = Field(default_factory=new_version, max_length=32)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request made with an `Idempotency-Key`, replayed to its retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (Index("ix_idempotency_record_created", "created_at"),)

    scope: str = Field(primary_key=True, max_length=64)  # which operation the key belongs to
    mentor_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)  # hash of the request body
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True, kw_only=True)
class SyncEventFilter:
    """Which sync events a list shows; `None` means "any"."""

    mentor_id: str | None = None
    acknowledged: bool | None = None


def _sync_conditions(where: SyncEventFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if where.mentor_id is not None:
        conditions.append(col(SyncEvent.mentor_id) == where.mentor_id)
    if where.acknowledged is not None:
        conditions.append(col(SyncEvent.acknowledged) == where.acknowledged)
    return and_(*conditions)


_OLDEST_FIRST = (col(SyncEvent.server_timestamp), col(SyncEvent.id))


def sync_event(event_id: str, *, for_update: bool = False) -> Select[SyncEvent]:
    statement = select(SyncEvent).where(col(SyncEvent.id) == event_id)
    return statement.with_for_update() if for_update else statement


def sync_events_by_ids(event_ids: Sequence[str]) -> Select[SyncEvent]:
    return select(SyncEvent).where(col(SyncEvent.id).in_(event_ids))


def sync_event_page(where: SyncEventFilter, *, offset: int, limit: int) -> Select[SyncEvent]:
    """Events in the order the server received them, so a client replays them in order."""
    return (
        select(SyncEvent)
        .where(_sync_conditions(where))
        .order_by(*_OLDEST_FIRST)
        .offset(offset)
        .limit(limit)
    )


def sync_event_count(where: SyncEventFilter) -> Select[int]:
    return select(func.count()).select_from(SyncEvent).where(_sync_conditions(where))


def sync_events_of_mentors(
    mentor_ids: Sequence[str], where: SyncEventFilter, *, offset: int, limit: int
) -> Select[SyncEvent]:
    """One page of sync events for each of many mentors, in one statement."""
    return page_per_parent(
        SyncEvent,
        key=col(SyncEvent.id),
        parent=col(SyncEvent.mentor_id),
        parent_ids=mentor_ids,
        where=_sync_conditions(where),
        order=_OLDEST_FIRST,
        offset=offset,
        limit=limit,
    )


def sync_event_counts_of_mentors(
    mentor_ids: Sequence[str], where: SyncEventFilter
) -> Select[str, int]:
    return count_per_parent(
        parent=col(SyncEvent.mentor_id), parent_ids=mentor_ids, where=_sync_conditions(where)
    )


# --- idempotency keys ------------------------------------------------------------------------


def claim_idempotency_key(
    dialect: str, *, scope: str, mentor_id: str, key: str, fingerprint: str, result_id: str
) -> ReturningInsert[str]:
    """Insert the key, naming its result, unless it exists (then nothing is returned); a
    concurrent claimant waits on the unique index for the first to finish."""
    values = {
        "response": {"id": result_id},
        "scope": scope,
        "mentor_id": mentor_id,
        "key": key,
        "fingerprint": fingerprint,
        "created_at": utcnow(),
    }
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(IdempotencyRecord).values(**values).on_conflict_do_nothing()
    return statement.returning(col(IdempotencyRecord.key))


def idempotency_record(*, scope: str, mentor_id: str, key: str) -> Select[IdempotencyRecord]:
    return select(IdempotencyRecord).where(
        col(IdempotencyRecord.scope) == scope,
        col(IdempotencyRecord.mentor_id) == mentor_id,
        col(IdempotencyRecord.key) == key,
    )


def forget_idempotency_keys(*, created_before: datetime) -> Delete:
    return delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < created_before)
