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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.activity_rows import Staged
from domain.ledger import INGEST_LOCK, IngestCounts, create_mentors, refresh_running_totals
from domain.milestones import detect_from_ledger
from models.activities import activity_table
from models.bulk_load import (
    add_foreign_keys,
    create_ledger_indexes,
    drop_foreign_keys,
    drop_ledger_indexes,
)
from models.database import copy_rows, take_transaction_lock
from models.ingest import refresh_statistics
from models.mentors import Mentor
from models.staging import (
    DISTINCT_IDS,
    INDEX_ROWS,
    NEW_MENTORS,
    ROW_COLUMNS,
    TOUCHED_IDS,
    VERDICTS,
    drop_staging,
    import_mentor,
    import_row,
    touched_mentors,
    upsert_changed,
)
from models.types import driver_utc

# Staged rows: below this, taking the ledger's indexes and keys off and back (models.bulk_load)
# gains nothing.
LARGE_LOAD = 50_000


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

    def _large(self, ledger: int) -> bool:
        """At least the ledger's size: the load goes faster without the ledger's per-row
        upkeep (models.bulk_load), which is put back after it."""
        return self._staged >= ledger and self._staged >= LARGE_LOAD

    async def _upsert(self, *, large: bool, every_row_new: bool) -> None:
        """The changed rows into the ledger; a large load without the ledger's secondary
        indexes and foreign keys. The indexes are back before anything reads the ledger."""
        session = self.session
        connection = await session.connection()
        if large:
            await connection.run_sync(drop_ledger_indexes)
            await connection.run_sync(drop_foreign_keys)
        await session.execute(upsert_changed(every_row_new=every_row_new))
        if large:
            await connection.run_sync(create_ledger_indexes)

    async def _counts(self, *, ledger: int) -> tuple[IngestCounts, bool]:
        """The verdicts, and whether every staged row is new. Into an empty ledger with no id
        twice (a first import) every row is inserted: no row needs judging, which on the 1M
        ledger is the costliest statement after the upsert."""
        if ledger == 0 and await self.session.scalar(DISTINCT_IDS) == self._staged:
            return IngestCounts(inserted=self._staged), True
        # The verdicts are IngestCounts' own field names; one absent from the file stays 0.
        found = await self.session.execute(VERDICTS)
        return IngestCounts(**{str(v): int(n) for v, n in found}), False

    async def finish(self) -> IngestCounts:
        """Merge the staged rows: counts, new mentors, the upsert, running totals, milestones."""
        session = self.session
        await session.execute(INDEX_ROWS)
        await self._analyze("import_row")
        ledger = await session.scalar(select(func.count()).select_from(activity_table())) or 0
        counts, every_row_new = await self._counts(ledger=ledger)
        new: dict[str, str] = {m: str(name) for m, name in await session.execute(NEW_MENTORS)}
        await create_mentors(session, new, now=self.now)
        await session.execute(touched_mentors(every_row_new=every_row_new))
        large = self._large(ledger)
        await self._upsert(large=large, every_row_new=every_row_new)
        await self._analyze("activity", "import_mentor")
        touched = list((await session.scalars(TOUCHED_IDS)).all())
        if touched:
            await refresh_running_totals(session, select(import_mentor.c.mentor_id))
        if large:  # after the running totals, which a large load rebuilds without them too
            await (await session.connection()).run_sync(add_foreign_keys)
        if touched:
            everyone = await session.scalar(select(func.count()).select_from(Mentor))
            # Every mentor touched (a first import): one pass over the ledger, not id lists.
            await detect_from_ledger(
                session, mentor_ids=None if everyone == len(touched) else touched
            )
        for statement in drop_staging():
            await session.execute(statement)
        return counts
