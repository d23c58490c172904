"""The activity ledger: every logged piece of mentoring work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        # Stats and milestone detection read one mentor's ledger in time order.
        Index("ix_activity_mentor_started", "mentor_id", "started_at"),
        Index("ix_activity_started", "started_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    activity_type_id: str = Field(foreign_key="activity_type.id")
    contact_id: str = Field(max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    status: str = Field(max_length=16)  # completed | cancelled
