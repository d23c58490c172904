"""The mentor status state machine of docs/domain.md: pure rules, no I/O."""

from __future__ import annotations

from enum import StrEnum


class StatusValue(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    INACTIVE = "inactive"


class StatusEvent(StrEnum):
    PAUSE = "PauseMentorEvent"
    RESUME = "ResumeMentorEvent"
    DEACTIVATE = "DeactivateMentorEvent"
    REACTIVATE = "ReactivateMentorEvent"


# event -> (the statuses it may leave, the status it enters)
TRANSITIONS: dict[StatusEvent, tuple[frozenset[StatusValue], StatusValue]] = {
    StatusEvent.PAUSE: (frozenset({StatusValue.ACTIVE}), StatusValue.PAUSED),
    StatusEvent.RESUME: (frozenset({StatusValue.PAUSED}), StatusValue.ACTIVE),
    StatusEvent.DEACTIVATE: (
        frozenset({StatusValue.ACTIVE, StatusValue.PAUSED}),
        StatusValue.INACTIVE,
    ),
    StatusEvent.REACTIVATE: (frozenset({StatusValue.INACTIVE}), StatusValue.ACTIVE),
}


def is_allowed(current: StatusValue, event: StatusEvent) -> bool:
    sources, _ = TRANSITIONS[event]
    return current in sources


def target_of(event: StatusEvent) -> StatusValue:
    return TRANSITIONS[event][1]


def event_between(current: StatusValue, target: StatusValue) -> StatusEvent | None:
    """The one event that moves `current` to `target`; None if no event does (or none is needed)."""
    for event, (sources, destination) in TRANSITIONS.items():
        if current in sources and destination == target:
            return event
    return None


def opens_pause(event: StatusEvent) -> bool:
    return target_of(event) is StatusValue.PAUSED


def closes_pause(current: StatusValue, event: StatusEvent) -> bool:
    return current is StatusValue.PAUSED and target_of(event) is not StatusValue.PAUSED


def is_eligible_for_assignment(status: StatusValue) -> bool:
    return status is StatusValue.ACTIVE
