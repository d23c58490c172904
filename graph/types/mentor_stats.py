"""Mentor's stats fields (`personalStats`, `monthlySeries`, ...) and the root queries' helpers.

Each resolves the period in the configured zone, "today" from `domain.clock`, and loads through
`context.loaders.stats`, so many mentors in one query share one statement per figure.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry

from domain import clock
from domain.periods import Period, series_period, stats_period
from domain.stats import Scope
from graph.info import Info
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
PeriodArgs = tuple[StatsPeriod | None, date | None, date | None]
NO_PERIOD: PeriodArgs = (None, None, None)


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


# --- list figures: one definition serves Mentor's fields and the root queries ---------------


@dataclass(frozen=True)
class ListFigure(Generic[T]):
    """A per-mentor list figure (monthly series, breakdown, history): what one row is, and how
    one mentor's rows load through `context.loaders.stats` for the period arguments given.

    Without `resolve` the figure takes no period arguments (the history runs up to today).
    """

    item: type[T]
    load: Callable[[Info, str, Scope | None], Awaitable[list[T]]]
    resolve: Resolve | None = None

    async def page(
        self, info: Info, mentor_id: str, period: PeriodArgs, first: int | None, after: str | None
    ) -> Connection[T]:
        """One mentor's page of the figure; a period is read only by a figure that takes one."""
        scope = None if self.resolve is None else scope_of(info, *period, self.resolve)
        return page_of(await self.load(info, mentor_id, scope), first, after)


async def _monthly(info: Info, mentor_id: str, scope: Scope | None) -> list[MonthlyStats]:
    assert scope is not None, "the monthly series takes a period"
    return await info.context.loaders.stats.monthly.load((mentor_id, scope))


async def _breakdown(info: Info, mentor_id: str, scope: Scope | None) -> list[ActivityTypeStats]:
    assert scope is not None, "the breakdown takes a period"
    return await info.context.loaders.stats.breakdown.load((mentor_id, scope))


async def _history(info: Info, mentor_id: str, scope: Scope | None) -> list[YearContribution]:
    zone = info.context.config.timezone
    return await info.context.loaders.stats.history.load((mentor_id, (zone, clock.today_in(zone))))


MONTHLY_SERIES = ListFigure(MonthlyStats, _monthly, series_period)
ACTIVITY_BREAKDOWN = ListFigure(ActivityTypeStats, _breakdown, stats_period)
CONTRIBUTION_HISTORY = ListFigure(YearContribution, _history)


def figure_fields(figure: ListFigure[T], *, name: str, description: str) -> tuple[Any, Any]:
    """Mentor's list field of a figure and its connection twin (`name` is the list field's
    GraphQL name): both take the figure's arguments and resolve the same page."""

    async def over_period(
        root: Owner,
        info: Info,
        period: PeriodArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[T]:
        return await figure.page(info, root.id, (period, start_date, end_date), first, after)

    async def without_period(
        root: Owner, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[T]:
        return await figure.page(info, root.id, NO_PERIOD, first, after)

    connection: Callable[..., Awaitable[Connection[T]]] = (
        without_period if figure.resolve is None else over_period
    )

    @functools.wraps(connection)  # the same arguments, as Strawberry reads them
    async def nodes(*args: Any, **kwargs: Any) -> list[T]:
        return (await connection(*args, **kwargs)).nodes

    item: Any = figure.item  # a class known at run time, from which Strawberry builds the types
    return (
        strawberry.field(resolver=nodes, graphql_type=list[item], description=description),
        strawberry.field(
            resolver=connection,
            graphql_type=Connection[item],
            description=f"The same page as `{name}`, with cursors and totalCount.",
        ),
    )


# --- the fields on Mentor (graph.types.mentor attaches them) ---------------------------------


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


personal_stats = strawberry.field(
    resolver=_personal_stats, description="Activity summary for a period (default last 30 days)."
)
monthly_series, monthly_series_connection = figure_fields(
    MONTHLY_SERIES,
    name="monthlySeries",
    description="One row per month, zero months included (default: the last 12 months).",
)
activity_breakdown, activity_breakdown_connection = figure_fields(
    ACTIVITY_BREAKDOWN,
    name="activityBreakdown",
    description="Completed activities per type, most frequent first.",
)
contribution_history, contribution_history_connection = figure_fields(
    CONTRIBUTION_HISTORY,
    name="contributionHistory",
    description="One row per year since the first activity (completed work).",
)
