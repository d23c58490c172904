"""Operator tasks the CLI runs outside a request: each one unit of work, like a mutation."""

from __future__ import annotations

import time

from domain.milestones import detect_from_ledger
from models.database import Database, begin_write, count_statements


async def recompute_milestones(database_url: str) -> str:
    """Bring every mentor's milestones up to date; one transaction, a fixed number of statements."""
    database = Database(database_url)
    started = time.perf_counter()
    try:
        async with count_statements() as counter, database.sessions() as session:
            await begin_write(session)
            detection = await detect_from_ledger(session)
            await session.commit()
    finally:
        await database.dispose()
    seconds = time.perf_counter() - started
    return (
        f"{detection.mentors} mentors, {detection.newly_achieved} newly achieved, "
        f"{detection.rows_written} rows written, {counter.count} SQL statements, {seconds:.2f} s"
    )
