"""PostgreSQL LISTEN/NOTIFY: how committed changes reach every server process.

NOTIFY is transactional: PostgreSQL delivers it when (and only if) the transaction commits, so a
notification sent inside the unit of work can never announce a rolled-back change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
    if the connection drops."""

    def __init__(
        self, database_url: str, on_payload: Callable[[str], None], *, channel: str = CHANNEL
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_payload = on_payload
        self._channel = channel
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

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
                await self._listen_until_closed()
            except (OSError, asyncpg.PostgresError) as error:
                logger.warning("LISTEN connection lost (%s); reconnecting", error)
            self._listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_until_closed(self) -> None:
        closed = asyncio.Event()
        connection = await asyncpg.connect(self._dsn)
        try:
            connection.add_termination_listener(lambda _: closed.set())
            await connection.add_listener(
                self._channel, lambda _conn, _pid, _channel, payload: self._on_payload(payload)
            )
            self._listening.set()
            await closed.wait()
        finally:
            await connection.close()
