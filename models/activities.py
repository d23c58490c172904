"""The activity ledger, the running totals derived from it, and the statements that read it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Index, Select, Table, func, select
from sqlmodel import Field, SQLModel, col

from models.mentors import ActivityType
from models.types import StoredEnum, UTCDateTime


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        # Stats and milestone detection read one mentor's ledger in time order; the columns
        # after started_at let detection's scan read the index alone (migration 0004).
        Index(
            "ix_activity_mentor_ledger",
            *("mentor_id", "started_at", "id", "status", "duration_minutes", "contact_id"),
        ),
        Index("ix_activity_started", "started_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    mentor_id: str = Field(foreign_key="mentor.id", ondelete="CASCADE")
    activity_type_id: str = Field(foreign_key="activity_type.id")
    contact_id: str = Field(max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    # An unknown status reads as cancelled, as the figures (which count `completed`) treat it.
    status: str = Field(
        sa_type=StoredEnum("domain.activities:ActivityStatus", fallback="cancelled", length=16)
    )


class ActivityRunningTotal(SQLModel, table=True):
    """Completed minutes of one mentor up to and including each instant they started work.

    A period's total is then the difference of two index seeks, whatever the ledger's size:
    peer ranks compare every mentor without reading their activities. Keyed by UTC instants, so
    it holds for any TIMEZONE. Derived data: rebuilt from the ledger for every mentor an ingest
    touches, in the ingest's own transaction (see `models.ingest`).
    """

    __tablename__ = "activity_running_total"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the lookup: one b-tree

    mentor_id: str = Field(primary_key=True, foreign_key="mentor.id", ondelete="CASCADE")
    started_at: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    completed_minutes: int


class ActivityLedgerVersion(SQLModel, table=True):
    """One row: a random token that every write to the ledger replaces, in its transaction.

    Caches of figures derived from the ledger (peer ranks) key on it: equal tokens mean the
    running totals are exactly those the cached figures were computed from.
    """

    __tablename__ = "activity_ledger_version"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(max_length=32)


def activity_table() -> Table:
    """The ledger as a Core table: bulk statements skip the ORM's per-row bookkeeping."""
    return SQLModel.metadata.tables["activity"]


LEDGER_COLUMNS = (
    col(Activity.id),
    col(Activity.mentor_id),
    col(Activity.activity_type_id),
    col(Activity.contact_id),
    col(Activity.started_at),
    col(Activity.duration_minutes),
    col(Activity.status),
)


def activities_by_ids(ids: Sequence[str]) -> Select[Activity]:
    return select(Activity).where(col(Activity.id).in_(ids))


def activity_types_by_ids(ids: Sequence[str]) -> Select[ActivityType]:
    return select(ActivityType).where(col(ActivityType.id).in_(ids))


def ledger_rows(ids: Sequence[str]) -> Select[str, str, str, str, datetime, int, str]:
    """The stored fields of these activities, as plain columns (ingest compares them)."""
    return select(*LEDGER_COLUMNS).where(col(Activity.id).in_(ids))


def _newest_first(mentor_id: str | None) -> Select[Activity]:
    statement = select(Activity)
    if mentor_id is not None:
        statement = statement.where(col(Activity.mentor_id) == mentor_id)
    return statement.order_by(col(Activity.started_at).desc(), col(Activity.id).desc())


def activity_page(*, mentor_id: str | None, offset: int, limit: int) -> Select[Activity]:
    return _newest_first(mentor_id).offset(offset).limit(limit)


def activity_count(*, mentor_id: str | None) -> Select[int]:
    statement = select(func.count()).select_from(Activity)
    if mentor_id is not None:
        statement = statement.where(col(Activity.mentor_id) == mentor_id)
    return statement
