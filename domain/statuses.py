"""The one transactional service every status change goes through (REST, GraphQL, sync events).

Each function runs inside the caller's write transaction and never commits: the unit of work
that opened the transaction commits once, or rolls everything back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.changes import KEEP, Keep, given
from domain.errors import BadInput, Conflict, NotFound, PreconditionFailed
from domain.events import record_status_change
from domain.status_rules import (
    StatusEvent,
    StatusValue,
    closes_pause,
    event_between,
    is_allowed,
    opens_pause,
    target_of,
)
from domain.validation import check_id, check_json_object, check_text
from models.mentors import Mentor
from models.statuses import MentorStatus, PauseRecord, active_pause_record, pause_record, status_of
from models.types import new_version, utcnow

STATUS = "Mentor status"
PAUSE_RECORD = "Pause record"


@dataclass(frozen=True, kw_only=True)
class PauseDetails:
    """What a pause is opened with; a missing start date means "now"."""

    start_date: datetime | None = None
    expected_return_date: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class StatusChanges:
    """A partial update of a mentor status: fields left at KEEP are not touched."""

    status: StatusValue | Keep = KEEP
    is_paused: bool | Keep = KEEP
    pause_start_date: datetime | Keep | None = KEEP
    expected_return_date: datetime | Keep | None = KEEP
    pause_reason: str | Keep | None = KEEP
    metadata: dict[str, Any] | Keep = KEEP


@dataclass(frozen=True, kw_only=True)
class PauseChanges:
    """A partial update of a pause record: closing it resumes the mentor."""

    is_active: bool | Keep = KEEP
    end_date: datetime | Keep | None = KEEP
    expected_return_date: datetime | Keep | None = KEEP
    reason: str | Keep | None = KEEP


def new_pause_record_id() -> str:
    return f"pause-rec-{secrets.token_hex(6)}"


def check_if_match(*, resource: str, key: str, current: str, if_match: str | None) -> None:
    """Refuse a write made against an older version of the record (HTTP If-Match)."""
    if if_match is not None and if_match not in ("*", current):
        raise PreconditionFailed(resource, key)


def _check_return_after_start(start: datetime | None, expected_return: datetime | None) -> None:
    if start is not None and expected_return is not None and expected_return <= start:
        raise BadInput.field("expected_return_date", "must be after the pause start date")


async def load_status(session: AsyncSession, mentor_id: str) -> MentorStatus:
    """The mentor's status row, locked for this transaction."""
    row = (await session.execute(status_of(mentor_id, for_update=True))).scalar_one_or_none()
    if row is None:
        raise NotFound(STATUS, mentor_id)
    return row


async def _close_active_pause(session: AsyncSession, mentor_id: str, *, at: datetime) -> None:
    record = (await session.execute(active_pause_record(mentor_id))).scalar_one_or_none()
    if record is not None:
        record.is_active = False
        record.end_date = at
        record.version = new_version()


def _touch(session: AsyncSession, row: MentorStatus, at: datetime) -> None:
    """Mark the status changed: new timestamp and entity tag, announced after the commit."""
    row.last_updated = at
    row.version = new_version()
    record_status_change(session, row)


async def apply_event(
    session: AsyncSession,
    row: MentorStatus,
    event: StatusEvent,
    *,
    pause: PauseDetails | None = None,
    closed_at: datetime | None = None,
) -> PauseRecord | None:
    """Move a locked status row through one legal transition; returns a pause record it opened.

    Pausing opens a pause record, leaving `paused` closes the active one (`closed_at`, default
    now): the invariant "paused exactly when one active pause record exists" holds after every
    call. The partial unique index on pause records backs it up against concurrent writers.
    """
    now = utcnow()
    current = StatusValue(row.status)
    if not is_allowed(current, event):
        raise Conflict(f"{event} is not allowed for a mentor who is {current}")
    if closes_pause(current, event):
        await _close_active_pause(session, row.mentor_id, at=closed_at or now)
    row.status = target_of(event)
    opened: PauseRecord | None = None
    if opens_pause(event):
        details = pause or PauseDetails()
        start = details.start_date or now
        _check_return_after_start(start, details.expected_return_date)
        opened = PauseRecord(
            id=new_pause_record_id(),
            mentor_id=row.mentor_id,
            start_date=start,
            expected_return_date=details.expected_return_date,
            is_active=True,
            reason=details.reason,
            created_at=now,
        )
        session.add(opened)
        row.pause_start_date = start
        row.expected_return_date = details.expected_return_date
        row.pause_reason = details.reason
    else:
        row.pause_start_date = row.expected_return_date = row.pause_reason = None
    _touch(session, row, now)
    await session.flush()
    return opened


async def ensure_mentor(session: AsyncSession, mentor_id: str, *, name: str | None) -> Mentor:
    """The mentor with this id, created (named `name`, or its id) if the service has not seen it."""
    mentor = await session.get(Mentor, mentor_id)
    if mentor is None:
        mentor = Mentor(id=mentor_id, name=name or mentor_id)
        session.add(mentor)
        await session.flush()
    return mentor


def _target_status(current: StatusValue, changes: StatusChanges) -> StatusValue:
    """The status a PUT asks for, from `status` and/or the derived `is_paused` flag."""
    if given(changes.status):
        if given(changes.is_paused) and changes.is_paused != (changes.status is StatusValue.PAUSED):
            raise BadInput.field("is_paused", f"contradicts status '{changes.status}'")
        return changes.status
    if given(changes.is_paused):
        if changes.is_paused:
            return StatusValue.PAUSED
        return StatusValue.ACTIVE if current is StatusValue.PAUSED else current
    return current


def _check_status_input(changes: StatusChanges) -> None:
    if given(changes.pause_reason):
        check_text("pause_reason", changes.pause_reason)
    if given(changes.metadata):
        check_json_object("metadata", changes.metadata)


def _pause_fields_given(changes: StatusChanges) -> bool:
    """Whether a PUT sets a pause field to a value (explicit nulls are fine for any status)."""
    return any(
        given(value) and value is not None
        for value in (changes.pause_start_date, changes.expected_return_date, changes.pause_reason)
    )


async def create_status(
    session: AsyncSession, *, mentor_id: str, changes: StatusChanges
) -> MentorStatus:
    """Start tracking a mentor's status (creating the mentor if it is new)."""
    check_id("mentor_id", mentor_id)
    _check_status_input(changes)
    if await session.get(MentorStatus, mentor_id) is not None:
        raise Conflict(f"{STATUS} '{mentor_id}' already exists; update it with PUT")
    await ensure_mentor(session, mentor_id, name=None)
    row = MentorStatus(mentor_id=mentor_id, status=StatusValue.ACTIVE, last_updated=utcnow())
    if given(changes.metadata):
        row.extra = changes.metadata
    session.add(row)
    await session.flush()
    record_status_change(session, row)
    await _move_to(session, row, _target_status(StatusValue.ACTIVE, changes), changes)
    return row


async def update_status(
    session: AsyncSession, *, mentor_id: str, changes: StatusChanges, if_match: str | None
) -> MentorStatus:
    """Apply a PUT: a transition if the status changes, then the pause fields and metadata."""
    _check_status_input(changes)
    row = await load_status(session, mentor_id)
    check_if_match(resource=STATUS, key=mentor_id, current=row.version, if_match=if_match)
    if given(changes.metadata):
        row.extra = changes.metadata
    await _move_to(session, row, _target_status(StatusValue(row.status), changes), changes)
    _touch(session, row, utcnow())
    await session.flush()
    return row


async def _move_to(
    session: AsyncSession, row: MentorStatus, target: StatusValue, changes: StatusChanges
) -> None:
    current = StatusValue(row.status)
    if target is not StatusValue.PAUSED and _pause_fields_given(changes):
        raise BadInput(
            f"pause_start_date, expected_return_date and pause_reason apply only to a paused "
            f"mentor, not to one who is {target}",
            fields={"status": f"is {target}, but pause fields were given"},
        )
    if target is current:
        if target is StatusValue.PAUSED:
            await _edit_active_pause(session, row, changes)
        return
    event = event_between(current, target)
    if event is None:
        raise Conflict(f"a mentor who is {current} cannot become {target} directly")
    pause = PauseDetails(
        start_date=changes.pause_start_date if given(changes.pause_start_date) else None,
        expected_return_date=(
            changes.expected_return_date if given(changes.expected_return_date) else None
        ),
        reason=changes.pause_reason if given(changes.pause_reason) else None,
    )
    await apply_event(session, row, event, pause=pause if opens_pause(event) else None)


async def _edit_active_pause(
    session: AsyncSession, row: MentorStatus, changes: StatusChanges
) -> None:
    """Keep the status row and its active pause record saying the same thing."""
    record = (await session.execute(active_pause_record(row.mentor_id))).scalar_one()
    if given(changes.pause_start_date) and changes.pause_start_date is not None:
        record.start_date = row.pause_start_date = changes.pause_start_date
    if given(changes.expected_return_date):
        record.expected_return_date = row.expected_return_date = changes.expected_return_date
    if given(changes.pause_reason):
        record.reason = row.pause_reason = changes.pause_reason
    _check_return_after_start(record.start_date, record.expected_return_date)
    record.version = new_version()


async def delete_status(session: AsyncSession, *, mentor_id: str, if_match: str | None) -> None:
    """Stop tracking a mentor's status; an open pause is closed first, so history is kept."""
    row = await load_status(session, mentor_id)
    check_if_match(resource=STATUS, key=mentor_id, current=row.version, if_match=if_match)
    await _close_active_pause(session, mentor_id, at=utcnow())
    await session.delete(row)
    await session.flush()


async def open_pause(
    session: AsyncSession, *, mentor_id: str, details: PauseDetails
) -> PauseRecord:
    """Pause a mentor by opening a pause record (POST /pause-records)."""
    check_text("reason", details.reason)
    row = await load_status(session, mentor_id)
    if row.status == StatusValue.PAUSED:
        raise Conflict(f"mentor '{mentor_id}' is already paused; close the active pause first")
    opened = await apply_event(session, row, StatusEvent.PAUSE, pause=details)
    assert opened is not None
    return opened


async def load_pause_record(session: AsyncSession, record_id: str) -> PauseRecord:
    record = (await session.execute(pause_record(record_id, for_update=True))).scalar_one_or_none()
    if record is None:
        raise NotFound(PAUSE_RECORD, record_id)
    return record


async def update_pause(
    session: AsyncSession, *, record_id: str, changes: PauseChanges, if_match: str | None
) -> PauseRecord:
    """Edit a pause record; closing the active one resumes the mentor."""
    if given(changes.reason):
        check_text("reason", changes.reason)
    record = await load_pause_record(session, record_id)
    check_if_match(resource=PAUSE_RECORD, key=record_id, current=record.version, if_match=if_match)
    closing = changes.is_active is False or (
        given(changes.end_date) and changes.end_date is not None
    )
    if changes.is_active is True and (not record.is_active or closing):
        raise Conflict("a pause record cannot be reopened or be active with an end date")
    end_date = changes.end_date if given(changes.end_date) else None
    if end_date is not None and end_date < record.start_date:
        raise BadInput.field("end_date", "must not be before the pause start date")
    if given(changes.expected_return_date):
        _check_return_after_start(record.start_date, changes.expected_return_date)
        record.expected_return_date = changes.expected_return_date
    if given(changes.reason):
        record.reason = changes.reason
    row = await load_status(session, record.mentor_id) if record.is_active else None
    if row is not None and closing:
        await apply_event(session, row, StatusEvent.RESUME, closed_at=end_date)
    elif row is not None:
        row.expected_return_date, row.pause_reason = record.expected_return_date, record.reason
        _touch(session, row, utcnow())
    elif end_date is not None:
        record.end_date = end_date  # correcting the history of a closed pause
    record.version = new_version()
    await session.flush()
    return record


async def delete_pause(session: AsyncSession, *, record_id: str, if_match: str | None) -> None:
    """Delete a pause record. An active one *is* the pause: deleting it ends the pause first
    (the mentor resumes through the state machine, in this transaction), as the legacy
    contract's DELETE did, so "paused exactly when one active record exists" still holds."""
    record = await load_pause_record(session, record_id)
    check_if_match(resource=PAUSE_RECORD, key=record_id, current=record.version, if_match=if_match)
    if record.is_active:
        row = await load_status(session, record.mentor_id)
        await apply_event(session, row, StatusEvent.RESUME)
    await session.delete(record)
    await session.flush()
