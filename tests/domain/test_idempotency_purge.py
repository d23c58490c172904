"""The periodic purge of expired Idempotency-Keys (domain.idempotency): it forgets only keys
older than KEEP_KEYS_FOR, and on SQLite it waits for the write lock briefly, not for the busy
timeout: another process holding the lock must neither stall it nor (its wait runs in the
driver's thread, which cancelling cannot stop) hold up the server's shutdown."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from domain.idempotency import KEEP_KEYS_FOR, purge_expired_keys, purge_periodically
from models.database import SQLITE_BUSY_TIMEOUT_MS, Database, is_unavailable
from models.sync import IdempotencyRecord
from models.types import utcnow


async def store_keys(database: Database, *ages: timedelta) -> None:
    async with database.sessions() as session:
        for n, age in enumerate(ages):
            session.add(
                IdempotencyRecord(
                    scope="sync_event",
                    mentor_id="mentor-001",
                    key=f"key-{n}",
                    fingerprint="0" * 64,
                    response={"id": f"event-{n}"},
                    created_at=utcnow() - age,
                )
            )
        await session.commit()


async def kept_keys(database: Database) -> list[str]:
    async with database.sessions() as session:
        keys = await session.execute(
            select(col(IdempotencyRecord.key)).order_by(col(IdempotencyRecord.key))
        )
        return list(keys.scalars())


async def test_only_expired_keys_are_forgotten(database: Database) -> None:
    hour = timedelta(hours=1)
    await store_keys(database, KEEP_KEYS_FOR + hour, KEEP_KEYS_FOR - hour, timedelta(0))
    await purge_expired_keys(database)
    assert await kept_keys(database) == ["key-1", "key-2"]


def hold_write_lock(database: Database) -> sqlite3.Connection:
    """Another process's writer (the CLI import, another worker) in the middle of its work."""
    holder = sqlite3.connect(database.url.removeprefix("sqlite+aiosqlite:///"))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_a_busy_sqlite_database_postpones_the_purge_at_once(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    await store_keys(database, KEEP_KEYS_FOR * 2)
    holder = hold_write_lock(database)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked") as refused:
            await purge_expired_keys(database)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert is_unavailable(refused.value)  # quietly postponed by purge_periodically
    assert waited < SQLITE_BUSY_TIMEOUT_MS / 1000 / 10
    # The connection went back to the pool with the usual timeout: a request's writes wait.
    async with database.engine.connect() as connection:
        timeout = await connection.exec_driver_sql("PRAGMA busy_timeout")
        assert timeout.scalar_one() == SQLITE_BUSY_TIMEOUT_MS
    await purge_expired_keys(database)  # the next round, the lock free again
    assert await kept_keys(database) == []


async def test_the_periodic_purge_stops_at_once_while_the_lock_is_held(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    holder = hold_write_lock(database)
    try:
        purging = asyncio.create_task(purge_periodically(database, every=0.05))
        await asyncio.sleep(0.6)  # a few rounds, each refused
        purging.cancel()
        async with asyncio.timeout(1):  # the server's shutdown awaits this
            with pytest.raises(asyncio.CancelledError):
                await purging
    finally:
        holder.rollback()
        holder.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with database.sessions() as session:  # the database is still usable
        assert (
            await session.execute(select(func.count()).select_from(IdempotencyRecord))
        ).scalar_one() == 0
