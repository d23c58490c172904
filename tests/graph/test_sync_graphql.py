"""The sync flow over GraphQL: same resolvers as REST, same answers."""

from __future__ import annotations

from datetime import UTC, datetime

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor

SUBMIT = """
mutation Submit($input: StatusEventInput!, $key: String) {
  submitStatusEvent(input: $input, idempotencyKey: $key) {
    id accepted resultingStatus rejectionReason mentor { status { status } }
  }
}"""
SNAPSHOT = """
query Snapshot($id: ID!) {
  mentorStatus(mentorId: $id) { status isEligibleForAssignment pendingEvents { id eventType } }
}"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def test_pause_see_pending_acknowledge(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor-042")
    event_input = {
        "mentorId": "mentor-042",
        "eventType": "PauseMentorEvent",
        "clientTimestamp": _now(),
        "reason": "exam_period",
    }

    submitted = (await gql.data(SUBMIT, input=event_input, key="k"))["submitStatusEvent"]
    replayed = (await gql.data(SUBMIT, input=event_input, key="k"))["submitStatusEvent"]
    snapshot = (await gql.data(SNAPSHOT, id="mentor-042"))["mentorStatus"]

    assert submitted["accepted"] is True
    assert submitted["mentor"]["status"]["status"] == "paused"
    assert replayed["id"] == submitted["id"]
    assert snapshot["pendingEvents"] == [{"id": submitted["id"], "eventType": "PauseMentorEvent"}]

    await gql.data(
        "mutation($id: ID!) { updateSyncEvent(id: $id, input: {acknowledged: true}) { acknowledged } }",
        id=submitted["id"],
    )
    after = (await gql.data(SNAPSHOT, id="mentor-042"))["mentorStatus"]
    pending = await gql.data('{ syncEvents(mentorId: "mentor-042") { totalCount } }')
    everything = await gql.data(
        '{ syncEvents(mentorId: "mentor-042", acknowledged: null) { totalCount } }'
    )
    assert after["pendingEvents"] == []
    assert pending["syncEvents"]["totalCount"] == 0
    assert everything["syncEvents"]["totalCount"] == 1


async def test_rejected_event_reports_why(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor-042")
    event_input = {
        "mentorId": "mentor-042",
        "eventType": "ReactivateMentorEvent",
        "clientTimestamp": _now(),
    }
    result = (await gql.data(SUBMIT, input=event_input))["submitStatusEvent"]
    assert result["accepted"] is False
    assert result["rejectionReason"] == "invalid_transition"
    assert result["resultingStatus"] == "active"


async def test_a_rejected_submission_runs_one_statement_per_step(
    gql: GraphQL, database: Database
) -> None:
    """Claim the key, read the status, insert the event, insert its audit row (and BEGIN on
    SQLite): the mentor is looked up only when it has no status row (README goal 2)."""
    await make_mentor(database, id="mentor-042")
    rejected = {
        "mentorId": "mentor-042",
        "eventType": "ResumeMentorEvent",
        "clientTimestamp": _now(),
    }
    body = await gql(
        "mutation($input: StatusEventInput!) { submitStatusEvent(input: $input, "
        'idempotencyKey: "k") { accepted } }',
        input=rejected,
    )
    assert body["data"] == {"submitStatusEvent": {"accepted": False}}, body
    begin = 1 if database.dialect == "sqlite" else 0
    assert body["extensions"]["sqlStatements"] == 4 + begin


async def test_same_key_different_request_is_bad_input(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor-042")
    base = {"mentorId": "mentor-042", "eventType": "PauseMentorEvent", "clientTimestamp": _now()}
    await gql.data(SUBMIT, input=base, key="k")
    body = await gql(SUBMIT, input={**base, "reason": "different"}, key="k")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
