"""Milestone detection, from the activity ledger or from a posted annual summary.

Both paths compute what each mentor has reached, then `_settle` turns that into rows: every
achieved milestone plus, per type, the next one as `in_progress`. Detection is idempotent and
monotonic: an achieved milestone stays achieved and keeps its earliest `achieved_at`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.crossings import Entry, Ladders, LedgerScan, Standing
from domain.errors import BadInput, NotFound
from domain.events import record_change
from domain.periods import FIRST_YEAR, LAST_YEAR, check_calendar_date, local_midnight
from domain.validation import MAX_COUNT, MAX_FIGURE, check_id, check_number, number_problem
from models.database import feed_rows, write_many
from models.mentors import Mentor, all_mentor_ids
from models.milestones import (
    UPSERT_COLUMNS,
    completed_ledger,
    definitions,
    delete_milestones,
    milestones_of,
    upsert_milestones,
    upsert_rows,
)
from models.types import new_version, stored_text, stored_utc, utcnow

MILESTONE_ACHIEVED = "milestone_achieved"


class MilestoneType(StrEnum):
    HOURS_LOGGED = "hours_logged"
    CONTACTS_HELPED = "contacts_helped"
    ACTIVITY_COUNT = "activity_count"


class MilestoneStatus(StrEnum):
    ACHIEVED = "achieved"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class Totals:
    """A mentor's standing: completed hours, distinct contacts, completed activities."""

    hours: float = 0.0
    contacts: float = 0.0
    activities: float = 0.0

    def of(self, kind: str) -> float:
        return {
            MilestoneType.HOURS_LOGGED: self.hours,
            MilestoneType.CONTACTS_HELPED: self.contacts,
            MilestoneType.ACTIVITY_COUNT: self.activities,
        }[MilestoneType(kind)]


@dataclass(frozen=True, kw_only=True)
class Summary:
    """A posted annual summary (POST /api/v1/milestones)."""

    mentor_id: str
    year: int | None
    start_date: date | None
    end_date: date | None
    total_hours: float
    unique_contacts_helped: int
    activity_count: int


def milestone_id(mentor_id: str, definition_key: str) -> str:
    """Stable for its (mentor, definition) pair, and readable: `milestone_100h:mentor_001`."""
    return f"{definition_key}:{mentor_id}"


# The largest figure any row may hold: a summary's counts go up to MAX_COUNT, hours and an
# admin's corrections up to MAX_FIGURE.
MAX_STORED_FIGURE = max(MAX_FIGURE, MAX_COUNT)


def readable_figure(value: object) -> float | None:
    """A stored figure the domain can compute with, or None for one it would refuse as input
    (NaN, Infinity, negative, past MAX_STORED_FIGURE), which older versions stored."""
    if number_problem(value, high=MAX_STORED_FIGURE) is not None:
        return None
    assert isinstance(value, int | float)
    return float(value)


def progress_percentage(value: float, threshold: int) -> int:
    return min(100, int(100 * value // threshold))


# Hours are printed to hundredths; counts are whole numbers (docs/domain.md, "Milestones").
_PER_HOUR = 100  # hundredths


def printed_figure(kind: str, value: float) -> int | float:
    """A figure as clients read it: a count is an int (JSON `47`, never `47.0`), hours are a
    float rounded once, here, to hundredths."""
    if MilestoneType(kind) is MilestoneType.HOURS_LOGGED:
        return round(value * _PER_HOUR) / _PER_HOUR
    return round(value)


def remaining_figure(kind: str, threshold: int, value: float) -> int | float:
    """threshold - printed value, never below 0, computed on the printed value (in hundredths
    for hours), so that `value + remaining == threshold` holds exactly as printed."""
    if MilestoneType(kind) is MilestoneType.HOURS_LOGGED:
        hundredths = max(0, threshold * _PER_HOUR - round(value * _PER_HOUR))
        return hundredths / _PER_HOUR
    return max(0, threshold - round(value))


class Stored(NamedTuple):
    """A stored milestone as detection reads it (`_existing`); a status this version does not
    know is not "achieved", so the row is rewritten."""

    id: str
    status: str
    value: float
    achieved_at: datetime | None
    created_at: datetime


@dataclass(slots=True)
class Planned:
    """A milestone row to write. Plain, not an ORM object: detection plans ~100k of them at
    the scale of the benchmark, and building SQLModel instances cost 15 s of the run."""

    id: str
    mentor_id: str
    definition_key: str
    status: str
    value: float
    achieved_at: datetime | None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: str = ""

    def model_dump(self, *, mode: str = "python") -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every value (12% of an import's main thread).
        row = {name: getattr(self, name) for name in self.__slots__}
        if mode == "json":
            row = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        return row


@dataclass
class _Plan:
    upserts: list[Planned]
    deletions: list[str]
    achieved_now: list[Planned]


def _settle(
    mentor_id: str,
    catalogue: Catalogue,
    totals: Totals,
    reached: dict[str, datetime],
    existing: dict[str, Stored],
    now: datetime,
) -> _Plan:
    """The rows one mentor should have, given what it reached; only changed rows are written."""
    plan = _Plan([], [], [])
    for kind, ladder in catalogue.ladders.items():
        value = totals.of(kind)
        next_found = False
        for item in ladder:
            old = existing.get(item.key)
            was_achieved = old is not None and old.status == MilestoneStatus.ACHIEVED
            if was_achieved or item.key in reached:
                _achieve(plan, mentor_id, item, old, value, reached.get(item.key), now)
            elif not next_found:
                next_found = True
                _keep(
                    plan, _row(mentor_id, item, MilestoneStatus.IN_PROGRESS, value, None), old, now
                )
            elif old is not None:
                plan.deletions.append(old.id)  # an in-progress row that is no longer "next"
    return plan


def _achieve(
    plan: _Plan,
    mentor_id: str,
    item: Entry,
    old: Stored | None,
    value: float,
    reached_at: datetime | None,
    now: datetime,
) -> None:
    was_achieved = old is not None and old.status == MilestoneStatus.ACHIEVED
    moments = [m for m in (reached_at, old.achieved_at if was_achieved and old else None) if m]
    if was_achieved and old:  # a stored figure that cannot be read is replaced by this one
        value = max(value, readable_figure(old.value) or 0.0)
    row = _row(mentor_id, item, MilestoneStatus.ACHIEVED, value, min(moments, default=now))
    if _keep(plan, row, old, now) and not was_achieved:
        plan.achieved_now.append(row)


def _row(mentor_id: str, item: Entry, status: str, value: float, at: datetime | None) -> Planned:
    return Planned(
        id=milestone_id(mentor_id, item.key),
        mentor_id=mentor_id,
        definition_key=item.key,
        status=status,
        value=round(value, 4),
        achieved_at=at,
    )


def _keep(plan: _Plan, row: Planned, old: Stored | None, now: datetime) -> bool:
    """Queue `row` unless it says what `old` says; True when it was queued."""
    if old is not None and (old.status, old.value, old.achieved_at) == (
        row.status,
        row.value,
        row.achieved_at,
    ):
        return False
    row.created_at = old.created_at if old is not None else now
    row.updated_at = now
    row.version = new_version()
    plan.upserts.append(row)
    return True


async def _apply(session: AsyncSession, plans: Iterable[_Plan]) -> int:
    """Write every plan with one upsert and one delete; announce new achievements."""
    upserts, deletions, achieved = [], [], 0
    for plan in plans:
        upserts += plan.upserts
        deletions += plan.deletions
        for row in plan.achieved_now:
            record_change(session, topic=MILESTONE_ACHIEVED, key=row.mentor_id, row=row)
            achieved += 1
    if upserts:
        dialect = session.get_bind().dialect.name
        rows = upsert_rows(dialect, upserts)
        # One planned row per mentor and definition: no conflict key twice.
        upsert = partial(upsert_milestones, dialect)
        await write_many(session, upsert, UPSERT_COLUMNS, rows)
    if deletions:
        await session.execute(delete_milestones(deletions))
    return achieved


@dataclass(frozen=True)
class Catalogue:
    entries: list[Entry]
    ladders: dict[str, list[Entry]]  # per type, thresholds ascending


async def _catalogue(session: AsyncSession) -> Catalogue:
    entries = [
        Entry(d.key, d.type, d.threshold) for d in (await session.execute(definitions())).scalars()
    ]
    ladders: dict[str, list[Entry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: e.threshold):
        ladders[entry.type].append(entry)
    return Catalogue(entries, dict(ladders))


async def _existing(
    session: AsyncSession, mentor_ids: Sequence[str] | None
) -> dict[str, dict[str, Stored]]:
    """Per mentor, per definition key: the stored row, read as one scan."""
    found: dict[str, dict[str, Stored]] = defaultdict(dict)

    def keep(rows: Sequence[Sequence[Any]]) -> None:
        for id, mentor, key, status, value, achieved_at, created_at in rows:
            found[stored_text(mentor)][stored_text(key)] = Stored(
                stored_text(id),
                stored_text(status),
                value,
                None if achieved_at is None else stored_utc(achieved_at),
                stored_utc(created_at),
            )

    await feed_rows(session, milestones_of(mentor_ids), keep, batch=SCAN_BATCH)
    return found


@dataclass(frozen=True)
class Detection:
    mentors: int
    newly_achieved: int
    rows_written: int


MENTORS_PER_PASS = 5_000  # keeps IN lists under every driver's bound-parameter limit


async def detect_from_ledger(
    session: AsyncSession, *, mentor_ids: Sequence[str] | None = None
) -> Detection:
    """Bring milestones up to date from the ledger, for these mentors (None: every mentor).

    A fixed number of statements per pass of up to 5,000 mentors (every mentor at once when
    None): the catalogue, one ordered scan of the ledger (totals and crossings alike, see
    `domain.crossings`) and the existing rows are one query each; the writes are one upsert
    and one delete.
    """
    if mentor_ids is None:
        return await _detect_pass(session, None)
    ids = list(mentor_ids)
    passes = [
        await _detect_pass(session, ids[i : i + MENTORS_PER_PASS])
        for i in range(0, len(ids), MENTORS_PER_PASS)
    ]
    return Detection(
        sum(p.mentors for p in passes),
        sum(p.newly_achieved for p in passes),
        sum(p.rows_written for p in passes),
    )


SCAN_BATCH = 20_000  # ledger rows per fetch: memory stays flat, round trips stay few


async def _standings(
    session: AsyncSession, ids: list[str] | None, catalogue: Catalogue
) -> dict[str, Standing]:
    """Every mentor's totals and crossings, from one ordered scan of the ledger, streamed."""
    scan = LedgerScan(Ladders.of(catalogue.ladders))
    await feed_rows(session, completed_ledger(ids), scan.feed, batch=SCAN_BATCH)
    return scan.standings


async def _detect_pass(session: AsyncSession, ids: list[str] | None) -> Detection:
    catalogue = await _catalogue(session)
    standings = await _standings(session, ids, catalogue)
    existing = await _existing(session, ids)
    everyone = ids if ids is not None else list((await session.execute(all_mentor_ids())).scalars())
    now = utcnow()
    plans = []
    for mentor in everyone:
        standing = standings.get(mentor) or Standing()
        totals = Totals(
            hours=standing.minutes / 60, contacts=standing.contacts, activities=standing.activities
        )
        reached = {key: stored_utc(at) for key, at in standing.reached.items()}
        plans.append(_settle(mentor, catalogue, totals, reached, existing[mentor], now))
    achieved = await _apply(session, plans)
    return Detection(len(everyone), achieved, sum(len(p.upserts) for p in plans))


def summary_moment(summary: Summary, tz: ZoneInfo, now: datetime) -> datetime:
    """The end of the period's last day in `tz`, or now, whichever is earlier (docs/domain.md)."""
    end = local_midnight(_period_end(summary) + timedelta(days=1), tz) - timedelta(seconds=1)
    return min(end, now)


def _period_end(summary: Summary) -> date:
    if summary.year is not None and not FIRST_YEAR <= summary.year <= LAST_YEAR:
        raise BadInput.field("period.year", f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    for field, day in (
        ("period.start_date", summary.start_date),
        ("period.end_date", summary.end_date),
    ):
        if day is not None:
            check_calendar_date(field, day)
    if summary.start_date and summary.end_date and summary.start_date > summary.end_date:
        raise BadInput.field("period.start_date", "must not be after period.end_date")
    if summary.end_date is not None:
        if summary.year is not None and summary.end_date.year != summary.year:
            raise BadInput.field("period.year", "does not match period.end_date")
        return summary.end_date
    if summary.year is not None:
        return date(summary.year, 12, 31)
    raise BadInput.field("period", "needs a year or an end_date")


async def detect_from_summary(session: AsyncSession, summary: Summary, *, tz: ZoneInfo) -> None:
    """Detect and persist milestones from a summary (read them back after the commit)."""
    check_id("mentor_id", summary.mentor_id)
    check_number("summary.total_hours", summary.total_hours)
    check_number("summary.unique_contacts_helped", summary.unique_contacts_helped, high=MAX_COUNT)
    check_number("summary.activity_count", summary.activity_count, high=MAX_COUNT)
    if await session.get(Mentor, summary.mentor_id) is None:
        raise NotFound("Mentor", summary.mentor_id)
    now = utcnow()
    moment = summary_moment(summary, tz, now)
    totals = Totals(
        hours=summary.total_hours,
        contacts=summary.unique_contacts_helped,
        activities=summary.activity_count,
    )
    catalogue = await _catalogue(session)
    reached = {d.key: moment for d in catalogue.entries if totals.of(d.type) >= d.threshold}
    existing = (await _existing(session, [summary.mentor_id]))[summary.mentor_id]
    await _apply(session, [_settle(summary.mentor_id, catalogue, totals, reached, existing, now)])
