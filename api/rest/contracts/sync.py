"""docs/contracts/mentor-status-sync.md: the mobile app's status events (5 endpoints)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from api.rest.contracts.common import ListOf, PageQuery
from api.rest.route import RequestBody, RestRoute, omittable, service
from domain.status_rules import StatusEvent, StatusValue
from domain.sync import RejectionReason
from domain.validation import ID_PATTERN, MAX_ID_LENGTH, MAX_TEXT_LENGTH, NO_NUL_PATTERN

BASE = "/api/v1/mentor-status-sync"

# --- response shapes -------------------------------------------------------------------------


class PendingEvent(BaseModel):
    sync_event_id: str
    mentor_id: str
    event_type: StatusEvent
    resulting_status: StatusValue
    server_timestamp: AwareDatetime
    acknowledged: bool


class StatusSnapshot(BaseModel):
    mentor_id: str
    status: StatusValue
    is_eligible_for_assignment: bool
    last_updated: AwareDatetime
    pending_events: list[PendingEvent]


class SubmittedEvent(BaseModel):
    sync_event_id: str
    mentor_id: str
    event_type: StatusEvent
    accepted: bool
    resulting_status: StatusValue
    rejection_reason: RejectionReason | None
    server_timestamp: AwareDatetime
    created_at: AwareDatetime


class AnnotatedEvent(BaseModel):
    sync_event_id: str
    acknowledged: bool
    reason: str | None
    updated_at: AwareDatetime


class DeletedEvent(BaseModel):
    sync_event_id: str
    deleted: bool
    deleted_at: AwareDatetime


# --- requests --------------------------------------------------------------------------------


class SyncEventQuery(PageQuery):
    mentor_id: str | None = Field(
        default=None, pattern=NO_NUL_PATTERN, description="Only this mentor's events."
    )
    acknowledged: bool = Field(
        default=False, description="false (default): pending events; true: acknowledged ones."
    )


class SubmitEventBody(RequestBody):
    event_type: StatusEvent
    mentor_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
    reason: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH, pattern=NO_NUL_PATTERN)
    client_timestamp: AwareDatetime = Field(
        description="When the event happened on the device (at most 5 minutes ahead)."
    )


class AnnotateEventBody(RequestBody):
    acknowledged: bool | None = omittable()
    reason: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH, pattern=NO_NUL_PATTERN)


def accepted_or_logged(event: Mapping[str, Any]) -> int:
    """201 when the event changed the status, 200 when it was only logged (docs/domain.md)."""
    return 201 if event["accepted"] else 200


PENDING = """
fragment Pending on SyncEvent {
  sync_event_id: id
  mentor_id: mentorId
  event_type: eventType
  resulting_status: resultingStatus
  server_timestamp: serverTimestamp
  acknowledged
}
"""

ROUTES = service(
    "status sync",
    RestRoute(
        method="GET",
        path="/api/v1/mentor-status-sync",
        catalogue_base=BASE,
        summary="List pending sync events (for BLoC hydration on app launch)",
        query=SyncEventQuery,
        paginated=True,
        response=ListOf[PendingEvent],
        result="syncEvents",
        operation="""
query ListSyncEvents($first: Int, $after: String, $mentorId: ID, $acknowledged: Boolean) {
  syncEvents(first: $first, after: $after, mentorId: $mentorId, acknowledged: $acknowledged) {
    totalCount
    nodes { ...Pending }
  }
}"""
        + PENDING,
    ),
    RestRoute(
        method="GET",
        path="/api/v1/mentor-status-sync/{mentor_id}",
        catalogue_base=BASE,
        summary="Get current status snapshot for a mentor (BLoC initial state)",
        response=StatusSnapshot,
        not_found="Mentor status",
        result="mentorStatus",
        operation="""
query StatusSnapshot($mentorId: ID!) {
  mentorStatus(mentorId: $mentorId) {
    mentor_id: mentorId
    status
    is_eligible_for_assignment: isEligibleForAssignment
    last_updated: lastUpdated
    pending_events: pendingEvents { ...Pending }
    _etag: etag
  }
}"""
        + PENDING,
    ),
    RestRoute(
        method="POST",
        path="/api/v1/mentor-status-sync/events",
        catalogue_base=BASE,
        summary="Submit a BLoC-originated status event from a mobile client",
        body=SubmitEventBody,
        headers={"Idempotency-Key": "idempotencyKey"},
        status=201,
        status_of=accepted_or_logged,
        also={200: "Only logged: `accepted` is false and `rejection_reason` says why"},
        response=SubmittedEvent,
        result="submitStatusEvent",
        operation="""
mutation SubmitStatusEvent($input: StatusEventInput!, $idempotencyKey: String) {
  submitStatusEvent(input: $input, idempotencyKey: $idempotencyKey) {
    sync_event_id: id
    mentor_id: mentorId
    event_type: eventType
    accepted
    resulting_status: resultingStatus
    rejection_reason: rejectionReason
    server_timestamp: serverTimestamp
    created_at: createdAt
    _etag: etag
  }
}""",
    ),
    RestRoute(
        method="PUT",
        path="/api/v1/mentor-status-sync/events/{id}",
        catalogue_base=BASE,
        summary="Acknowledge or annotate a sync event",
        body=AnnotateEventBody,
        headers={"If-Match": "ifMatch"},
        response=AnnotatedEvent,
        result="updateSyncEvent",
        operation="""
mutation UpdateSyncEvent($id: ID!, $input: UpdateSyncEventInput!, $ifMatch: String) {
  updateSyncEvent(id: $id, input: $input, ifMatch: $ifMatch) {
    sync_event_id: id
    acknowledged
    reason
    updated_at: updatedAt
    _etag: etag
  }
}""",
    ),
    RestRoute(
        method="DELETE",
        path="/api/v1/mentor-status-sync/events/{id}",
        catalogue_base=BASE,
        summary="Remove a sync event record",
        headers={"If-Match": "ifMatch"},
        response=DeletedEvent,
        result="deleteSyncEvent",
        operation="""
mutation DeleteSyncEvent($id: ID!, $ifMatch: String) {
  deleteSyncEvent(id: $id, ifMatch: $ifMatch) {
    sync_event_id: id
    deleted
    deleted_at: deletedAt
  }
}""",
    ),
)
