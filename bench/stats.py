"""Activity import rate and personal-stats latency at a small and a large ledger, in one run.

    .venv/bin/python -m bench.stats [--mentors 10000] [--activities 1000000] [--small 10000]
                                    [--requests 200] [--postgres postgresql+asyncpg://...]

Writes a deterministic CSV ledger into bench/out/, imports the first `--small` rows and then
the whole file with `mentor-gateway import` (a child process each, on a fresh SQLite file; on
PostgreSQL too with --postgres, whose data tables are emptied first), serves each database
with uvicorn on loopback and times sequential GETs: /healthz, a single-record GET, and the
four personal-stats endpoints. Prints one markdown table per database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.stats_ledger import sample_mentors, write_ledger
from models.database import Database
from models.migrate import migrate
from tests.live import running_server

OUT = Path(__file__).parent / "out"
DATA_TABLES = (
    "activity_running_total, activity, sync_event, milestone, pause_record, mentor_status, mentor"
)
# The child reports its own peak memory: the import must stream, not hold the file.
IMPORT = """
import resource, sys
from api.cli import cli
try:
    cli(["import", sys.argv[1], "--database-url", sys.argv[2]], standalone_mode=False)
finally:
    print(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""
ENDPOINTS = {
    "GET /healthz": "/healthz",
    "GET /api/v1/mentor-statuses/{id} (single record)": "/api/v1/mentor-statuses/{id}",
    "GET /api/v1/personal-stats/{id}": "/api/v1/personal-stats/{id}",
    "GET …/{id}/monthly-series": "/api/v1/personal-stats/{id}/monthly-series",
    "GET …/{id}/activity-breakdown": "/api/v1/personal-stats/{id}/activity-breakdown",
    "GET …/{id}/contribution-history": "/api/v1/personal-stats/{id}/contribution-history",
}
HEALTH, SINGLE = list(ENDPOINTS)[:2]
AFTER_WRITE = "GET /api/v1/personal-stats/{id}, just after a write"
RECORD = """
mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id } }"""


@dataclass
class Run:
    """One ledger size on one database: the import and the latencies."""

    activities: int
    rows_per_second: float
    peak_rss_mb: float
    p50: dict[str, float]
    p95: dict[str, float]


def import_file(path: Path, url: str) -> tuple[float, float]:
    """Run the importer in a child process; (rows/s it reports, its peak RSS in MB)."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, str(path), url], capture_output=True, text=True, check=True
    )
    rate = re.search(r"\(([\d,]+) rows/s\)", done.stdout)
    rss = re.search(r"peak_rss_kb=(\d+)", done.stderr)
    assert rate, done.stdout
    assert rss, done.stderr
    print(f"  {done.stdout.strip()}", file=sys.stderr)
    return float(rate.group(1).replace(",", "")), int(rss.group(1)) / 1024


def _latencies(
    base: str, mentors: list[str], requests: int
) -> tuple[dict[str, float], dict[str, float]]:
    p50: dict[str, float] = {}
    p95: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(30):  # warm-up: connections, caches, first-use imports
            client.get("/healthz").raise_for_status()
        for name, template in ENDPOINTS.items():
            client.get(template.format(id=mentors[0])).raise_for_status()
            timings = []
            for mentor in itertools.islice(itertools.cycle(mentors), requests):
                started = time.perf_counter()
                client.get(template.format(id=mentor)).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
            p50[name] = statistics.median(timings)
            p95[name] = statistics.quantiles(timings, n=20)[18]
        timings = _after_writes(client, mentors, max(20, requests // 4))
        p50[AFTER_WRITE] = statistics.median(timings)
        p95[AFTER_WRITE] = statistics.quantiles(timings, n=20)[18]
    return p50, p95


def _after_writes(client: httpx.Client, mentors: list[str], count: int) -> list[float]:
    """The summary's latency when a write has just replaced the ledger version, so the peer
    ranking must be computed again (the write itself is not timed)."""
    timings = []
    for number in range(count):
        mentor = mentors[number % len(mentors)]
        activity = {
            "id": f"bench-write-{number}",
            "mentorId": mentor,
            "activityTypeId": "act_type_003",
            "contactId": "contact_bench",
            "startedAt": datetime.now(UTC).isoformat(),
            "durationMinutes": 15,
            "status": "completed",
        }
        answer = client.post("/graphql", json={"query": RECORD, "variables": {"input": activity}})
        assert "errors" not in answer.json(), answer.text
        started = time.perf_counter()
        client.get(f"/api/v1/personal-stats/{mentor}").raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def empty_database(url: str) -> None:
    """Migrate; on PostgreSQL, empty the data tables (the schema itself is kept)."""
    database = Database(url)
    try:
        await migrate(database)
        if database.dialect == "postgresql":
            async with database.engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {DATA_TABLES} CASCADE"))
    finally:
        await database.dispose()


def _measure(name: str, url: str, ledger: Path, size: int, args: argparse.Namespace) -> Run:
    asyncio.run(empty_database(url))
    print(f"{name}: importing {ledger.name}", file=sys.stderr)
    rate, rss = import_file(ledger, url)
    with running_server(url, timeout=60) as base:
        p50, p95 = _latencies(base, sample_mentors(args.mentors), args.requests)
    return Run(size, rate, rss, p50, p95)


def _table(name: str, small: Run, large: Run, requests: int) -> str:
    def count(n: int) -> str:
        return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"

    s, b = count(small.activities), count(large.activities)
    lines = [
        f"\n### {name}: {requests} sequential requests per row, p50 (p95) in ms\n",
        f"| | {s} activities | {b} activities |",
        "|---|---|---|",
        f"| import, rows/s | {small.rows_per_second:,.0f} | {large.rows_per_second:,.0f} |",
        f"| import, peak RSS (MB) | {small.peak_rss_mb:.0f} | {large.peak_rss_mb:.0f} |",
        "",
        f"| request | {s} | {b} | {b} / {s} | {b} / single-record GET | {b} / healthz |",
        "|---|---|---|---|---|---|",
    ]
    for endpoint in [*ENDPOINTS, AFTER_WRITE]:
        lo, hi = small.p50[endpoint], large.p50[endpoint]
        measured = f"{lo:.2f} ({small.p95[endpoint]:.2f}) | {hi:.2f} ({large.p95[endpoint]:.2f})"
        ratios = f"{hi / lo:.2f} | {hi / large.p50[SINGLE]:.1f} | {hi / large.p50[HEALTH]:.1f}"
        lines.append(f"| {endpoint} | {measured} | {ratios} |")
    return "\n".join(lines)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentors", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="the small ledger: a prefix")
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and size")
    parser.add_argument("--anchor", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (its data is emptied)")
    return parser.parse_args()


def _url(database: str, size: int, args: argparse.Namespace) -> str:
    """A fresh SQLite file per size; the PostgreSQL database is emptied by `empty_database`."""
    if database == "PostgreSQL":
        return str(args.postgres)
    return sqlite_file_url(OUT / f"stats-{args.mentors}m-{size}.db")


def sqlite_file_url(path: Path) -> str:
    """The URL of a SQLite file at `path`, with any earlier file there (and its WAL) removed."""
    for leftover in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


def main() -> None:
    args = _arguments()
    ledgers = [
        (
            size,
            write_ledger(
                OUT / f"ledger-{args.mentors}m-{size}.csv",
                mentors=args.mentors,
                activities=size,
                anchor=args.anchor,
            ),
        )
        for size in (args.small, args.activities)
    ]
    for database in ["SQLite"] + (["PostgreSQL"] if args.postgres else []):
        small, large = (
            _measure(database, _url(database, size, args), ledger, size, args)
            for size, ledger in ledgers
        )
        print(_table(database, small, large, args.requests), flush=True)


if __name__ == "__main__":
    main()
