"""Mentor's stats fields (`personalStats`, `monthlySeries`, ...) and the root queries' helpers.

Each resolves the period in the configured zone, "today" from `domain.clock`, and loads through
`context.loaders.stats`, so many mentors in one query share one statement per figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Protocol, TypeVar

import strawberry

from domain import clock
from domain.periods import Period, series_period, stats_period
from domain.stats import Scope
from graph.context import Info
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First, Window
from graph.types.stats import (
    ActivityTypeStats,
    MonthlyStats,
    PersonalStats,
    StatsPeriod,
    YearContribution,
)

T = TypeVar("T")
PeriodArg = Annotated[
    StatsPeriod | None,
    strawberry.argument(description="A named period; or give startDate and endDate."),
]
DateArg = Annotated[date | None, strawberry.argument(description="Inclusive, local calendar.")]
Resolve = Callable[..., Period]


class Owner(Protocol):
    """What the Mentor fields below need of the Mentor they resolve on."""

    id: strawberry.ID


def scope_of(
    info: Info, period: StatsPeriod | None, start: date | None, end: date | None, resolve: Resolve
) -> Scope:
    """The period a request asks for, read in the configured zone as of today."""
    zone = info.context.config.timezone
    return Scope(resolve(period, start, end, today=clock.today_in(zone)), zone)


def page_of(rows: Sequence[T], first: int | None, after: str | None) -> Connection[T]:
    """A connection over a list already computed in full (series are short)."""
    window = Window.from_args(first, after)

    async def total() -> int:
        return len(rows)

    return Connection.build(rows[window.offset : window.offset + window.fetch], window, total)


async def personal_stats_of(info: Info, mentor_id: str, scope: Scope) -> PersonalStats | None:
    """None when there is no such mentor."""
    return await info.context.loaders.stats.personal.load((mentor_id, scope))


async def monthly_series_of(info: Info, mentor_id: str, scope: Scope) -> list[MonthlyStats]:
    return await info.context.loaders.stats.monthly.load((mentor_id, scope))


async def breakdown_of(info: Info, mentor_id: str, scope: Scope) -> list[ActivityTypeStats]:
    return await info.context.loaders.stats.breakdown.load((mentor_id, scope))


async def history_of(info: Info, mentor_id: str) -> list[YearContribution]:
    zone = info.context.config.timezone
    return await info.context.loaders.stats.history.load((mentor_id, (zone, clock.today_in(zone))))


# --- resolvers of the fields on Mentor (graph.types.mentor attaches them) --------------------


async def _personal_stats(
    root: Owner,
    info: Info,
    period: PeriodArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
) -> PersonalStats:
    scope = scope_of(info, period, start_date, end_date, stats_period)
    stats = await personal_stats_of(info, root.id, scope)
    assert stats is not None, "the mentor being resolved exists"
    return stats


async def _monthly_series_connection(
    root: Owner,
    info: Info,
    period: PeriodArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    first: First = DEFAULT_PAGE_SIZE,
    after: After = None,
) -> Connection[MonthlyStats]:
    scope = scope_of(info, period, start_date, end_date, series_period)
    rows = await monthly_series_of(info, root.id, scope)
    return page_of(rows, first, after)


async def _monthly_series(
    root: Owner,
    info: Info,
    period: PeriodArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    first: First = DEFAULT_PAGE_SIZE,
    after: After = None,
) -> list[MonthlyStats]:
    page = await _monthly_series_connection(root, info, period, start_date, end_date, first, after)
    return page.nodes


async def _breakdown_connection(
    root: Owner,
    info: Info,
    period: PeriodArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    first: First = DEFAULT_PAGE_SIZE,
    after: After = None,
) -> Connection[ActivityTypeStats]:
    scope = scope_of(info, period, start_date, end_date, stats_period)
    rows = await breakdown_of(info, root.id, scope)
    return page_of(rows, first, after)


async def _breakdown(
    root: Owner,
    info: Info,
    period: PeriodArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    first: First = DEFAULT_PAGE_SIZE,
    after: After = None,
) -> list[ActivityTypeStats]:
    page = await _breakdown_connection(root, info, period, start_date, end_date, first, after)
    return page.nodes


async def _history_connection(
    root: Owner, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
) -> Connection[YearContribution]:
    return page_of(await history_of(info, root.id), first, after)


async def _history(
    root: Owner, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
) -> list[YearContribution]:
    return (await _history_connection(root, info, first, after)).nodes


personal_stats = strawberry.field(
    resolver=_personal_stats, description="Activity summary for a period (default last 30 days)."
)
monthly_series = strawberry.field(
    resolver=_monthly_series,
    description="One row per month, zero months included (default: the last 12 months).",
)
monthly_series_connection = strawberry.field(
    resolver=_monthly_series_connection,
    description="The same page as `monthlySeries`, with cursors and totalCount.",
)
activity_breakdown = strawberry.field(
    resolver=_breakdown, description="Completed activities per type, most frequent first."
)
activity_breakdown_connection = strawberry.field(
    resolver=_breakdown_connection,
    description="The same page as `activityBreakdown`, with cursors and totalCount.",
)
contribution_history = strawberry.field(
    resolver=_history, description="One row per year since the first activity (completed work)."
)
contribution_history_connection = strawberry.field(
    resolver=_history_connection,
    description="The same page as `contributionHistory`, with cursors and totalCount.",
)
