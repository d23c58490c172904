"""Writing the activity ledger: idempotent by activity id, batched, running totals kept exact.

A repeated id with the same data changes nothing; with different data it updates the row. The
writer runs inside the caller's transaction and never commits: a GraphQL batch is one
transaction, so it lands entirely or not at all. Whole files take the staged path
(domain.staged_ledger), which shares this module's mentor creation and running totals, and a
test holds its outcome to this writer's (tests/test_import_staged.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.activities import ActivityInput, ActivityRules
from domain.errors import BadInput
from domain.events import record_status_change
from domain.milestones import detect_from_ledger
from domain.status_rules import StatusValue
from models.activities import ledger_rows
from models.database import take_transaction_lock
from models.ingest import (
    drop_running_totals,
    insert_new_mentors,
    insert_statuses,
    known_activity_type_ids,
    known_mentor_ids,
    new_ledger_version,
    rebuild_running_totals,
    upsert_activities,
)
from models.statuses import MentorStatus

T = TypeVar("T")
CHUNK_SIZE = 2_000  # rows per statement: well under both dialects' bind-parameter limits
MENTOR_CHUNK = 500
# PostgreSQL: ingests take turns, so each rebuilds running totals from a ledger no other
# ingest is changing underneath it (SQLite's write lock already serialises writers).
INGEST_LOCK = 2026_0004


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class IngestCounts:
    """What an ingest did with the rows it was given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


async def activity_types(session: AsyncSession) -> frozenset[str]:
    """Ids of the activity types activities may name."""
    return frozenset((await session.scalars(known_activity_type_ids())).all())


@dataclass
class LedgerWriter:
    """Writes validated activities in chunks; `finish` brings running totals up to date."""

    session: AsyncSession
    now: datetime
    counts: IngestCounts = field(default_factory=IngestCounts)
    _touched: set[str] = field(default_factory=set)  # mentors whose running totals changed

    @classmethod
    async def open(cls, session: AsyncSession, *, now: datetime) -> LedgerWriter:
        await take_transaction_lock(session, INGEST_LOCK)
        return cls(session, now)

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def write(self, activities: Sequence[ActivityInput]) -> None:
        """Insert new ids, update changed ones, skip identical ones (in order, last wins)."""
        for chunk in chunked(activities, CHUNK_SIZE):
            changed = await self._classify(chunk)
            if changed:
                await self._create_mentors(changed)
                rows = [activity.row() for activity in changed]
                await self.session.execute(upsert_activities(self._dialect), rows)

    async def _classify(self, chunk: list[ActivityInput]) -> list[ActivityInput]:
        ids = list({activity.id for activity in chunk})
        state: dict[str, tuple[Any, ...]] = {
            row[0]: tuple(row[1:]) for row in await self.session.execute(ledger_rows(ids))
        }
        latest: dict[str, ActivityInput] = {}
        for activity in chunk:
            before, after = state.get(activity.id), activity.stored()
            if before == after:
                self.counts.unchanged += 1
                continue
            if before is None:
                self.counts.inserted += 1
            else:
                self.counts.updated += 1
                self._touched.add(before[0])  # the mentor it belonged to
            self._touched.add(activity.mentor_id)
            state[activity.id] = after
            latest[activity.id] = activity
        return list(latest.values())

    async def _create_mentors(self, activities: list[ActivityInput]) -> None:
        names: dict[str, str] = {}
        for activity in activities:
            names.setdefault(activity.mentor_id, activity.mentor_name or activity.mentor_id)
        known = set((await self.session.scalars(known_mentor_ids(list(names)))).all())
        new = {mentor_id: name for mentor_id, name in names.items() if mentor_id not in known}
        await create_mentors(self.session, new, now=self.now)

    async def finish(self) -> IngestCounts:
        """Rebuild the running totals and milestones of every mentor this ingest touched."""
        await refresh_running_totals(self.session, self._touched)
        # Milestones follow the ledger in the same transaction (docs/domain.md: never out of step).
        await detect_from_ledger(self.session, mentor_ids=sorted(self._touched))
        self._touched.clear()
        return self.counts


async def create_mentors(session: AsyncSession, names: Mapping[str, str], *, now: datetime) -> None:
    """Create these mentors (id: name), each with a first status, announced on commit."""
    if not names:
        return
    dialect = session.get_bind().dialect.name
    mentors = [{"id": m, "name": name, "created_at": now} for m, name in names.items()]
    await session.execute(insert_new_mentors(dialect), mentors)
    # Every mentor has a status, and every new mentor starts active (domain.mentors).
    statuses = [
        MentorStatus(mentor_id=mentor_id, status=StatusValue.ACTIVE, last_updated=now)
        for mentor_id in names
    ]
    await session.execute(insert_statuses(dialect), [_status_row(status) for status in statuses])
    for status in statuses:
        record_status_change(session, status)


async def refresh_running_totals(
    session: AsyncSession, mentor_ids: Iterable[str] | Select[tuple[str]]
) -> None:
    """Recompute these mentors' running totals from the ledger, and mark the ledger changed.

    Every writer of the ledger calls this in its own transaction (the ingest above, the file
    import, the demo seeder), so the totals, and the caches keyed on the ledger version, are
    never stale. The mentors are ids, or a query naming them (the import's staging table).
    """
    if isinstance(mentor_ids, Select):
        batches: Iterable[Sequence[str] | Select[tuple[str]]] = [mentor_ids]
    else:
        touched = sorted(set(mentor_ids))
        if not touched:
            return
        batches = chunked(touched, MENTOR_CHUNK)
    for batch in batches:
        await session.execute(drop_running_totals(batch))
        await session.execute(rebuild_running_totals(batch))
    await session.execute(new_ledger_version(secrets.token_hex(16)))


def _status_row(status: MentorStatus) -> dict[str, Any]:
    return {
        "mentor_id": status.mentor_id,
        "status": status.status,
        "metadata": status.extra,
        "last_updated": status.last_updated,
        "version": status.version,
    }


MAX_BATCH = 1_000


async def record_activities(
    session: AsyncSession, activities: Sequence[ActivityInput], *, now: datetime
) -> IngestCounts:
    """Validate a batch (all of it, or nothing is written), then write it."""
    if len(activities) > MAX_BATCH:
        raise BadInput.field("activities", f"at most {MAX_BATCH} per batch; import bigger sets")
    rules = ActivityRules(await activity_types(session), now)
    problems: dict[str, str] = {}
    for index, activity in enumerate(activities):
        try:
            rules.check(activity)
        except BadInput as error:
            prefix = f"{index}." if len(activities) > 1 else ""
            problems.update({prefix + name: text for name, text in error.fields.items()})
    if problems:
        summary = "; ".join(f"{name}: {text}" for name, text in problems.items())
        raise BadInput(f"invalid activities: {summary}", fields=problems)
    writer = await LedgerWriter.open(session, now=now)
    await writer.write(activities)
    return await writer.finish()
