"""Event-submission and subscription-delivery latency, side by side with baselines, one run.

    .venv/bin/python -m bench.sync [--requests 300] [--postgres postgresql+asyncpg://...]

Starts a real server (uvicorn, one worker) on loopback per database, then measures in one run:
GET /healthz, a single-record GET, POST sync events (each a legal transition, each with its own
Idempotency-Key), and the time from a REST status change to its websocket frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

from models.database import Database
from models.migrate import migrate
from tests.live import running_server

MENTORS = 20


async def _prepare(url: str) -> None:
    database = Database(url)
    await migrate(database)
    await database.dispose()


async def _timed(samples: int, call: Callable[[int], Awaitable[None]]) -> list[float]:
    timings = []
    for i in range(samples):
        started = time.perf_counter()
        await call(i)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _summary(name: str, timings: list[float], baseline: float) -> str:
    p50 = statistics.median(timings)
    p99 = statistics.quantiles(timings, n=100)[98]
    return f"| {name} | {p50:.2f} | {p99:.2f} | {p50 / baseline:.1f}x |"


async def _measure(base: str, samples: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base) as client:
        for n in range(MENTORS):
            await client.post("/api/v1/mentor-statuses", json={"mentor_id": f"bench-{n:03}"})

        async def healthz(_: int) -> None:
            (await client.get("/healthz")).raise_for_status()

        async def get_status(i: int) -> None:
            (await client.get(f"/api/v1/mentor-statuses/bench-{i % MENTORS:03}")).raise_for_status()

        async def submit(i: int) -> None:
            mentor = f"bench-{i % MENTORS:03}"
            event = "PauseMentorEvent" if (i // MENTORS) % 2 == 0 else "ResumeMentorEvent"
            body = {
                "event_type": event,
                "mentor_id": mentor,
                "client_timestamp": datetime.now(UTC).isoformat(),
            }
            response = await client.post(
                "/api/v1/mentor-status-sync/events",
                json=body,
                headers={"Idempotency-Key": f"bench-{i}"},
            )
            assert response.status_code == 201, response.text

        await _timed(50, healthz)  # warm-up
        health = await _timed(samples, healthz)
        single = await _timed(samples, get_status)
        events = await _timed(samples, submit)
        delivery = await _delivery(base, client, samples)
    baseline = statistics.median(health)
    return [
        _summary("GET /healthz", health, baseline),
        _summary("GET /api/v1/mentor-statuses/{id}", single, baseline),
        _summary("POST /api/v1/mentor-status-sync/events", events, baseline),
        _summary("REST PUT → subscription frame", delivery, baseline),
    ]


async def _delivery(base: str, client: httpx.AsyncClient, samples: int) -> list[float]:
    url = base.replace("http://", "ws://") + "/graphql"
    query = 'subscription { mentorStatusChanged(mentorId: "bench-000") { status } }'
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.3)
        current = (await client.get("/api/v1/mentor-statuses/bench-000")).json()["status"]
        timings = []
        for _ in range(samples):
            target = "inactive" if current != "inactive" else "active"
            started = time.perf_counter()
            await client.put("/api/v1/mentor-statuses/bench-000", json={"status": target})
            while (
                json.loads(await ws.recv())["payload"]["data"]["mentorStatusChanged"]["status"]
                != target
            ):
                pass
            timings.append((time.perf_counter() - started) * 1000)
            current = target
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--postgres", help="also measure on this PostgreSQL URL (its data is dropped)"
    )
    args = parser.parse_args()
    targets = [("SQLite", f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    for name, url in targets:
        if url.startswith("postgresql"):
            asyncio.run(_reset_postgres(url))
        asyncio.run(_prepare(url))
        with running_server(url) as base:
            rows = asyncio.run(_measure(base, args.requests))
        print(f"\n{name}, {args.requests} sequential requests each (ms)\n")
        print("| request | p50 | p99 | p50 vs /healthz |\n|---|---|---|---|")
        print("\n".join(rows))


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await database.dispose()


if __name__ == "__main__":
    main()
