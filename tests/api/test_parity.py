"""One state, every entry point: what one transport writes, every transport reads the same."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor

Pause = Callable[[httpx.AsyncClient, GraphQL], Awaitable[Any]]

PAUSE_BY: dict[str, Pause] = {
    "rest-pause-record": lambda client, gql: client.post(
        "/api/v1/pause-records", json={"mentor_id": "mentor-042", "reason": "relocation"}
    ),
    "rest-status-put": lambda client, gql: client.put(
        "/api/v1/mentor-statuses/mentor-042",
        json={"status": "paused", "pause_reason": "relocation"},
    ),
    "graphql-pause-record": lambda client, gql: gql.data(
        'mutation { createPauseRecord(input: {mentorId: "mentor-042", reason: "relocation"}) { id } }'
    ),
    "graphql-status": lambda client, gql: gql.data(
        'mutation { updateMentorStatus(mentorId: "mentor-042", '
        'input: {status: paused, pauseReason: "relocation"}) { status } }'
    ),
}


@pytest.mark.parametrize("entry_point", list(PAUSE_BY))
async def test_a_pause_looks_the_same_from_everywhere(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, entry_point: str
) -> None:
    await make_mentor(database, id="mentor-042")
    await PAUSE_BY[entry_point](client, gql)

    rest_status = (await client.get("/api/v1/mentor-statuses/mentor-042")).json()
    rest_records = (await client.get("/api/v1/pause-records?mentor_id=mentor-042")).json()["data"]
    graph = (
        await gql.data(
            '{ mentor(id: "mentor-042") { status { status isPaused pauseStartDate pauseReason } '
            "pauseRecords { id isActive startDate reason } } }"
        )
    )["mentor"]

    assert rest_status["status"] == graph["status"]["status"] == "paused"
    assert rest_status["is_paused"] is graph["status"]["isPaused"] is True
    assert rest_status["pause_reason"] == graph["status"]["pauseReason"] == "relocation"
    assert rest_status["pause_start_date"] == graph["status"]["pauseStartDate"]
    assert [(r["pause_record_id"], r["is_active"], r["start_date"]) for r in rest_records] == [
        (r["id"], r["isActive"], r["startDate"]) for r in graph["pauseRecords"]
    ]
    assert [r["is_active"] for r in rest_records] == [True]


async def test_rest_and_graphql_return_the_same_record(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="mentor-042")
    created = (
        await client.post(
            "/api/v1/pause-records",
            json={"mentor_id": "mentor-042", "expected_return_date": "2031-01-01T00:00:00Z"},
        )
    ).json()
    graph = (
        await gql.data(
            "query($id: ID!) { pauseRecord(id: $id) { id mentorId startDate expectedReturnDate "
            "endDate isActive reason createdAt } }",
            id=created["pause_record_id"],
        )
    )["pauseRecord"]
    assert created == {
        "pause_record_id": graph["id"],
        "mentor_id": graph["mentorId"],
        "start_date": graph["startDate"],
        "expected_return_date": graph["expectedReturnDate"],
        "end_date": graph["endDate"],
        "is_active": graph["isActive"],
        "reason": graph["reason"],
        "created_at": graph["createdAt"],
    }
