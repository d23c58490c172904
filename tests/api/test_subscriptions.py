"""Subscriptions over graphql-transport-ws with a real websocket client and real servers."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets

from models.database import Database
from tests.factories import make_mentor
from tests.live import running_server

SUBSCRIBE = (
    "subscription($id: ID) { mentorStatusChanged(mentorId: $id) { mentorId status isPaused } }"
)


class Subscriber:
    """A graphql-transport-ws client holding one subscription."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, base_url: str, mentor_id: str | None) -> Subscriber:
        url = base_url.replace("http://", "ws://") + "/graphql"
        connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"id": mentor_id}}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await asyncio.sleep(0.3)  # let the server register the subscription before we write
        return cls(connection)

    async def next_status(self) -> dict[str, Any]:
        async with asyncio.timeout(10):
            message = json.loads(await self.connection.recv())
        assert message["type"] == "next", message
        status: dict[str, Any] = message["payload"]["data"]["mentorStatusChanged"]
        return status

    async def close(self) -> None:
        await self.connection.close()


async def test_a_rest_change_reaches_a_websocket_subscriber(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="mentor-042")
    await make_mentor(database, id="mentor-007")
    with running_server(database_url) as base:
        watcher = await Subscriber.open(base, "mentor-042")
        everyone = await Subscriber.open(base, None)
        async with httpx.AsyncClient(base_url=base) as client:
            await client.put("/api/v1/mentor-statuses/mentor-007", json={"status": "inactive"})
            started = time.perf_counter()
            response = await client.post("/api/v1/pause-records", json={"mentor_id": "mentor-042"})
            assert response.status_code == 201
            change = await watcher.next_status()
            latency_ms = (time.perf_counter() - started) * 1000
            event = {
                "event_type": "ResumeMentorEvent",
                "mentor_id": "mentor-042",
                "client_timestamp": datetime.now(UTC).isoformat(),
            }
            assert (
                await client.post("/api/v1/mentor-status-sync/events", json=event)
            ).status_code == 201
            mutation = 'mutation { updateMentorStatus(mentorId: "mentor-007", input: {status: active}) { status } }'
            assert "errors" not in (await client.post("/graphql", json={"query": mutation})).json()
        assert change == {"mentorId": "mentor-042", "status": "paused", "isPaused": True}
        assert await watcher.next_status() == {
            "mentorId": "mentor-042",
            "status": "active",
            "isPaused": False,
        }
        seen = [await everyone.next_status() for _ in range(4)]
        assert [(s["mentorId"], s["status"]) for s in seen] == [
            ("mentor-007", "inactive"),  # REST PUT
            ("mentor-042", "paused"),  # REST POST pause record
            ("mentor-042", "active"),  # sync event
            ("mentor-007", "active"),  # GraphQL mutation
        ]
        await watcher.close()
        await everyone.close()
    print(f"subscription delivery latency (REST write to websocket frame): {latency_ms:.1f} ms")


@pytest.mark.postgres
async def test_every_process_hears_every_change(database: Database, database_url: str) -> None:
    if database.dialect != "postgresql":
        pytest.skip("cross-process delivery is PostgreSQL LISTEN/NOTIFY; SQLite is one process")
    await make_mentor(database, id="mentor-042")
    with running_server(database_url) as first, running_server(database_url) as second:
        on_first = await Subscriber.open(first, "mentor-042")
        on_second = await Subscriber.open(second, "mentor-042")
        async with httpx.AsyncClient(base_url=second) as client:
            response = await client.put(
                "/api/v1/mentor-statuses/mentor-042", json={"status": "paused"}
            )
            assert response.status_code == 200
        assert (await on_first.next_status())["status"] == "paused"
        assert (await on_second.next_status())["status"] == "paused"
        await on_first.close()
        await on_second.close()


async def test_milestone_achieved_reaches_a_subscriber(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="mentor_001")
    query = 'subscription { milestoneAchieved(mentorId: "mentor_001") { definitionKey status accessibilityLabel } }'
    summary = {
        "mentor_id": "mentor_001",
        "period": {"year": 2025},
        "summary": {"total_hours": 12, "unique_contacts_helped": 3, "activity_count": 4},
    }
    with running_server(database_url) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
            await connection.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await connection.recv())["type"] == "connection_ack"
            await connection.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
            )
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=base) as client:
                assert (await client.post("/api/v1/milestones", json=summary)).status_code == 200
                assert (await client.post("/api/v1/milestones", json=summary)).status_code == 200
            async with asyncio.timeout(10):
                message = json.loads(await connection.recv())
            with pytest.raises(TimeoutError):  # the repeated summary achieves nothing new
                async with asyncio.timeout(1):
                    await connection.recv()
    assert message["payload"]["data"]["milestoneAchieved"] == {
        "definitionKey": "milestone_10h",
        "status": "achieved",
        "accessibilityLabel": "You reached 10 hours of mentoring on December 31, 2025",
    }
