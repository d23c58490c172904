"""Status events sent by mobile clients, and the idempotency keys that make retries safe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, new_version, utcnow


class SyncEvent(SQLModel, table=True):
    __tablename__ = "sync_event"
    __table_args__ = (
        Index("ix_sync_event_mentor_ack", "mentor_id", "acknowledged", "server_timestamp"),
        Index("ix_sync_event_ack_time", "acknowledged", "server_timestamp"),
    )

    id: str = Field(primary_key=True, max_length=32)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    event_type: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    client_timestamp: datetime = Field(sa_type=UTCDateTime)
    server_timestamp: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted: bool
    resulting_status: str = Field(max_length=16)
    rejection_reason: str | None = Field(default=None, max_length=32)
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
