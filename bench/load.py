"""Load benchmark: a mixed workload against a real server on loopback, then a lost-write audit.

    .venv/bin/python -m bench.load [--seconds 20] [--connections 32] [--max-requests 200000]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/load]

Runs: SQLite with one uvicorn worker; with --postgres, PostgreSQL with one worker, then four.
Each run gets a fresh migrated database (the --postgres database's schema is dropped: never
point it at one you need; the test suite's `test` database is refused), 200 seeded statuses,
and the gateway in production mode. The workload (bench/workload.py) runs for --seconds or
--max-requests, whichever ends first; then every acknowledged sync event is looked up in the
database (a missing one is a lost write). Last, the REST compatibility overhead: the legacy
single-status GET through the gateway and through a minimal FastAPI endpoint on the same data
(bench/minimal.py, as many workers), alternated, as a throughput ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from auth.principal import Role
from auth.tokens import mint_token
from bench.client import Connection, Latencies, percentiles
from bench.workload import mixed_workload, overhead, seed
from models.database import Database
from models.migrate import migrate
from models.sync import SyncEvent
from tests.live import running_server

# Production mode, minus its per-client rate limit: one load generator is one client here.
# Production needs a token source: an HS256 secret, and every request carries an admin's token.
BENCH_SECRET = secrets.token_hex(32)
PRODUCTION = {"ENVIRONMENT": "production", "RATE_LIMIT": "off", "AUTH_JWT_SECRET": BENCH_SECRET}
Connection.sent_with_every_request = {
    "Authorization": "Bearer "
    + mint_token(BENCH_SECRET, role=Role.ADMIN, subject="bench", expires_in=timedelta(hours=6))
}


@dataclass(frozen=True)
class Run:
    name: str
    url: str
    workers: int


async def fresh_database(url: str) -> None:
    """Migrate an empty database (PostgreSQL: drop its schema first)."""
    database = Database(url)
    try:
        if database.dialect == "postgresql":
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await migrate(database)
    finally:
        await database.dispose()


async def lost_writes(url: str, acknowledged: set[str]) -> int:
    """How many acknowledged event ids the database does not hold."""
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            stored = set((await connection.execute(select(SyncEvent.id))).scalars())  # type: ignore[call-overload]
    finally:
        await database.dispose()
    return len(acknowledged - stored)


def _row(label: str, stats: Latencies, seconds: float) -> str:
    p50, p99 = percentiles(stats.all())
    return f"| {label} | {stats.count / seconds:,.0f} | {p50:.1f} | {p99:.1f} | {stats.error_count}"


def measure(run: Run, args: argparse.Namespace) -> list[str]:
    """One run: its table rows (mixed workload, per kind, overhead)."""
    asyncio.run(fresh_database(run.url))
    with (
        running_server(run.url, workers=run.workers, env=PRODUCTION) as gateway,
        running_server(run.url, workers=run.workers, app="bench.minimal:create_app") as minimal,
    ):
        asyncio.run(seed(gateway))
        stats, audit, elapsed = asyncio.run(
            mixed_workload(
                gateway,
                seconds=args.seconds,
                connections=args.connections,
                max_requests=args.max_requests,
            )
        )
        rest, plain = asyncio.run(
            overhead(gateway, minimal, seconds=args.overhead_seconds, connections=args.connections)
        )
    lost = asyncio.run(lost_writes(run.url, audit.acknowledged))
    rows = [
        f"{_row(f'{run.name}, all', stats, elapsed)} | {len(audit.acknowledged)} | {lost} "
        f"| {audit.replay_mismatches} |"
    ]
    for kind, values in stats.timings.items():
        kind_stats = Latencies({kind: values})
        kind_stats.errors.update({k: v for k, v in stats.errors.items() if k.startswith(kind)})
        rows.append(f"{_row(f'{run.name}, {kind}', kind_stats, elapsed)} | | | |")
    half = args.overhead_seconds / 2
    ratio = (plain.count / half) / (rest.count / half)
    rows.append(f"{_row(f'{run.name}, REST GET (gateway)', rest, half)} | | | |")
    rows.append(f"{_row(f'{run.name}, same GET (minimal FastAPI)', plain, half)} | | | |")
    rows.append(f"| {run.name}: REST overhead = minimal / gateway throughput | {ratio:.2f}x |")
    if stats.errors:
        rows.append(f"| {run.name} errors: {dict(stats.errors)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="mixed workload duration")
    parser.add_argument("--overhead-seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument(
        "--postgres", help="also run on this PostgreSQL URL (its schema is dropped)"
    )
    args = parser.parse_args()
    runs = [Run("SQLite, 1 worker", f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp())}/load.db", 1)]
    if args.postgres:
        if make_url(args.postgres).database == "test":
            parser.error("refusing to drop the test suite's database; use another (e.g. load)")
        runs += [Run("PostgreSQL, 1 worker", args.postgres, 1)]
        runs += [Run("PostgreSQL, 4 workers", args.postgres, 4)]
    print(
        "| run | req/s | p50 ms | p99 ms | errors | acknowledged writes | lost writes "
        "| bad replays |\n|---|---|---|---|---|---|---|---|"
    )
    for run in runs:
        print("\n".join(measure(run, args)), flush=True)


if __name__ == "__main__":
    main()
