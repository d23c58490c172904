"""Mentor statuses and pause records: tables and the statements that read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Index, Select, and_, func, select, text, true
from sqlmodel import Field, SQLModel, col

from models.paging import count_per_parent, page_per_parent
from models.types import StoredEnum, StoredJSON, UTCDateTime, new_version, utcnow

STATUS_VALUES = "domain.status_rules:StatusValue"


class MentorStatus(SQLModel, table=True):
    __tablename__ = "mentor_status"
    __table_args__ = (Index("ix_mentor_status_status", "status", "mentor_id"),)

    mentor_id: str = Field(primary_key=True, foreign_key="mentor.id", ondelete="CASCADE")
    # A status this version does not know reads as inactive: never assignable, and the
    # reactivate event (or a PUT) leads back to active.
    status: str = Field(sa_type=StoredEnum(STATUS_VALUES, fallback="inactive", length=16))
    pause_start_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expected_return_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pause_reason: str | None = Field(default=None, max_length=500)
    # `metadata` is reserved on declarative classes, so the attribute has another name.
    extra: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", StoredJSON, nullable=False)
    )
    last_updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: str = Field(default_factory=new_version, max_length=32)


class PauseRecord(SQLModel, table=True):
    __tablename__ = "pause_record"
    __table_args__ = (
        # The invariant "never two active pause records for one mentor", held by the database
        # itself so that no race between two transactions can break it.
        Index(
            "uq_pause_record_one_active_per_mentor",
            "mentor_id",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
        Index("ix_pause_record_mentor_start", "mentor_id", "start_date"),
        Index("ix_pause_record_active_return", "is_active", "expected_return_date"),
    )

    id: str = Field(primary_key=True, max_length=64)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    start_date: datetime = Field(sa_type=UTCDateTime)
    expected_return_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_active: bool
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: str = Field(default_factory=new_version, max_length=32)


# --- mentor statuses -------------------------------------------------------------------------


def status_of(mentor_id: str, *, for_update: bool = False) -> Select[MentorStatus]:
    statement = select(MentorStatus).where(col(MentorStatus.mentor_id) == mentor_id)
    return statement.with_for_update() if for_update else statement


def statuses_of(mentor_ids: Sequence[str]) -> Select[MentorStatus]:
    return select(MentorStatus).where(col(MentorStatus.mentor_id).in_(mentor_ids))


def _status_filter(status: str | None, mentor_id: str | None) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if status is not None:
        conditions.append(col(MentorStatus.status) == status)
    if mentor_id is not None:
        conditions.append(col(MentorStatus.mentor_id) == mentor_id)
    return and_(*conditions)


def status_page(
    *, status: str | None, offset: int, limit: int, mentor_id: str | None = None
) -> Select[MentorStatus]:
    return (
        select(MentorStatus)
        .where(_status_filter(status, mentor_id))
        .order_by(MentorStatus.mentor_id)
        .offset(offset)
        .limit(limit)
    )


def status_count(*, status: str | None, mentor_id: str | None = None) -> Select[int]:
    return select(func.count()).select_from(MentorStatus).where(_status_filter(status, mentor_id))


# --- pause records ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PauseRecordFilter:
    """Which pause records a list shows; `None` means "any"."""

    mentor_id: str | None = None
    is_active: bool | None = None
    overdue_at: datetime | None = None  # active records whose expected return is before this


def _pause_conditions(where: PauseRecordFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if where.mentor_id is not None:
        conditions.append(col(PauseRecord.mentor_id) == where.mentor_id)
    if where.is_active is not None:
        conditions.append(col(PauseRecord.is_active) == where.is_active)
    if where.overdue_at is not None:
        conditions.append(col(PauseRecord.is_active) == true())
        conditions.append(col(PauseRecord.expected_return_date) < where.overdue_at)
    return and_(*conditions)


_NEWEST_FIRST = (col(PauseRecord.start_date).desc(), col(PauseRecord.id).desc())


def pause_record(record_id: str, *, for_update: bool = False) -> Select[PauseRecord]:
    statement = select(PauseRecord).where(col(PauseRecord.id) == record_id)
    return statement.with_for_update() if for_update else statement


def pause_records_by_ids(record_ids: Sequence[str]) -> Select[PauseRecord]:
    return select(PauseRecord).where(col(PauseRecord.id).in_(record_ids))


def active_pause_record(mentor_id: str) -> Select[PauseRecord]:
    return (
        select(PauseRecord)
        .where(col(PauseRecord.mentor_id) == mentor_id, col(PauseRecord.is_active) == true())
        .with_for_update()
    )


def pause_record_page(where: PauseRecordFilter, *, offset: int, limit: int) -> Select[PauseRecord]:
    return (
        select(PauseRecord)
        .where(_pause_conditions(where))
        .order_by(*_NEWEST_FIRST)
        .offset(offset)
        .limit(limit)
    )


def pause_record_count(where: PauseRecordFilter) -> Select[int]:
    return select(func.count()).select_from(PauseRecord).where(_pause_conditions(where))


def pause_records_of_mentors(
    mentor_ids: Sequence[str], where: PauseRecordFilter, *, offset: int, limit: int
) -> Select[PauseRecord]:
    """One page of pause records for each of many mentors, in one statement."""
    return page_per_parent(
        PauseRecord,
        key=col(PauseRecord.id),
        parent=col(PauseRecord.mentor_id),
        parent_ids=mentor_ids,
        where=_pause_conditions(where),
        order=_NEWEST_FIRST,
        offset=offset,
        limit=limit,
    )


def pause_record_counts_of_mentors(
    mentor_ids: Sequence[str], where: PauseRecordFilter
) -> Select[str, int]:
    return count_per_parent(
        parent=col(PauseRecord.mentor_id), parent_ids=mentor_ids, where=_pause_conditions(where)
    )
