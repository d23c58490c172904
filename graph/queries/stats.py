"""Root queries for one mentor's stats by id (the REST contract's four endpoints run these)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.errors import BadInput, NotFound
from domain.periods import series_period, stats_period
from domain.stats import Scope
from graph.context import Info
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First
from graph.types.mentor_stats import (
    DateArg,
    PeriodArg,
    Resolve,
    breakdown_of,
    history_of,
    monthly_series_of,
    page_of,
    personal_stats_of,
    scope_of,
)
from graph.types.stats import (
    ActivityTypeStats,
    MonthlyStats,
    PersonalStats,
    StatsPeriod,
    YearContribution,
)

MENTOR = "Mentor"


async def _known(info: Info, mentor_id: str) -> None:
    if await info.context.loaders.mentor.load(mentor_id) is None:
        raise NotFound(MENTOR, mentor_id)


async def _scope(
    info: Info,
    mentor_id: str,
    period: tuple[StatsPeriod | None, date | None, date | None],
    resolve: Resolve,
) -> Scope:
    """The period asked for; an unknown mentor is NOT_FOUND whatever its parameters say."""
    try:
        return scope_of(info, *period, resolve)
    except BadInput:
        await _known(info, mentor_id)  # only on this error path: valid requests pay nothing
        raise


@strawberry.type
class StatsQueries:
    @strawberry.field(description="A mentor's activity summary; NOT_FOUND for an unknown mentor.")
    async def personal_stats(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        period: PeriodArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
    ) -> PersonalStats:
        scope = await _scope(info, mentor_id, (period, start_date, end_date), stats_period)
        stats = await personal_stats_of(info, mentor_id, scope)
        if stats is None:
            raise NotFound(MENTOR, mentor_id)
        return stats

    @strawberry.field(description="A mentor's monthly series (default: the last 12 months).")
    async def monthly_series(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        period: PeriodArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[MonthlyStats]:
        scope = await _scope(info, mentor_id, (period, start_date, end_date), series_period)
        await _known(info, mentor_id)
        rows = await monthly_series_of(info, mentor_id, scope)
        return page_of(rows, first, after)

    @strawberry.field(description="A mentor's completed activities per type in a period.")
    async def activity_breakdown(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        period: PeriodArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[ActivityTypeStats]:
        scope = await _scope(info, mentor_id, (period, start_date, end_date), stats_period)
        await _known(info, mentor_id)
        rows = await breakdown_of(info, mentor_id, scope)
        return page_of(rows, first, after)

    @strawberry.field(description="A mentor's contribution history, one row per year.")
    async def contribution_history(
        self,
        info: Info,
        mentor_id: strawberry.ID,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[YearContribution]:
        await _known(info, mentor_id)
        return page_of(await history_of(info, mentor_id), first, after)
