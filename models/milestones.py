"""The milestone catalogue (data, not code) and each mentor's standing against it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Index,
    Insert,
    Select,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col

from models.activities import Activity
from models.types import StoredEnum, UTCDateTime, driver_utc, new_version, undecoded, utcnow


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
    # An unknown status reads as in_progress: nothing is shown as achieved that may not be.
    status: str = Field(
        sa_type=StoredEnum("domain.milestones:MilestoneStatus", fallback="in_progress", length=16)
    )
    value: float
    achieved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: str = Field(default_factory=new_version, max_length=32)


# --- reading milestones ----------------------------------------------------------------------

MilestoneRow = tuple[Milestone, MilestoneDefinition]


@dataclass(frozen=True, kw_only=True)
class MilestoneFilter:
    """Which milestones a list shows; `None` means "any"."""

    mentor_id: str | None = None
    type: str | None = None
    status: str | None = None
    achieved_from: datetime | None = None  # inclusive
    achieved_before: datetime | None = None  # exclusive


def _milestone_conditions(where: MilestoneFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [_KNOWN_TYPE]
    if where.mentor_id is not None:
        conditions.append(col(Milestone.mentor_id) == where.mentor_id)
    if where.type is not None:
        conditions.append(col(MilestoneDefinition.type) == where.type)
    if where.status is not None:
        conditions.append(col(Milestone.status) == where.status)
    if where.achieved_from is not None:
        conditions.append(col(Milestone.achieved_at) >= where.achieved_from)
    if where.achieved_before is not None:
        conditions.append(col(Milestone.achieved_at) < where.achieved_before)
    return and_(*conditions)


def _with_definitions() -> Select[Milestone, MilestoneDefinition]:
    return select(Milestone, MilestoneDefinition).join(
        MilestoneDefinition, col(MilestoneDefinition.key) == col(Milestone.definition_key)
    )


# Catalogue order (docs/domain.md's table): hours, contacts, activities, each up its thresholds.
_TYPE_RANK = {"hours_logged": 0, "contacts_helped": 1, "activity_count": 2}
_TYPE_ORDER = case(_TYPE_RANK, value=col(MilestoneDefinition.type), else_=3)
# A catalogue entry of a type this version cannot count (an older or newer version's) is left
# out of every read and of detection, rather than failing them (README "Hardening").
_KNOWN_TYPE = col(MilestoneDefinition.type).in_(list(_TYPE_RANK))
_CATALOGUE_ORDER = (col(Milestone.mentor_id), _TYPE_ORDER, col(MilestoneDefinition.threshold))


def milestone(milestone_id: str, *, for_update: bool = False) -> Select[Milestone]:
    statement = select(Milestone).where(col(Milestone.id) == milestone_id)
    return statement.with_for_update() if for_update else statement


def milestones_by_ids(ids: Sequence[str]) -> Select[Milestone, MilestoneDefinition]:
    return _with_definitions().where(col(Milestone.id).in_(ids), _KNOWN_TYPE)


def milestone_page(
    where: MilestoneFilter, *, offset: int, limit: int
) -> Select[Milestone, MilestoneDefinition]:
    return (
        _with_definitions()
        .where(_milestone_conditions(where))
        .order_by(*_CATALOGUE_ORDER)
        .offset(offset)
        .limit(limit)
    )


def milestone_count(where: MilestoneFilter) -> Select[int]:
    return (
        select(func.count())
        .select_from(Milestone)
        .join(MilestoneDefinition, col(MilestoneDefinition.key) == col(Milestone.definition_key))
        .where(_milestone_conditions(where))
    )


def milestones_of_mentors(
    mentor_ids: Sequence[str], where: MilestoneFilter
) -> Select[Milestone, MilestoneDefinition]:
    return (
        _with_definitions()
        .where(col(Milestone.mentor_id).in_(mentor_ids), _milestone_conditions(where))
        .order_by(*_CATALOGUE_ORDER)
    )


# The same rows without ORM objects (a screen reads hundreds): a milestone's columns and its
# catalogue entry's, by name (graph.types.milestone reads either shape).
_ROW_COLUMNS = tuple(
    col(column)
    for column in (
        *(Milestone.id, Milestone.mentor_id, Milestone.definition_key, Milestone.status),
        *(Milestone.value, Milestone.achieved_at, Milestone.version),
        *(MilestoneDefinition.type, MilestoneDefinition.threshold, MilestoneDefinition.name),
        MilestoneDefinition.badge_image_url,
    )
)


def milestone_rows_of_mentors(
    mentor_ids: Sequence[str], where: MilestoneFilter
) -> Select[*tuple[Any, ...]]:
    """`milestones_of_mentors` as plain rows."""
    return milestones_of_mentors(mentor_ids, where).with_only_columns(*_ROW_COLUMNS)


def definitions() -> Select[MilestoneDefinition]:
    return (
        select(MilestoneDefinition)
        .where(_KNOWN_TYPE)
        .order_by(_TYPE_ORDER, col(MilestoneDefinition.threshold))
    )


def definition(key: str) -> Select[MilestoneDefinition]:
    return select(MilestoneDefinition).where(col(MilestoneDefinition.key) == key)


# --- detection from the ledger: one ordered scan, a handful of statements for any number of mentors


def _completed(mentor_ids: Sequence[str] | None) -> ColumnElement[bool]:
    condition = col(Activity.status) == "completed"
    if mentor_ids is not None:
        condition = and_(condition, col(Activity.mentor_id).in_(mentor_ids))
    return condition


def completed_ledger(mentor_ids: Sequence[str] | None) -> Select[str, Any, int, str]:
    """(mentor, started_at, minutes, contact) of every completed activity of these mentors
    (None: all), each mentor's in time order: what `domain.crossings` scans once.

    `ix_activity_mentor_ledger` covers it, so the ledger is read in index order, never sorted.
    The text columns come `undecoded` (a million rows' per-value conversions cost seconds).
    """
    return (
        select(
            undecoded(col(Activity.mentor_id)),
            undecoded(col(Activity.started_at)),
            col(Activity.duration_minutes),
            undecoded(col(Activity.contact_id)),
        )
        .where(_completed(mentor_ids))
        .order_by(col(Activity.mentor_id), col(Activity.started_at), col(Activity.id))
    )


def milestones_of(mentor_ids: Sequence[str] | None) -> Select[*tuple[Any, ...]]:
    """What detection compares of every milestone of these mentors (None: all), `undecoded`
    (it reads them all at once; updated_at and version are only ever overwritten)."""
    statement = select(
        *(undecoded(col(Milestone.id)), undecoded(col(Milestone.mentor_id))),
        *(undecoded(col(Milestone.definition_key)), undecoded(col(Milestone.status))),
        *(col(Milestone.value), undecoded(col(Milestone.achieved_at))),
        undecoded(col(Milestone.created_at)),
    )
    if mentor_ids is not None:
        statement = statement.where(col(Milestone.mentor_id).in_(mentor_ids))
    return statement


UPSERT_COLUMNS = (
    *("id", "mentor_id", "definition_key", "status", "value"),
    *("achieved_at", "created_at", "updated_at", "version"),
)


def upsert_milestones(dialect: str, source: Select[Any] | None = None) -> Insert:
    """INSERT … ON CONFLICT (mentor, definition) DO UPDATE of UPSERT_COLUMNS: for executemany,
    or of `source`'s rows (models.database.write_many)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # The Table, not the entity: the ORM's bulk path would split the rows into one statement per
    # set of non-null columns; Core sends them all in one executemany.
    statement = insert(Milestone.__table__)  # type: ignore[attr-defined]
    if source is not None:
        statement = statement.from_select(UPSERT_COLUMNS, source)
    return statement.on_conflict_do_update(
        index_elements=["mentor_id", "definition_key"],
        set_={
            name: statement.excluded[name]
            for name in ("status", "value", "achieved_at", "updated_at", "version")
        },
    )


def upsert_rows(dialect: str, milestones: Iterable[Any]) -> list[tuple[Any, ...]]:
    """`upsert_milestones`'s rows for `models.database.write_rows`, from objects with a
    milestone's attributes, in UPSERT_COLUMNS order."""
    utc = driver_utc(dialect)
    return [
        (
            *(m.id, m.mentor_id, m.definition_key, m.status, m.value),
            *(utc(m.achieved_at), utc(m.created_at), utc(m.updated_at), m.version),
        )
        for m in milestones
    ]


def delete_milestones(ids: Sequence[str]) -> Delete:
    return delete(Milestone).where(col(Milestone.id).in_(ids))
