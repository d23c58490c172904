"""`mentor-gateway detect-milestones` on the activity ledger, with every milestone to write and
then with nothing to change (issue 13, goal 4).

    .venv/bin/python -m bench.detect [--mentors 10000] [--activities 1000000]
                                     [--postgres postgresql+asyncpg://...] [--json PATH]
                                     [--rounds 2]

Imports bench.import_speed's ledger (bench/out/ledger-1m.csv at the default size) with
`mentor-gateway import` (a child process) into a fresh SQLite file, and into the PostgreSQL
database too, its data tables emptied first; deletes every milestone row, so that detection has
to write them all (the worst case); then runs `mentor-gateway detect-milestones` in a child
process twice: the second run finds nothing left to change. That round is repeated `--rounds`
times (2 by default). Reports what each run prints: seconds, SQL statements, rows written and
milestones newly achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.import_speed import DEFAULT_ACTIVITIES, DEFAULT_MENTORS, fresh_sqlite, ledger_file, size
from bench.stats import empty_database, import_file
from models.database import Database

GOAL = 4
TARGET_SECONDS = 5.0
MAX_STATEMENTS = 50  # "bounded": a fixed handful per run, not one per mentor or per row
DETECT = "from api.cli import main; main()"  # the `mentor-gateway` console script
SUMMARY = re.compile(
    r"(\d+) mentors, (\d+) newly achieved, (\d+) rows written, (\d+) SQL statements, ([\d.]+) s"
)


@dataclass
class Detection:
    """One run's summary line, as `detect-milestones` prints it."""

    mentors: int
    newly_achieved: int
    rows_written: int
    statements: int
    seconds: float


@dataclass
class Round:
    deleted: int  # milestone rows deleted before the first run
    first: Detection
    second: Detection


@dataclass
class Measured:
    database: str
    rounds: list[Round]


def detect(url: str) -> Detection:
    """Run `mentor-gateway detect-milestones` in a child process; parse its summary."""
    command = [sys.executable, "-c", DETECT, "detect-milestones", "--database-url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    print(f"  {done.stdout.strip()}", file=sys.stderr)
    found = SUMMARY.search(done.stdout)
    assert found, done.stdout
    mentors, newly_achieved, rows_written, statements = map(int, found.groups()[:4])
    return Detection(mentors, newly_achieved, rows_written, statements, float(found[5]))


async def delete_milestones(url: str) -> int:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            deleted = await connection.execute(text("DELETE FROM milestone"))
    finally:
        await database.dispose()
    return deleted.rowcount


def measure(name: str, url: str, ledger: Path, rounds: int) -> Measured:
    """Import once; then, `rounds` times, delete every milestone and detect twice."""
    print(f"{name}: importing {ledger.name}", file=sys.stderr)
    import_file(ledger, url)
    found = []
    for _ in range(rounds):
        deleted = asyncio.run(delete_milestones(url))
        print(f"{name}: {deleted} milestones deleted; detecting twice", file=sys.stderr)
        found.append(Round(deleted, detect(url), detect(url)))
    return Measured(name, found)


def table(results: list[Measured], ledger: Path, args: argparse.Namespace) -> str:
    lines = [
        f"detect-milestones on {ledger.name} ({args.activities:,} activities, "
        f"{args.mentors:,} mentors), every milestone deleted first",
        "",
        "| database | run | seconds | SQL statements | rows written | newly achieved |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for n, round in enumerate(r.rounds, start=1):
            for run, d in (
                (f"{n}: first ({round.deleted} deleted)", round.first),
                (f"{n}: second", round.second),
            ):
                lines.append(
                    f"| {r.database} | {run} | {d.seconds:.2f} | {d.statements} "
                    f"| {d.rows_written} | {d.newly_achieved} |"
                )
    return "\n".join(lines)


def figures(results: list[Measured], activities: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for r in results:
        figure = f"detect-milestones on the {size(activities)} ledger, {r.database}"
        firsts = [round.first for round in r.rounds]
        seconds = [round.second for round in r.rounds]
        for run, runs in (("every milestone to write", firsts), ("nothing to change", seconds)):
            found.append(
                {
                    "goal": GOAL,
                    "figure": f"{figure}: {run}",
                    "measured": ", ".join(f"{d.seconds:.2f} s" for d in runs)
                    + f" ({runs[0].rows_written} rows written)",
                    "target": f"<= {TARGET_SECONDS:g} s",
                    "met": max(d.seconds for d in runs) <= TARGET_SECONDS,
                }
            )
        counts = sorted({d.statements for d in firsts + seconds})
        found.append(
            {
                "goal": GOAL,
                "figure": f"{figure}: SQL statements per run",
                "measured": " / ".join(map(str, counts)),
                "target": f"bounded (<= {MAX_STATEMENTS})",
                "met": max(counts) <= MAX_STATEMENTS,
            }
        )
    return found


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentors", type=int, default=DEFAULT_MENTORS)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (its data is emptied)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--rounds", type=int, default=2, help="delete-and-detect rounds")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    ledger = ledger_file(args.mentors, args.activities)
    _, url = fresh_sqlite("detect.db")
    results = [measure("SQLite", url, ledger, args.rounds)]
    if args.postgres:
        asyncio.run(empty_database(args.postgres))
        results.append(measure("PostgreSQL", args.postgres, ledger, args.rounds))
    print(table(results, ledger, args))
    if args.json:
        args.json.write_text(json.dumps(figures(results, args.activities), indent=2) + "\n")


if __name__ == "__main__":
    main()
