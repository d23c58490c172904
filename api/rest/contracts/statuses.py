"""docs/contracts/mentor-statuses.md: mentor statuses and pause records (10 endpoints)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from pydantic_core import PydanticCustomError

from api.rest.contracts.common import ListOf, PageQuery
from api.rest.route import RequestBody, RestRoute, omittable, service
from domain.status_rules import StatusValue
from domain.validation import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_TEXT_LENGTH,
    NO_NUL_PATTERN,
    json_object_problem,
)

BASE = "/api/v1/mentor-statuses"
MentorId = Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
Text = Field(default=None, max_length=MAX_TEXT_LENGTH, pattern=NO_NUL_PATTERN)


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    """The domain's rule for metadata, checked here too: the body is turned into JSON-mode
    variables, which would print NaN as null (a silent change) and stop at 255 levels (a 500)."""
    found = json_object_problem(value, "metadata")
    if found is not None:
        raise PydanticCustomError(
            "metadata", "{path}: {problem}", dict(zip(("path", "problem"), found, strict=True))
        )
    return value


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_storable),
    Field(
        description=f"A JSON object, at most {MAX_METADATA_DEPTH} levels deep and "
        f"{MAX_METADATA_BYTES:,} bytes as JSON; finite numbers only."
    ),
]

# --- response shapes -------------------------------------------------------------------------


class MentorStatusSummary(BaseModel):
    mentor_id: str
    status: StatusValue
    is_paused: bool
    pause_start_date: AwareDatetime | None
    expected_return_date: AwareDatetime | None
    last_updated: AwareDatetime


class MentorStatusOut(MentorStatusSummary):
    pause_reason: str | None
    metadata: dict[str, Any] | None = Field(
        description="Null when what is stored cannot be read back (a row an older version wrote)."
    )


class DeletedMentorStatus(BaseModel):
    deleted: bool
    mentor_id: str


class PauseRecordSummary(BaseModel):
    pause_record_id: str
    mentor_id: str
    start_date: AwareDatetime
    expected_return_date: AwareDatetime | None
    end_date: AwareDatetime | None
    is_active: bool
    reason: str | None


class PauseRecordOut(PauseRecordSummary):
    created_at: AwareDatetime


class DeletedPauseRecord(BaseModel):
    deleted: bool
    pause_record_id: str


# --- requests --------------------------------------------------------------------------------


class StatusQuery(PageQuery):
    status: StatusValue | None = Field(default=None, description="Only statuses of this kind.")


class PauseRecordQuery(PageQuery):
    mentor_id: str | None = Field(
        default=None, pattern=NO_NUL_PATTERN, description="Only this mentor's records."
    )
    is_active: bool | None = Field(default=None, description="Only open (true) or closed (false).")
    overdue: bool = Field(
        default=False, description="Only active pauses whose expected return date has passed."
    )


class StatusFieldsBody(RequestBody):
    status: StatusValue | None = omittable()
    is_paused: bool | None = omittable(description="Derived from status; optional.")
    pause_start_date: AwareDatetime | None = None
    expected_return_date: AwareDatetime | None = None
    pause_reason: str | None = Text
    metadata: Metadata | None = omittable()


class CreateStatusBody(StatusFieldsBody):
    mentor_id: str = MentorId


class CreatePauseRecordBody(RequestBody):
    mentor_id: str = MentorId
    start_date: AwareDatetime | None = Field(default=None, description="Default: now.")
    expected_return_date: AwareDatetime | None = None
    reason: str | None = Text


class UpdatePauseRecordBody(RequestBody):
    is_active: bool | None = omittable(description="false closes the pause.")
    end_date: AwareDatetime | None = None
    expected_return_date: AwareDatetime | None = None
    reason: str | None = Text


# --- GraphQL selections in the contract's field names ----------------------------------------

STATUS_SUMMARY = """
fragment StatusSummary on MentorStatus {
  mentor_id: mentorId
  status
  is_paused: isPaused
  pause_start_date: pauseStartDate
  expected_return_date: expectedReturnDate
  last_updated: lastUpdated
}
"""
STATUS = (
    STATUS_SUMMARY
    + """
fragment Status on MentorStatus {
  ...StatusSummary
  pause_reason: pauseReason
  metadata
  _etag: etag
}
"""
)
PAUSE_SUMMARY = """
fragment PauseSummary on PauseRecord {
  pause_record_id: id
  mentor_id: mentorId
  start_date: startDate
  expected_return_date: expectedReturnDate
  end_date: endDate
  is_active: isActive
  reason
}
"""
PAUSE = (
    PAUSE_SUMMARY
    + """
fragment Pause on PauseRecord {
  ...PauseSummary
  created_at: createdAt
  _etag: etag
}
"""
)

STATUS_ROUTES = service(
    "mentor statuses",
    RestRoute(
        method="GET",
        path="/api/v1/mentor-statuses",
        catalogue_base=BASE,
        summary="List all mentor statuses",
        query=StatusQuery,
        paginated=True,
        response=ListOf[MentorStatusSummary],
        result="mentorStatuses",
        operation="""
query ListMentorStatuses($first: Int, $after: String, $status: MentorStatusValue) {
  mentorStatuses(first: $first, after: $after, status: $status) {
    totalCount
    nodes { ...StatusSummary }
  }
}"""
        + STATUS_SUMMARY,
    ),
    RestRoute(
        method="GET",
        path="/api/v1/mentor-statuses/{mentor_id}",
        catalogue_base=BASE,
        summary="Get current status for a specific mentor",
        response=MentorStatusOut,
        not_found="Mentor status",
        result="mentorStatus",
        operation="""
query GetMentorStatus($mentorId: ID!) {
  mentorStatus(mentorId: $mentorId) { ...Status }
}"""
        + STATUS,
    ),
    RestRoute(
        method="POST",
        path="/api/v1/mentor-statuses",
        catalogue_base=BASE,
        summary="Create a new mentor status record",
        body=CreateStatusBody,
        status=201,
        response=MentorStatusOut,
        result="createMentorStatus",
        operation="""
mutation CreateMentorStatus($input: CreateMentorStatusInput!) {
  createMentorStatus(input: $input) { ...Status }
}"""
        + STATUS,
    ),
    RestRoute(
        method="PUT",
        path="/api/v1/mentor-statuses/{mentor_id}",
        catalogue_base=BASE,
        summary="Update mentor status and metadata",
        body=StatusFieldsBody,
        headers={"If-Match": "ifMatch"},
        response=MentorStatusOut,
        result="updateMentorStatus",
        operation="""
mutation UpdateMentorStatus($mentorId: ID!, $input: UpdateMentorStatusInput!, $ifMatch: String) {
  updateMentorStatus(mentorId: $mentorId, input: $input, ifMatch: $ifMatch) { ...Status }
}"""
        + STATUS,
    ),
    RestRoute(
        method="DELETE",
        path="/api/v1/mentor-statuses/{mentor_id}",
        catalogue_base=BASE,
        summary="Delete a mentor status record",
        headers={"If-Match": "ifMatch"},
        response=DeletedMentorStatus,
        result="deleteMentorStatus",
        operation="""
mutation DeleteMentorStatus($mentorId: ID!, $ifMatch: String) {
  deleteMentorStatus(mentorId: $mentorId, ifMatch: $ifMatch) {
    deleted
    mentor_id: mentorId
  }
}""",
    ),
)
PAUSE_ROUTES = service(
    "pause records",
    RestRoute(
        method="GET",
        path="/api/v1/pause-records",
        catalogue_base=BASE,
        summary="List all pause records",
        query=PauseRecordQuery,
        paginated=True,
        response=ListOf[PauseRecordSummary],
        result="pauseRecords",
        operation="""
query ListPauseRecords(
  $first: Int, $after: String, $mentorId: ID, $isActive: Boolean, $overdue: Boolean!
) {
  pauseRecords(
    first: $first, after: $after, mentorId: $mentorId, isActive: $isActive, overdue: $overdue
  ) {
    totalCount
    nodes { ...PauseSummary }
  }
}"""
        + PAUSE_SUMMARY,
    ),
    RestRoute(
        method="GET",
        path="/api/v1/pause-records/{id}",
        catalogue_base=BASE,
        summary="Get a specific pause record",
        response=PauseRecordOut,
        not_found="Pause record",
        result="pauseRecord",
        operation="""
query GetPauseRecord($id: ID!) {
  pauseRecord(id: $id) { ...Pause }
}"""
        + PAUSE,
    ),
    RestRoute(
        method="POST",
        path="/api/v1/pause-records",
        catalogue_base=BASE,
        summary="Create a new pause record for a mentor (pauses the mentor)",
        body=CreatePauseRecordBody,
        status=201,
        response=PauseRecordOut,
        result="createPauseRecord",
        operation="""
mutation CreatePauseRecord($input: CreatePauseRecordInput!) {
  createPauseRecord(input: $input) { ...Pause }
}"""
        + PAUSE,
    ),
    RestRoute(
        method="PUT",
        path="/api/v1/pause-records/{id}",
        catalogue_base=BASE,
        summary="Close or update a pause record (closing resumes the mentor)",
        body=UpdatePauseRecordBody,
        headers={"If-Match": "ifMatch"},
        response=PauseRecordOut,
        result="updatePauseRecord",
        operation="""
mutation UpdatePauseRecord($id: ID!, $input: UpdatePauseRecordInput!, $ifMatch: String) {
  updatePauseRecord(id: $id, input: $input, ifMatch: $ifMatch) { ...Pause }
}"""
        + PAUSE,
    ),
    RestRoute(
        method="DELETE",
        path="/api/v1/pause-records/{id}",
        catalogue_base=BASE,
        summary="Delete a closed pause record",
        headers={"If-Match": "ifMatch"},
        response=DeletedPauseRecord,
        result="deletePauseRecord",
        operation="""
mutation DeletePauseRecord($id: ID!, $ifMatch: String) {
  deletePauseRecord(id: $id, ifMatch: $ifMatch) {
    deleted
    pause_record_id: id
  }
}""",
    ),
)
ROUTES = STATUS_ROUTES + PAUSE_ROUTES
