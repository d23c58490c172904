"""Status events from the mobile app: every one is logged, legal and fresh ones are applied.

An event goes through the same state machine as every other entry point (`domain.statuses`),
in the caller's transaction: the status, the pause records and the event log change together.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.changes import KEEP, Keep, given
from domain.errors import BadInput, NotFound
from domain.idempotency import claim
from domain.status_rules import StatusEvent, StatusValue, is_allowed
from domain.statuses import PauseDetails, apply_event, check_if_match, load_status
from domain.validation import check_id, check_text
from models.database import execute_core
from models.mentors import Mentor
from models.sync import SyncEvent, sync_event
from models.types import new_version, utcnow, whole_seconds

SYNC_EVENT = "Sync event"
MAX_CLOCK_AHEAD = timedelta(minutes=5)
IDEMPOTENCY_SCOPE = "sync_event"
_ID_ALPHABET = string.ascii_uppercase + string.digits


class RejectionReason(StrEnum):
    INVALID_TRANSITION = "invalid_transition"
    STALE = "stale"


@dataclass(frozen=True, kw_only=True)
class Submission:
    """A status event as the app sent it."""

    mentor_id: str
    event_type: StatusEvent
    client_timestamp: datetime
    reason: str | None = None

    def fingerprint(self) -> str:
        return "|".join(
            (self.mentor_id, self.event_type, self.client_timestamp.isoformat(), self.reason or "")
        )


def new_event_id() -> str:
    return "evt_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def rejection_of(status: StatusValue, last_updated: datetime, submission: Submission) -> str | None:
    """Why an event cannot apply: the server knows newer state, or the transition is illegal."""
    # At the printed precision: a row stored by an older version may hold microseconds.
    if submission.client_timestamp < whole_seconds(last_updated):
        return RejectionReason.STALE
    if not is_allowed(status, submission.event_type):
        return RejectionReason.INVALID_TRANSITION
    return None


def _validate(submission: Submission, now: datetime) -> None:
    check_id("mentor_id", submission.mentor_id)
    check_text("reason", submission.reason)
    if submission.client_timestamp > now + MAX_CLOCK_AHEAD:
        raise BadInput.field("client_timestamp", "is more than 5 minutes in the future")


async def submit_event(
    session: AsyncSession, submission: Submission, *, idempotency_key: str | None
) -> SyncEvent:
    """Log an event and, if it is legal and not stale, apply it; a retried key replays."""
    now = utcnow()
    _validate(submission, now)
    event_id = new_event_id()
    if idempotency_key is not None:
        replay_of = await claim(
            session,
            scope=IDEMPOTENCY_SCOPE,
            owner=submission.mentor_id,
            key=idempotency_key,
            fingerprint=submission.fingerprint(),
            result_id=event_id,
        )
        if replay_of is not None:
            return await load_event(session, replay_of)
    return await _record(session, submission, now, event_id)


async def _record(
    session: AsyncSession, submission: Submission, now: datetime, event_id: str
) -> SyncEvent:
    try:
        row = await load_status(session, submission.mentor_id)
    except NotFound:
        # A status row names an existing mentor (its foreign key), so only without one is the
        # mentor looked up: a statement fewer per submission, and a missing mentor still says so.
        if await session.get(Mentor, submission.mentor_id) is None:
            raise NotFound("Mentor", submission.mentor_id) from None
        raise
    rejection = rejection_of(StatusValue(row.status), row.last_updated, submission)
    if rejection is None:
        pause = PauseDetails(start_date=submission.client_timestamp, reason=submission.reason)
        await apply_event(session, row, submission.event_type, pause=pause)
    event = SyncEvent(
        id=event_id,
        mentor_id=submission.mentor_id,
        event_type=submission.event_type,
        reason=submission.reason,
        client_timestamp=submission.client_timestamp,
        server_timestamp=now,
        accepted=rejection is None,
        resulting_status=row.status,
        rejection_reason=rejection,
        created_at=now,
        updated_at=now,
    )
    # Inserted as Core, not tracked by the session: nothing changes the event again in this
    # transaction, and the ORM's flush of it cost more than the insert (README, goal 2).
    await session.flush()  # the status change and pause record first (foreign keys, order)
    await execute_core(session, insert(SyncEvent).values(event.model_dump()))
    return event


async def load_event(session: AsyncSession, event_id: str) -> SyncEvent:
    event = (await session.execute(sync_event(event_id, for_update=True))).scalar_one_or_none()
    if event is None:
        raise NotFound(SYNC_EVENT, event_id)
    return event


async def annotate_event(
    session: AsyncSession,
    *,
    event_id: str,
    acknowledged: bool | Keep = KEEP,
    reason: str | Keep | None = KEEP,
    if_match: str | None,
) -> SyncEvent:
    """Acknowledge an event (it stops being pending) and/or change its note."""
    if given(reason):
        check_text("reason", reason)
    event = await load_event(session, event_id)
    check_if_match(resource=SYNC_EVENT, key=event_id, current=event.version, if_match=if_match)
    if given(acknowledged):
        event.acknowledged = acknowledged
    if given(reason):
        event.reason = reason
    event.updated_at = utcnow()
    event.version = new_version()
    await session.flush()
    return event


async def delete_event(session: AsyncSession, *, event_id: str, if_match: str | None) -> datetime:
    """Remove an event from the log; returns when. The status it caused is left as it is."""
    event = await load_event(session, event_id)
    check_if_match(resource=SYNC_EVENT, key=event_id, current=event.version, if_match=if_match)
    await session.delete(event)
    await session.flush()
    return utcnow()
