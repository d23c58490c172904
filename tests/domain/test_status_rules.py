"""The state machine table of docs/domain.md, checked cell by cell."""

from __future__ import annotations

import pytest

from domain.status_rules import (
    StatusEvent,
    StatusValue,
    closes_pause,
    event_between,
    is_allowed,
    is_eligible_for_assignment,
    target_of,
)

ACTIVE, PAUSED, INACTIVE = StatusValue.ACTIVE, StatusValue.PAUSED, StatusValue.INACTIVE
LEGAL = {
    (StatusEvent.PAUSE, ACTIVE): PAUSED,
    (StatusEvent.RESUME, PAUSED): ACTIVE,
    (StatusEvent.DEACTIVATE, ACTIVE): INACTIVE,
    (StatusEvent.DEACTIVATE, PAUSED): INACTIVE,
    (StatusEvent.REACTIVATE, INACTIVE): ACTIVE,
}


@pytest.mark.parametrize("event", list(StatusEvent))
@pytest.mark.parametrize("current", list(StatusValue))
def test_only_the_table_transitions_are_allowed(event: StatusEvent, current: StatusValue) -> None:
    assert is_allowed(current, event) == ((event, current) in LEGAL)
    if (event, current) in LEGAL:
        assert target_of(event) is LEGAL[(event, current)]


def test_event_between_finds_the_one_event_or_none() -> None:
    assert event_between(ACTIVE, PAUSED) is StatusEvent.PAUSE
    assert event_between(PAUSED, ACTIVE) is StatusEvent.RESUME
    assert event_between(PAUSED, INACTIVE) is StatusEvent.DEACTIVATE
    assert event_between(INACTIVE, ACTIVE) is StatusEvent.REACTIVATE
    assert event_between(INACTIVE, PAUSED) is None
    assert event_between(ACTIVE, ACTIVE) is None


def test_leaving_paused_closes_the_pause() -> None:
    assert closes_pause(PAUSED, StatusEvent.RESUME)
    assert closes_pause(PAUSED, StatusEvent.DEACTIVATE)
    assert not closes_pause(ACTIVE, StatusEvent.DEACTIVATE)


def test_only_active_mentors_are_eligible() -> None:
    assert [s for s in StatusValue if is_eligible_for_assignment(s)] == [ACTIVE]
