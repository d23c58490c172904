"""Bounded websockets (api/websockets.py) with a real client against a real server: every hostile
frame gets a protocol answer, limits close or refuse with their codes, subscription documents
meet the same limits as queries, and the deadline holds for websocket operations and for each
subscription event (but not for the wait between events)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from graph.context import Context
from models.database import Database
from tests.factories import make_mentor
from tests.live import running_server

LIMIT = 100 * 1024
STATUS = 'subscription { mentorStatusChanged(mentorId: "m1") { status } }'
STATUS_AND_NAME = 'subscription { mentorStatusChanged(mentorId: "m1") { status mentor { name } } }'
SLOW_APP = "tests.api.test_websocket_limits:slow_websocket_reads_app"
SLOW_SECONDS = 5.0


class Socket:
    """One graphql-transport-ws connection, acknowledged."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def send(self, message: object) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def subscribe(self, id: str, query: str, **payload: Any) -> None:
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, **payload}})

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(10):
            message: dict[str, Any] = json.loads(await self.connection.recv())
        return message

    async def closed_with(self) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket; its close code and reason."""
        try:
            async with asyncio.timeout(10):
                while True:
                    await self.connection.recv()
        except websockets.ConnectionClosed as closed:
            frame = closed.rcvd
        return (frame.code, frame.reason) if frame is not None else (None, None)


@asynccontextmanager
async def socket(base: str, *, init: bool = True) -> AsyncIterator[Socket]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
    ) as connection:
        opened = Socket(connection)
        if init:
            await opened.send({"type": "connection_init"})
            assert (await opened.receive())["type"] == "connection_ack"
        yield opened


def error_codes(message: dict[str, Any]) -> list[str]:
    assert message["type"] == "error", message
    return [error["extensions"]["code"] for error in message["payload"]]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def subscribe_frame(size: int) -> str:
    """A valid subscribe message of exactly `size` bytes (padded in `extensions`)."""

    def frame(pad: str) -> str:
        payload = {"query": "{ __typename }", "extensions": {"pad": pad}}
        return json.dumps({"id": "big", "type": "subscribe", "payload": payload})

    return frame("x" * (size - len(frame(""))))


INVALID = 4400  # graphql-transport-ws: invalid message
TOO_BIG = 1009  # RFC 6455: message too big
HOSTILE_FRAMES = {
    "JSON array": ("[1, 2]", INVALID),
    "JSON scalar": ("1", INVALID),
    "JSON string": ('"subscribe"', INVALID),
    "JSON null": ("null", INVALID),
    "not JSON": ("{nope", INVALID),
    "40k deep, inside the byte limit": (nested(40_000), INVALID),
    "100k deep": (nested(100_000), TOO_BIG),
    "deeper than the frame depth": ('{"type": "ping", "payload": ' + nested(70) + "}", INVALID),
    "type not a string": (json.dumps({"type": ["subscribe"]}), INVALID),
    "unknown type": (json.dumps({"type": "nope"}), INVALID),
    "payload a string": (json.dumps({"id": "1", "type": "subscribe", "payload": "x"}), INVALID),
    "id a list": (
        json.dumps({"id": [1], "type": "subscribe", "payload": {"query": "{ a }"}}),
        INVALID,
    ),
    "no id": (json.dumps({"type": "subscribe", "payload": {"query": "{ a }"}}), INVALID),
    "query a number": (
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": 5}}),
        INVALID,
    ),
    "variables a list": (
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ a }", "variables": [1]}}
        ),
        INVALID,
    ),
    "complete with a number id": (json.dumps({"type": "complete", "id": 7}), INVALID),
    "ping payload a list": (json.dumps({"type": "ping", "payload": [1]}), INVALID),
}


async def test_every_hostile_frame_gets_a_close_code_and_no_server_error(
    database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with running_server(database_url) as base:
        for name, (frame, expected) in HOSTILE_FRAMES.items():
            async with socket(base) as ws:
                await ws.send(frame)
                code, reason = await ws.closed_with()
                assert code == expected, (name, code, reason)
                assert reason, name
        async with socket(base) as ws:  # and the server still serves
            await ws.subscribe("1", "{ __typename }")
            assert (await ws.receive())["payload"] == {"data": {"__typename": "Query"}}
    logged = capfd.readouterr().err
    assert "Exception in ASGI application" not in logged
    assert "Traceback" not in logged


async def test_a_frame_over_the_byte_limit_closes_1009_before_it_is_decoded(
    database_url: str,
) -> None:
    with running_server(database_url) as base:
        async with socket(base) as ws:
            await ws.send(subscribe_frame(LIMIT))  # exactly the limit: answered
            assert (await ws.receive())["type"] == "next"
            assert (await ws.receive())["type"] == "complete"
            await ws.send(subscribe_frame(LIMIT + 1))
            assert await ws.closed_with() == (1009, f"Message larger than {LIMIT} bytes")
        async with socket(base) as ws:  # counted in bytes, not characters
            await ws.send(subscribe_frame(LIMIT).replace("x", "é", 1))
            assert (await ws.closed_with())[0] == 1009


async def test_connections_past_the_limit_close_4429_until_one_ends(database_url: str) -> None:
    with running_server(database_url, env={"WS_MAX_CONNECTIONS": "2"}) as base:
        async with socket(base), socket(base) as second:
            async with socket(base, init=False) as third:
                assert await third.closed_with() == (4429, "Too many connections")
            await second.subscribe("1", "{ __typename }")
            assert (await second.receive())["type"] == "next"
        await asyncio.sleep(0.5)  # the server sees both sockets end
        async with socket(base) as again:  # the slots were given back
            await again.subscribe("1", "{ __typename }")
            assert (await again.receive())["type"] == "next"


async def test_subscriptions_past_the_limit_get_a_coded_error(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="m1")
    env = {"WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2"}
    with running_server(database_url, env=env) as base:
        async with socket(base) as ws:
            await ws.subscribe("a", STATUS)
            await ws.subscribe("b", STATUS)
            await ws.subscribe("c", STATUS)
            refused = await ws.receive()
            assert refused["id"] == "c"
            assert error_codes(refused) == ["TOO_MANY_SUBSCRIPTIONS"]
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=base) as client:
                changed = await client.put(
                    "/api/v1/mentor-statuses/m1", json={"status": "inactive"}
                )
                assert changed.status_code == 200, changed.text
            heard = {(await ws.receive())["id"], (await ws.receive())["id"]}
            assert heard == {"a", "b"}  # the socket and its subscriptions go on
            await ws.send({"id": "a", "type": "complete"})
            await ws.subscribe("d", "{ __typename }")  # a slot is free again
            assert (await ws.receive()) == {
                "id": "d",
                "type": "next",
                "payload": {"data": {"__typename": "Query"}},
            }


async def test_a_syntax_error_is_an_error_message_and_the_socket_stays(database_url: str) -> None:
    with running_server(database_url) as base:
        async with socket(base) as ws:
            await ws.subscribe("1", "subscription { mentorStatusChanged { ")
            assert error_codes(await ws.receive()) == ["GRAPHQL_PARSE_FAILED"]
            await ws.subscribe("2", "subscription { nope }")
            assert error_codes(await ws.receive()) == ["GRAPHQL_VALIDATION_FAILED"]
            await ws.subscribe("3", "{ __typename }")
            assert (await ws.receive())["payload"] == {"data": {"__typename": "Query"}}


# mentorId sits 11 levels below the root field: one more than GRAPHQL_MAX_DEPTH allows.
TOO_DEEP = (
    "subscription { mentorStatusChanged { mentor { status { mentor { status { mentor { status"
    " { mentor { status { mentor { status { mentorId } } } } } } } } } } } }"
)


REFUSED_SUBSCRIPTIONS = {
    "QUERY_TOO_DEEP": TOO_DEEP,
    "TOO_MANY_ALIASES": "subscription { mentorStatusChanged { "
    + " ".join(f"a{n}: status" for n in range(16))
    + " } }",
    "QUERY_TOO_COSTLY": "subscription { mentorStatusChanged { mentor {"
    " pauseRecords(first: 100) { mentor { pauseRecords(first: 100) { mentor { name } } } } } } }",
    "TOO_MANY_TOKENS": "subscription { mentorStatusChanged { " + "status " * 2_100 + "} }",
}


OVERSIZED_PAGE = (
    "subscription { mentorStatusChanged { mentor { pauseRecords(first: 101) { id } } } }"
)


async def test_subscription_documents_meet_the_query_limits(
    database: Database, database_url: str
) -> None:
    await refused_over_the_websocket(database, database_url, REFUSED_SUBSCRIPTIONS)


async def test_a_subscription_asking_for_a_page_over_100_is_refused(
    database: Database, database_url: str
) -> None:
    await refused_over_the_websocket(database, database_url, {"BAD_USER_INPUT": OVERSIZED_PAGE})


async def refused_over_the_websocket(
    database: Database, database_url: str, documents: dict[str, str]
) -> None:
    """Each document (by the code it must be refused with) gets an `error` message with the
    code, and registers nothing: a change then reaches only a valid subscription."""
    await make_mentor(database, id="m1")
    with running_server(database_url) as base:
        async with socket(base) as ws:
            for number, (code, query) in enumerate(documents.items()):
                await ws.subscribe(str(number), query)
                answer = await ws.receive()
                assert answer["id"] == str(number)
                assert error_codes(answer) == [code], query
            # A change now reaches no refused subscription: none of them was registered.
            await ws.subscribe("ok", STATUS)
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=base) as client:
                await client.put("/api/v1/mentor-statuses/m1", json={"status": "inactive"})
            heard = await ws.receive()
            assert (heard["id"], heard["type"]) == ("ok", "next")


_in_websocket: ContextVar[bool] = ContextVar("in_websocket", default=False)


class MarkWebsockets:
    """Marks everything a websocket connection runs (its operation tasks and their loader
    tasks inherit the mark)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _in_websocket.set(scope["type"] == "websocket")
        await self.app(scope, receive, send)


def slow_websocket_reads_app() -> FastAPI:
    """The app, with every read of a websocket operation SLOW_SECONDS late; HTTP requests (the
    REST change that feeds a subscription) read at full speed."""
    read = Context.read

    async def slow(self: Context, statement: Any) -> Any:
        if _in_websocket.get():
            await asyncio.sleep(SLOW_SECONDS)
        return await read(self, statement)

    Context.read = slow  # type: ignore[method-assign]
    app = create_app()
    app.add_middleware(MarkWebsockets)
    return app


async def test_a_websocket_query_is_cancelled_at_the_deadline(database_url: str) -> None:
    env = {"REQUEST_TIMEOUT_SECONDS": "0.5"}
    with running_server(database_url, app=SLOW_APP, env=env) as base:
        async with socket(base) as ws:
            started = time.monotonic()
            await ws.subscribe("1", "{ mentors(first: 1) { totalCount } }")
            answer = await ws.receive()
            elapsed = time.monotonic() - started
            assert answer["type"] == "next", answer
            assert answer["payload"]["data"] is None
            assert [e["extensions"]["code"] for e in answer["payload"]["errors"]] == ["TIMEOUT"]
            assert "0.5 s" in answer["payload"]["errors"][0]["message"]
            assert (await ws.receive())["type"] == "complete"
            assert elapsed < SLOW_SECONDS / 2
            await ws.subscribe("2", "{ __typename }")  # the connection goes on
            assert (await ws.receive())["payload"] == {"data": {"__typename": "Query"}}


async def test_each_subscription_event_has_the_deadline_but_waiting_does_not(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="m1", name="Ada")
    env = {"REQUEST_TIMEOUT_SECONDS": "0.5"}
    with running_server(database_url, app=SLOW_APP, env=env) as base:
        async with socket(base) as ws, httpx.AsyncClient(base_url=base) as client:
            await ws.subscribe("cheap", STATUS)
            await ws.subscribe("slow", STATUS_AND_NAME)
            await asyncio.sleep(1.5)  # three deadlines of waiting for an event: no timeout
            started = time.monotonic()
            changed = await client.put("/api/v1/mentor-statuses/m1", json={"status": "inactive"})
            assert changed.status_code == 200, changed.text
            answers: dict[str, list[dict[str, Any]]] = {}
            for _ in range(3):
                message = await ws.receive()
                answers.setdefault(message["id"], []).append(message)
            elapsed = time.monotonic() - started
    assert [m["payload"] for m in answers["cheap"]] == [
        {"data": {"mentorStatusChanged": {"status": "inactive"}}}
    ]
    timed_out, completed = answers["slow"]
    assert timed_out["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in timed_out["payload"]["errors"]] == ["TIMEOUT"]
    assert completed["type"] == "complete"
    assert elapsed < SLOW_SECONDS / 2
