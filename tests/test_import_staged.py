"""The staged import (domain.staged_ledger) against the row-at-a-time writer it replaced for
files (domain.ledger.LedgerWriter), on a generated ledger and file: new ids, ids the ledger
holds with the same or other data (another mentor too), ids repeated within the file, and
mentors the file introduces. Same counts, activities, mentors, statuses, running totals and
milestones, on each engine."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlmodel import col

import domain.staged_ledger
from domain.activities import FIELDS, ActivityInput, ActivityStatus
from domain.ledger import IngestCounts, LedgerWriter
from models.database import Database, begin_write
from models.milestones import Milestone
from tests.conftest import empty_data_tables
from tests.ledgers import RECORDED_AT
from tests.test_import import _import, _state

START = datetime(2025, 1, 1, tzinfo=UTC)
TYPES = ("act_type_001", "act_type_002", "act_type_003")


def _activity(rng: random.Random, id: str, mentor: str) -> ActivityInput:
    return ActivityInput(
        id=id,
        mentor_id=mentor,
        mentor_name=f"Mentor {mentor}",
        activity_type_id=rng.choice(TYPES),
        contact_id=f"contact-{rng.randrange(40)}",
        started_at=START + timedelta(minutes=rng.randrange(600_000)),
        duration_minutes=rng.choice((0, 30, 60, 90, 240, 600, 1440)),
        status=ActivityStatus.CANCELLED if rng.random() < 0.15 else ActivityStatus.COMPLETED,
    )


def _changed(rng: random.Random, activity: ActivityInput) -> ActivityInput:
    """The same id with one field (or its mentor) changed."""
    change = rng.randrange(4)
    if change == 0:
        return replace(activity, duration_minutes=(activity.duration_minutes + 45) % 1440)
    if change == 1:
        mentor = f"m{rng.randrange(40)}"  # an existing mentor, or one the file introduces
        return replace(activity, mentor_id=mentor, mentor_name=f"Mentor {mentor}")
    if change == 2:
        return replace(activity, started_at=activity.started_at + timedelta(days=3))
    flipped = ActivityStatus.COMPLETED if activity.status == "cancelled" else "cancelled"
    return replace(activity, status=ActivityStatus(flipped))


def generate(seed: int) -> tuple[list[ActivityInput], list[ActivityInput]]:
    """A ledger of 30 mentors, and a file of 1,500 rows to import over it."""
    rng = random.Random(seed)
    ledger = [_activity(rng, f"a{n}", f"m{rng.randrange(30)}") for n in range(400)]
    rows: list[ActivityInput] = []
    for n in range(1_500):
        kind = rng.random()
        if kind < 0.4 or not rows:
            rows.append(_activity(rng, f"new{n}", f"m{rng.randrange(40)}"))
        elif kind < 0.6:
            rows.append(rng.choice(ledger))
        elif kind < 0.8:
            rows.append(_changed(rng, rng.choice(ledger)))
        else:  # an id the file already named: the same row again, or changed
            earlier = rng.choice(rows)
            rows.append(earlier if rng.random() < 0.5 else _changed(rng, earlier))
    return ledger, rows


def _write_csv(path: Path, rows: list[ActivityInput]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for a in rows:
            at = a.started_at.isoformat().replace("+00:00", "Z")
            values = (a.id, a.mentor_id, a.mentor_name, a.activity_type_id, a.contact_id)
            writer.writerow((*values, at, a.duration_minutes, a.status.value))
    return path


async def _write(database: Database, rows: list[ActivityInput]) -> IngestCounts:
    """The rows through the row-at-a-time writer, in one transaction (the old import)."""
    async with database.sessions() as session:
        await begin_write(session)
        writer = await LedgerWriter.open(session, now=RECORDED_AT)
        await writer.write(rows)
        counts = await writer.finish()
        await session.commit()
    return counts


async def _everything(database: Database) -> dict[str, Any]:
    state: dict[str, Any] = await _state(database)
    state["statuses"] = [status[:2] for status in state["statuses"]]  # versions are random
    names = ("mentor_id", "definition_key", "status", "value", "achieved_at")
    columns = [col(getattr(Milestone, name)) for name in names]
    async with database.sessions() as session:
        found = await session.execute(select(*columns).order_by(*columns))
        state["milestones"] = [tuple(row) for row in found]
    return state


async def _empty(database: Database) -> None:
    async with database.engine.begin() as connection:
        await empty_data_tables(connection)


async def _ledger_schema(database: Database) -> dict[str, list[str]]:
    """The ledger's indexes, and the foreign keys of the tables a large load fills."""

    def found(sync: Any) -> dict[str, list[str]]:
        inspector = inspect(sync)
        schema = {"indexes": sorted(str(i["name"]) for i in inspector.get_indexes("activity"))}
        for table in ("activity", "activity_running_total"):
            keys = inspector.get_foreign_keys(table)
            schema[table] = sorted(repr(sorted(key.items())) for key in keys)
        return schema

    async with database.engine.connect() as connection:
        return await connection.run_sync(found)


def _first_of_each_id(rows: list[ActivityInput]) -> list[ActivityInput]:
    first: dict[str, ActivityInput] = {}
    for row in rows:
        first.setdefault(row.id, row)
    return list(first.values())


# Over a ledger; into an empty one with ids repeated in the file; into an empty one with none
# repeated (every row new: the import skips judging them).
OVER = ("a ledger", "nothing", "nothing, no id twice")


@pytest.mark.parametrize("over", OVER)
@pytest.mark.parametrize("large", [False, True], ids=["small load", "large load"])
async def test_the_staged_import_matches_the_row_at_a_time_writer(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large: bool, over: str
) -> None:
    """A large load (at least the ledger's size) drops the ledger's secondary indexes (and on
    PostgreSQL its foreign keys) and puts them back: the same outcome, and the same schema."""
    if large:  # 1,500 rows over a ledger of 400: large, once the floor is out of the way
        monkeypatch.setattr(domain.staged_ledger, "LARGE_LOAD", 0)
    schema = await _ledger_schema(database)
    assert "ix_activity_mentor_ledger" in schema["indexes"]
    assert schema["activity"]
    assert schema["activity_running_total"]
    ledger, rows = generate(seed=13)
    if over != "a ledger":
        ledger = []
    if over == "nothing, no id twice":
        rows = _first_of_each_id(rows)
    await _write(database, ledger)
    expected_counts = await _write(database, rows)
    expected = await _everything(database)
    assert expected["milestones"], "the generated ledger crosses no threshold: nothing compared"
    assert expected_counts.inserted
    repeats = over != "nothing, no id twice"  # an id of the ledger's, or the file's, again
    assert bool(expected_counts.updated) == bool(expected_counts.unchanged) == repeats

    await _empty(database)
    await _write(database, ledger)
    result = await _import(database, _write_csv(tmp_path / "rows.csv", rows))
    assert result.exit_code == 0, result.output
    c = expected_counts
    assert f"{c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged" in result.output
    assert await _everything(database) == expected
    assert await _ledger_schema(database) == schema
