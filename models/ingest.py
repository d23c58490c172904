"""Statements that write the activity ledger in bulk and keep its running totals exact.

Writers run them inside one transaction per batch (or per imported file): rows go in with
`INSERT ... ON CONFLICT DO UPDATE` executed over many parameter sets, and the running totals of
every mentor the batch touched are rebuilt from the ledger before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    Delete,
    Insert,
    Select,
    Table,
    TextClause,
    Update,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col

from models.activities import (
    Activity,
    ActivityLedgerVersion,
    ActivityRunningTotal,
    activity_table,
)
from models.mentors import ActivityType, Mentor
from models.statuses import MentorStatus

# Every ledger field but the id: what an upsert of a known id overwrites.
UPDATED_FIELDS = (
    "mentor_id",
    "activity_type_id",
    "contact_id",
    "started_at",
    "duration_minutes",
    "status",
)


def _insert_for(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


def upsert_activities(dialect: str) -> Insert:
    """Insert activities, or overwrite the stored fields of ids already in the ledger."""
    statement = _insert_for(dialect, activity_table())
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={name: statement.excluded[name] for name in UPDATED_FIELDS},
    )


def insert_new_mentors(dialect: str) -> Insert:
    """Insert mentors, skipping ids a concurrent writer created since the caller looked."""
    table = SQLModel.metadata.tables[Mentor.__tablename__]
    return _insert_for(dialect, table).on_conflict_do_nothing(index_elements=["id"])


def insert_statuses(dialect: str) -> Insert:
    """Give new mentors their first status (a concurrent creator may have done so already)."""
    table = SQLModel.metadata.tables[MentorStatus.__tablename__]
    return _insert_for(dialect, table).on_conflict_do_nothing(index_elements=["mentor_id"])


def known_activity_type_ids() -> Select[str]:
    return select(col(ActivityType.id))


def known_mentor_ids(ids: Sequence[str]) -> Select[str]:
    return select(col(Mentor.id)).where(col(Mentor.id).in_(ids))


def drop_running_totals(mentor_ids: Sequence[str] | Select[tuple[str]]) -> Delete:
    return delete(ActivityRunningTotal).where(col(ActivityRunningTotal.mentor_id).in_(mentor_ids))


def new_ledger_version(token: str) -> Update:
    return update(ActivityLedgerVersion).values(token=token)


def rebuild_running_totals(mentor_ids: Sequence[str] | Select[tuple[str]]) -> Insert:
    """Recompute these mentors' running totals from the ledger (after `drop_running_totals`).

    One row per instant with completed minutes; instants holding only cancelled work would
    repeat the previous total, so they are left out.
    """
    minutes = func.sum(
        case((col(Activity.status) == "completed", col(Activity.duration_minutes)), else_=0)
    )
    running = func.sum(minutes).over(
        partition_by=col(Activity.mentor_id), order_by=col(Activity.started_at)
    )
    rows = (
        select(col(Activity.mentor_id), col(Activity.started_at), running)
        .where(col(Activity.mentor_id).in_(mentor_ids))
        .group_by(col(Activity.mentor_id), col(Activity.started_at))
        .having(minutes > 0)
    )
    return insert(ActivityRunningTotal).from_select(
        ["mentor_id", "started_at", "completed_minutes"], rows
    )


# The tables a bulk load changes the most, whose plans change with their size.
_LOADED_TABLES = ("activity", "activity_running_total", "milestone", "mentor", "mentor_status")


def refresh_statistics(dialect: str, tables: Sequence[str] = _LOADED_TABLES) -> TextClause | None:
    """PostgreSQL: `ANALYZE` the tables an import filled. Until autovacuum gets to them the
    planner has no statistics: detection's ordered scan became a sequential scan and a sort
    (6.8 s instead of 3.8 s on the 1M ledger), and inside the import the running-totals rebuild
    planned for an empty staging table (12.5 s instead of 9.0 s). SQLite plans without
    statistics: None."""
    if dialect != "postgresql":
        return None
    return text(f"ANALYZE {', '.join(tables)}")
