"""PostgreSQL LISTEN/NOTIFY: how committed changes reach every server process.

NOTIFY is transactional: PostgreSQL delivers it when (and only if) the transaction commits, so a
notification sent inside the unit of work can never announce a rolled-back change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger("mentor_gateway.notify")

CHANNEL = "mentor_gateway_changes"
MAX_PAYLOAD_BYTES = 7_900  # PostgreSQL refuses payloads of 8,000 bytes or more
RECONNECT_SECONDS = 1.0
START_TIMEOUT = 10.0


async def notify(session: AsyncSession, payload: str, *, channel: str = CHANNEL) -> None:
    """Queue a notification on the session's transaction; it is sent at commit."""
    await session.execute(select(func.pg_notify(channel, payload)))


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One LISTEN connection per process that hands each payload to `on_payload`, reconnecting
    if the connection drops or stops answering.

    A dropped connection is noticed at once (asyncpg's termination callback); a hung one (a
    frozen server, a partition) only by asking: every `check_seconds` it must answer a
    `SELECT 1` within `timeout_seconds`, as must each connect. An outage is logged once when it
    starts and once when LISTEN is back, not at every attempt. Notifications sent while it is
    down are not replayed: subscribers see the next change.
    """

    def __init__(
        self,
        database_url: str,
        on_payload: Callable[[str], None],
        *,
        channel: str = CHANNEL,
        timeout_seconds: float = 5.0,
        check_seconds: float = 10.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_payload = on_payload
        self._channel = channel
        self._timeout = timeout_seconds
        self._check_every = check_seconds
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lost_at: float | None = None  # monotonic time the current outage began

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        """Return once the first LISTEN is in place (or raise after START_TIMEOUT seconds)."""
        self._task = asyncio.create_task(self._run(), name="pg-listener")
        async with asyncio.timeout(START_TIMEOUT):
            await self._listening.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if self._lost_at is None:
                    self._lost_at = time.monotonic()
                    logger.warning(
                        "LISTEN connection lost (%s: %s); live updates resume once it is back",
                        type(error).__name__,
                        error,
                    )
            self._listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_until_lost(self) -> None:
        closed = asyncio.Event()
        connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
        try:
            connection.add_termination_listener(lambda _: closed.set())
            await connection.add_listener(
                self._channel, lambda _conn, _pid, _channel, payload: self._on_payload(payload)
            )
            self._listening.set()
            if self._lost_at is not None:
                logger.info(
                    "LISTEN connection back, after %.1f s", time.monotonic() - self._lost_at
                )
                self._lost_at = None
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._check_every):
                        await closed.wait()
                if not closed.is_set():
                    async with asyncio.timeout(self._timeout):
                        await connection.fetchval("SELECT 1")
            raise ConnectionResetError("the server closed the connection")
        finally:
            connection.terminate()  # no graceful close: the peer may be gone or frozen
