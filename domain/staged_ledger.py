"""Importing a whole file into the ledger: stage its rows, then merge them in a few statements.

`LedgerWriter` (domain.ledger) judges rows a chunk at a time, in Python, with a query per chunk;
right for a GraphQL batch of at most 1,000, but a file of a million rows spent most of its time
in those round trips and bound parameters. `StagedImport` copies the file's valid rows into a
temporary table as they stream by (memory holds one chunk) and, at the end, lets the database
judge, upsert, and list the touched mentors, once for the whole file (models.staging). The
outcome is the same rows, counts and announcements as the writer's, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Index, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from domain.activity_rows import Staged
from domain.ledger import INGEST_LOCK, IngestCounts, create_mentors, refresh_running_totals
from domain.milestones import detect_from_ledger
from models.activities import activity_table
from models.database import copy_rows, take_transaction_lock
from models.ingest import refresh_statistics
from models.mentors import Mentor
from models.staging import (
    INDEX_ROWS,
    NEW_MENTORS,
    ROW_COLUMNS,
    TOUCHED_IDS,
    TOUCHED_MENTORS,
    UPSERT_CHANGED,
    VERDICTS,
    drop_staging,
    import_mentor,
    import_row,
)
from models.types import driver_utc

LARGE_LOAD = 50_000  # staged rows: below this, rebuilding the ledger's indexes gains nothing


def _secondary_indexes() -> list[Index]:
    return sorted(activity_table().indexes, key=lambda index: str(index.name))


def _drop_secondary_indexes(connection: Connection) -> None:
    for index in _secondary_indexes():
        index.drop(connection)


def _create_secondary_indexes(connection: Connection) -> None:
    for index in _secondary_indexes():
        index.create(connection)


@dataclass
class StagedImport:
    """One file's rows, staged as they are read; `finish` merges them into the ledger."""

    session: AsyncSession
    now: datetime
    _staged: int = 0

    @cached_property
    def _utc(self) -> Callable[[datetime], Any]:
        """The driver's form of a timestamp (what UTCDateTime stores)."""
        return driver_utc(self.session.get_bind().dialect.name)

    @classmethod
    async def open(cls, session: AsyncSession, *, now: datetime) -> StagedImport:
        await take_transaction_lock(session, INGEST_LOCK)
        connection = await session.connection()
        await connection.run_sync(lambda sync: import_row.create(sync))
        await connection.run_sync(lambda sync: import_mentor.create(sync))
        return cls(session, now)

    async def add(self, rows: Sequence[Staged]) -> None:
        """Stage rows (in FIELDS order), after every row staged before them."""
        utc, first = self._utc, self._staged
        tuples = [
            (first + n, id, mentor, name, kind, contact, utc(at), minutes, status)
            for n, (id, mentor, name, kind, contact, at, minutes, status) in enumerate(rows)
        ]
        await copy_rows(self.session, import_row, ROW_COLUMNS, tuples)
        self._staged += len(tuples)

    async def _analyze(self, *tables: str) -> None:
        """Statistics, in the import's transaction, for tables it just filled (PostgreSQL)."""
        statement = refresh_statistics(self.session.get_bind().dialect.name, tables)
        if statement is not None:
            await self.session.execute(statement)

    async def _upsert(self) -> None:
        """The changed rows into the ledger. A load at least the ledger's size drops the
        ledger's secondary indexes first and builds them after: one sort each, instead of a
        B-tree insert per row (on the 1M ledger, most of the import's time). PostgreSQL locks
        the ledger against readers until the commit then; SQLite's readers keep their snapshot.
        """
        session = self.session
        ledger = await session.scalar(select(func.count()).select_from(activity_table()))
        rebuild = self._staged >= (ledger or 0) and self._staged >= LARGE_LOAD
        connection = await session.connection()
        if rebuild:
            await connection.run_sync(_drop_secondary_indexes)
        await session.execute(UPSERT_CHANGED)
        if rebuild:
            await connection.run_sync(_create_secondary_indexes)

    async def finish(self) -> IngestCounts:
        """Merge the staged rows: counts, new mentors, the upsert, running totals, milestones."""
        session = self.session
        await session.execute(INDEX_ROWS)
        await self._analyze("import_row")
        # The verdicts are IngestCounts' own field names; one absent from the file stays 0.
        counts = IngestCounts(**{str(v): int(n) for v, n in await session.execute(VERDICTS)})
        new: dict[str, str] = {m: str(name) for m, name in await session.execute(NEW_MENTORS)}
        await create_mentors(session, new, now=self.now)
        await session.execute(TOUCHED_MENTORS)
        await self._upsert()
        await self._analyze("activity", "import_mentor")
        touched = list((await session.scalars(TOUCHED_IDS)).all())
        if touched:
            await refresh_running_totals(session, select(import_mentor.c.mentor_id))
            everyone = await session.scalar(select(func.count()).select_from(Mentor))
            # Every mentor touched (a first import): one pass over the ledger, not id lists.
            await detect_from_ledger(
                session, mentor_ids=None if everyone == len(touched) else touched
            )
        for statement in drop_staging():
            await session.execute(statement)
        return counts
