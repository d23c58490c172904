"""Graceful shutdown (README "Deployment"): SIGTERM to `mentor-gateway serve` stops it listening,
lets in-flight requests finish within SHUTDOWN_GRACE_SECONDS (then cancels them), closes
websockets with 1001 at once (api/websockets.py `going_away_on_stop_signals`), runs the
lifespan's shutdown and exits 0; with one worker and with two (the container's command).

The slow request is a real one: a status PUT waiting for the lock that the test holds in another
transaction, taken as the PUT itself takes it (SQLite's write lock, PostgreSQL's row lock on the
status), so the tests run on both databases."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

from models.database import Database, begin_write
from models.statuses import status_of
from tests.factories import make_mentor
from tests.live import free_port, wait_until_healthy

GRACE_SECONDS = 10.0
MENTOR = "mentor-001"
WATCH = 'subscription { mentorStatusChanged(mentorId: "mentor-001") { status } }'


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> float:
        """Send SIGTERM; when it was sent (time.monotonic)."""
        self.process.send_signal(signal.SIGTERM)
        return time.monotonic()

    async def exit_status(self, within: float) -> int:
        deadline = time.monotonic() + within
        while (status := self.process.poll()) is None:
            assert time.monotonic() < deadline, f"still running after {within} s"
            await asyncio.sleep(0.05)
        return status

    def refuses_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False


@contextmanager
def serving(database_url: str, log: Path, *, grace: float, workers: int = 1) -> Iterator[Server]:
    """`mentor-gateway serve` itself (its uvicorn options are what is tested), in a process of
    its own so that the test can signal it; its output goes to `log`."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SHUTDOWN_GRACE_SECONDS": str(grace),
    }
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    with log.open("wb") as output:
        # A session of its own: if the test fails, its workers go too (a killed supervisor
        # would leave them running).
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=output, start_new_session=True
        )
    server = Server(process, port, log)
    try:
        # A loaded machine starts two workers slowly.
        wait_until_healthy(process, server.base, 60, lambda: f"did not start: {log.read_text()}")
        yield server
    finally:
        with suppress(ProcessLookupError):  # none left: it stopped as it should
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@asynccontextmanager
async def status_locked(database: Database, mentor_id: str) -> AsyncIterator[None]:
    """Hold, in another transaction, the lock a status write takes first (models/database.py
    `begin_write`, then the status row FOR UPDATE); released (rolled back) on exit."""
    async with database.sessions() as session:
        await begin_write(session)
        await session.execute(status_of(mentor_id, for_update=True))
        yield
        await session.rollback()


async def subscribed(base: str) -> Any:
    """A graphql-transport-ws connection with a subscription running on it."""
    url = base.replace("http://", "ws://") + "/graphql"
    connection = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await connection.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": WATCH}}
    await connection.send(json.dumps(subscribe))
    return connection


async def close_frame(connection: Any) -> tuple[int, str, float]:
    """Wait for the server to close `connection`: its close code, reason, and when."""
    try:
        async with asyncio.timeout(GRACE_SECONDS):
            while True:
                await connection.recv()
    except websockets.ConnectionClosed as closed:
        frame, closed_at = closed.rcvd, time.monotonic()
    assert frame is not None, "closed without a close frame"
    return frame.code, frame.reason, closed_at


async def put_status(base: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=GRACE_SECONDS * 2) as client:
        return await client.put(f"/api/v1/mentor-statuses/{MENTOR}", json={"status": "inactive"})


async def test_sigterm_finishes_the_request_in_flight_and_closes_websockets_going_away(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await make_mentor(database, id=MENTOR)
    with serving(database_url, tmp_path / "server.log", grace=GRACE_SECONDS) as server:
        sockets = [await subscribed(server.base) for _ in range(2)]
        async with status_locked(database, MENTOR):
            in_flight = asyncio.create_task(put_status(server.base))
            await asyncio.sleep(0.5)  # the PUT is now waiting for the lock
            assert not in_flight.done()
            stopped_at = server.stop()
            for connection in sockets:
                code, reason, closed_at = await close_frame(connection)
                assert (code, reason) == (1001, "Server shutting down")
                # At once: not when the draining ends (the PUT still waits) nor the grace does.
                assert closed_at - stopped_at < 1.0
            while not server.refuses_connections():
                assert time.monotonic() - stopped_at < 2.0, "still accepting connections"
                await asyncio.sleep(0.05)
            assert not in_flight.done()
        # Lock released: the PUT goes on, and is answered as it would be on any other day.
        response = await in_flight
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "inactive"
        assert await server.exit_status(within=GRACE_SECONDS - (time.monotonic() - stopped_at)) == 0
    log = server.log.read_text()
    assert "Application shutdown complete" in log  # the lifespan's: broker stopped, pools gone
    assert "Traceback" not in log, log


async def test_with_workers_a_request_outlasting_the_grace_period_is_cut_and_the_server_exits(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """The container's way (`--workers 2`): uvicorn's supervisor passes SIGTERM on to each
    worker, and each closes its own websockets."""
    await make_mentor(database, id=MENTOR)
    grace = 1.0
    with serving(database_url, tmp_path / "server.log", grace=grace, workers=2) as server:
        sockets = [await subscribed(server.base) for _ in range(4)]
        async with status_locked(database, MENTOR):
            in_flight = asyncio.create_task(put_status(server.base))
            await asyncio.sleep(0.5)
            stopped_at = server.stop()
            for connection in sockets:
                assert (await close_frame(connection))[0] == 1001
            try:
                answer: int | None = (await in_flight).status_code
            except httpx.RemoteProtocolError:
                answer = None
            # Cut once the grace period was over, not before: uvicorn answers a task it cancelled
            # with 500, unless the worker is gone first (SQLite: the cancelled write still waits
            # in the driver's thread, which the exit does not wait for).
            assert time.monotonic() - stopped_at >= grace
            assert answer in (500, None)
            assert await server.exit_status(within=grace + 3) == 0
    assert "timeout graceful shutdown exceeded" in server.log.read_text()
