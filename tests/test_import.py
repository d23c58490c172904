"""`mentor-gateway import`: all or nothing, --skip-invalid, and idempotent re-imports."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from api.cli import cli
from models.activities import LEDGER_COLUMNS, ActivityRunningTotal
from models.database import Database
from models.mentors import Mentor
from models.statuses import MentorStatus

HEADER = "id,mentor_id,mentor_name,activity_type_id,contact_id,started_at,duration_minutes,status"
GOOD = [
    "act-1,mentor-001,Amara Okafor,act_type_001,contact_1,2026-01-31T23:30:00Z,60,completed",
    "act-2,mentor-001,Amara Okafor,act_type_003,contact_2,2026-02-01T09:00:00+01:00,20,cancelled",
    "act-3,mentor-002,Liam Chen,act_type_002,contact_3,2026-02-02T10:00:00Z,90,completed",
]
BAD = "act-4,mentor-002,Liam Chen,act_type_009,contact_3,2026-02-03,-5,done"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


async def _import(database: Database, path: Path, *options: str) -> Result:
    """Run the command as a user would (in a thread: it runs its own event loop)."""
    arguments = ["import", str(path), "--database-url", database.url, *options]
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(cli, arguments))


async def _state(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, Any] = {
        "activities": LEDGER_COLUMNS,
        "mentors": (Mentor.id, Mentor.name),
        "statuses": (MentorStatus.mentor_id, MentorStatus.status, MentorStatus.version),
        "totals": (ActivityRunningTotal.mentor_id, ActivityRunningTotal.completed_minutes),
    }
    async with database.sessions() as session:
        return {
            name: [tuple(row) for row in await session.execute(select(*columns).order_by(*columns))]
            for name, columns in tables.items()
        }


async def test_one_bad_row_imports_nothing(database: Database, tmp_path: Path) -> None:
    path = _csv(tmp_path / "ledger.csv", *GOOD[:2], BAD, GOOD[2])
    result = await _import(database, path)
    assert result.exit_code == 1
    # Line 4 of the file (the header is line 1), with every reason.
    assert (
        f"{path}:4: activity_type_id: is not a known activity type; started_at: has no time zone"
        in result.stderr
    )
    assert (
        "duration_minutes: must be between 0 and 1440; status: must be completed or cancelled"
        in result.stderr
    )
    assert "4 rows read: 0 inserted, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert await _state(database) == {"activities": [], "mentors": [], "statuses": [], "totals": []}


async def test_skip_invalid_imports_the_rest_and_a_second_import_changes_nothing(
    database: Database, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "ledger.csv", *GOOD[:2], BAD, GOOD[2])
    first = await _import(database, path, "--skip-invalid")
    assert first.exit_code == 0, first.output
    assert "4 rows read: 3 inserted, 0 updated, 0 unchanged, 1 rejected" in first.stdout
    assert f"{path}:4: " in first.stderr
    imported = await _state(database)
    assert [row[0] for row in imported["activities"]] == ["act-1", "act-2", "act-3"]
    assert imported["mentors"] == [("mentor-001", "Amara Okafor"), ("mentor-002", "Liam Chen")]
    assert imported["totals"] == [("mentor-001", 60), ("mentor-002", 90)]  # act-2 cancelled

    second = await _import(database, path, "--skip-invalid")
    assert "4 rows read: 0 inserted, 0 updated, 3 unchanged, 1 rejected" in second.stdout
    assert await _state(database) == imported


async def test_an_import_leaves_postgresql_with_planner_statistics(
    database: Database, tmp_path: Path
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite plans without them")
    async with database.engine.begin() as connection:
        # TRUNCATE sets reltuples to -1, "never analyzed"; ANALYZE counts rows.
        await connection.execute(text("TRUNCATE activity CASCADE"))
    result = await _import(database, _csv(tmp_path / "ledger.csv", *GOOD))
    assert result.exit_code == 0, result.output
    async with database.sessions() as session:
        counted = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'activity'")
        )
    assert counted == 3


async def test_a_changed_row_updates_the_activity(database: Database, tmp_path: Path) -> None:
    await _import(database, _csv(tmp_path / "v1.csv", *GOOD))
    changed = GOOD[2].replace(",90,", ",30,")
    result = await _import(database, _csv(tmp_path / "v2.csv", *GOOD[:2], changed))
    assert "3 rows read: 0 inserted, 1 updated, 2 unchanged, 0 rejected" in result.stdout
    assert (await _state(database))["totals"] == [("mentor-001", 60), ("mentor-002", 30)]


async def test_json_lines_with_line_numbers(database: Database, tmp_path: Path) -> None:
    fields = HEADER.split(",")
    rows: list[dict[str, Any]] = [dict(zip(fields, line.split(","), strict=True)) for line in GOOD]
    rows[0]["duration_minutes"] = 60  # JSON numbers are welcome too
    lines = [
        json.dumps(rows[0]),
        "",
        json.dumps(rows[1]),
        "{not json",
        "[1, 2]",
        json.dumps(rows[2]),
    ]
    path = tmp_path / "ledger.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = await _import(database, path, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert f"{path}:4: the line is not JSON" in result.stderr
    assert f"{path}:5: the line is not a JSON object" in result.stderr
    assert "5 rows read: 3 inserted, 0 updated, 0 unchanged, 2 rejected" in result.stdout


async def test_files_that_cannot_be_imported(database: Database, tmp_path: Path) -> None:
    wrong_kind = tmp_path / "ledger.xlsx"
    wrong_kind.write_text("x", encoding="utf-8")
    no_status = tmp_path / "ledger.csv"
    no_status.write_text(HEADER.removesuffix(",status") + "\n", encoding="utf-8")
    for path, message in ((wrong_kind, "must be .csv or .jsonl"), (no_status, "lacks status")):
        result = await _import(database, path)
        assert result.exit_code == 2
        assert message in result.stderr
