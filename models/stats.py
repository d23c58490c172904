"""The statements behind personal stats: aggregates, grouping and window functions, batched.

Each builder answers for many mentors at once (GROUP BY / PARTITION BY mentor), so a page of
mentors costs one statement per kind of figure. Periods arrive as UTC bounds [start, end);
calendar days and months in the configured zone come from `models.localtime`.

Building these trees costs more than running them on a small ledger, so each shape is built
once, with named parameters, and every call only binds its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col

from models.activities import Activity, ActivityLedgerVersion, ActivityRunningTotal
from models.localtime import day_in, month_in, weekday_of
from models.mentors import ActivityType, Mentor
from models.types import UTCDateTime

_mentor_id = col(Activity.mentor_id)
_started_at = col(Activity.started_at)
COMPLETED = col(Activity.status) == "completed"
COMPLETED_ONE = case((COMPLETED, 1), else_=0)
COMPLETED_MINUTES = case((COMPLETED, col(Activity.duration_minutes)), else_=0)
_mentor_ids: BindParameter[str] = bindparam("mentor_ids", expanding=True)
_start = bindparam("start", type_=UTCDateTime())
_end = bindparam("end", type_=UTCDateTime())
_end_day = bindparam("end_day", type_=Integer())
_streak_since = bindparam("streak_since", type_=UTCDateTime())
_zone = bindparam("zone", type_=String())


def _values(
    mentor_ids: Sequence[str], start: datetime | None, end: datetime, **more: Any
) -> dict[str, Any]:
    values = {"mentor_ids": list(mentor_ids), "end": end, **more}
    return values if start is None else values | {"start": start}


def _in_period(bounded: bool) -> ColumnElement[bool]:
    """The asked mentors' activities started in [start, end); unbounded: up to the end."""
    conditions = [_mentor_id.in_(_mentor_ids), _started_at < _end]
    if bounded:
        conditions.append(_started_at >= _start)
    return and_(*conditions)


def _first_ranked(ranked: Subquery, *columns: str) -> Subquery:
    """Each mentor's row at `position` 1 of a ranked subquery."""
    picked = [ranked.c[name] for name in ("mentor_id", *columns)]
    return select(*picked).where(ranked.c.position == 1).subquery()


def _totals(scope: ColumnElement[bool]) -> Subquery:
    return (
        select(
            _mentor_id.label("mentor_id"),
            func.count().label("total"),
            func.sum(COMPLETED_ONE).label("completed"),
            func.sum(COMPLETED_MINUTES).label("minutes"),
            func.min(_started_at).label("first_started_at"),
        )
        .where(scope)
        .group_by(_mentor_id)
        .subquery()
    )


def _top_types(scope: ColumnElement[bool]) -> Subquery:
    """The activity type each mentor completed most often; ties go to the lowest type id."""
    type_id = col(Activity.activity_type_id)
    position = func.row_number().over(
        partition_by=_mentor_id, order_by=(func.count().desc(), type_id)
    )
    ranked = (
        select(_mentor_id.label("mentor_id"), col(ActivityType.key), position.label("position"))
        .join(ActivityType, col(ActivityType.id) == type_id)
        .where(scope, COMPLETED)
        .group_by(_mentor_id, type_id, col(ActivityType.key))
        .subquery()
    )
    return _first_ranked(ranked, "key")


def _top_weekdays(scope: ColumnElement[bool]) -> Subquery:
    """The local weekday (Monday = 0) with most completed activities; ties go to the earliest."""
    days = (
        select(
            _mentor_id.label("mentor_id"), weekday_of(day_in(_started_at, _zone)).label("weekday")
        )
        .where(scope, COMPLETED)
        .subquery()
    )
    position = func.row_number().over(
        partition_by=days.c.mentor_id, order_by=(func.count().desc(), days.c.weekday)
    )
    ranked = (
        select(days.c.mentor_id, days.c.weekday, position.label("position"))
        .group_by(days.c.mentor_id, days.c.weekday)
        .subquery()
    )
    return _first_ranked(ranked, "weekday")


def _streaks(windowed: bool) -> Subquery:
    """Consecutive local days with completed work ending on `end_day` or the day before, with
    the run's first day (`first_day`).

    Gaps and islands: along a run of consecutive days, day - row_number() is constant. The
    run is not cut at the period's start; it reads the mentor's ledger up to `end`, from
    `streak_since` when `windowed` (domain.stats decides when that window holds the whole run).
    """
    scope = [_in_period(bounded=False), COMPLETED]
    if windowed:
        scope.append(_started_at >= _streak_since)
    days = (
        select(_mentor_id.label("mentor_id"), day_in(_started_at, _zone).label("day"))
        .where(*scope)
        .distinct()
        .subquery()
    )
    position = func.row_number().over(partition_by=days.c.mentor_id, order_by=days.c.day)
    islands = select(
        days.c.mentor_id, days.c.day, (days.c.day - position).label("island")
    ).subquery()
    return (
        select(
            islands.c.mentor_id,
            func.count().label("length"),
            func.min(islands.c.day).label("first_day"),
        )
        .group_by(islands.c.mentor_id, islands.c.island)
        .having(func.max(islands.c.day) >= _end_day - 1)
        .subquery()
    )


def personal_stats(
    mentor_ids: Sequence[str],
    *,
    start: datetime | None,
    end: datetime,
    end_day: int,
    zone: str,
    streak_since: datetime | None = None,
) -> Select[Any]:
    """One row per known mentor: name, period counts, top type and weekday, streak length and
    the streak's first local day; the streak read from `streak_since` (None: the whole ledger)."""
    values = _values(mentor_ids, start, end, end_day=end_day, zone=zone)
    if streak_since is not None:
        values["streak_since"] = streak_since
    return _personal_stats(start is not None, streak_since is not None).params(values)


@cache
def _personal_stats(bounded: bool, windowed: bool) -> Select[Any]:
    scope = _in_period(bounded)
    totals, types = _totals(scope), _top_types(scope)
    weekdays, streaks = _top_weekdays(scope), _streaks(windowed)
    mentor_id = col(Mentor.id)
    return (
        select(
            mentor_id,
            col(Mentor.name),
            totals.c.total,
            totals.c.completed,
            totals.c.minutes,
            totals.c.first_started_at,
            types.c.key,
            weekdays.c.weekday,
            streaks.c.length,
            streaks.c.first_day,
        )
        .outerjoin(totals, totals.c.mentor_id == mentor_id)
        .outerjoin(types, types.c.mentor_id == mentor_id)
        .outerjoin(weekdays, weekdays.c.mentor_id == mentor_id)
        .outerjoin(streaks, streaks.c.mentor_id == mentor_id)
        .where(mentor_id.in_(_mentor_ids))
    )


def _completed_minutes_before(moment: ColumnElement[datetime]) -> ColumnElement[int]:
    """Each mentor's completed minutes before `moment`: one backwards seek, correlated."""
    running = (
        select(col(ActivityRunningTotal.completed_minutes))
        .where(
            col(ActivityRunningTotal.mentor_id) == col(Mentor.id),
            col(ActivityRunningTotal.started_at) < moment,
        )
        .order_by(col(ActivityRunningTotal.started_at).desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(running, 0)


def ledger_stamp() -> Select[str | None, int]:
    """What peer ranks depend on: the ledger's version token and how many mentors there are
    (always one row; the token is null if its row has gone)."""
    token = select(col(ActivityLedgerVersion.token)).limit(1).scalar_subquery()
    mentors = select(func.count()).select_from(Mentor).scalar_subquery()
    return select(token, mentors)


def peer_ranks(*, start: datetime | None, end: datetime) -> Select[str, int, int]:
    """Every mentor: how many mentors completed strictly fewer minutes in [start, end), of how many.

    All mentors known to the service take part (no activity counts as 0 minutes). RANK() - 1
    is exactly the number of mentors with a smaller total.
    """
    values = {"end": end} if start is None else {"start": start, "end": end}
    return _peer_ranks(start is not None).params(values)


@cache
def _peer_ranks(bounded: bool) -> Select[str, int, int]:
    minutes = _completed_minutes_before(_end)
    if bounded:
        minutes = minutes - _completed_minutes_before(_start)
    totals = select(col(Mentor.id).label("mentor_id"), minutes.label("minutes")).subquery()
    return select(
        totals.c.mentor_id,
        (func.rank().over(order_by=totals.c.minutes) - 1).label("fewer"),
        func.count().over().label("mentors"),
    )


def monthly_totals(
    mentor_ids: Sequence[str], *, start: datetime | None, end: datetime, zone: str
) -> Select[str, int, int, int, int]:
    """Per mentor and local month with activity: all, completed, completed minutes."""
    return _monthly_totals(start is not None).params(_values(mentor_ids, start, end, zone=zone))


@cache
def _monthly_totals(bounded: bool) -> Select[str, int, int, int, int]:
    rows = (
        select(
            _mentor_id.label("mentor_id"),
            month_in(_started_at, _zone).label("month"),
            COMPLETED_ONE.label("completed"),
            COMPLETED_MINUTES.label("minutes"),
        )
        .where(_in_period(bounded))
        .subquery()
    )
    return (
        select(
            rows.c.mentor_id,
            rows.c.month,
            func.count(),
            func.sum(rows.c.completed),
            func.sum(rows.c.minutes),
        )
        .group_by(rows.c.mentor_id, rows.c.month)
        .order_by(rows.c.mentor_id, rows.c.month)
    )


def type_breakdown(
    mentor_ids: Sequence[str], *, start: datetime | None, end: datetime
) -> Select[str, str, str, int, int]:
    """Per mentor and activity type: completed count and minutes, most frequent first."""
    return _type_breakdown(start is not None).params(_values(mentor_ids, start, end))


@cache
def _type_breakdown(bounded: bool) -> Select[str, str, str, int, int]:
    type_id = col(Activity.activity_type_id)
    count, name = func.count(), col(ActivityType.display_name)
    return (
        select(_mentor_id, type_id, name, count, func.sum(COMPLETED_MINUTES))
        .join(ActivityType, col(ActivityType.id) == type_id)
        .where(_in_period(bounded), COMPLETED)
        .group_by(_mentor_id, type_id, name)
        .order_by(_mentor_id, count.desc(), type_id)
    )
