"""Honest outages: the database goes away and comes back, and the service says so, then recovers.

A TCP proxy (tests/tcp_proxy.py) sits between the service and PostgreSQL on 127.0.0.1:5432;
cutting it plays the outage for real: refused connections, a hanging server, a connection lost
just before COMMIT. Every test makes its own PostgreSQL database (or SQLite file), so the
SQLite run runs this file and the PostgreSQL run, which would repeat it exactly, leaves it out
(`own_databases`); PostgreSQL being unreachable fails it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from websockets.typing import Subprotocol

import models.database
from api.app import create_app
from api.settings import Settings
from models.database import RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE, Database
from models.migrate import migrate
from models.notify import asyncpg_dsn
from tests.aiosqlite_threads import settle_aiosqlite_threads
from tests.factories import make_mentor
from tests.live import running_server
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.own_databases
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
# The server the PostgreSQL run uses, else the one on this machine; the database is our own.
SERVER_URL = os.environ.get("TEST_DATABASE_URL") or (
    f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"
)
MENTOR = "mentor-outage"
STATUS = f"/api/v1/mentor-statuses/{MENTOR}"
QUERY = f'{{ mentorStatus(mentorId: "{MENTOR}") {{ status }} }}'
LIST = "{ mentorStatuses(first: 5) { nodes { mentorId status } } }"  # read, never cached
LISTED = {"mentorStatuses": {"nodes": [{"mentorId": MENTOR, "status": "active"}]}}
WATCH = f'subscription {{ mentorStatusChanged(mentorId: "{MENTOR}") {{ status }} }}'
# Short bounds, so a hanging database fails fast; the request deadline stays far above them.
CONNECT_TIMEOUT = COMMAND_TIMEOUT = 1.0
REQUEST_TIMEOUT = 20.0
DATABASE_LOGGER = "mentor_gateway.database"


async def _migrated(url: str) -> str:
    """`url`'s database migrated, holding the one mentor these tests read and write."""
    database = Database(url)
    try:
        await migrate(database)
        await make_mentor(database, id=MENTOR)
    finally:
        await database.dispose()
    return url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database holding one mentor; dropped afterwards."""
    name = f"outage_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    server = make_url(SERVER_URL)
    assert (server.host, server.port or 5432) == (POSTGRES_HOST, POSTGRES_PORT), server
    try:
        admin = await asyncpg.connect(asyncpg_dsn(SERVER_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as error:  # never skip: this test needs PostgreSQL
        pytest.fail(f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} is unreachable: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield await _migrated(server.set(database=name).render_as_string(hide_password=False))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    async with TcpProxy(POSTGRES_HOST, POSTGRES_PORT) as proxy:
        yield proxy


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        database_connect_timeout_seconds=CONNECT_TIMEOUT,
        database_command_timeout_seconds=COMMAND_TIMEOUT,
        request_timeout_seconds=REQUEST_TIMEOUT,
    )


@contextlib.asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process (one app for the whole test: recovery must need no restart)."""
    app: FastAPI = create_app(_settings(database_url))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await app.state.database.dispose()
        await settle_aiosqlite_threads()


async def assert_answers(client: httpx.AsyncClient) -> None:
    rest = await client.get(STATUS)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "active"
    graph = (await client.post("/graphql", json={"query": QUERY})).json()
    assert graph == {"data": {"mentorStatus": {"status": "active"}}}
    assert (await client.get("/readyz")).status_code == 200


def assert_unavailable_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["status"] == 503
    assert body["code"] == SERVICE_UNAVAILABLE


async def assert_unavailable(client: httpx.AsyncClient) -> None:
    """REST 503 problems, GraphQL SERVICE_UNAVAILABLE, /readyz 503, each well before the
    request deadline (a hanging database times out at the connect or command bound)."""
    for method, path, body in (
        ("GET", STATUS, None),
        ("GET", "/api/v1/mentor-statuses?limit=5", None),
        ("POST", "/api/v1/pause-records", {"mentor_id": MENTOR}),
        ("GET", "/readyz", None),
    ):
        started = time.monotonic()
        assert_unavailable_problem(await client.request(method, path, json=body))
        assert time.monotonic() - started < REQUEST_TIMEOUT / 2
    response = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] == {"mentorStatus": None}
    [error] = answer["errors"]
    assert error["extensions"] == {"code": SERVICE_UNAVAILABLE}, error
    assert error["message"] == "The database is unavailable; retry later."


def assert_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """One warning when the outage began, one line when it ended, no traceback at all."""
    assert [record.exc_info for record in caplog.records if record.exc_info] == []
    assert [r.levelname for r in caplog.records if r.levelno >= logging.ERROR] == []
    lines = [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == DATABASE_LOGGER
    ]
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert "database unavailable" in lines[0][1]
    assert "answers again" in lines[1][1]


async def _not_paused(database_url: str) -> None:
    """The POSTs that failed wrote nothing: the mentor has no pause record (and, as
    `assert_answers` saw, is still active)."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            pauses = await connection.exec_driver_sql(
                "SELECT count(*) FROM pause_record WHERE mentor_id = $1"
                if database.dialect == "postgresql"
                else "SELECT count(*) FROM pause_record WHERE mentor_id = ?",
                (MENTOR,),
            )
            assert pauses.scalar_one() == 0
    finally:
        await database.dispose()


@pytest.mark.parametrize("cut", ["refuse", "hang"])
async def test_a_cut_database_is_a_503_then_recovers_without_a_restart(
    postgres_url: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture, cut: str
) -> None:
    async with serving(proxy.url(postgres_url)) as client:
        await assert_answers(client)
        caplog.clear()
        caplog.set_level(logging.INFO)
        await (proxy.refuse() if cut == "refuse" else proxy.hang())
        await assert_unavailable(client)
        await assert_unavailable(client)  # still down: nothing more in the log
        await proxy.restore()
        await assert_answers(client)
        assert_logged_once(caplog)
    await _not_paused(postgres_url)


@pytest.mark.parametrize(
    ("marker", "then"),
    [
        (b"COMMIT", "refuse"),  # every statement ran; the connection drops as COMMIT leaves
        (b"INSERT INTO pause_record", "hang"),  # the server stops answering mid-transaction
    ],
)
async def test_a_write_cut_short_writes_nothing(
    postgres_url: str,
    proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
    marker: bytes,
    then: Literal["refuse", "hang"],
) -> None:
    """A unit of work loses its database half-way: the client hears 503, PostgreSQL rolls the
    transaction back (COMMIT never arrived), the timed-out connection is not lent again, and
    the mentor is still active, unpaused, after."""
    async with serving(proxy.url(postgres_url)) as client:
        await assert_answers(client)
        caplog.set_level(logging.INFO)
        proxy.cut_on(marker, then=then)
        started = time.monotonic()
        response = await client.post("/api/v1/pause-records", json={"mentor_id": MENTOR})
        assert_unavailable_problem(response)
        assert time.monotonic() - started < REQUEST_TIMEOUT / 2
        assert proxy.mode == then
        await proxy.restore()
        await assert_answers(client)
        assert [record for record in caplog.records if record.exc_info] == []
    await _not_paused(postgres_url)


class Socket:
    """One graphql-transport-ws connection (the `websockets` client) to a running server."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(10):
            message: dict[str, Any] = json.loads(await self.connection.recv())
        return message

    async def subscribe(self, id: str, query: str) -> None:
        message = {"id": id, "type": "subscribe", "payload": {"query": query}}
        await self.connection.send(json.dumps(message))

    async def result(self, id: str, query: str) -> dict[str, Any]:
        """The one result of a query sent over the socket (then its `complete`)."""
        await self.subscribe(id, query)
        answer = await self.receive()
        assert (answer["id"], answer["type"]) == (id, "next"), answer
        assert await self.receive() == {"id": id, "type": "complete"}
        payload: dict[str, Any] = answer["payload"]
        return payload


def _codes(message: dict[str, Any]) -> list[str]:
    """The codes of a websocket `error` message, or of the errors of a result's payload."""
    errors = message["payload"] if message.get("type") == "error" else message.get("errors", [])
    return [error["extensions"]["code"] for error in errors]


async def test_websocket_operations_are_service_unavailable_during_an_outage(
    postgres_url: str, proxy: TcpProxy
) -> None:
    """Over graphql-transport-ws (a real server, a real client): queries and a subscription's
    set-up get SERVICE_UNAVAILABLE while the proxy is cut; the same socket then answers again
    and a new subscription hears a change."""
    env = {
        "DATABASE_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
        "DATABASE_COMMAND_TIMEOUT_SECONDS": str(COMMAND_TIMEOUT),
    }
    with contextlib.ExitStack() as stack:
        # The proxy runs on this event loop, and the server's start-up (LISTEN) goes through it:
        # wait for the server in a thread.
        base = await asyncio.to_thread(
            stack.enter_context, running_server(proxy.url(postgres_url), env=env)
        )
        url = base.replace("http://", "ws://") + "/graphql"
        protocols = [Subprotocol("graphql-transport-ws")]
        async with (
            websockets.connect(url, subprotocols=protocols) as connection,
            httpx.AsyncClient(base_url=base) as client,
        ):
            socket = Socket(connection)
            await connection.send(json.dumps({"type": "connection_init"}))
            assert (await socket.receive())["type"] == "connection_ack"
            assert await socket.result("q1", LIST) == {"data": LISTED}

            await proxy.refuse()
            assert _codes(await socket.result("q2", LIST)) == [SERVICE_UNAVAILABLE]
            await socket.subscribe("s1", WATCH)  # set-up reads the mentor: refused too
            refused = await socket.receive()
            assert refused["id"] == "s1"
            assert _codes(refused if refused["type"] == "error" else refused["payload"]) == [
                SERVICE_UNAVAILABLE
            ], refused
            if refused["type"] == "next":  # an error result ends the subscription
                assert await socket.receive() == {"id": "s1", "type": "complete"}

            await proxy.restore()
            assert await socket.result("q3", LIST) == {"data": LISTED}
            await socket.subscribe("s2", WATCH)
            # The server's LISTEN connection reconnects on its own (models/notify.py): change
            # the status until the subscriber hears it.
            async with asyncio.timeout(15):
                heard: dict[str, Any] | None = None
                for status in itertools.cycle(["inactive", "active"]):
                    put = await client.put(STATUS, json={"status": status})
                    assert put.status_code == 200, put.text
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1):
                            heard = json.loads(await connection.recv())
                    if heard is not None:
                        break
            assert heard is not None
            assert heard["id"] == "s2", heard
            assert heard["payload"]["data"]["mentorStatusChanged"]["status"] in {
                "active",
                "inactive",
            }
        await asyncio.to_thread(stack.close)


# --- SQLite ------------------------------------------------------------------------------------


async def _migrated_sqlite(path: Path) -> str:
    return await _migrated(f"sqlite+aiosqlite:///{path}")


async def test_a_sqlite_file_out_of_reach_is_a_503_until_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The file's directory is missing (an unmounted volume): 503 and SERVICE_UNAVAILABLE; once
    the file is back the same app answers."""
    ready = tmp_path / "ready" / "gateway.db"
    ready.parent.mkdir()
    await _migrated_sqlite(ready)
    mounted = tmp_path / "volume" / "gateway.db"
    async with serving(f"sqlite+aiosqlite:///{mounted}") as client:
        caplog.set_level(logging.INFO)
        await assert_unavailable(client)
        await assert_unavailable(client)
        shutil.copytree(ready.parent, mounted.parent)
        await assert_answers(client)
        assert_logged_once(caplog)


async def test_a_sqlite_lock_held_past_the_busy_timeout_is_a_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the write lock longer than the busy timeout: writes are 503 and
    SERVICE_UNAVAILABLE (retry later), reads go on, and nothing is written."""
    monkeypatch.setattr(models.database, "SQLITE_BUSY_TIMEOUT_MS", 200)
    url = await _migrated_sqlite(tmp_path / "gateway.db")
    async with serving(url) as client:
        await assert_answers(client)
        caplog.set_level(logging.INFO)
        holder = sqlite3.connect(tmp_path / "gateway.db", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            response = await client.post("/api/v1/pause-records", json={"mentor_id": MENTOR})
            assert_unavailable_problem(response)
            mutation = f'mutation {{ createPauseRecord(input: {{mentorId: "{MENTOR}"}}) {{ id }} }}'
            body = (await client.post("/graphql", json={"query": mutation})).json()
            assert body["errors"][0]["extensions"]["code"] == SERVICE_UNAVAILABLE, body
            assert (await client.get(STATUS)).status_code == 200  # WAL: readers never wait
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await assert_answers(client)
        assert_logged_once(caplog)
    await _not_paused(url)
