"""Scalars whose wire format docs/domain.md fixes: timestamps are ISO 8601 UTC with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

from strawberry.types.scalar import ScalarDefinition


def serialize_datetime(value: datetime) -> str:
    """`2026-03-01T09:15:00Z`: UTC, with a `Z`, microseconds only when there are any."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 timestamp with an explicit offset (a bare local time would be ambiguous)."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 timestamp string such as 2026-03-26T09:14:55Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone; add Z (UTC) or an offset such as +02:00")
    try:
        return parsed.astimezone(UTC)
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
