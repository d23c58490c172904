"""The milestone catalogue (data, not code) and each mentor's standing against it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, new_version, utcnow


class MilestoneDefinition(SQLModel, table=True):
    __tablename__ = "milestone_definition"

    key: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=32)  # hours_logged | contacts_helped | activity_count
    threshold: int
    name: str = Field(max_length=200)
    badge_image_url: str | None = Field(default=None, max_length=500)


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("mentor_id", "definition_key", name="uq_milestone_mentor_definition"),
        Index("ix_milestone_mentor_status", "mentor_id", "status"),
        Index("ix_milestone_achieved_at", "achieved_at"),
    )

    id: str = Field(primary_key=True, max_length=160)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    definition_key: str = Field(foreign_key="milestone_definition.key")
    status: str = Field(max_length=16)  # achieved | in_progress
    value: float
    achieved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: str = Field(default_factory=new_version, max_length=32)
