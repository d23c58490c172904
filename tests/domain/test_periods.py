"""Stats periods: named periods end today, explicit ones are checked, bounds follow the zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import BadInput
from domain.periods import Period, PeriodName, series_period, stats_period

TODAY = date(2026, 3, 25)
OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("name", "start"),
    [
        (PeriodName.LAST_7_DAYS, date(2026, 3, 19)),  # 25 - 6: seven days, today included
        (PeriodName.LAST_30_DAYS, date(2026, 2, 24)),  # the contract's own example
        # 89 days back: 24 to 1 March, 28 in February, 31 in January, 6 more in December.
        (PeriodName.LAST_90_DAYS, date(2025, 12, 26)),
        (PeriodName.LAST_365_DAYS, date(2025, 3, 26)),
        (PeriodName.YEAR_TO_DATE, date(2026, 1, 1)),
        (PeriodName.ALL_TIME, None),
    ],
)
def test_named_periods_end_today(name: PeriodName, start: date | None) -> None:
    assert stats_period(name, None, None, today=TODAY) == Period(name, start, TODAY)


def test_defaults_are_30_days_for_stats_and_12_months_for_series() -> None:
    assert stats_period(None, None, None, today=TODAY).start == date(2026, 2, 24)
    # April 2025 .. March 2026: twelve months, the current one included.
    assert series_period(None, None, None, today=TODAY) == Period(
        PeriodName.CUSTOM, date(2025, 4, 1), TODAY
    )


def test_explicit_dates_are_inclusive_and_named_custom() -> None:
    period = stats_period(None, date(2026, 1, 5), date(2026, 1, 5), today=TODAY)
    assert period == Period(PeriodName.CUSTOM, date(2026, 1, 5), date(2026, 1, 5))
    assert stats_period(PeriodName.CUSTOM, date(2026, 1, 1), date(2026, 1, 2), today=TODAY)


@pytest.mark.parametrize(
    ("name", "start", "end", "field"),
    [
        (None, date(2026, 3, 2), date(2026, 3, 1), "start_date"),
        (None, date(2026, 3, 1), None, "end_date"),
        (None, None, date(2026, 3, 1), "start_date"),
        (PeriodName.LAST_7_DAYS, date(2026, 3, 1), date(2026, 3, 2), "period"),
        (PeriodName.CUSTOM, None, None, "period"),
        (None, date(1969, 12, 31), date(2026, 3, 1), "start_date"),
    ],
)
def test_bad_periods_name_the_field(
    name: PeriodName | None, start: date | None, end: date | None, field: str
) -> None:
    with pytest.raises(BadInput) as raised:
        stats_period(name, start, end, today=TODAY)
    assert set(raised.value.fields) == {field}


def test_bounds_follow_daylight_saving_in_the_zone() -> None:
    # 29 March 2026 is 23 hours long in Oslo: it starts at 00:00 CET (23:00Z the day before)
    # and the next day starts at 00:00 CEST (22:00Z).
    day = Period(PeriodName.CUSTOM, date(2026, 3, 29), date(2026, 3, 29))
    assert day.bounds(OSLO) == (
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    assert day.bounds(ZoneInfo("UTC")) == (
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 3, 30, tzinfo=UTC),
    )
