"""Every mentor-scoped entry point answers an unknown mentor alike: 404 problem / NOT_FOUND.

The cases are derived from the route table and the schema, so a new route or field that takes a
mentor id fails here until it has a row below (docs/domain.md, "Errors").
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLInputObjectType, GraphQLNonNull

from api.rest.route import RestRoute
from api.rest.table import ROUTES
from auth.principal import DEVELOPMENT_ADMIN
from graph.context import Context, GraphConfig
from graph.schema import build_schema
from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor

UNKNOWN = "mentor-nobody"
KNOWN = "mentor-001"

# --- REST ----------------------------------------------------------------------------------------

# What a route needs besides the mentor id, so that the mentor is the only thing wrong.
REST_BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/v1/mentor-statuses/{mentor_id}"): None,
    ("PUT", "/api/v1/mentor-statuses/{mentor_id}"): {"pause_reason": "travel"},
    ("DELETE", "/api/v1/mentor-statuses/{mentor_id}"): None,
    ("GET", "/api/v1/pause-records"): None,
    ("POST", "/api/v1/pause-records"): {"mentor_id": UNKNOWN, "reason": "travel"},
    ("GET", "/api/v1/mentor-status-sync"): None,
    ("GET", "/api/v1/mentor-status-sync/{mentor_id}"): None,
    ("POST", "/api/v1/mentor-status-sync/events"): {
        "event_type": "PauseMentorEvent",
        "mentor_id": UNKNOWN,
        "client_timestamp": "2026-01-01T00:00:00Z",
    },
    ("GET", "/api/v1/milestones"): None,
    ("POST", "/api/v1/milestones"): {
        "mentor_id": UNKNOWN,
        "period": {"year": 2025},
        "summary": {"total_hours": 1, "unique_contacts_helped": 1, "activity_count": 1},
    },
    ("GET", "/api/v1/milestones/{mentor_id}/new"): None,
    ("GET", "/api/v1/milestones/{mentor_id}/in-progress"): None,
    ("GET", "/api/v1/personal-stats/{mentor_id}"): None,
    ("GET", "/api/v1/personal-stats/{mentor_id}/monthly-series"): None,
    ("GET", "/api/v1/personal-stats/{mentor_id}/activity-breakdown"): None,
    ("GET", "/api/v1/personal-stats/{mentor_id}/contribution-history"): None,
}
# Routes that take a mentor id and are *meant* to accept a new one.
REST_CREATES = {("POST", "/api/v1/mentor-statuses")}  # registers the mentor it names


def _fields(model: Any) -> set[str]:
    return set(model.model_fields) if model is not None else set()


def _mentor_scoped(route: RestRoute) -> bool:
    return "mentor_id" in set(route.path_params) | _fields(route.query) | _fields(route.body)


def test_every_mentor_scoped_route_has_a_case() -> None:
    scoped = {(r.method, r.path) for r in ROUTES if _mentor_scoped(r)}
    assert scoped - REST_CREATES == set(REST_BODIES)


def _rest_cases() -> list[Any]:
    return [
        pytest.param(route, prefix, id=f"{route.method} {prefix}{route.path}")
        for route in ROUTES
        if (route.method, route.path) in REST_BODIES
        for prefix in ("", route.catalogue_base)
    ]


@pytest.mark.parametrize(("route", "prefix"), _rest_cases())
async def test_rest_unknown_mentor_is_404(
    client: httpx.AsyncClient, database: Database, route: RestRoute, prefix: str
) -> None:
    await make_mentor(database, id=KNOWN)  # the database is not empty: the id is what is unknown
    path = prefix + route.path.replace("{mentor_id}", UNKNOWN)
    params = {"mentor_id": UNKNOWN} if "mentor_id" in _fields(route.query) else None
    body = REST_BODIES[(route.method, route.path)]
    response = await client.request(route.method, path, params=params, json=body)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert UNKNOWN in response.json()["detail"]


# --- GraphQL -------------------------------------------------------------------------------------

GRAPHQL_OPERATIONS: dict[str, str] = {
    "mentorStatus": "{ mentorStatus(mentorId: $id) { status } }",
    "pauseRecords": "{ pauseRecords(mentorId: $id) { totalCount } }",
    "syncEvents": "{ syncEvents(mentorId: $id) { totalCount } }",
    "milestones": "{ milestones(mentorId: $id) { totalCount } }",
    "newMilestones": "{ newMilestones(mentorId: $id) { totalCount } }",
    "activities": "{ activities(mentorId: $id) { totalCount } }",
    "personalStats": "{ personalStats(mentorId: $id) { totalActivities } }",
    "monthlySeries": "{ monthlySeries(mentorId: $id) { totalCount } }",
    "activityBreakdown": "{ activityBreakdown(mentorId: $id) { totalCount } }",
    "contributionHistory": "{ contributionHistory(mentorId: $id) { totalCount } }",
    "updateMentorStatus": "mutation { updateMentorStatus(mentorId: $id, input: {pauseReason: "
    '"travel"}) { status } }',
    "deleteMentorStatus": "mutation { deleteMentorStatus(mentorId: $id) { deleted } }",
    "createPauseRecord": "mutation { createPauseRecord(input: {mentorId: $id}) { id } }",
    "submitStatusEvent": "mutation { submitStatusEvent(input: {mentorId: $id, eventType: "
    'PauseMentorEvent, clientTimestamp: "2026-01-01T00:00:00Z"}) { accepted } }',
    "detectMilestones": "mutation { detectMilestones(input: {mentorId: $id, period: {year: 2025},"
    " summary: {totalHours: 1, uniqueContactsHelped: 1, activityCount: 1}}) { count } }",
}
SUBSCRIPTIONS = {
    "mentorStatusChanged": "subscription { mentorStatusChanged(mentorId: $id) { status } }",
    "milestoneAchieved": "subscription { milestoneAchieved(mentorId: $id) { id } }",
}
# Entry points that register the mentor they name: a new status, and the ledger (activities of
# a mentor the service does not know yet, as an import brings them, register that mentor).
GRAPHQL_CREATES = {"createMentorStatus", "recordActivity", "recordActivities"}


def _takes_mentor(argument_type: Any) -> bool:
    while isinstance(argument_type, GraphQLNonNull) or hasattr(argument_type, "of_type"):
        argument_type = argument_type.of_type
    return isinstance(argument_type, GraphQLInputObjectType) and "mentorId" in argument_type.fields


def test_every_mentor_scoped_field_has_a_case() -> None:
    schema = build_schema()._schema
    scoped = {
        name
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name, field in root.fields.items()
        if "mentorId" in field.args or any(_takes_mentor(a.type) for a in field.args.values())
    }
    assert scoped - GRAPHQL_CREATES == set(GRAPHQL_OPERATIONS) | set(SUBSCRIPTIONS)


def _with_variable(document: str) -> str:
    kind, _, selection = document.partition("{")
    return f"{kind.strip() or 'query'} ($id: ID!) {{{selection}"


@pytest.mark.parametrize("field", sorted(GRAPHQL_OPERATIONS))
async def test_graphql_unknown_mentor_is_not_found(
    gql: GraphQL, database: Database, field: str
) -> None:
    await make_mentor(database, id=KNOWN)
    body = await gql(_with_variable(GRAPHQL_OPERATIONS[field]), id=UNKNOWN)

    assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"]
    assert UNKNOWN in body["errors"][0]["message"]


@pytest.mark.parametrize("field", sorted(SUBSCRIPTIONS))
async def test_subscription_to_unknown_mentor_is_not_found(
    app: FastAPI, database: Database, field: str
) -> None:
    await make_mentor(database, id=KNOWN)
    context = Context(
        database=app.state.database,
        config=GraphConfig(),
        broker=app.state.broker,
        principal=DEVELOPMENT_ADMIN,
    )
    schema = build_schema()
    stream = await schema.subscribe(
        _with_variable(SUBSCRIPTIONS[field]), variable_values={"id": UNKNOWN}, context_value=context
    )
    try:
        first = await anext(stream) if isinstance(stream, AsyncGenerator) else stream
    finally:
        await context.close()
    assert first.errors is not None
    assert [error.extensions and error.extensions["code"] for error in first.errors] == [
        "NOT_FOUND"
    ]


async def test_recording_an_activity_registers_an_unknown_mentor(gql: GraphQL) -> None:
    await gql.data(
        'mutation { recordActivity(input: {id: "a-1", mentorId: "mentor-new", '
        'mentorName: "New Mentor", activityTypeId: "act_type_001", contactId: "c-1", '
        'startedAt: "2026-01-01T00:00:00Z", durationMinutes: 30, status: completed}) { id } }'
    )
    data = await gql.data('{ mentor(id: "mentor-new") { name } }')
    assert data["mentor"] == {"name": "New Mentor"}
