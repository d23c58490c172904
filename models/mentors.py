"""Mentors and the activity-type catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlmodel import Field, SQLModel, col

from models.types import UTCDateTime, utcnow


class Mentor(SQLModel, table=True):
    __tablename__ = "mentor"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ActivityType(SQLModel, table=True):
    __tablename__ = "activity_type"

    id: str = Field(primary_key=True, max_length=64)
    key: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=200)


def mentors_by_ids(ids: Sequence[str]) -> Select[Mentor]:
    return select(Mentor).where(col(Mentor.id).in_(ids))


def all_mentor_ids() -> Select[str]:
    return select(col(Mentor.id))


def _only(mentor_id: str | None) -> ColumnElement[bool]:
    return col(Mentor.id) == mentor_id if mentor_id is not None else true()


def mentor_page(*, offset: int, limit: int, only: str | None = None) -> Select[Mentor]:
    """A page of mentors by id; `only` one of them (a mentor listing themselves)."""
    return select(Mentor).where(_only(only)).order_by(Mentor.id).offset(offset).limit(limit)


def mentor_count(*, only: str | None = None) -> Select[int]:
    return select(func.count()).select_from(Mentor).where(_only(only))


def activity_type_page(*, offset: int, limit: int) -> Select[ActivityType]:
    return select(ActivityType).order_by(ActivityType.id).offset(offset).limit(limit)


def activity_type_count() -> Select[int]:
    return select(func.count()).select_from(ActivityType)
