"""Activities from file rows: CSV cells are strings; JSON Lines values may also be numbers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from domain.activities import FIELDS, ActivityInput, ActivityRules, ActivityStatus, bad_input

Parser = Callable[[Mapping[str, Any]], Any]


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is required")
    return value.strip()


def _started_at(raw: Mapping[str, Any]) -> datetime:
    text = _text(raw, "started_at")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError("has no time zone; add Z (UTC) or an offset such as +02:00")
    return parsed.astimezone(UTC)


def _minutes(raw: Mapping[str, Any]) -> int:
    value = raw.get("duration_minutes")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError("must be a whole number of minutes")


def _status(raw: Mapping[str, Any]) -> ActivityStatus:
    value = _text(raw, "status")
    try:
        return ActivityStatus(value)
    except ValueError:
        raise ValueError("must be completed or cancelled") from None


_SPECIAL: dict[str, Parser] = {
    "started_at": _started_at,
    "duration_minutes": _minutes,
    "status": _status,
}
PARSERS: tuple[tuple[str, Parser], ...] = tuple(
    (field, _SPECIAL.get(field) or partial(_text, field=field)) for field in FIELDS
)


def parse_activity(raw: Mapping[str, Any], rules: ActivityRules) -> ActivityInput:
    """An activity from a file row (all eight FIELDS required); BadInput names every bad field."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field, parse in PARSERS:
        try:
            values[field] = parse(raw)
        except ValueError as error:
            problems[field] = str(error)
    problems.update(rules.problems(values))
    if problems:
        raise bad_input({name: problems[name] for name in FIELDS if name in problems})
    return ActivityInput(**values)
