"""Input types. Optional fields left out of an update keep their value; an explicit null clears."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from domain.changes import KEEP, Keep
from domain.errors import BadInput
from domain.statuses import PauseChanges, PauseDetails, StatusChanges
from domain.sync import Submission
from graph.types.enums import MentorStatusEvent, MentorStatusValue

T = TypeVar("T")


def keep_unset(value: T | None) -> T | Keep | None:
    """Strawberry's UNSET (field omitted) becomes the domain's KEEP."""
    return KEEP if value is strawberry.UNSET else value


def not_null(field: str, value: T | None) -> T | Keep:
    """A field that may be omitted but, when present, must not be null."""
    if value is strawberry.UNSET:
        return KEEP
    if value is None:
        raise BadInput.field(field, "must not be null (omit it to leave it unchanged)")
    return value


def json_object(field: str, value: Any) -> dict[str, Any] | Keep:
    checked = not_null(field, value)
    if checked is not KEEP and not isinstance(checked, dict):
        raise BadInput.field(field, "must be a JSON object")
    return checked


@strawberry.input(description="A new mentor.")
class CreateMentorInput:
    id: strawberry.ID
    name: str


@strawberry.input(
    name="UpdateMentorStatusInput",
    description="Fields of a mentor status; omitted fields keep their value.",
)
class MentorStatusFields:
    status: MentorStatusValue | None = strawberry.UNSET
    is_paused: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Derived from `status`; accepted for old clients."
    )
    pause_start_date: datetime | None = strawberry.UNSET
    expected_return_date: datetime | None = strawberry.UNSET
    pause_reason: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET

    def to_changes(self) -> StatusChanges:
        return StatusChanges(
            status=not_null("status", self.status),
            is_paused=not_null("is_paused", self.is_paused),
            pause_start_date=keep_unset(self.pause_start_date),
            expected_return_date=keep_unset(self.expected_return_date),
            pause_reason=keep_unset(self.pause_reason),
            metadata=json_object("metadata", self.metadata),
        )


@strawberry.input(description="Start tracking a mentor's status (a new mentor is registered).")
class CreateMentorStatusInput(MentorStatusFields):
    mentor_id: strawberry.ID


@strawberry.input(description="Open a pause: the mentor becomes `paused`.")
class CreatePauseRecordInput:
    mentor_id: strawberry.ID
    start_date: datetime | None = strawberry.field(default=None, description="Default: now.")
    expected_return_date: datetime | None = None
    reason: str | None = None

    def to_details(self) -> PauseDetails:
        return PauseDetails(
            start_date=self.start_date,
            expected_return_date=self.expected_return_date,
            reason=self.reason,
        )


@strawberry.input(description="Edit a pause record; `isActive: false` ends the pause.")
class UpdatePauseRecordInput:
    is_active: bool | None = strawberry.UNSET
    end_date: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When the pause ended (default now when closing)."
    )
    expected_return_date: datetime | None = strawberry.UNSET
    reason: str | None = strawberry.UNSET

    def to_changes(self) -> PauseChanges:
        return PauseChanges(
            is_active=not_null("is_active", self.is_active),
            end_date=keep_unset(self.end_date),
            expected_return_date=keep_unset(self.expected_return_date),
            reason=keep_unset(self.reason),
        )


@strawberry.input(description="A status event as the mobile app emits it.")
class StatusEventInput:
    mentor_id: strawberry.ID
    event_type: MentorStatusEvent
    client_timestamp: datetime = strawberry.field(
        description="When it happened on the device; at most 5 minutes ahead of the server."
    )
    reason: str | None = None

    def to_submission(self) -> Submission:
        return Submission(
            mentor_id=self.mentor_id,
            event_type=self.event_type,
            client_timestamp=self.client_timestamp,
            reason=self.reason,
        )


@strawberry.input(description="Acknowledge a sync event and/or change its note.")
class UpdateSyncEventInput:
    acknowledged: bool | None = strawberry.UNSET
    reason: str | None = strawberry.UNSET
