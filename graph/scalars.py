"""Scalars whose wire format docs/domain.md fixes: timestamps are ISO 8601 UTC with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NewType

from strawberry.types.scalar import ScalarDefinition

from models.types import whole_seconds


def serialize_datetime(value: datetime) -> str:
    """`2026-03-01T09:15:00Z`: UTC, with a `Z`, whole seconds (rows stored by older versions
    may hold microseconds; they print like every other timestamp)."""
    return whole_seconds(value.astimezone(UTC)).isoformat().replace("+00:00", "Z")


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 timestamp with an explicit offset (a bare local time would be ambiguous);
    a fraction of a second is dropped, as the service keeps whole seconds."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 timestamp string such as 2026-03-26T09:14:55Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone; add Z (UTC) or an offset such as +02:00")
    try:
        return whole_seconds(parsed.astimezone(UTC))
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise ValueError(
            f"'{value}' is out of range: in UTC it must fall in years 1-9999"
        ) from None


DATETIME = ScalarDefinition(
    name="DateTime",
    description="An instant, as ISO 8601 in UTC with a `Z` (for example 2026-03-26T09:15:00Z).",
    specified_by_url=None,
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=datetime,
)


def serialize_figure(value: int | float) -> int | float:
    """An int stays a JSON integer and a float a JSON number with its fraction (`455.0`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a figure is a number, not {type(value).__name__}")
    return value


Figure = NewType("Figure", float)
FIGURE = ScalarDefinition(
    name="Figure",
    description=(
        "A milestone figure: a whole number (JSON integer) for `contacts_helped` and "
        "`activity_count`; hours rounded to 2 decimal places for `hours_logged`."
    ),
    specified_by_url=None,
    serialize=serialize_figure,
    parse_value=float,
    parse_literal=None,
    origin=Figure,
)
