"""100 concurrent writers x 4 writes through the real write path: no "database is locked", and
exactly 400 rows (SQLite takes its write lock at BEGIN IMMEDIATE and waits for it). A hundred
writers queue at once whatever each one's count; 4 rather than 10 halves the suite's longest
test without lowering that contention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.settings import Settings
from models.database import Database
from models.mentors import Mentor
from models.sync import SyncEvent
from tests.factories import make_mentor

WRITERS = 100
WRITES = 4
CREATE = "mutation($input: CreateMentorInput!) { createMentor(input: $input) { id } }"


async def _count(database: Database, table: Any) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def _all_writers(write: Any) -> list[str]:
    """Run WRITERS tasks of WRITES sequential writes each, all at once; return the failures."""

    async def writer(w: int) -> list[str]:
        failures = []
        for n in range(WRITES):
            response = await write(w, n)
            if response.status_code >= 300 or "errors" in response.json():
                failures.append(response.text)
        return failures

    results = await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return [failure for failures in results for failure in failures]


@pytest.fixture
def settings(database: Database) -> Settings:
    """The deadline is not under test: on SQLite the last of 100 queued writers can wait ~10 s
    (the busy handler retries with sleeps, unfairly), close to REQUEST_TIMEOUT_SECONDS."""
    return Settings(database_url=database.url, request_timeout_seconds=120)


async def test_graphql_mutations(client: httpx.AsyncClient, database: Database) -> None:
    async def create(w: int, n: int) -> httpx.Response:
        variables = {"input": {"id": f"w{w}-{n}", "name": f"Writer {w} #{n}"}}
        return await client.post("/graphql", json={"query": CREATE, "variables": variables})

    assert await _all_writers(create) == []
    assert await _count(database, Mentor) == WRITERS * WRITES


async def test_rest_sync_events(client: httpx.AsyncClient, database: Database) -> None:
    for w in range(WRITERS):
        await make_mentor(database, id=f"w{w}")
    start = datetime.now(UTC) - timedelta(hours=1)

    async def submit(w: int, n: int) -> httpx.Response:
        event = {
            "event_type": "PauseMentorEvent" if n % 2 == 0 else "ResumeMentorEvent",
            "mentor_id": f"w{w}",
            "client_timestamp": (start + timedelta(seconds=n)).isoformat(),
        }
        headers = {"Idempotency-Key": f"w{w}-{n}"}
        return await client.post("/api/v1/mentor-status-sync/events", json=event, headers=headers)

    assert await _all_writers(submit) == []
    assert await _count(database, SyncEvent) == WRITERS * WRITES
