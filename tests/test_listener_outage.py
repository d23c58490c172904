"""The LISTEN connection that feeds subscriptions survives an outage: a refused or a hanging
PostgreSQL (tests/tcp_proxy.py between them), one log line each way, and notifications flow
again once it is back, without a restart. The test makes its own channel on the server's
`postgres` database, so it runs in the SQLite run only (`own_databases`), where PostgreSQL
being unreachable fails it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from models.notify import Listener
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.own_databases
HOST, PORT = "127.0.0.1", 5432
SERVER = f"postgresql://postgres@{HOST}:{PORT}/postgres"
LOGGER = "mentor_gateway.notify"


@pytest.fixture
async def notifier() -> AsyncIterator[asyncpg.Connection]:
    try:
        connection = await asyncpg.connect(SERVER, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:  # never skip: this test needs PostgreSQL
        pytest.fail(f"PostgreSQL at {HOST}:{PORT} is unreachable: {error}")
    yield connection
    await connection.close()


async def delivered(
    notifier: asyncpg.Connection, channel: str, received: asyncio.Queue[str], seconds: float
) -> bool:
    """Whether a NOTIFY sent now reaches the listener within `seconds` (retried meanwhile)."""
    payload = uuid.uuid4().hex
    try:
        async with asyncio.timeout(seconds):
            while True:
                await notifier.execute("SELECT pg_notify($1, $2)", channel, payload)
                try:
                    async with asyncio.timeout(0.3):
                        while await received.get() != payload:
                            pass
                    return True
                except TimeoutError:
                    continue
    except TimeoutError:
        return False


@pytest.mark.parametrize("outage", ["refuse", "hang"])
async def test_the_listener_comes_back_after_an_outage_and_logs_it_once(
    notifier: asyncpg.Connection, outage: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = f"listener_test_{uuid.uuid4().hex[:8]}"
    received: asyncio.Queue[str] = asyncio.Queue()
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with TcpProxy(HOST, PORT) as proxy:
        listener = Listener(
            f"postgresql+asyncpg://postgres@{HOST}:{proxy.port}/postgres",
            received.put_nowait,
            channel=channel,
            timeout_seconds=0.5,
            check_seconds=0.3,
        )
        await listener.start()
        try:
            assert await delivered(notifier, channel, received, 5)
            await (proxy.refuse() if outage == "refuse" else proxy.hang())
            # A hung connection is found by the liveness check: check + timeout, then retries.
            await asyncio.sleep(3)
            assert not listener.listening
            assert not await delivered(notifier, channel, received, 1)
            await proxy.restore()
            assert await delivered(notifier, channel, received, 10)
            assert listener.listening
        finally:
            await listener.stop()
    lines = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelname for r in lines] == ["WARNING", "INFO"], [r.getMessage() for r in lines]
    assert lines[1].getMessage().startswith("LISTEN connection back, after ")
