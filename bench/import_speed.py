"""Import of the activity ledger (issue 13, goal 3): `mentor-gateway import` against a raw sqlite3
bulk load of the same file, taking turns in one run, and on PostgreSQL.

    .venv/bin/python -m bench.import_speed [--mentors 10000] [--activities 1000000] [--runs 1]
                                           [--postgres postgresql+asyncpg://...] [--json PATH]

Writes the deterministic ledger (bench/stats_ledger.py, anchored on 2026-12-01, so the 1M file
bench/out/ledger-1m.csv is reused), then, `--runs` times:

- gateway: `mentor-gateway import` in a child process (bench.stats.import_file) into a fresh
  SQLite file, migrated beforehand: activities, running totals and milestones; the rows/s it
  reports and its peak RSS;
- raw: stdlib sqlite3 alone loads the same file into a fresh SQLite file holding the gateway's
  own schema (its migrations): the activity table's secondary indexes dropped, mentors and
  activities inserted with executemany, the same indexes built again, one commit. No running
  totals, no milestones: the disk's floor. The first run checks both files hold the same rows.

With --postgres, the gateway's import into that database too (its data tables emptied first).
Reports medians over the runs (the highest peak RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.stats import empty_database, import_file, sqlite_file_url
from bench.stats_ledger import write_ledger
from domain.activities import FIELDS

OUT = Path(__file__).parent / "out"
GOAL = 3
ANCHOR = date(2026, 12, 1)  # fixed: the same arguments reuse the written ledger
DEFAULT_MENTORS, DEFAULT_ACTIVITIES = 10_000, 1_000_000
TARGET_ROWS_PER_SECOND = 100_000
TARGET_RATIO = 1.3  # the gateway's SQLite import within 1.3x of the raw load's time
RAW_CACHE_KIB = 1_048_576  # the raw load's page cache: 1 GiB
RAW_CHUNK = 10_000  # rows the raw load reads, then inserts, at a time
# A streamed import's peak is the interpreter, its libraries and one chunk: a few hundred MB
# whatever the file's size. Holding the 1M ledger would add about 0.5 GB as parsed activities
# alone (~500 B a row, tracemalloc) and a multiple of that with their bound parameters.
PEAK_RSS_BOUND_MB = 1536
INSERT_MENTOR = "INSERT INTO mentor (id, name, created_at) VALUES (?, ?, ?)"
INSERT_ACTIVITY = (
    "INSERT INTO activity (id, mentor_id, activity_type_id, contact_id, started_at, "
    "duration_minutes, status) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def ledger_file(mentors: int, activities: int) -> Path:
    """The benchmark ledger, written unless already there: bench/out/ledger-1m.csv at the
    default size, a file named after the arguments otherwise."""
    default = (mentors, activities) == (DEFAULT_MENTORS, DEFAULT_ACTIVITIES)
    name = "ledger-1m.csv" if default else f"ledger-{mentors}m-{activities}.csv"
    return write_ledger(OUT / name, mentors=mentors, activities=activities, anchor=ANCHOR)


def size(activities: int) -> str:
    return f"{activities / 1_000_000:g}M" if activities >= 1_000_000 else f"{activities:,}-row"


def fresh_sqlite(name: str) -> tuple[Path, str]:
    """A new SQLite file in bench/out/, migrated to the gateway's schema; its path and URL."""
    path = OUT / name
    url = sqlite_file_url(path)
    asyncio.run(empty_database(url))
    return path, url


def raw_load(ledger: Path, database: Path) -> float:
    """Load `ledger` into the migrated file `database` with sqlite3 alone; seconds taken."""
    started = time.perf_counter()
    connection = sqlite3.connect(database, isolation_level=None)  # BEGIN and COMMIT below
    try:
        for pragma in (f"cache_size=-{RAW_CACHE_KIB}", "journal_mode=WAL", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("PRAGMA foreign_keys=ON")  # as the gateway's connections: mentors first
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'activity' AND sql IS NOT NULL"
        ).fetchall()
        created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000")
        connection.execute("BEGIN")
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        with ledger.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            assert tuple(next(rows)) == FIELDS  # the positions read below
            known: set[str] = set()
            while chunk := list(itertools.islice(rows, RAW_CHUNK)):
                mentors = {row[1]: row[2] for row in chunk if row[1] not in known}
                known.update(mentors)
                connection.executemany(INSERT_MENTOR, [(*m, created) for m in mentors.items()])
                # started_at as UTCDateTime stores it on SQLite ("2026-12-01 07:15:00.000000")
                # from the ledger's "2026-12-01T07:15:00Z"; duration_minutes becomes an integer
                # by the column's affinity.
                connection.executemany(
                    INSERT_ACTIVITY,
                    [
                        (r[0], r[1], r[3], r[4], f"{r[5][:10]} {r[5][11:19]}.000000", r[6], r[7])
                        for r in chunk
                    ],
                )
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        connection.close()


def assert_same_rows(gateway: Path, raw: Path) -> None:
    """Both files hold exactly the same activities (as stored: started_at's text too) and
    mentors (their creation times aside)."""
    connection = sqlite3.connect(gateway)
    try:
        connection.execute("ATTACH DATABASE ? AS raw", (str(raw),))
        for table, columns in (("activity", "*"), ("mentor", "id, name")):
            for one, other in (("main", "raw"), ("raw", "main")):
                (extra,) = connection.execute(
                    f"SELECT count(*) FROM (SELECT {columns} FROM {one}.{table}"
                    f" EXCEPT SELECT {columns} FROM {other}.{table})"
                ).fetchone()
                assert extra == 0, f"{extra} {table} rows of {one} are not in {other}"
    finally:
        connection.close()


@dataclass
class Imported:
    seconds: float
    peak_rss_mb: float | None = None  # the raw load runs in this process: not measured


def gateway_import(ledger: Path, url: str, rows: int) -> Imported:
    rate, rss = import_file(ledger, url)
    return Imported(rows / rate, rss)


def measure(ledger: Path, rows: int, args: argparse.Namespace) -> dict[str, list[Imported]]:
    found: dict[str, list[Imported]] = {"SQLite": [], "raw sqlite3": [], "PostgreSQL": []}
    for run in range(args.runs):
        print(f"run {run + 1}: importing {ledger.name}", file=sys.stderr)
        gateway_file, url = fresh_sqlite("import-gateway.db")
        found["SQLite"].append(gateway_import(ledger, url, rows))
        raw_file, _ = fresh_sqlite("import-raw.db")
        found["raw sqlite3"].append(Imported(raw_load(ledger, raw_file)))
        if run == 0:
            assert_same_rows(gateway_file, raw_file)
        if args.postgres:
            asyncio.run(empty_database(args.postgres))
            found["PostgreSQL"].append(gateway_import(ledger, args.postgres, rows))
    return {name: runs for name, runs in found.items() if runs}


def median_seconds(runs: list[Imported]) -> float:
    return statistics.median(run.seconds for run in runs)


def peak_rss(runs: list[Imported]) -> float:
    return max(run.peak_rss_mb or 0.0 for run in runs)


def table(found: dict[str, list[Imported]], ledger: Path, args: argparse.Namespace) -> str:
    raw = median_seconds(found["raw sqlite3"])
    lines = [
        f"Import of {ledger.name} ({args.activities:,} activities, {args.mentors:,} mentors), "
        f"{args.runs} run(s), medians",
        "",
        "| import | seconds | rows/s | peak RSS (MB) | time / raw sqlite3 |",
        "|---|---|---|---|---|",
    ]
    for name, runs in found.items():
        seconds = median_seconds(runs)
        gateway = name != "raw sqlite3"
        label = f"gateway, {name}" if gateway else name
        rss = f"{peak_rss(runs):.0f}" if gateway else "-"
        ratio = f"{seconds / raw:.2f}x" if name != "PostgreSQL" else "-"  # SQLite's floor
        lines.append(
            f"| {label} | {seconds:.2f} | {args.activities / seconds:,.0f} | {rss} | {ratio} |"
        )
    return "\n".join(lines)


def figures(found: dict[str, list[Imported]], rows: int) -> list[dict[str, Any]]:
    ledger = f"the {size(rows)} ledger"
    raw = median_seconds(found["raw sqlite3"])
    result: list[dict[str, Any]] = []
    for name, runs in found.items():
        if name == "raw sqlite3":
            continue
        seconds, rss = median_seconds(runs), peak_rss(runs)
        result.append(
            {
                "goal": GOAL,
                "figure": f"import of {ledger}, totals and milestones included, {name}: rows/s",
                "measured": f"{rows / seconds:,.0f} rows/s ({seconds:.1f} s)",
                "target": f">= {TARGET_ROWS_PER_SECOND:,} rows/s",
                "met": rows / seconds >= TARGET_ROWS_PER_SECOND,
            }
        )
        if name == "SQLite":
            result.append(
                {
                    "goal": GOAL,
                    "figure": f"import of {ledger}, SQLite: gateway time / raw sqlite3 bulk "
                    "load (indexes built after; no totals, no milestones)",
                    "measured": f"{seconds / raw:.2f}x ({seconds:.1f} s / {raw:.1f} s)",
                    "target": f"<= {TARGET_RATIO:g}x",
                    "met": seconds / raw <= TARGET_RATIO,
                }
            )
        result.append(
            {
                "goal": GOAL,
                "figure": f"import of {ledger}, {name}: the importer's memory",
                "measured": f"{rss:.0f} MB peak RSS (bound {PEAK_RSS_BOUND_MB} MB)",
                "target": "bounded (streamed)",
                "met": rss < PEAK_RSS_BOUND_MB,
            }
        )
    return result


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentors", type=int, default=DEFAULT_MENTORS)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--runs", type=int, default=1, help="runs of each, alternating")
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (its data is emptied)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    ledger = ledger_file(args.mentors, args.activities)
    found = measure(ledger, args.activities, args)
    print(table(found, ledger, args))
    if args.json:
        args.json.write_text(json.dumps(figures(found, args.activities), indent=2) + "\n")


if __name__ == "__main__":
    main()
