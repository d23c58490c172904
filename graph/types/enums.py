"""Enums for closed sets. Their GraphQL values are the domain's own words (`paused`, not `PAUSED`),
so GraphQL and the legacy REST contracts speak one vocabulary and nothing is translated."""

from typing import TypeAlias

import strawberry

from domain.milestones import MilestoneStatus, MilestoneType
from domain.status_rules import StatusEvent, StatusValue
from domain.sync import RejectionReason

strawberry.enum(
    StatusValue,
    name="MentorStatusValue",
    description="Where a mentor stands: only `active` mentors can be assigned.",
    graphql_name_from="value",
)

strawberry.enum(
    StatusEvent,
    name="MentorStatusEvent",
    description="A transition of the status state machine, as the mobile app names it.",
    graphql_name_from="value",
)

# The domain's enums, registered above; these names are what the graph layer annotates with.
MentorStatusValue: TypeAlias = StatusValue
MentorStatusEvent: TypeAlias = StatusEvent

strawberry.enum(
    RejectionReason,
    name="SyncRejectionReason",
    description="Why a sync event was logged but not applied.",
    graphql_name_from="value",
)
SyncRejectionReason: TypeAlias = RejectionReason

strawberry.enum(
    MilestoneType,
    name="MilestoneType",
    description="What a milestone counts.",
    graphql_name_from="value",
)
strawberry.enum(
    MilestoneStatus,
    name="MilestoneStatus",
    description="`achieved`, or `in_progress` (the next milestone of its type).",
    graphql_name_from="value",
)
MilestoneKind: TypeAlias = MilestoneType
MilestoneState: TypeAlias = MilestoneStatus
