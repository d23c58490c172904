"""Personal stats (docs/domain.md "Personal stats"), computed in SQL for many mentors at once.

Each function takes a batch of mentor ids and one scope (period and zone), runs one statement,
and answers per mentor id; ids of unknown mentors are simply absent from the answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, Result

from domain.figures import hours, percentile, ratio, rounded
from domain.periods import EARLIEST_DATE, Period, PeriodName
from models import stats as statements

# Runs one statement: `session.execute`, or a request context's serialised `read`.
Read = Callable[[Executable], Awaitable[Result[Any]]]


async def rows_of(read: Read, statement: Executable) -> list[tuple[Any, ...]]:
    """Every row one statement answers, as plain tuples."""
    return [tuple(row) for row in await read(statement)]


class Weekday(StrEnum):
    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


WEEKDAYS = list(Weekday)  # Monday = 0, as the statements number them


@dataclass(frozen=True)
class Scope:
    """A period read in one time zone: the key every batch of stats shares."""

    period: Period
    zone: ZoneInfo

    def bounds(self) -> tuple[datetime | None, datetime]:
        return self.period.bounds(self.zone)


@dataclass(frozen=True, kw_only=True)
class PersonalStats:
    """One mentor's summary for one period (the peer rank is asked for separately)."""

    mentor_id: str
    mentor_name: str
    period: PeriodName
    start_date: date
    end_date: date
    total_activities: int
    completed_activities: int
    cancelled_activities: int
    completion_rate: float
    avg_session_duration_minutes: int
    total_hours_logged: float
    most_common_activity_type: str | None
    most_active_weekday: Weekday | None
    streak_days: int


# Streaks are read from the last few weeks of the ledger, not the whole of it (the run of days
# is the costliest figure: every completed activity's local day). A mentor whose streak may
# reach past the window is read again over the whole ledger, so the answer is the same.
STREAK_WINDOW_DAYS = 35


async def personal_stats(
    read: Read, mentor_ids: Sequence[str], scope: Scope
) -> dict[str, PersonalStats]:
    """Summaries of these mentors for one period: one statement, two if a streak is long."""
    end_day = (scope.period.end - EARLIEST_DATE).days
    whole_from = end_day - STREAK_WINDOW_DAYS  # the window reads every local day from this one
    # A local day starts less than a day before its UTC midnight (no zone is 24 h ahead).
    since = datetime.combine(EARLIEST_DATE + timedelta(days=whole_from - 1), time(), UTC)
    rows = await _stats_rows(read, mentor_ids, scope, streak_since=since)
    # A streak that starts after `whole_from` has a whole day without work before it: complete.
    longer = [row[0] for row in rows if row[-1] is not None and row[-1] <= whole_from]
    if longer:
        rows = [row for row in rows if row[0] not in longer]
        rows += await _stats_rows(read, longer, scope, streak_since=None)
    return {row[0]: _summary(row, scope) for row in rows}


async def _stats_rows(
    read: Read, mentor_ids: Sequence[str], scope: Scope, *, streak_since: datetime | None
) -> list[tuple[Any, ...]]:
    start, end = scope.bounds()
    statement = statements.personal_stats(
        mentor_ids,
        start=start,
        end=end,
        end_day=(scope.period.end - EARLIEST_DATE).days,
        zone=scope.zone.key,
        streak_since=streak_since,
    )
    return await rows_of(read, statement)


def _summary(row: Sequence[Any], scope: Scope) -> PersonalStats:
    mentor_id, name, total, completed, minutes, first, type_key, weekday, streak, _ = row
    total, completed, minutes = total or 0, completed or 0, minutes or 0
    return PersonalStats(
        mentor_id=mentor_id,
        mentor_name=name,
        period=scope.period.name,
        start_date=_start_date(scope, first),
        end_date=scope.period.end,
        total_activities=total,
        completed_activities=completed,
        cancelled_activities=total - completed,
        completion_rate=ratio(completed, total, 3),
        avg_session_duration_minutes=rounded(minutes, completed),
        total_hours_logged=hours(minutes),
        most_common_activity_type=type_key,
        most_active_weekday=None if weekday is None else WEEKDAYS[weekday],
        streak_days=streak or 0,
    )


def _start_date(scope: Scope, first_started_at: datetime | None) -> date:
    """All time starts on the mentor's first activity (or the end, when there is none)."""
    if scope.period.start is not None:
        return scope.period.start
    if first_started_at is None:
        return scope.period.end
    return first_started_at.astimezone(scope.zone).date()


class _Recent(OrderedDict[Hashable, dict[str, int]]):
    """The few most recently used peer rankings (least recently used ones are dropped)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: Hashable, ranks: dict[str, int]) -> None:
        self[key] = ranks
        if len(self) > self.size:
            self.popitem(last=False)


# Peer ranks depend on the period and on every mentor's totals, not on who asks: this process
# keeps recent rankings, keyed by the ledger version every ledger write replaces (and by the
# number of mentors), so a cached ranking is exactly what the database would answer now.
_RANKINGS = _Recent(size=16)


async def peer_rank_percentiles(
    read: Read, mentor_ids: Sequence[str], scope: Scope
) -> dict[str, int]:
    """Each mentor's percent rank by completed hours among all mentors, in the period."""
    start, end = scope.bounds()
    [(token, mentors)] = await rows_of(read, statements.ledger_stamp())
    key = (token, mentors, start, end)
    ranks = _RANKINGS.get(key)
    if ranks is None:
        rows = await rows_of(read, statements.peer_ranks(start=start, end=end))
        ranks = {mentor_id: percentile(fewer, total) for mentor_id, fewer, total in rows}
        if token is not None:  # without a version, nothing tells when the ranking goes stale
            _RANKINGS.remember(key, ranks)
    else:
        _RANKINGS.move_to_end(key)
    return {mentor_id: ranks[mentor_id] for mentor_id in mentor_ids if mentor_id in ranks}
