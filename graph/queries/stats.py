"""Root queries for one mentor's stats by id (the REST contract's four endpoints run these)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from domain.errors import BadInput, NotFound
from domain.periods import stats_period
from domain.stats import Scope
from graph.info import Info
from graph.mentor_scope import MENTOR, require_mentor
from graph.pagination import DEFAULT_PAGE_SIZE, After, Connection, First
from graph.types.mentor_stats import (
    ACTIVITY_BREAKDOWN,
    CONTRIBUTION_HISTORY,
    MONTHLY_SERIES,
    NO_PERIOD,
    DateArg,
    ListFigure,
    PeriodArg,
    PeriodArgs,
    Resolve,
    personal_stats_of,
    scope_of,
)
from graph.types.stats import PersonalStats

T = TypeVar("T")


async def _known(info: Info, mentor_id: str) -> None:
    await require_mentor(info.context, mentor_id)


async def _scope(
    info: Info,
    mentor_id: str,
    period: PeriodArgs,
    resolve: Resolve,
) -> Scope:
    """The period asked for; an unknown mentor is NOT_FOUND whatever its parameters say."""
    try:
        return scope_of(info, *period, resolve)
    except BadInput:
        await _known(info, mentor_id)  # only on this error path: valid requests pay nothing
        raise


def _figure_field(figure: ListFigure[T], description: str) -> Any:
    """A root field paging one mentor's figure by id (graph.types.mentor_stats defines each
    figure once for these and for Mentor's fields); an unknown mentor is NOT_FOUND."""

    async def over_period(
        info: Info,
        mentor_id: strawberry.ID,
        period: PeriodArg = None,
        start_date: DateArg = None,
        end_date: DateArg = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[T]:
        await _known(info, mentor_id)  # before the period: an unknown mentor is NOT_FOUND first
        return await figure.page(info, mentor_id, (period, start_date, end_date), first, after)

    async def without_period(
        info: Info, mentor_id: strawberry.ID, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[T]:
        await _known(info, mentor_id)
        return await figure.page(info, mentor_id, NO_PERIOD, first, after)

    resolver: Callable[..., Awaitable[Connection[T]]] = (
        without_period if figure.resolve is None else over_period
    )
    item: Any = figure.item  # a class known at run time, from which Strawberry builds the type
    return strawberry.field(
        resolver=resolver, graphql_type=Connection[item], description=description
    )


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

    monthly_series = _figure_field(
        MONTHLY_SERIES, "A mentor's monthly series (default: the last 12 months)."
    )
    activity_breakdown = _figure_field(
        ACTIVITY_BREAKDOWN, "A mentor's completed activities per type in a period."
    )
    contribution_history = _figure_field(
        CONTRIBUTION_HISTORY, "A mentor's contribution history, one row per year."
    )
