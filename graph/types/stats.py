"""Personal stats types: plain objects computed per mentor and period (docs/domain.md)."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date
from typing import TypeAlias

import strawberry

from domain import series
from domain import stats as domain
from domain.periods import PeriodName
from graph.info import Info

strawberry.enum(
    PeriodName,
    name="StatsPeriod",
    description="A period ending today in the configured zone; `custom` takes start and end dates.",
    graphql_name_from="value",
)
strawberry.enum(
    domain.Weekday,
    name="Weekday",
    description="A day of the week, in the configured time zone.",
    graphql_name_from="value",
)
StatsPeriod: TypeAlias = PeriodName
Weekday: TypeAlias = domain.Weekday


@strawberry.type(description="One mentor's activity summary for one period.")
class PersonalStats:
    mentor_id: strawberry.ID
    mentor_name: str
    period: StatsPeriod
    start_date: date = strawberry.field(description="All time: the first activity's day.")
    end_date: date
    total_activities: int = strawberry.field(description="Completed and cancelled.")
    completed_activities: int
    cancelled_activities: int
    completion_rate: float = strawberry.field(description="completed / total, 3 decimals.")
    avg_session_duration_minutes: int = strawberry.field(description="Completed only, rounded.")
    total_hours_logged: float = strawberry.field(description="Completed only, 1 decimal.")
    most_common_activity_type: str | None = strawberry.field(
        description="Key of the type completed most often (ties: lowest id); null if none."
    )
    most_active_weekday: Weekday | None = strawberry.field(
        description="Weekday with most completed activities (ties: Monday first); null if none."
    )
    streak_days: int = strawberry.field(
        description="Consecutive days with completed work ending on the end date or the day "
        "before; not cut at the period's start."
    )
    scope: strawberry.Private[domain.Scope]

    @classmethod
    def from_domain(cls, stats: domain.PersonalStats, scope: domain.Scope) -> PersonalStats:
        return cls(**{f.name: getattr(stats, f.name) for f in fields(stats)}, scope=scope)

    @strawberry.field(
        description="Percent of all mentors with strictly fewer completed hours in the period "
        "(0-100; one alone ranks 100)."
    )
    async def peer_rank_percentile(self, info: Info) -> int:
        return await info.context.loaders.stats.peer_rank.load((self.mentor_id, self.scope))

    @strawberry.field(description="Changes whenever any figure of this summary does.")
    async def etag(self, info: Info) -> str:
        rank = await self.peer_rank_percentile(info)
        figures = [getattr(self, f.name) for f in fields(domain.PersonalStats)]
        return hashlib.blake2b(repr((figures, rank)).encode(), digest_size=8).hexdigest()


@strawberry.type(description="One month of a mentor's activity.")
class MonthlyStats:
    year: int
    month: int
    month_label: str = strawberry.field(description="Like `Jan 2026`.")
    total_activities: int
    completed_activities: int
    total_hours: float = strawberry.field(description="Completed only, 1 decimal.")

    @classmethod
    def from_domain(cls, month: series.MonthStats) -> MonthlyStats:
        return cls(**vars(month))


@strawberry.type(description="A mentor's completed activities of one type in a period.")
class ActivityTypeStats:
    activity_type_id: strawberry.ID
    activity_type_name: str
    count: int
    percentage: float = strawberry.field(description="Share of the completed count, 1 decimal.")
    avg_duration_minutes: int
    total_hours: float

    @classmethod
    def from_domain(cls, kind: series.TypeStats) -> ActivityTypeStats:
        return cls(**vars(kind))


@strawberry.type(description="Completed activities in one month.")
class MonthCount:
    month: int
    count: int


@strawberry.type(description="One year of a mentor's contribution history (completed work).")
class YearContribution:
    year: int
    total_activities: int
    total_hours: float
    monthly_breakdown: list[MonthCount] = strawberry.field(
        description="Every month of the year; the current year up to the current month."
    )
    peak_month: int | None = strawberry.field(
        description="Month with most activities (ties: earliest); null in a year without any."
    )
    zero_activity_months: int

    @classmethod
    def from_domain(cls, year: series.YearContribution) -> YearContribution:
        return cls(
            year=year.year,
            total_activities=year.total_activities,
            total_hours=year.total_hours,
            monthly_breakdown=[
                MonthCount(month=m.month, count=m.count) for m in year.monthly_breakdown
            ],
            peak_month=year.peak_month,
            zero_activity_months=year.zero_activity_months,
        )
