"""Each websocket operation has a context of its own (api/websockets.py), with a real client
against a real server: a query repeated on a long-lived socket reads what was committed since,
each subscription event resolves with fresh loaders, operations on one socket do not queue
behind one session, and (PostgreSQL) no transaction stays open once an operation has answered."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, Result, text

from api.app import create_app
from graph.context import Context
from models.database import Database
from tests.api.test_websocket_limits import Socket, socket
from tests.factories import make_mentor
from tests.live import running_server

# `mentor` and its `status` both resolve through dataloaders (graph/loaders.py), which cache.
MENTOR = '{ mentor(id: "m1") { name status { status } } }'
# The event's own status comes with the announcement; `mentor { status }` is read by loaders.
WATCH = (
    'subscription { mentorStatusChanged(mentorId: "m1") { status mentor { status { status } } } }'
)
SLOW_APP = "tests.api.test_websocket_context:slow_statements_app"
SLOW_SECONDS = 1.0


async def set_status(client: httpx.AsyncClient, status: str) -> None:
    changed = await client.put("/api/v1/mentor-statuses/m1", json={"status": status})
    assert changed.status_code == 200, changed.text


async def answer_of(ws: Socket, id: str) -> dict[str, Any]:
    """The one result of query `id`, then its `complete`."""
    answer = await ws.receive()
    assert (answer["id"], answer["type"]) == (id, "next"), answer
    assert await ws.receive() == {"id": id, "type": "complete"}
    payload: dict[str, Any] = answer["payload"]
    return payload


async def test_a_query_repeated_on_one_socket_sees_a_change_made_since(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="m1", name="Ada")
    with running_server(database_url) as base:
        async with socket(base) as ws, httpx.AsyncClient(base_url=base) as client:
            await set_status(client, "active")
            await ws.subscribe("1", MENTOR)
            first = await answer_of(ws, "1")
            assert first == {"data": {"mentor": {"name": "Ada", "status": {"status": "active"}}}}
            await set_status(client, "inactive")  # another client, through REST
            await ws.subscribe("2", MENTOR)
            second = await answer_of(ws, "2")
    assert second == {"data": {"mentor": {"name": "Ada", "status": {"status": "inactive"}}}}


async def test_each_subscription_event_reads_with_fresh_loaders(
    database: Database, database_url: str
) -> None:
    await make_mentor(database, id="m1", name="Ada")
    with running_server(database_url) as base:
        async with socket(base) as ws, httpx.AsyncClient(base_url=base) as client:
            await ws.subscribe("watch", WATCH)
            await asyncio.sleep(0.3)  # the subscription is registered before the first change
            events = []
            for status in ("inactive", "active", "inactive"):
                await set_status(client, status)
                event = await ws.receive()
                assert (event["id"], event["type"]) == ("watch", "next"), event
                events.append(event["payload"]["data"]["mentorStatusChanged"])
    assert events == [
        {"status": status, "mentor": {"status": {"status": status}}}
        for status in ("inactive", "active", "inactive")
    ]


async def slow_read(self: Context, statement: Executable) -> Result[Any]:
    """A statement that holds its session for SLOW_SECONDS."""
    async with self.reading() as session:
        await asyncio.sleep(SLOW_SECONDS)
        return await session.execute(statement)


def slow_statements_app() -> FastAPI:
    """The app, with every statement of a context SLOW_SECONDS long."""
    Context.read = slow_read  # type: ignore[method-assign]
    return create_app()


async def test_two_operations_in_flight_on_one_socket_both_answer_in_time(
    database: Database, database_url: str
) -> None:
    """Each is one statement (through different loaders: one context would batch one loader's
    keys into one statement). Sharing one session, the second would wait for the first's and
    miss the deadline, 1.5 statements long; with a session each they run side by side."""
    await make_mentor(database, id="m1", name="Ada")
    env = {"REQUEST_TIMEOUT_SECONDS": str(SLOW_SECONDS * 1.5)}
    with running_server(database_url, app=SLOW_APP, env=env) as base:
        async with socket(base) as ws:
            started = time.monotonic()
            await ws.subscribe("one", '{ mentor(id: "m1") { name } }')
            await ws.subscribe("two", '{ pauseRecord(id: "p1") { id } }')
            answers: dict[str, dict[str, Any]] = {}
            while len(answers) < 2:
                message = await ws.receive()
                if message["type"] != "complete":
                    answers[message["id"]] = message["payload"]
            elapsed = time.monotonic() - started
    assert answers == {
        "one": {"data": {"mentor": {"name": "Ada"}}},
        "two": {"data": {"pauseRecord": None}},
    }
    assert elapsed < SLOW_SECONDS * 1.5


async def open_transactions(database: Database) -> list[str]:
    """The queries of the server's connections to this database that sit in a transaction."""
    async with database.engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )
        return list(found.scalars())


async def test_no_transaction_stays_open_after_an_answer_or_between_events(
    database: Database, database_url: str
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    await make_mentor(database, id="m1", name="Ada")
    with running_server(database_url) as base:
        async with socket(base) as ws, httpx.AsyncClient(base_url=base) as client:
            await ws.subscribe("watch", WATCH)
            await ws.subscribe("query", MENTOR)
            assert (await answer_of(ws, "query"))["data"]["mentor"]["name"] == "Ada"
            await set_status(client, "inactive")
            event = await ws.receive()
            assert event["payload"]["data"]["mentorStatusChanged"]["mentor"] is not None
            await asyncio.sleep(0.3)  # the subscription now waits for its next event
            assert await open_transactions(database) == []
