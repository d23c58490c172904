"""Recording activities: validated, idempotent by id, and the running totals stay exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from domain.errors import BadInput
from domain.ledger import IngestCounts
from models.activities import LEDGER_COLUMNS, Activity, ActivityRunningTotal
from models.database import Database
from models.mentors import Mentor
from models.statuses import MentorStatus
from tests.ledgers import act, record


async def _rows(database: Database, *columns: Any) -> list[tuple[Any, ...]]:
    async with database.sessions() as session:
        result = await session.execute(select(*columns).order_by(*columns))
        return [tuple(row) for row in result]


async def _running_totals(database: Database) -> list[tuple[Any, ...]]:
    return await _rows(
        database,
        ActivityRunningTotal.mentor_id,
        ActivityRunningTotal.started_at,
        ActivityRunningTotal.completed_minutes,
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


BATCH = [
    act("r1", mentor="ann", at="2026-03-01T10:00Z", minutes=60),
    act("r2", mentor="ann", at="2026-03-02T10:00Z", minutes=30),
    act("r3", mentor="ann", at="2026-03-02T10:00Z", minutes=15, cancelled=True),
    act("r4", mentor="ann", at="2026-03-03T10:00Z", minutes=45),
]


async def test_new_mentors_are_created_named_and_active(database: Database) -> None:
    assert await record(database, *BATCH) == IngestCounts(inserted=4)
    assert await _rows(database, Mentor.id, Mentor.name) == [("ann", "Mentor ann")]
    assert await _rows(database, MentorStatus.mentor_id, MentorStatus.status) == [("ann", "active")]
    # Completed minutes up to each instant: 60; then 60 + 30 (r3, at the same instant, was
    # cancelled); then 90 + 45.
    assert await _running_totals(database) == [
        ("ann", _at("2026-03-01T10:00Z"), 60),
        ("ann", _at("2026-03-02T10:00Z"), 90),
        ("ann", _at("2026-03-03T10:00Z"), 135),
    ]


async def test_the_same_activities_again_change_nothing(database: Database) -> None:
    await record(database, *BATCH)
    before = await _rows(database, *LEDGER_COLUMNS)
    assert await record(database, *BATCH) == IngestCounts(unchanged=4)
    assert await _rows(database, *Activity.__table__.columns) == before  # type: ignore[attr-defined]


async def test_changed_data_updates_the_row_and_both_mentors_totals(database: Database) -> None:
    await record(database, *BATCH)
    counts = await record(
        database,
        act("r1", mentor="ann", at="2026-03-01T10:00Z", minutes=60, cancelled=True),
        act("r2", mentor="bob", at="2026-03-02T10:00Z", minutes=30),  # moved to bob
        act("r3", mentor="ann", at="2026-03-02T10:00Z", minutes=15, cancelled=True),  # as was
        act("r4", mentor="ann", at="2026-03-03T10:00Z", minutes=50),
    )
    assert counts == IngestCounts(updated=3, unchanged=1)
    # ann keeps only r4 completed (50); r1 and r3 are cancelled. bob has r2 (30).
    assert await _running_totals(database) == [
        ("ann", _at("2026-03-03T10:00Z"), 50),
        ("bob", _at("2026-03-02T10:00Z"), 30),
    ]


async def test_within_one_batch_the_last_version_of_an_id_wins(database: Database) -> None:
    counts = await record(
        database,
        act("w1", mentor="ann", at="2026-03-01T10:00Z", minutes=10),
        act("w1", mentor="ann", at="2026-03-01T10:00Z", minutes=20),
        act("w1", mentor="ann", at="2026-03-01T10:00Z", minutes=20),
    )
    assert counts == IngestCounts(inserted=1, updated=1, unchanged=1)
    assert await _rows(database, Activity.id, Activity.duration_minutes) == [("w1", 20)]


async def test_one_invalid_activity_rejects_the_whole_batch(database: Database) -> None:
    with pytest.raises(BadInput) as raised:
        await record(
            database,
            act("ok", mentor="ann", at="2026-03-01T10:00Z"),
            act("bad", mentor="ann", at="2026-03-01T10:00Z", minutes=-1, type="act_type_404"),
            act("bad too", mentor="ann", at="2099-01-01T00:00Z"),
        )
    assert raised.value.fields == {
        "1.activity_type_id": "is not a known activity type",
        "1.duration_minutes": "must be between 0 and 1440",
        "2.id": "must be 1-64 letters, digits or . _ : - (starting alphanumeric)",
        "2.started_at": "must be between 1970-01-01 and a day from now",
    }
    assert await _rows(database, Activity.id) == []
    assert await _rows(database, Mentor.id) == []
