"""One timestamp format: ISO 8601 UTC, `Z`, whole seconds, for seeded and run-time rows alike,
on REST and GraphQL; the stale-event rule compares at that precision (docs/domain.md, "Time")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from models.database import Database, begin_write
from models.statuses import MentorStatus
from tests.conftest import GraphQL
from tests.factories import make_mentor

WHOLE_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
TIMESTAMP_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _timestamps(value: Any) -> Iterator[str]:
    """Every string in a JSON answer that looks like a timestamp."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _timestamps(item)
    elif isinstance(value, list):
        for item in value:
            yield from _timestamps(item)
    elif isinstance(value, str) and TIMESTAMP_LIKE.match(value):
        yield value


def _with_fraction(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_run_time_rows_print_whole_seconds_on_rest_and_graphql(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="mentor-042")
    now = datetime.now(UTC)
    answers = [
        (await client.post("/api/v1/pause-records", json={"mentor_id": "mentor-042"})).json(),
        (await client.get("/api/v1/mentor-statuses/mentor-042")).json(),
        (
            await client.post(
                "/api/v1/mentor-status-sync/events",
                json={
                    "event_type": "ResumeMentorEvent",
                    "mentor_id": "mentor-042",
                    "client_timestamp": _with_fraction(now + timedelta(seconds=1)),
                },
            )
        ).json(),
        await gql.data(
            '{ mentorStatus(mentorId: "mentor-042") { lastUpdated } '
            'pauseRecords(mentorId: "mentor-042") { nodes { startDate endDate createdAt } } '
            "syncEvents(acknowledged: null) { nodes { clientTimestamp serverTimestamp "
            "createdAt updatedAt } } }"
        ),
    ]
    printed = [stamp for answer in answers for stamp in _timestamps(answer)]

    assert len(printed) >= 12
    assert [stamp for stamp in printed if not WHOLE_SECONDS.match(stamp)] == []


async def test_a_stored_fraction_prints_and_compares_at_whole_seconds(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A row an older version stored with microseconds: printed without them, and an event
    stamped with exactly the printed time is not stale."""
    await make_mentor(database, id="mentor-042")
    stored = datetime(2026, 11, 30, 9, 15, 0, 900_000, tzinfo=UTC)
    async with database.sessions() as session:
        await begin_write(session)
        await session.execute(
            update(MentorStatus)
            .where(MentorStatus.mentor_id == "mentor-042")  # type: ignore[arg-type]
            .values(last_updated=stored)
        )
        await session.commit()

    status = (await client.get("/api/v1/mentor-statuses/mentor-042")).json()
    assert status["last_updated"] == "2026-11-30T09:15:00Z"

    event = {
        "event_type": "PauseMentorEvent",
        "mentor_id": "mentor-042",
        "client_timestamp": status["last_updated"],
    }
    answer = await client.post("/api/v1/mentor-status-sync/events", json=event)
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] is True

    older = {**event, "event_type": "ResumeMentorEvent", "client_timestamp": "2026-11-30T09:14:59Z"}
    stale = (await client.post("/api/v1/mentor-status-sync/events", json=older)).json()
    assert (stale["accepted"], stale["rejection_reason"]) == (False, "stale")
