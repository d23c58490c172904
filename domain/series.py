"""Per-mentor series over time: monthly series, activity-type breakdown, contribution history.

The database groups one batch of mentors by local month or by activity type; these functions
only lay the grouped integers out (zero months included) and round them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.figures import hours, percentage, rounded
from domain.periods import first_of_month, local_midnight, month_index
from domain.stats import Read, Scope, rows_of
from models import stats as statements

MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOTHING = (0, 0, 0)
Totals = dict[int, tuple[int, int, int]]  # month index -> (all, completed, completed minutes)


@dataclass(frozen=True, kw_only=True)
class MonthStats:
    year: int
    month: int
    month_label: str
    total_activities: int
    completed_activities: int
    total_hours: float


@dataclass(frozen=True, kw_only=True)
class TypeStats:
    activity_type_id: str
    activity_type_name: str
    count: int
    percentage: float
    avg_duration_minutes: int
    total_hours: float


@dataclass(frozen=True)
class MonthCount:
    month: int
    count: int


@dataclass(frozen=True, kw_only=True)
class YearContribution:
    year: int
    total_activities: int
    total_hours: float
    monthly_breakdown: tuple[MonthCount, ...]
    peak_month: int | None
    zero_activity_months: int


async def _monthly_totals(
    read: Read,
    mentor_ids: Sequence[str],
    *,
    start: datetime | None,
    end: datetime,
    zone: ZoneInfo,
) -> dict[str, Totals]:
    statement = statements.monthly_totals(mentor_ids, start=start, end=end, zone=zone.key)
    found: dict[str, Totals] = {mentor_id: {} for mentor_id in mentor_ids}
    for mentor_id, month, total, completed, minutes in await rows_of(read, statement):
        found[mentor_id][month] = (total, completed or 0, minutes or 0)
    return found


async def monthly_series(
    read: Read, mentor_ids: Sequence[str], scope: Scope
) -> dict[str, list[MonthStats]]:
    """One row per month of the period, zero months included, oldest first."""
    start, end = scope.bounds()
    totals = await _monthly_totals(read, mentor_ids, start=start, end=end, zone=scope.zone)
    last = month_index(scope.period.end)
    series: dict[str, list[MonthStats]] = {}
    for mentor_id, months in totals.items():
        # All time starts with the mentor's first month of activity.
        first = month_index(scope.period.start) if scope.period.start else min(months, default=last)
        series[mentor_id] = [
            _month(index, months.get(index, NOTHING)) for index in range(first, last + 1)
        ]
    return series


def _month(index: int, totals: tuple[int, int, int]) -> MonthStats:
    year, month = divmod(index, 12)
    total, completed, minutes = totals
    return MonthStats(
        year=year,
        month=month + 1,
        month_label=f"{MONTH_LABELS[month]} {year}",
        total_activities=total,
        completed_activities=completed,
        total_hours=hours(minutes),
    )


async def activity_breakdown(
    read: Read, mentor_ids: Sequence[str], scope: Scope
) -> dict[str, list[TypeStats]]:
    """Completed activities per type, most frequent first (ties: lowest type id)."""
    start, end = scope.bounds()
    statement = statements.type_breakdown(mentor_ids, start=start, end=end)
    grouped: dict[str, list[tuple[str, str, int, int]]] = {
        mentor_id: [] for mentor_id in mentor_ids
    }
    for mentor_id, type_id, name, count, minutes in await rows_of(read, statement):
        grouped[mentor_id].append((type_id, name, count, minutes or 0))
    return {mentor_id: _breakdown(items) for mentor_id, items in grouped.items()}


def _breakdown(items: list[tuple[str, str, int, int]]) -> list[TypeStats]:
    completed = sum(count for _, _, count, _ in items)
    return [
        TypeStats(
            activity_type_id=type_id,
            activity_type_name=name,
            count=count,
            percentage=percentage(count, completed),
            avg_duration_minutes=rounded(minutes, count),
            total_hours=hours(minutes),
        )
        for type_id, name, count, minutes in items
    ]


async def contribution_history(
    read: Read, mentor_ids: Sequence[str], *, zone: ZoneInfo, today: date
) -> dict[str, list[YearContribution]]:
    """One row per year from the mentor's first activity to this year (up to this month)."""
    current = month_index(today)
    end = local_midnight(first_of_month(current + 1), zone)
    totals = await _monthly_totals(read, mentor_ids, start=None, end=end, zone=zone)
    return {mentor_id: _years(months, current) for mentor_id, months in totals.items()}


def _years(months: Totals, current: int) -> list[YearContribution]:
    if not months:
        return []
    return [_year(year, months, current) for year in range(min(months) // 12, current // 12 + 1)]


def _year(year: int, months: Totals, current: int) -> YearContribution:
    last_month = 12 if year < current // 12 else current % 12 + 1
    totals = [months.get(year * 12 + month - 1, NOTHING) for month in range(1, last_month + 1)]
    counts = tuple(
        MonthCount(month, completed) for month, (_, completed, _) in enumerate(totals, 1)
    )
    peak = max(counts, key=lambda item: item.count)  # max keeps the first, i.e. earliest, tie
    return YearContribution(
        year=year,
        total_activities=sum(item.count for item in counts),
        total_hours=hours(sum(minutes for _, _, minutes in totals)),
        monthly_breakdown=counts,
        peak_month=peak.month if peak.count else None,
        zero_activity_months=sum(1 for item in counts if item.count == 0),
    )
