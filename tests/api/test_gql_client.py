"""A third-party GraphQL client (gql's WebsocketsTransport) against a real server: it refuses
binary frames, so this fails unless every graphql-transport-ws message goes out as text."""

from __future__ import annotations

import asyncio

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from models.database import Database
from tests.api.test_subscriptions import SUBSCRIBE
from tests.factories import make_mentor
from tests.live import running_server

STATUS = "query($id: ID!) { mentorStatus(mentorId: $id) { mentorId status isPaused } }"


async def test_gql_queries_and_subscribes_over_graphql_transport_ws(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="mentor-042")
    with running_server(database_url) as base:
        transport = WebsocketsTransport(
            url=base.replace("http://", "ws://") + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            assert transport.subprotocol == "graphql-transport-ws"
            status = await session.execute(
                GraphQLRequest(STATUS, variable_values={"id": "mentor-042"})
            )
            assert status["mentorStatus"]["mentorId"] == "mentor-042"
            assert status["mentorStatus"]["status"] == "active"

            changes = session.subscribe(
                GraphQLRequest(SUBSCRIBE, variable_values={"id": "mentor-042"})
            )
            first = asyncio.ensure_future(anext(changes))
            await asyncio.sleep(0.3)  # let the server register the subscription before we write
            async with httpx.AsyncClient(base_url=base) as client:
                response = await client.put(
                    "/api/v1/mentor-statuses/mentor-042", json={"status": "paused"}
                )
                assert response.status_code == 200, response.text
            async with asyncio.timeout(10):
                change = await first
            await changes.aclose()
    assert change == {
        "mentorStatusChanged": {"mentorId": "mentor-042", "status": "paused", "isPaused": True}
    }
