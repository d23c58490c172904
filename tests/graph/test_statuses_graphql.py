"""Status and pause-record mutations over GraphQL, and the error codes clients rely on."""

from __future__ import annotations

import pytest

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor

PAUSE = """
mutation Pause($input: CreatePauseRecordInput!) {
  createPauseRecord(input: $input) { id isActive reason mentor { status { status isPaused } } }
}"""
UPDATE_STATUS = """
mutation Update($mentorId: ID!, $input: UpdateMentorStatusInput!, $ifMatch: String) {
  updateMentorStatus(mentorId: $mentorId, input: $input, ifMatch: $ifMatch) {
    status pauseReason etag mentor { pauseRecords(isActive: true) { id } }
  }
}"""


async def _error_code(gql: GraphQL, query: str, **variables: object) -> str:
    body = await gql(query, **variables)
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_create_mentor_then_pause_and_resume(gql: GraphQL) -> None:
    created = await gql.data(
        'mutation { createMentor(input: {id: "mentor-007", name: "Ada Obi"}) { id status { status } } }'
    )
    assert created["createMentor"] == {"id": "mentor-007", "status": {"status": "active"}}

    paused = await gql.data(PAUSE, input={"mentorId": "mentor-007", "reason": "exam_period"})
    record = paused["createPauseRecord"]
    assert record["isActive"] is True
    assert record["reason"] == "exam_period"
    assert record["mentor"]["status"] == {"status": "paused", "isPaused": True}

    resumed = await gql.data(
        "mutation($id: ID!) { updatePauseRecord(id: $id, input: {isActive: false}) { isActive endDate } }",
        id=record["id"],
    )
    assert resumed["updatePauseRecord"]["isActive"] is False
    assert resumed["updatePauseRecord"]["endDate"].endswith("Z")


async def test_update_status_with_etag(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    first = await gql.data(
        UPDATE_STATUS, mentorId="mentor-001", input={"status": "paused", "pauseReason": "health"}
    )
    status = first["updateMentorStatus"]
    assert status["status"] == "paused"
    assert status["pauseReason"] == "health"
    assert len(status["mentor"]["pauseRecords"]) == 1

    code = await _error_code(
        gql, UPDATE_STATUS, mentorId="mentor-001", input={"status": "active"}, ifMatch="stale"
    )
    assert code == "PRECONDITION_FAILED"
    fresh = await gql.data(
        UPDATE_STATUS, mentorId="mentor-001", input={"status": "active"}, ifMatch=status["etag"]
    )
    assert fresh["updateMentorStatus"]["mentor"]["pauseRecords"] == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('mutation { deleteMentorStatus(mentorId: "nobody") { deleted } }', "NOT_FOUND"),
        ('mutation { createMentor(input: {id: "bad id", name: "x"}) { id } }', "BAD_USER_INPUT"),
        ('mutation { createMentor(input: {id: "mentor-001", name: "again"}) { id } }', "CONFLICT"),
        (
            'mutation { createPauseRecord(input: {mentorId: "mentor-001", startDate: "2026-03-26"}) { id } }',
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ mentors { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ mentors(", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_errors_carry_codes(gql: GraphQL, database: Database, query: str, code: str) -> None:
    await make_mentor(database, id="mentor-001")
    assert await _error_code(gql, query) == code


async def test_bad_variables_are_bad_user_input(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    code = await _error_code(
        gql, PAUSE, input={"mentorId": "mentor-001", "startDate": "2026-03-26T00:00:00"}
    )
    assert code == "BAD_USER_INPUT"


async def test_errors_never_leak_internals(gql: GraphQL) -> None:
    body = await gql('mutation { createMentor(input: {id: "mentor-001", name: "   "}) { id } }')
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"name": "must not be blank"},
    }
    assert "Traceback" not in str(body)
    assert "SELECT" not in str(body)
