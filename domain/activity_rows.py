"""Activities from file rows: CSV cells are strings; JSON Lines values may also be numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

from domain.activities import (
    EARLIEST_START,
    FIELDS,
    FUTURE_TOLERANCE,
    MAX_DURATION_MINUTES,
    ActivityInput,
    ActivityRules,
    ActivityStatus,
    bad_input,
)
from domain.validation import MAX_ID_LENGTH, MAX_NAME_LENGTH

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


# One row as the ledger's bulk writer takes it, in FIELDS order.
Staged = tuple[str, str, str, str, str, datetime, int, str]
_ID_TEXT = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_ID_LENGTH - 1}}}")
_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")  # domain.validation.text_problem's two refusals
_STATUSES = frozenset(status.value for status in ActivityStatus)


@dataclass(frozen=True)
class FastRows:
    """`parse_activity`'s common case at a fraction of its cost, for imports of many rows.

    A row of eight strings in FIELDS order that meets every rule becomes the same values
    `parse_activity` would give; any other row is None, and `parse_activity` (which names each
    problem) judges it. So the rules live in one place, and this only ever accepts less.
    """

    rules: ActivityRules

    @cached_property
    def _types(self) -> frozenset[str]:
        return frozenset(t for t in self.rules.activity_types if _ID_TEXT.fullmatch(t))

    @cached_property
    def _latest(self) -> datetime:
        return self.rules.now + FUTURE_TOLERANCE

    def __call__(self, values: Sequence[Any]) -> Staged | None:
        try:
            id, mentor_id, name, type_id, contact_id, started, minutes, status = (
                value.strip() for value in values
            )
            at = datetime.fromisoformat(started)
            if at.tzinfo is None:
                return None
            at = at.astimezone(UTC)
        except (AttributeError, TypeError, ValueError):  # not eight strings; not a timestamp
            return None
        fits = (
            _ID_TEXT.fullmatch(id)
            and _ID_TEXT.fullmatch(mentor_id)
            and _ID_TEXT.fullmatch(contact_id)
            and type_id in self._types
            and status in _STATUSES
            and 0 < len(name) <= MAX_NAME_LENGTH
            and not _UNPRINTABLE.search(name)
            and minutes.isascii()
            and minutes.isdigit()
            and EARLIEST_START <= at <= self._latest
        )
        if not fits:
            return None
        duration = int(minutes)
        if duration > MAX_DURATION_MINUTES:
            return None
        return (id, mentor_id, name, type_id, contact_id, at, duration, status)


def staged(activity: ActivityInput) -> Staged:
    """An activity as the bulk writer takes it (what FastRows gives for the same row)."""
    return (
        activity.id,
        activity.mentor_id,
        activity.mentor_name or activity.mentor_id,
        activity.activity_type_id,
        activity.contact_id,
        activity.started_at,
        activity.duration_minutes,
        activity.status.value,
    )
