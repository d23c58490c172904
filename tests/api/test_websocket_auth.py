"""Websocket authentication (api/websockets.py) with a real client (gql's WebsocketsTransport)
against real servers: the token comes in `connection_init`, a missing or bad one closes 4403, a
good one serves subscriptions as its principal, and one that expires while connected closes the
socket. Development (no auth settings, no payload) is what test_gql_client.py and
test_subscriptions.py connect as: they fail if a connection_init without a token is refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from auth.principal import Role
from auth.tokens import mint_token
from models.database import Database
from tests.api.test_subscriptions import SUBSCRIBE
from tests.factories import make_mentor
from tests.live import running_server
from tests.tokens import TEST_SECRET, bearer

STATUS = "query($id: ID!) { mentorStatus(mentorId: $id) { mentorId status } }"
# Each test changes mentors of its own: the module's tests share one server and database.
MENTORS = ("ws-sub", "ws-expiring", "ws-own", "ws-other", "ws-everyone")
ADMIN = bearer(Role.ADMIN, "admin-ws")
EVENT_SECONDS = 10


def token(role: Role, subject: str, **claims: Any) -> str:
    return mint_token(TEST_SECRET, role=role, subject=subject, **claims)


async def _seed(url: str) -> None:
    database = Database(url)
    try:
        for mentor_id in MENTORS:
            await make_mentor(database, id=mentor_id)
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def auth_server(module_database_url: str) -> Iterator[str]:
    """One server with AUTH_JWT_SECRET (and no leeway, so expiry is exact) for the module."""
    url = module_database_url
    asyncio.run(_seed(url))
    env = {"AUTH_JWT_SECRET": TEST_SECRET, "AUTH_LEEWAY_SECONDS": "0"}
    with running_server(url, env=env) as base:
        yield base


@asynccontextmanager
async def connected(base: str, init_payload: dict[str, Any] | None) -> AsyncIterator[Any]:
    """A gql session over graphql-transport-ws, `init_payload` in its connection_init."""
    transport = WebsocketsTransport(
        url=base.replace("http://", "ws://") + "/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=init_payload,
    )
    async with Client(transport=transport) as session:
        yield session


def close_frame(error: BaseException) -> tuple[int, str]:
    """The close code and reason the server sent, from the exception gql raised for it."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, websockets.ConnectionClosed):
        cause = cause.__cause__ or cause.__context__
    assert cause is not None, f"not closed by the server: {error!r}"
    assert cause.rcvd is not None, "closed without a close frame"
    return cause.rcvd.code, cause.rcvd.reason


async def refusal(base: str, init_payload: dict[str, Any] | None) -> tuple[int, str]:
    """How the server closes a connection whose connection_init carries `init_payload`."""
    with pytest.raises(TransportError) as raised:
        async with asyncio.timeout(EVENT_SECONDS), connected(base, init_payload) as session:
            await session.execute(GraphQLRequest(STATUS, variable_values={"id": "ws-sub"}))
    return close_frame(raised.value)


class Watch:
    """One mentorStatusChanged subscription on a session, waiting for its next event."""

    def __init__(self, session: AsyncClientSession, mentor_id: str | None) -> None:
        request = GraphQLRequest(SUBSCRIBE, variable_values={"id": mentor_id})
        self.changes = session.subscribe(request)
        self.pending = asyncio.ensure_future(anext(self.changes))

    @classmethod
    async def start(cls, session: AsyncClientSession, mentor_id: str | None) -> Watch:
        watch = cls(session, mentor_id)
        await asyncio.sleep(0.3)  # let the server register the subscription before a write
        return watch

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(EVENT_SECONDS):
            result = await self.pending
        self.pending = asyncio.ensure_future(anext(self.changes))
        change: dict[str, Any] = result["mentorStatusChanged"]
        return change

    async def close(self) -> None:
        self.pending.cancel()
        await self.changes.aclose()


async def set_status(base: str, mentor_id: str, status: str) -> None:
    """A REST write, authenticated like any HTTP request: the header."""
    async with httpx.AsyncClient(base_url=base, headers=ADMIN) as client:
        response = await client.put(f"/api/v1/mentor-statuses/{mentor_id}", json={"status": status})
        assert response.status_code == 200, response.text


async def test_a_connection_without_a_token_is_closed_4403(auth_server: str) -> None:
    code, reason = await refusal(auth_server, None)
    assert code == 4403
    assert "connection_init" in reason  # says where the token goes


async def test_the_upgrade_requests_header_is_not_a_token(auth_server: str) -> None:
    """The documented choice (api/websockets.py): connection_init only, headers not read."""
    transport = WebsocketsTransport(
        url=auth_server.replace("http://", "ws://") + "/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        headers=ADMIN,
    )
    with pytest.raises(TransportError) as raised:
        async with asyncio.timeout(EVENT_SECONDS), Client(transport=transport) as session:
            await session.execute(GraphQLRequest(STATUS, variable_values={"id": "ws-sub"}))
    assert close_frame(raised.value)[0] == 4403


@pytest.mark.parametrize(
    ("authorization", "why"),
    [
        (
            f"Bearer {mint_token('another-secret-of-32-characters-xx', role=Role.ADMIN, subject='x')}",
            "signature",
        ),
        (f"Bearer {token(Role.ADMIN, 'x', now=time.time() - 7200)}", "expired"),
        ("Basic YWRtaW46YWRtaW4=", "Bearer"),
        (f"Bearer {token(Role.ADMIN, 'x')}.tampered", "not a JWT"),
    ],
    ids=["other-secret", "expired", "not-bearer", "tampered"],
)
async def test_a_bad_token_is_closed_4403_saying_why(
    auth_server: str, authorization: str, why: str
) -> None:
    code, reason = await refusal(auth_server, {"Authorization": authorization})
    assert code == 4403
    assert reason.startswith("Forbidden")
    assert why in reason


async def test_a_token_that_is_not_a_string_is_closed_4403(auth_server: str) -> None:
    assert (await refusal(auth_server, {"Authorization": ["Bearer", "x"]}))[0] == 4403


@pytest.mark.parametrize("key", ["Authorization", "authorization"])
async def test_a_good_token_answers_under_either_key(auth_server: str, key: str) -> None:
    payload = {key: f"Bearer {token(Role.COORDINATOR, 'coordinator-ws')}"}
    async with connected(auth_server, payload) as session:
        answer = await session.execute(GraphQLRequest(STATUS, variable_values={"id": "ws-sub"}))
    assert answer == {"mentorStatus": {"mentorId": "ws-sub", "status": "active"}}


async def test_a_good_token_receives_events_of_a_rest_write(auth_server: str) -> None:
    payload = {"Authorization": f"Bearer {token(Role.COORDINATOR, 'coordinator-ws')}"}
    async with connected(auth_server, payload) as session:
        watch = await Watch.start(session, "ws-sub")
        await set_status(auth_server, "ws-sub", "inactive")
        change = await watch.next()
        await watch.close()
    assert change == {"mentorId": "ws-sub", "status": "inactive", "isPaused": False}


async def test_a_token_expiring_while_connected_closes_the_socket_4403(auth_server: str) -> None:
    expiring = token(Role.COORDINATOR, "coordinator-ws", expires_in=timedelta(seconds=2))
    expires_at = int(time.time()) + 2  # mint_token's `exp`: whole seconds
    async with connected(auth_server, {"Authorization": f"Bearer {expiring}"}) as session:
        watch = await Watch.start(session, "ws-expiring")
        await set_status(auth_server, "ws-expiring", "inactive")
        assert (await watch.next())["status"] == "inactive"  # served until it expires
        with pytest.raises(TransportError) as raised:
            await watch.next()
        closed_at = time.time()
    assert close_frame(raised.value) == (4403, "Token expired")
    assert expires_at - 0.1 <= closed_at < expires_at + 1.5


# The role policy (graph/access.py) over websockets: the principal of connection_init decides.
FORBIDDEN_SECONDS = 1.0  # a refusal is immediate; an allowed subscription just waits


async def first_result(session: AsyncClientSession, request: GraphQLRequest) -> object:
    async with asyncio.timeout(FORBIDDEN_SECONDS):
        async for result in session.subscribe(request):
            return result
    return None


async def forbidden_code(session: AsyncClientSession, mentor_id: str | None) -> str:
    """The error code refusing a mentorStatusChanged(mentorId: `mentor_id`) subscription."""
    request = GraphQLRequest(SUBSCRIBE, variable_values={"id": mentor_id})
    with pytest.raises(TransportQueryError) as raised:
        await first_result(session, request)
    assert raised.value.errors, raised.value
    code: str = raised.value.errors[0]["extensions"]["code"]
    return code


async def test_a_mentor_subscribes_to_their_own_status(auth_server: str) -> None:
    payload = {"Authorization": f"Bearer {token(Role.MENTOR, 'ws-own')}"}
    async with connected(auth_server, payload) as session:
        watch = await Watch.start(session, "ws-own")
        await set_status(auth_server, "ws-own", "inactive")
        change = await watch.next()
        await watch.close()
    assert change["mentorId"] == "ws-own"


async def test_a_mentor_may_not_subscribe_to_another_mentor(auth_server: str) -> None:
    payload = {"Authorization": f"Bearer {token(Role.MENTOR, 'ws-own')}"}
    async with connected(auth_server, payload) as session:
        assert await forbidden_code(session, "ws-other") == "FORBIDDEN"


async def test_a_mentor_may_not_subscribe_to_every_mentor(auth_server: str) -> None:
    payload = {"Authorization": f"Bearer {token(Role.MENTOR, 'ws-own')}"}
    async with connected(auth_server, payload) as session:
        assert await forbidden_code(session, None) == "FORBIDDEN"


async def test_a_coordinator_subscribes_to_every_mentor(auth_server: str) -> None:
    payload = {"Authorization": f"Bearer {token(Role.COORDINATOR, 'coordinator-ws')}"}
    async with connected(auth_server, payload) as session:
        watch = await Watch.start(session, None)
        await set_status(auth_server, "ws-everyone", "inactive")
        change = await watch.next()
        await watch.close()
    assert change["mentorId"] == "ws-everyone"
