"""docs/contracts/personal-stats.md: a mentor's stats, monthly series, breakdown and history (4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from api.rest.contracts.common import ListOf, PageQuery, model_of, selection
from api.rest.route import RestRoute, service
from domain import series, stats
from domain.periods import SERIES_MONTHS, PeriodName

BASE = "/api/v1/personal-stats"

# --- response shapes -------------------------------------------------------------------------


# Built from the domain's dataclasses: a figure the domain adds is in the contract at once.
# The peer rank is computed apart from the summary; the contract lists it before the streak.
PersonalStatsOut: Any = model_of(
    "PersonalStatsOut",
    stats.PersonalStats,
    added={"peer_rank_percentile": int},
    before="streak_days",
)
MonthOut: Any = model_of("MonthOut", series.MonthStats)
ActivityTypeOut: Any = model_of("ActivityTypeOut", series.TypeStats)
MonthCountOut: Any = model_of("MonthCountOut", series.MonthCount)
YearOut: Any = model_of(
    "YearOut", series.YearContribution, types={"monthly_breakdown": list[MonthCountOut]}
)


# --- query parameters ------------------------------------------------------------------------


class PeriodQuery(BaseModel):
    """A stats period; without one, the last 30 days (domain.periods.stats_period)."""

    period: PeriodName | None = Field(
        default=None, description="A named period (default last_30_days); or the two dates."
    )
    start_date: date | None = Field(default=None, description="Inclusive, with end_date.")
    end_date: date | None = Field(default=None, description="Inclusive, with start_date.")


class BreakdownQuery(PageQuery, PeriodQuery):
    """Period and page; without a period the breakdown covers the last 30 days, as stats do."""


class SeriesQuery(PageQuery, PeriodQuery):
    """Period and page; without a period the monthly series covers the last 12 months
    (domain.periods.series_period)."""

    period: PeriodName | None = Field(
        default=None,
        description=(
            f"A named period (default: the last {SERIES_MONTHS} calendar months, the current "
            "one included); or the two dates."
        ),
    )


# --- GraphQL operations in the contract's field names ----------------------------------------

PERIOD_VARIABLES = "$mentorId: ID!, $period: StatsPeriod, $startDate: Date, $endDate: Date"
PERIOD_ARGUMENTS = "mentorId: $mentorId, period: $period, startDate: $startDate, endDate: $endDate"
PAGE_VARIABLES = "$first: Int, $after: String"
PAGE_ARGUMENTS = "first: $first, after: $after"
# (variables, arguments) of a paginated operation
PERIOD_AND_PAGE = (f"{PERIOD_VARIABLES}, {PAGE_VARIABLES}", f"{PERIOD_ARGUMENTS}, {PAGE_ARGUMENTS}")
MENTOR_AND_PAGE = (f"$mentorId: ID!, {PAGE_VARIABLES}", f"mentorId: $mentorId, {PAGE_ARGUMENTS}")


def _page(result: str, item: Any, parameters: tuple[str, str]) -> str:
    """A paginated route's document: the page's totalCount and every field of its items, so
    a figure the domain adds is selected too."""
    variables, arguments = parameters
    return f"""
query {result[0].upper()}{result[1:]}({variables}) {{
  {result}({arguments}) {{
    totalCount
    nodes {{
      {selection(item, indent=6)}
    }}
  }}
}}"""


ROUTES = service(
    "personal stats",
    RestRoute(
        method="GET",
        path="/api/v1/personal-stats/{mentor_id}",
        catalogue_base=BASE,
        summary="Get personal stats summary for a peer mentor",
        query=PeriodQuery,
        response=PersonalStatsOut,
        result="personalStats",
        operation=f"""
query PersonalStats({PERIOD_VARIABLES}) {{
  personalStats({PERIOD_ARGUMENTS}) {{
    {selection(PersonalStatsOut, indent=4)}
    _etag: etag
  }}
}}""",
    ),
    RestRoute(
        method="GET",
        path="/api/v1/personal-stats/{mentor_id}/monthly-series",
        catalogue_base=BASE,
        summary="Get monthly activity series for a mentor's personal trend chart",
        query=SeriesQuery,
        paginated=True,
        response=ListOf[MonthOut],
        result="monthlySeries",
        operation=_page("monthlySeries", MonthOut, PERIOD_AND_PAGE),
    ),
    RestRoute(
        method="GET",
        path="/api/v1/personal-stats/{mentor_id}/activity-breakdown",
        catalogue_base=BASE,
        summary="Get activity type breakdown for a mentor's own activities",
        query=BreakdownQuery,
        paginated=True,
        response=ListOf[ActivityTypeOut],
        result="activityBreakdown",
        operation=_page("activityBreakdown", ActivityTypeOut, PERIOD_AND_PAGE),
    ),
    RestRoute(
        method="GET",
        path="/api/v1/personal-stats/{mentor_id}/contribution-history",
        catalogue_base=BASE,
        summary="Get multi-year contribution history heatmap data for a mentor",
        query=PageQuery,
        paginated=True,
        response=ListOf[YearOut],
        result="contributionHistory",
        operation=_page("contributionHistory", YearOut, MENTOR_AND_PAGE),
    ),
)
