"""One change decoded once for all its subscribers (graph/broker.py `Broker.decoded`), while each
subscriber still resolves its own selection, variables and filter."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from domain.events import STATUS_CHANGED, Announcement
from graph.broker import Broker
from models.database import Database
from tests.factories import make_mentor
from tests.live import running_server


async def _subscribe(base: str, query: str, variables: dict[str, Any]) -> Any:
    url = base.replace("http://", "ws://") + "/graphql"
    connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await connection.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    payload = {"query": query, "variables": variables}
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return connection


async def _next(connection: Any) -> dict[str, Any]:
    async with asyncio.timeout(10):
        message = json.loads(await connection.recv())
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["mentorStatusChanged"]
    return data


WATCH = "subscription($id: ID) { mentorStatusChanged(mentorId: $id) { mentorId status } }"
OTHER_SELECTION = "subscription { mentorStatusChanged { mentorId isPaused pauseReason } }"


async def test_subscribers_of_one_change_each_get_their_own_frame(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="mentor-001")
    await make_mentor(database, id="mentor-002")
    with running_server(database_url) as base:
        first = await _subscribe(base, WATCH, {"id": "mentor-001"})
        second = await _subscribe(base, WATCH, {"id": "mentor-001"})
        elsewhere = await _subscribe(base, WATCH, {"id": "mentor-002"})
        everyone = await _subscribe(base, OTHER_SELECTION, {})
        await asyncio.sleep(0.3)  # let the server register the subscriptions before we write
        async with httpx.AsyncClient(base_url=base) as client:
            paused = {"mentor_id": "mentor-001", "reason": "leave"}
            assert (await client.post("/api/v1/pause-records", json=paused)).status_code == 201
            put = {"status": "inactive"}
            assert (await client.put("/api/v1/mentor-statuses/mentor-002", json=put)).is_success
        expected = {"mentorId": "mentor-001", "status": "paused"}
        assert await _next(first) == expected
        assert await _next(second) == expected
        # Different variables: only its own mentor's change, not the one the others share.
        assert await _next(elsewhere) == {"mentorId": "mentor-002", "status": "inactive"}
        # Another selection of the same shared event: its own fields.
        assert await _next(everyone) == {
            "mentorId": "mentor-001",
            "isPaused": True,
            "pauseReason": "leave",
        }
        assert (await _next(everyone))["isPaused"] is False
        for connection in (first, second, elsewhere, everyone):
            await connection.close()


def test_an_announcement_is_decoded_once_however_many_ask() -> None:
    broker = Broker()
    calls: list[Announcement] = []

    def decode(announcement: Announcement) -> object:
        calls.append(announcement)
        return object()

    change = Announcement(STATUS_CHANGED, "m1", {"status": "active"})
    values = {id(broker.decoded(change, decode)) for _ in range(1_000)}
    assert len(values) == 1
    assert calls == [change]
    # An equal but distinct announcement (the next change) is decoded anew.
    again = Announcement(STATUS_CHANGED, "m1", {"status": "active"})
    assert broker.decoded(again, decode) is not broker.decoded(change, decode)
    assert calls == [change, again]
