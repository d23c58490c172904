"""SQLite writers of one process take the write lock in the order they asked (models.database
`Database.write_turn`, held by graph.context's unit of work), and a waiter the request deadline
cancels leaves the queue without keeping the gate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from models.database import Database

WRITERS = 16


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'order.db'}")


async def test_writers_are_served_in_arrival_order(sqlite_database: Database) -> None:
    served: list[int] = []

    async def writer(n: int) -> None:
        async with sqlite_database.write_turn():
            served.append(n)
            await asyncio.sleep(0.001)  # the turn is held across awaits, as a transaction is

    tasks = []
    for n in range(WRITERS):
        tasks.append(asyncio.create_task(writer(n)))
        await asyncio.sleep(0)  # each asks before the next is created
    await asyncio.gather(*tasks)
    assert served == list(range(WRITERS))


async def test_a_cancelled_waiter_leaves_the_queue(sqlite_database: Database) -> None:
    served: list[str] = []
    holder_in = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with sqlite_database.write_turn():
            holder_in.set()
            await release.wait()
            served.append("holder")

    async def impatient() -> None:
        async with asyncio.timeout(0.05), sqlite_database.write_turn():
            served.append("impatient")  # never: the deadline passes first

    first = asyncio.create_task(holder())
    await holder_in.wait()
    with pytest.raises(TimeoutError):
        await impatient()
    release.set()
    await first
    async with asyncio.timeout(1), sqlite_database.write_turn():
        served.append("later")
    assert served == ["holder", "later"]
    assert not sqlite_database.write_turn().locked()  # type: ignore[attr-defined]


async def test_postgres_needs_no_gate() -> None:
    database = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        async with database.write_turn(), database.write_turn():
            pass  # not a lock: nesting does not deadlock
    finally:
        await database.dispose()
