"""Enums for closed sets. Their GraphQL values are the domain's own words (`paused`, not `PAUSED`),
so GraphQL and the legacy REST contracts speak one vocabulary and nothing is translated."""

import strawberry

from domain.status_rules import StatusEvent, StatusValue

MentorStatusValue = strawberry.enum(
    StatusValue,
    name="MentorStatusValue",
    description="Where a mentor stands: only `active` mentors can be assigned.",
    graphql_name_from="value",
)

MentorStatusEvent = strawberry.enum(
    StatusEvent,
    name="MentorStatusEvent",
    description="A transition of the status state machine, as the mobile app names it.",
    graphql_name_from="value",
)
