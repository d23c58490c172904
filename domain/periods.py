"""Stats periods (docs/domain.md "Personal stats"): named or explicit, in the configured zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.errors import BadInput

# Local day numbers start at 1970-01-01; the end bound stays clear of `date.max`.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)
SERIES_MONTHS = 12
# The longest explicit period any read accepts (stats, monthly series, breakdowns, new
# milestones): its cost grows with the span (a row per month, a window per day), so a client
# cannot ask for a thousand years. Ten calendar years hold at most 3,653 days.
MAX_PERIOD_YEARS = 10
MAX_PERIOD_DAYS = MAX_PERIOD_YEARS * 365 + 3
SPAN_PROBLEM = (
    f"must be at most {MAX_PERIOD_YEARS} years ({MAX_PERIOD_DAYS:,} days) after start_date"
)
# Years a milestone period may name (docs/contracts/milestones.md: 1-9998): the day after the
# last one, and its midnight in any zone, is still a date the standard library can hold.
FIRST_YEAR = 1
LAST_YEAR = 9998
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)
_LAST_DAYS = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "last_365_days": 365}


class PeriodName(StrEnum):
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    LAST_90_DAYS = "last_90_days"
    LAST_365_DAYS = "last_365_days"
    YEAR_TO_DATE = "year_to_date"
    ALL_TIME = "all_time"
    CUSTOM = "custom"  # explicit start and end dates


@dataclass(frozen=True)
class Period:
    """Local calendar dates, both inclusive; `start` is None for all time."""

    name: PeriodName
    start: date | None
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime]:
        """The UTC instants [start, end) this period covers in `zone`."""
        start = None if self.start is None else local_midnight(self.start, zone)
        return start, local_midnight(self.end + timedelta(days=1), zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone` (DST included); the first instant the
    standard library holds when that falls before year 1 in UTC (0001-01-01 east of UTC)."""
    try:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def check_span(start: date, end: date, *, field: str = "end_date") -> None:
    """A period of at most MAX_PERIOD_YEARS, both days included."""
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise BadInput.field(field, SPAN_PROBLEM)


def check_instant(field: str, moment: datetime) -> datetime:
    """An instant stored to be read as a local date (a milestone's `achieved_at`): its UTC day
    is clear of the calendar's first, so that the instant exists in every zone."""
    if not FIRST_DAY < moment.astimezone(UTC).date() <= LAST_DAY:
        first = FIRST_DAY + timedelta(days=1)
        raise BadInput.field(field, f"must fall between {first} and {LAST_DAY} (UTC)")
    return moment


def check_calendar_date(field: str, value: date) -> date:
    """A date in the years a milestone period may name (FIRST_YEAR-LAST_YEAR)."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise BadInput.field(field, f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def month_index(day: date) -> int:
    """year * 12 + month - 1: months as consecutive integers."""
    return day.year * 12 + day.month - 1


def first_of_month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def named(name: PeriodName, *, today: date) -> Period:
    """A named period ending today."""
    if name.value in _LAST_DAYS:
        return Period(name, today - timedelta(days=_LAST_DAYS[name.value] - 1), today)
    if name is PeriodName.YEAR_TO_DATE:
        return Period(name, today.replace(month=1, day=1), today)
    if name is PeriodName.ALL_TIME:
        return Period(name, None, today)
    raise BadInput.field("period", "custom needs start_date and end_date")


def _check_date(field: str, value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise BadInput.field(field, f"must be between {EARLIEST_DATE} and {LATEST_DATE}")


def explicit(start: date | None, end: date | None) -> Period:
    """A period from explicit dates, both required, start not after end."""
    if start is None:
        raise BadInput.field("start_date", "is required with end_date")
    if end is None:
        raise BadInput.field("end_date", "is required with start_date")
    _check_date("start_date", start)
    _check_date("end_date", end)
    if start > end:
        raise BadInput.field("start_date", "must not be after end_date")
    check_span(start, end)
    return Period(PeriodName.CUSTOM, start, end)


def resolve(
    name: PeriodName | None, start: date | None, end: date | None, *, today: date
) -> Period | None:
    """The period a request asks for; None when it names none (each endpoint has a default)."""
    if start is None and end is None:
        return None if name is None else named(name, today=today)
    if name not in (None, PeriodName.CUSTOM):
        raise BadInput.field("period", "give either period or start_date and end_date, not both")
    return explicit(start, end)


def stats_period(
    name: PeriodName | None, start: date | None, end: date | None, *, today: date
) -> Period:
    """Personal stats and breakdowns: the last 30 days unless asked otherwise."""
    period = resolve(name, start, end, today=today)
    return period or named(PeriodName.LAST_30_DAYS, today=today)


def series_period(
    name: PeriodName | None, start: date | None, end: date | None, *, today: date
) -> Period:
    """Monthly series: the last 12 months, the current one included, unless asked otherwise."""
    period = resolve(name, start, end, today=today)
    first = first_of_month(month_index(today) - (SERIES_MONTHS - 1))
    return period or Period(PeriodName.CUSTOM, first, today)
