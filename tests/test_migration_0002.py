"""Migration 0002 folds a ledger that predates it into the running totals (both dialects)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from models.activities import Activity, ActivityLedgerVersion, ActivityRunningTotal
from models.database import Database
from models.mentors import Mentor
from models.migrate import alembic_config, migrate


def _to_0001(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0001")


async def test_upgrade_builds_running_totals_of_the_existing_ledger(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_to_0001)
    try:
        async with database.sessions() as session:
            await session.execute(insert(Mentor), [{"id": "old", "name": "Old Timer"}])
            minutes = (
                ("a", 1, 30, "completed"),
                ("b", 2, 45, "cancelled"),
                ("c", 3, 15, "completed"),
            )
            await session.execute(
                insert(Activity),
                [
                    {
                        "id": id,
                        "mentor_id": "old",
                        "activity_type_id": "act_type_001",
                        "contact_id": "contact_1",
                        "started_at": datetime(2025, 5, day, tzinfo=UTC),
                        "duration_minutes": length,
                        "status": status,
                    }
                    for id, day, length, status in minutes
                ],
            )
            await session.commit()
    finally:
        await migrate(database)  # back to head whatever happened
    async with database.sessions() as session:
        totals = await session.scalars(
            select(col(ActivityRunningTotal.completed_minutes)).order_by(
                col(ActivityRunningTotal.started_at)
            )
        )
        token = await session.scalar(select(col(ActivityLedgerVersion.token)))
    # 1 May: 30; 2 May only cancelled work (no row); 3 May: 30 + 15.
    assert list(totals) == [30, 45]
    assert token is not None
    assert len(token) == 32
