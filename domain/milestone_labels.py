"""Accessibility labels: whole sentences a screen reader can speak, numbers and dates as a person
would say them ("312.5 hours", "July 14, 2025"), each milestone type in its own words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.milestones import MilestoneStatus, MilestoneType

_ACHIEVED = {
    MilestoneType.HOURS_LOGGED: "You reached {threshold} hours of mentoring on {date}",
    MilestoneType.CONTACTS_HELPED: "You reached {threshold} unique contacts helped on {date}",
    MilestoneType.ACTIVITY_COUNT: "You reached {threshold} completed activities on {date}",
}
_IN_PROGRESS = {
    MilestoneType.HOURS_LOGGED: (
        "You have logged {value} out of {threshold} hours of mentoring, {remaining} remaining"
    ),
    MilestoneType.CONTACTS_HELPED: (
        "You have helped {value} out of {threshold} unique contacts, {remaining} remaining"
    ),
    MilestoneType.ACTIVITY_COUNT: (
        "You have completed {value} out of {threshold} activities, {remaining} remaining"
    ),
}


def spoken_number(value: float) -> str:
    """312.5 stays 312.5, 100.0 becomes 100, 1000 becomes 1,000; at most one decimal."""
    rounded = round(value, 1)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.1f}"


_WORKING_TOWARDS = {
    MilestoneType.HOURS_LOGGED: "You are working towards {threshold} hours of mentoring",
    MilestoneType.CONTACTS_HELPED: "You are working towards {threshold} unique contacts helped",
    MilestoneType.ACTIVITY_COUNT: "You are working towards {threshold} completed activities",
}


def spoken_date(moment: datetime, tz: ZoneInfo) -> str:
    try:
        local = moment.astimezone(tz)
    except OverflowError:  # a stored instant at the calendar's edge: said in UTC instead
        local = moment
    return f"{local:%B} {local.day}, {local.year}"


def accessibility_label(
    *,
    kind: str,
    status: str,
    threshold: int,
    value: float | None,
    achieved_at: datetime | None,
    tz: ZoneInfo,
) -> str:
    """`value` None: a stored figure that cannot be read; the sentence leaves the numbers out."""
    kind = MilestoneType(kind)
    if status == MilestoneStatus.ACHIEVED and achieved_at is not None:
        return _ACHIEVED[kind].format(
            threshold=spoken_number(threshold), date=spoken_date(achieved_at, tz)
        )
    if value is None:
        return _WORKING_TOWARDS[kind].format(threshold=spoken_number(threshold))
    return _IN_PROGRESS[kind].format(
        value=spoken_number(value),
        threshold=spoken_number(threshold),
        remaining=spoken_number(max(0.0, threshold - value)),
    )
