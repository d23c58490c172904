"""Personal stats on small ledgers, every figure worked out by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.periods import Period, PeriodName, named
from domain.series import MonthCount, activity_breakdown, contribution_history, monthly_series
from domain.stats import (
    STREAK_WINDOW_DAYS,
    PersonalStats,
    Scope,
    Weekday,
    peer_rank_percentiles,
    personal_stats,
)
from models.database import Database
from tests.factories import make_mentor
from tests.ledgers import act, record

UTC_ZONE = ZoneInfo("UTC")
OSLO = ZoneInfo("Europe/Oslo")
TODAY = date(2026, 3, 25)  # a Wednesday
LAST_30 = Scope(named(PeriodName.LAST_30_DAYS, today=TODAY), UTC_ZONE)  # 24 Feb .. 25 Mar
ALL_TIME = Scope(named(PeriodName.ALL_TIME, today=TODAY), UTC_ZONE)

ANN = [
    act("a1", mentor="ann", at="2026-03-25T09:00Z", type="act_type_001", minutes=60),  # Wed
    act("a2", mentor="ann", at="2026-03-24T10:00Z", type="act_type_003", minutes=20),  # Tue
    act("a3", mentor="ann", at="2026-03-19T11:00Z", type="act_type_003", minutes=30),  # Thu
    act("a4", mentor="ann", at="2026-03-19T15:00Z", minutes=45, cancelled=True),  # Thu, 001
    act("a5", mentor="ann", at="2026-03-18T09:00Z", type="act_type_002", minutes=90),  # Wed
    act("a6", mentor="ann", at="2026-03-12T12:00Z", type="act_type_002", minutes=25),  # Thu
    act("a7", mentor="ann", at="2026-02-10T09:00Z", minutes=50),  # before the period
    act("a8", mentor="ann", at="2026-02-24T00:30Z", type="act_type_004", cancelled=True),
]
OTHERS = [
    act("b1", mentor="bob", at="2026-03-01T10:00Z", minutes=300),
    act("b2", mentor="bob", at="2026-01-05T10:00Z", minutes=1000),  # before the period
    act("c1", mentor="cara", at="2026-03-02T10:00Z", minutes=225),  # as much as ann
    act("e1", mentor="eve", at="2026-02-23T23:59Z", minutes=500),  # a minute before the period
    act("e2", mentor="eve", at="2026-03-03T10:00Z", minutes=500, cancelled=True),
]


async def _organisation(database: Database) -> None:
    await record(database, *ANN, *OTHERS)
    await make_mentor(database, id="dan", name="Dan Diaz")  # no activity at all


async def test_summary_of_the_last_30_days(database: Database) -> None:
    await _organisation(database)
    async with database.sessions() as session:
        found = await personal_stats(session.execute, ["ann", "dan", "nobody"], LAST_30)

    # In the period: a1-a6 and a8 (24 Feb 00:30 is inside; a7 is not). Cancelled: a4, a8.
    # Completed minutes 60 + 20 + 30 + 90 + 25 = 225: 3.75 h -> 3.8; mean 225 / 5 = 45.
    # Completed per type: 002 a5 a6, 003 a2 a3, 001 a1 (a4 would make 001 win the tie, but
    # it was cancelled) -> tie between 002 and 003 -> lowest id, 002 (group_session).
    # Completed per weekday: Wed a1 a5, Thu a3 a6, Tue a2 -> tie -> Wednesday (Thursday
    # would win if cancelled a4 counted). Streak: 25 and 24 March, none on the 23rd -> 2.
    assert found["ann"] == PersonalStats(
        mentor_id="ann",
        mentor_name="Mentor ann",
        period=PeriodName.LAST_30_DAYS,
        start_date=date(2026, 2, 24),
        end_date=TODAY,
        total_activities=7,
        completed_activities=5,
        cancelled_activities=2,
        completion_rate=0.714,  # 5 / 7 = 0.7142...
        avg_session_duration_minutes=45,
        total_hours_logged=3.8,
        most_common_activity_type="group_session",
        most_active_weekday=Weekday.WEDNESDAY,
        streak_days=2,
    )
    assert found["dan"] == PersonalStats(
        mentor_id="dan",
        mentor_name="Dan Diaz",
        period=PeriodName.LAST_30_DAYS,
        start_date=date(2026, 2, 24),
        end_date=TODAY,
        total_activities=0,
        completed_activities=0,
        cancelled_activities=0,
        completion_rate=0.0,
        avg_session_duration_minutes=0,
        total_hours_logged=0.0,
        most_common_activity_type=None,
        most_active_weekday=None,
        streak_days=0,
    )
    assert "nobody" not in found


async def test_peer_rank_counts_every_mentor_by_completed_hours_in_the_period(
    database: Database,
) -> None:
    await _organisation(database)
    mentors = ["ann", "bob", "cara", "dan", "eve"]
    async with database.sessions() as session:
        last_30 = await peer_rank_percentiles(session.execute, mentors, LAST_30)
        all_time = await peer_rank_percentiles(session.execute, mentors, ALL_TIME)

    # Last 30 days, completed minutes: ann 225, bob 300, cara 225, dan 0, eve 0 (e1 is a
    # minute early, e2 cancelled). n = 5, so rank = round(100 * fewer / 4).
    # ann and cara: fewer are dan and eve -> 50; bob: 4 -> 100; dan and eve: 0 -> 0.
    assert last_30 == {"ann": 50, "bob": 100, "cara": 50, "dan": 0, "eve": 0}
    # All time: ann 275 (a7 counts), bob 1300, cara 225, dan 0, eve 500.
    # Order: dan, cara, ann, eve, bob -> 0, 25, 50, 75, 100.
    assert all_time == {"ann": 50, "bob": 100, "cara": 25, "dan": 0, "eve": 75}


async def test_a_mentor_alone_ranks_100(database: Database) -> None:
    await record(database, act("x1", mentor="solo", at="2026-03-20T10:00Z"))
    async with database.sessions() as session:
        assert await peer_rank_percentiles(session.execute, ["solo"], LAST_30) == {"solo": 100}


async def test_all_time_starts_on_the_first_activity(database: Database) -> None:
    await _organisation(database)
    async with database.sessions() as session:
        found = await personal_stats(session.execute, ["ann", "dan"], ALL_TIME)
    assert (found["ann"].start_date, found["ann"].total_activities) == (date(2026, 2, 10), 8)
    assert found["dan"].start_date == TODAY  # nothing logged: the period is just today


async def test_a_streak_ending_yesterday_is_not_cut_at_the_period_start(
    database: Database,
) -> None:
    # Completed on each of 17..24 March; nothing completed on the 25th (today), only a
    # cancelled session; the 16th is empty, so the 15th is another streak.
    days = [act(f"s{day}", mentor="sam", at=f"2026-03-{day}T08:00Z") for day in range(17, 25)]
    await record(
        database,
        *days,
        act("s25", mentor="sam", at="2026-03-25T08:00Z", cancelled=True),
        act("s15", mentor="sam", at="2026-03-15T08:00Z"),
    )
    week = Scope(named(PeriodName.LAST_7_DAYS, today=TODAY), UTC_ZONE)  # 19..25 March
    to_the_22nd = Scope(Period(PeriodName.CUSTOM, date(2026, 3, 20), date(2026, 3, 22)), UTC_ZONE)
    ended = Scope(Period(PeriodName.CUSTOM, date(2026, 3, 1), date(2026, 3, 27)), UTC_ZONE)
    async with database.sessions() as session:
        last_week = await personal_stats(session.execute, ["sam"], week)
        early = await personal_stats(session.execute, ["sam"], to_the_22nd)
        later = await personal_stats(session.execute, ["sam"], ended)
    assert last_week["sam"].streak_days == 8  # 24 back to 17, before the period's 19th
    assert early["sam"].streak_days == 6  # the end day itself: 22 back to 17
    assert later["sam"].streak_days == 0  # nothing on the 27th nor the 26th


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14, UTC-11
async def test_streaks_longer_than_the_window_they_are_first_read_in(
    database: Database, zone: str
) -> None:
    # Each mentor works every local day of a run ending today, after a day off and 3 more days,
    # at the first minute of the day: in UTC+14 that is the previous UTC day, which the window
    # must still read whole for the day before the runs it keeps.
    tz = ZoneInfo(zone)
    lengths = {f"run{n}": n for n in (1, 33, 34, 35, 36, 37, 60)}
    activities = []
    for mentor, length in lengths.items():
        worked = [*range(length), *range(length + 1, length + 4)]  # `length` is the day off
        for back in worked:
            day = TODAY - timedelta(days=back)
            moment = datetime.combine(day, time(0, 0), tz).astimezone(UTC).isoformat()
            activities.append(act(f"{mentor}-{back}", mentor=mentor, at=moment))
    await record(database, *activities)
    week = Scope(named(PeriodName.LAST_7_DAYS, today=TODAY), tz)
    async with database.sessions() as session:
        found = await personal_stats(session.execute, list(lengths), week)
    assert {mentor: stats.streak_days for mentor, stats in found.items()} == lengths
    assert STREAK_WINDOW_DAYS in range(34, 38)  # the runs above straddle the window's edge


async def test_23_30_utc_on_31_january_is_february_in_oslo(database: Database) -> None:
    await record(database, act("o1", mentor="ola", at="2026-01-31T23:30Z", minutes=60))
    first_of_february = Period(PeriodName.CUSTOM, date(2026, 2, 1), date(2026, 2, 1))
    winter = Period(PeriodName.CUSTOM, date(2026, 1, 1), date(2026, 2, 28))
    async with database.sessions() as session:
        oslo = await personal_stats(session.execute, ["ola"], Scope(first_of_february, OSLO))
        utc = await personal_stats(session.execute, ["ola"], Scope(first_of_february, UTC_ZONE))
        series = await monthly_series(session.execute, ["ola"], Scope(winter, OSLO))
        history = await contribution_history(session.execute, ["ola"], zone=OSLO, today=TODAY)

    # 00:30 on Sunday 1 February in Oslo (UTC+1); still Saturday 31 January in UTC.
    assert (oslo["ola"].total_activities, oslo["ola"].most_active_weekday) == (1, Weekday.SUNDAY)
    assert utc["ola"].total_activities == 0
    assert [(m.month_label, m.total_activities, m.total_hours) for m in series["ola"]] == [
        ("Jan 2026", 0, 0.0),
        ("Feb 2026", 1, 1.0),
    ]
    [year] = history["ola"]
    assert year.monthly_breakdown == (MonthCount(1, 0), MonthCount(2, 1), MonthCount(3, 0))
    assert (year.peak_month, year.zero_activity_months) == (2, 2)


async def test_a_daylight_saving_change_inside_the_range(database: Database) -> None:
    # Oslo moves from UTC+1 to UTC+2 at 01:00Z on Sunday 29 March 2026.
    await record(
        database,
        act("d1", mentor="dst", at="2026-03-28T23:30Z"),  # Sun 29 Mar 00:30 (+1)
        act("d2", mentor="dst", at="2026-03-29T22:30Z"),  # Mon 30 Mar 00:30 (+2)
        act("d3", mentor="dst", at="2026-03-30T21:59Z"),  # Mon 30 Mar 23:59 (+2)
        act("d4", mentor="dst", at="2026-03-31T10:00Z"),  # Tue 31 Mar 12:00 (+2)
        act("d5", mentor="dst", at="2026-03-31T22:00Z"),  # Wed 1 Apr 00:00 (+2)
    )
    days = Scope(Period(PeriodName.CUSTOM, date(2026, 3, 29), date(2026, 4, 1)), OSLO)
    monday = Scope(Period(PeriodName.CUSTOM, date(2026, 3, 30), date(2026, 3, 30)), OSLO)
    spring = Scope(Period(PeriodName.CUSTOM, date(2026, 3, 1), date(2026, 4, 30)), OSLO)
    async with database.sessions() as session:
        stats = (await personal_stats(session.execute, ["dst"], days))["dst"]
        one_day = (await personal_stats(session.execute, ["dst"], monday))["dst"]
        series = (await monthly_series(session.execute, ["dst"], spring))["dst"]

    # Local days 29, 30, 30, 31 March and 1 April: Monday has two; the streak runs 1 April
    # back to 29 March.
    assert (stats.total_activities, stats.most_active_weekday) == (5, Weekday.MONDAY)
    assert stats.streak_days == 4
    # Monday 30 March is [29 Mar 22:00Z, 30 Mar 22:00Z): d2 and d3, not d1 nor d4.
    assert one_day.total_activities == 2
    assert [(m.month_label, m.total_activities) for m in series] == [
        ("Mar 2026", 4),
        ("Apr 2026", 1),
    ]


async def test_monthly_series_includes_zero_months(database: Database) -> None:
    await _organisation(database)
    default = Scope(Period(PeriodName.CUSTOM, date(2025, 4, 1), TODAY), UTC_ZONE)
    async with database.sessions() as session:
        found = await monthly_series(session.execute, ["ann", "dan"], default)
    months = [(m.year, m.month, m.month_label) for m in found["ann"]]
    assert len(months) == 12
    assert (months[0], months[-1]) == ((2025, 4, "Apr 2025"), (2026, 3, "Mar 2026"))
    # February: a7 (50) and a8 (cancelled); March: a1-a6 of which a4 cancelled:
    # 60 + 20 + 30 + 90 + 25 = 225 min = 3.75 h -> 3.8.
    totals = [(m.total_activities, m.completed_activities, m.total_hours) for m in found["ann"]]
    assert totals == [(0, 0, 0.0)] * 10 + [(2, 1, 0.8), (6, 5, 3.8)]
    assert [m.total_activities for m in found["dan"]] == [0] * 12


async def test_breakdown_counts_completed_activities_per_type(database: Database) -> None:
    await _organisation(database)
    async with database.sessions() as session:
        found = await activity_breakdown(session.execute, ["ann", "dan"], LAST_30)
    # Five completed: 002 twice (90 + 25 = 115 min: mean 57.5 -> 58, 1.9 h), 003 twice
    # (20 + 30: mean 25, 0.8 h), 001 once (60). Ties by count go to the lowest id.
    assert [
        (t.activity_type_id, t.count, t.percentage, t.avg_duration_minutes, t.total_hours)
        for t in found["ann"]
    ] == [
        ("act_type_002", 2, 40.0, 58, 1.9),
        ("act_type_003", 2, 40.0, 25, 0.8),
        ("act_type_001", 1, 20.0, 60, 1.0),
    ]
    assert found["ann"][0].activity_type_name == "Group Session"
    assert found["dan"] == []


async def test_contribution_history_peaks_ties_and_zero_months(database: Database) -> None:
    await record(
        database,
        act("p1", mentor="pia", at="2024-12-10T10:00Z", minutes=30),
        act("p2", mentor="pia", at="2025-01-10T10:00Z", minutes=30),
        act("p3", mentor="pia", at="2025-03-05T10:00Z", minutes=30),
        act("p4", mentor="pia", at="2025-03-06T10:00Z", minutes=30),
        act("p5", mentor="pia", at="2025-07-09T10:00Z", minutes=45),
        act("p6", mentor="pia", at="2025-07-10T10:00Z", minutes=45),
        act("p7", mentor="pia", at="2025-11-01T10:00Z", cancelled=True),
        act("p8", mentor="pia", at="2025-11-02T10:00Z", cancelled=True),
        act("p9", mentor="pia", at="2025-11-03T10:00Z", cancelled=True),
        act("p10", mentor="pia", at="2026-02-14T10:00Z", minutes=90),
        act("p11", mentor="pia", at="2026-05-01T10:00Z", minutes=90),  # after this month
    )
    async with database.sessions() as session:
        found = await contribution_history(
            session.execute, ["pia", "none"], zone=UTC_ZONE, today=TODAY
        )
    years = {year.year: year for year in found["pia"]}
    assert list(years) == [2024, 2025, 2026]
    # 2024: only December (one). 2025: Jan 1, Mar 2, Jul 2 (tie -> March), November's three
    # are cancelled: 5 completed, 30 * 3 + 45 * 2 = 180 min = 3.0 h, 9 empty months.
    # 2026 runs to March: February's 90 min; May is after the current month.
    assert (years[2024].total_activities, years[2024].peak_month) == (1, 12)
    assert years[2024].zero_activity_months == 11
    counts_2025 = [m.count for m in years[2025].monthly_breakdown]
    assert counts_2025 == [1, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    assert (years[2025].total_activities, years[2025].total_hours) == (5, 3.0)
    assert (years[2025].peak_month, years[2025].zero_activity_months) == (3, 9)
    assert [m.count for m in years[2026].monthly_breakdown] == [0, 1, 0]
    assert (years[2026].total_activities, years[2026].total_hours) == (1, 1.5)
    assert found["none"] == []


async def test_cached_peer_ranks_follow_every_write(database: Database) -> None:
    async def ranks() -> dict[str, int]:
        async with database.sessions() as session:
            return await peer_rank_percentiles(session.execute, ["quinn", "rita"], LAST_30)

    await record(
        database,
        act("q1", mentor="quinn", at="2026-03-20T10:00Z", minutes=30),
        act("r1", mentor="rita", at="2026-03-20T10:00Z", minutes=60),
    )
    assert await ranks() == {"quinn": 0, "rita": 100}
    assert await ranks() == {"quinn": 0, "rita": 100}  # answered from the cache
    await record(database, act("q2", mentor="quinn", at="2026-03-21T10:00Z", minutes=60))
    assert await ranks() == {"quinn": 100, "rita": 0}  # 90 minutes against 60
    await make_mentor(database, id="sam")  # a third mentor, with 0 minutes
    assert await ranks() == {"quinn": 100, "rita": 50}  # rita: 1 of 2 others below
