"""docs/contracts/personal-stats.md: a mentor's stats, monthly series, breakdown and history (4)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from api.rest.contracts.common import ListOf, PageQuery
from api.rest.route import RestRoute
from domain.periods import PeriodName
from domain.stats import Weekday

BASE = "/api/v1/personal-stats"

# --- response shapes -------------------------------------------------------------------------


class PersonalStatsOut(BaseModel):
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
    peer_rank_percentile: int
    streak_days: int


class MonthOut(BaseModel):
    year: int
    month: int
    month_label: str
    total_activities: int
    completed_activities: int
    total_hours: float


class ActivityTypeOut(BaseModel):
    activity_type_id: str
    activity_type_name: str
    count: int
    percentage: float
    avg_duration_minutes: int
    total_hours: float


class MonthCountOut(BaseModel):
    month: int
    count: int


class YearOut(BaseModel):
    year: int
    total_activities: int
    total_hours: float
    monthly_breakdown: list[MonthCountOut]
    peak_month: int | None
    zero_activity_months: int


# --- query parameters ------------------------------------------------------------------------


class PeriodQuery(BaseModel):
    period: PeriodName | None = Field(
        default=None, description="A named period (default last_30_days); or the two dates."
    )
    start_date: date | None = Field(default=None, description="Inclusive, with end_date.")
    end_date: date | None = Field(default=None, description="Inclusive, with start_date.")


class SeriesQuery(PageQuery, PeriodQuery):
    """Period and page; without a period the monthly series covers the last 12 months."""


# --- GraphQL operations in the contract's field names ----------------------------------------

PERIOD_VARIABLES = "$mentorId: ID!, $period: StatsPeriod, $startDate: Date, $endDate: Date"
PERIOD_ARGUMENTS = "mentorId: $mentorId, period: $period, startDate: $startDate, endDate: $endDate"
PAGE_VARIABLES = "$first: Int, $after: String"
PAGE_ARGUMENTS = "first: $first, after: $after"

ROUTES = [
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
    mentor_id: mentorId
    mentor_name: mentorName
    period
    start_date: startDate
    end_date: endDate
    total_activities: totalActivities
    completed_activities: completedActivities
    cancelled_activities: cancelledActivities
    completion_rate: completionRate
    avg_session_duration_minutes: avgSessionDurationMinutes
    total_hours_logged: totalHoursLogged
    most_common_activity_type: mostCommonActivityType
    most_active_weekday: mostActiveWeekday
    peer_rank_percentile: peerRankPercentile
    streak_days: streakDays
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
        operation=f"""
query MonthlySeries({PERIOD_VARIABLES}, {PAGE_VARIABLES}) {{
  monthlySeries({PERIOD_ARGUMENTS}, {PAGE_ARGUMENTS}) {{
    totalCount
    nodes {{
      year
      month
      month_label: monthLabel
      total_activities: totalActivities
      completed_activities: completedActivities
      total_hours: totalHours
    }}
  }}
}}""",
    ),
    RestRoute(
        method="GET",
        path="/api/v1/personal-stats/{mentor_id}/activity-breakdown",
        catalogue_base=BASE,
        summary="Get activity type breakdown for a mentor's own activities",
        query=SeriesQuery,
        paginated=True,
        response=ListOf[ActivityTypeOut],
        result="activityBreakdown",
        operation=f"""
query ActivityBreakdown({PERIOD_VARIABLES}, {PAGE_VARIABLES}) {{
  activityBreakdown({PERIOD_ARGUMENTS}, {PAGE_ARGUMENTS}) {{
    totalCount
    nodes {{
      activity_type_id: activityTypeId
      activity_type_name: activityTypeName
      count
      percentage
      avg_duration_minutes: avgDurationMinutes
      total_hours: totalHours
    }}
  }}
}}""",
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
        operation=f"""
query ContributionHistory($mentorId: ID!, {PAGE_VARIABLES}) {{
  contributionHistory(mentorId: $mentorId, {PAGE_ARGUMENTS}) {{
    totalCount
    nodes {{
      year
      total_activities: totalActivities
      total_hours: totalHours
      monthly_breakdown: monthlyBreakdown {{ month count }}
      peak_month: peakMonth
      zero_activity_months: zeroActivityMonths
    }}
  }}
}}""",
    ),
]
