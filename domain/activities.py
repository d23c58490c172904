"""Activities as the domain accepts them: one shape, one set of rules for every way in.

GraphQL mutations build `ActivityInput`s from typed arguments; the file importer parses raw rows
(`domain.activity_rows`). Both are judged by `ActivityRules`, which names every broken rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property, partial
from typing import Any

from domain.errors import BadInput
from domain.periods import EARLIEST_DATE
from domain.validation import check_id, check_name

FIELDS = (
    "id",
    "mentor_id",
    "mentor_name",
    "activity_type_id",
    "contact_id",
    "started_at",
    "duration_minutes",
    "status",
)
ID_FIELDS = ("id", "mentor_id", "contact_id")  # activity_type_id has a rule of its own
MAX_DURATION_MINUTES = 24 * 60
# Clocks drift and imports are prepared elsewhere; beyond a day ahead is a typo, not a clock.
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST_START = datetime.combine(EARLIEST_DATE, time(), tzinfo=UTC)


class ActivityStatus(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True)
class ActivityInput:
    """One activity as a client states it; `mentor_name` names the mentor if they are new."""

    id: str
    mentor_id: str
    activity_type_id: str
    contact_id: str
    started_at: datetime
    duration_minutes: int
    status: ActivityStatus
    mentor_name: str | None = None

    def stored(self) -> tuple[str, str, str, datetime, int, str]:
        """The fields the ledger keeps for this id (what decides "same data")."""
        return (
            self.mentor_id,
            self.activity_type_id,
            self.contact_id,
            self.started_at,
            self.duration_minutes,
            self.status.value,
        )

    def row(self) -> dict[str, Any]:
        """Parameters for the ledger's upsert."""
        return {
            "id": self.id,
            "mentor_id": self.mentor_id,
            "activity_type_id": self.activity_type_id,
            "contact_id": self.contact_id,
            "started_at": self.started_at,
            "duration_minutes": self.duration_minutes,
            "status": self.status.value,
        }


def _problem(check: Callable[[str, Any], object], field: str, value: Any) -> str | None:
    try:
        check(field, value)
    except BadInput as error:
        return error.fields.get(field, error.message)
    return None


Rule = Callable[[Any], str | None]  # a field's value -> what is wrong with it, or None


def bad_input(problems: Mapping[str, str]) -> BadInput:
    """One BadInput naming every field's problem."""
    return BadInput("; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems)


@dataclass(frozen=True)
class ActivityRules:
    """The rules an activity must meet, bound once per batch or file: which activity types
    exist, and what "now" is."""

    activity_types: frozenset[str]
    now: datetime

    @cached_property
    def _rules(self) -> dict[str, Rule]:
        latest = self.now + FUTURE_TOLERANCE
        rules: dict[str, Rule] = {name: partial(_problem, check_id, name) for name in ID_FIELDS}
        return rules | {
            "activity_type_id": self._known_type,
            "started_at": lambda value: (
                None
                if EARLIEST_START <= value <= latest
                else f"must be between {EARLIEST_DATE} and a day from now"
            ),
            "duration_minutes": lambda value: (
                None
                if 0 <= value <= MAX_DURATION_MINUTES
                else f"must be between 0 and {MAX_DURATION_MINUTES}"
            ),
            "mentor_name": lambda value: (
                None if value is None else _problem(check_name, "mentor_name", value)
            ),
        }

    def _known_type(self, value: str) -> str | None:
        problem = _problem(check_id, "activity_type_id", value)
        if problem is None and value not in self.activity_types:
            return "is not a known activity type"
        return problem

    def problems(self, values: Mapping[str, Any]) -> dict[str, str]:
        """What is wrong with each field given in `values` (absent fields are not checked)."""
        found = {name: rule(values[name]) for name, rule in self._rules.items() if name in values}
        return {name: problem for name, problem in found.items() if problem}

    def check(self, activity: ActivityInput) -> None:
        """Raise BadInput naming every broken rule of one activity."""
        problems = self.problems(vars(activity))
        if problems:
            raise bad_input(problems)
