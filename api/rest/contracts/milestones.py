"""docs/contracts/milestones.md: milestone detection and records (7 endpoints)."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, Field

from api.rest.contracts.common import ListOf, PageQuery
from api.rest.route import RequestBody, RestRoute, omittable, service
from domain.milestones import MilestoneStatus, MilestoneType
from domain.periods import FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR, MAX_PERIOD_YEARS
from domain.validation import ID_PATTERN, MAX_COUNT, MAX_FIGURE, MAX_ID_LENGTH, NO_NUL_PATTERN

BASE = "/api/v1/milestones"

# --- response shapes -------------------------------------------------------------------------

FIGURE = (
    "A JSON integer for contacts_helped and activity_count milestones; hours rounded to 2 "
    "decimal places for hours_logged; null when the stored figure cannot be read (a row an "
    "older version wrote)."
)


class MilestoneOut(BaseModel):
    id: str = Field(description="Stable for the (mentor, milestone) pair.")
    definition_key: str = Field(description="The catalogue entry, e.g. milestone_100h.")
    mentor_id: str
    name: str
    type: MilestoneType
    status: MilestoneStatus
    threshold: int
    achieved_value: float | None = Field(description=FIGURE)
    achieved_at: AwareDatetime | None
    progress_percentage: int | None
    accessibility_label: str


class MilestoneDetail(MilestoneOut):
    badge_image_url: str | None


class MilestoneProgress(BaseModel):
    id: str
    definition_key: str
    mentor_id: str
    name: str
    type: MilestoneType
    status: MilestoneStatus
    threshold: int
    current_value: float | None = Field(description=FIGURE)
    progress_percentage: int | None
    remaining: float | None = Field(
        description=f"threshold - current_value, never below 0. {FIGURE}"
    )
    accessibility_label: str


class DeletedMilestone(BaseModel):
    deleted: bool
    id: str


# --- requests --------------------------------------------------------------------------------


class MilestoneQuery(PageQuery):
    mentor_id: str | None = Field(
        default=None, pattern=NO_NUL_PATTERN, description="Only this mentor's milestones."
    )
    type: MilestoneType | None = None
    status: MilestoneStatus | None = None


# The domain's bounds (domain.periods, domain.validation), declared so /openapi.json states them.
Year = Field(default=None, ge=FIRST_YEAR, le=LAST_YEAR)
Day = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)


class NewMilestonesQuery(PageQuery):
    year: int | None = Field(
        default=None, ge=FIRST_YEAR, le=LAST_YEAR, description="Default: the current year."
    )
    start_date: date | None = Field(
        default=None,
        ge=FIRST_DAY,
        le=LAST_DAY,
        description=f"With end_date, instead of year; at most {MAX_PERIOD_YEARS} years apart.",
    )
    end_date: date | None = Day


class SummaryPeriod(RequestBody):
    year: int | None = Year
    start_date: date | None = Day
    end_date: date | None = Day


class SummaryFigures(RequestBody):
    total_hours: float = Field(ge=0, le=MAX_FIGURE)
    unique_contacts_helped: int = Field(ge=0, le=MAX_COUNT)
    activity_count: int = Field(ge=0, le=MAX_COUNT)


class DetectBody(RequestBody):
    mentor_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
    period: SummaryPeriod
    summary: SummaryFigures


class CorrectionBody(RequestBody):
    status: MilestoneStatus | None = omittable()
    achieved_value: float | None = omittable(ge=0, le=MAX_FIGURE, serialization_alias="value")
    achieved_at: AwareDatetime | None = None


MILESTONE = """
fragment Milestone on Milestone {
  id
  definition_key: definitionKey
  mentor_id: mentorId
  name
  type
  status
  threshold
  achieved_value: value
  achieved_at: achievedAt
  progress_percentage: progressPercentage
  accessibility_label: accessibilityLabel
}
"""
DETAIL = (
    MILESTONE
    + """
fragment Detail on Milestone {
  ...Milestone
  badge_image_url: badgeImageUrl
  _etag: etag
}
"""
)

ROUTES = service(
    "milestones",
    RestRoute(
        method="GET",
        path="/api/v1/milestones",
        catalogue_base=BASE,
        summary="List all known milestones with optional filters",
        query=MilestoneQuery,
        paginated=True,
        response=ListOf[MilestoneOut],
        result="milestones",
        operation="""
query ListMilestones(
  $first: Int, $after: String, $mentorId: ID, $type: MilestoneType, $status: MilestoneStatus
) {
  milestones(first: $first, after: $after, mentorId: $mentorId, type: $type, status: $status) {
    totalCount
    nodes { ...Milestone }
  }
}"""
        + MILESTONE,
    ),
    RestRoute(
        method="GET",
        path="/api/v1/milestones/{id}",
        catalogue_base=BASE,
        summary="Get details of a single milestone",
        response=MilestoneDetail,
        not_found="Milestone",
        result="milestone",
        operation="""
query GetMilestone($id: ID!) {
  milestone(id: $id) { ...Detail }
}"""
        + DETAIL,
    ),
    RestRoute(
        method="POST",
        path="/api/v1/milestones",
        catalogue_base=BASE,
        summary="Detect and persist milestones for a mentor based on their annual summary",
        body=DetectBody,
        paginated=True,
        response=ListOf[MilestoneOut],
        result="detectMilestones",
        operation="""
mutation DetectMilestones($input: MilestoneSummaryInput!) {
  detectMilestones(input: $input) {
    totalCount: count
    nodes: milestones { ...Milestone }
  }
}"""
        + MILESTONE,
    ),
    RestRoute(
        method="PUT",
        path="/api/v1/milestones/{id}",
        catalogue_base=BASE,
        summary="Update milestone status or metadata (an admin correction)",
        body=CorrectionBody,
        headers={"If-Match": "ifMatch"},
        response=MilestoneDetail,
        result="updateMilestone",
        operation="""
mutation UpdateMilestone($id: ID!, $input: UpdateMilestoneInput!, $ifMatch: String) {
  updateMilestone(id: $id, input: $input, ifMatch: $ifMatch) { ...Detail }
}"""
        + DETAIL,
    ),
    RestRoute(
        method="DELETE",
        path="/api/v1/milestones/{id}",
        catalogue_base=BASE,
        summary="Remove a milestone record",
        headers={"If-Match": "ifMatch"},
        response=DeletedMilestone,
        result="deleteMilestone",
        operation="""
mutation DeleteMilestone($id: ID!, $ifMatch: String) {
  deleteMilestone(id: $id, ifMatch: $ifMatch) { deleted id }
}""",
    ),
    RestRoute(
        method="GET",
        path="/api/v1/milestones/{mentor_id}/new",
        catalogue_base=BASE,
        summary="Get newly achieved milestones for a mentor in a given period",
        query=NewMilestonesQuery,
        paginated=True,
        response=ListOf[MilestoneOut],
        result="newMilestones",
        operation="""
query NewMilestones(
  $mentorId: ID!, $year: Int, $startDate: Date, $endDate: Date, $first: Int, $after: String
) {
  newMilestones(
    mentorId: $mentorId, year: $year, startDate: $startDate, endDate: $endDate,
    first: $first, after: $after
  ) {
    totalCount
    nodes { ...Milestone }
  }
}"""
        + MILESTONE,
    ),
    RestRoute(
        method="GET",
        path="/api/v1/milestones/{mentor_id}/in-progress",
        catalogue_base=BASE,
        summary="Get milestones currently in progress for a mentor",
        query=PageQuery,
        paginated=True,
        response=ListOf[MilestoneProgress],
        result="milestones",
        operation="""
query MilestonesInProgress($mentorId: ID!, $first: Int, $after: String) {
  milestones(mentorId: $mentorId, status: in_progress, first: $first, after: $after) {
    totalCount
    nodes {
      id
      definition_key: definitionKey
      mentor_id: mentorId
      name
      type
      status
      threshold
      current_value: value
      progress_percentage: progressPercentage
      remaining
      accessibility_label: accessibilityLabel
    }
  }
}""",
    ),
)
