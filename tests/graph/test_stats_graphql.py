"""Activities and stats over GraphQL: mutations, Mentor's stats fields, and flat SQL cost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from domain import clock
from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor
from tests.ledgers import act, record

NOON_25_MARCH = datetime(2026, 3, 25, 12, tzinfo=UTC)
RECORD = """
mutation Record($input: RecordActivityInput!) {
  recordActivity(input: $input) {
    id startedAt status durationMinutes
    mentor { id name status { status } }
    activityType { key displayName }
  }
}"""
RECORD_MANY = """
mutation RecordMany($input: [RecordActivityInput!]!) {
  recordActivities(input: $input) { inserted updated unchanged activities { id } }
}"""


@pytest.fixture(autouse=True)
def _wednesday_noon() -> Iterator[None]:
    with clock.pinned(NOON_25_MARCH):
        yield


def _input(id: str, **changes: Any) -> dict[str, Any]:
    activity = {
        "id": id,
        "mentorId": "mntr_01HX4V2K8P",
        "mentorName": "James Park",
        "activityTypeId": "act_type_001",
        "contactId": "contact_7",
        "startedAt": "2026-03-24T09:15:00+01:00",
        "durationMinutes": 45,
        "status": "completed",
    }
    return activity | changes


async def test_record_an_activity_for_a_new_mentor(gql: GraphQL) -> None:
    data = await gql.data(RECORD, input=_input("act-1"))
    assert data["recordActivity"] == {
        "id": "act-1",
        "startedAt": "2026-03-24T08:15:00Z",
        "status": "completed",
        "durationMinutes": 45,
        "mentor": {"id": "mntr_01HX4V2K8P", "name": "James Park", "status": {"status": "active"}},
        "activityType": {"key": "one_on_one_session", "displayName": "One-on-One Session"},
    }
    fetched = await gql.data('{ activity(id: "act-1") { id mentorId contactId } }')
    assert fetched["activity"] == {
        "id": "act-1",
        "mentorId": "mntr_01HX4V2K8P",
        "contactId": "contact_7",
    }


async def test_recording_again_is_idempotent_and_changes_update(gql: GraphQL) -> None:
    batch = [_input("act-1"), _input("act-2", status="cancelled")]
    first = (await gql.data(RECORD_MANY, input=batch))["recordActivities"]
    again = (await gql.data(RECORD_MANY, input=batch))["recordActivities"]
    changed = (await gql.data(RECORD_MANY, input=[batch[0], _input("act-2", durationMinutes=50)]))[
        "recordActivities"
    ]
    assert [first[k] for k in ("inserted", "updated", "unchanged")] == [2, 0, 0]
    assert [again[k] for k in ("inserted", "updated", "unchanged")] == [0, 0, 2]
    assert [changed[k] for k in ("inserted", "updated", "unchanged")] == [0, 1, 1]
    listed = await gql.data(
        '{ activities(mentorId: "mntr_01HX4V2K8P") { totalCount nodes { id durationMinutes } } }'
    )
    assert listed["activities"]["totalCount"] == 2


async def test_an_invalid_batch_is_bad_user_input_and_writes_nothing(gql: GraphQL) -> None:
    body = await gql(
        RECORD_MANY,
        input=[
            _input("act-1"),
            _input("act-2", activityTypeId="act_type_999", durationMinutes=2000),
        ],
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == {
        "1.activity_type_id": "is not a known activity type",
        "1.duration_minutes": "must be between 0 and 1440",
    }
    assert (await gql.data("{ activities { totalCount } }"))["activities"]["totalCount"] == 0


async def test_mentor_stats_fields(gql: GraphQL, database: Database) -> None:
    await record(
        database,
        act("g1", mentor="mentor-042", at="2026-03-25T08:00Z", minutes=30),
        act("g2", mentor="mentor-042", at="2026-01-15T08:00Z", minutes=90, type="act_type_005"),
    )
    data = await gql.data(
        """{ mentor(id: "mentor-042") {
            personalStats(period: year_to_date) {
              period startDate totalActivities totalHoursLogged mostActiveWeekday
              mostCommonActivityType peerRankPercentile streakDays }
            monthlySeriesConnection(period: year_to_date, first: 2) {
              totalCount pageInfo { hasNextPage } nodes { monthLabel totalHours } }
            activityBreakdown(period: all_time) { activityTypeId count percentage }
            contributionHistory { year totalActivities peakMonth zeroActivityMonths }
        } }"""
    )
    mentor = data["mentor"]
    # 1 Jan .. 25 Mar: g1 (Wed, 30 min) and g2 (Thu, 90 min); 001 and 005 tie -> 001;
    # Wednesday before Thursday; streak: today only. Alone in the service -> 100.
    assert mentor["personalStats"] == {
        "period": "year_to_date",
        "startDate": "2026-01-01",
        "totalActivities": 2,
        "totalHoursLogged": 2.0,
        "mostActiveWeekday": "Wednesday",
        "mostCommonActivityType": "one_on_one_session",
        "peerRankPercentile": 100,
        "streakDays": 1,
    }
    assert mentor["monthlySeriesConnection"] == {
        "totalCount": 3,
        "pageInfo": {"hasNextPage": True},
        "nodes": [
            {"monthLabel": "Jan 2026", "totalHours": 1.5},
            {"monthLabel": "Feb 2026", "totalHours": 0.0},
        ],
    }
    assert mentor["activityBreakdown"] == [
        {"activityTypeId": "act_type_001", "count": 1, "percentage": 50.0},
        {"activityTypeId": "act_type_005", "count": 1, "percentage": 50.0},
    ]
    assert mentor["contributionHistory"] == [
        {"year": 2026, "totalActivities": 2, "peakMonth": 1, "zeroActivityMonths": 1}
    ]


async def test_root_stats_queries_check_the_mentor_then_the_period(
    gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="mentor-042")
    custom = "personalStats(mentorId: $id, period: custom) { totalActivities }"
    query = "query($id: ID!) { " + custom + " }"
    known = await gql(query, id="mentor-042")
    assert known["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"period": "custom needs start_date and end_date"},
    }
    # An unknown mentor is NOT_FOUND, whatever the period says (REST: 404 before 422).
    for field in (custom, 'monthlySeries(mentorId: $id, startDate: "2026-01-01") { totalCount }'):
        body = await gql("query($id: ID!) { " + field + " }", id="nobody")
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


STATS_OF_MENTORS = """
query Stats($first: Int!) { mentors(first: $first) { nodes {
  personalStats { totalActivities peerRankPercentile streakDays mostActiveWeekday }
  monthlySeries(first: 12) { totalActivities }
  activityBreakdown { count }
  contributionHistory { year }
} } }"""


async def _statements(gql: GraphQL, query: str, **variables: Any) -> int:
    body = await gql(query, **variables)
    assert "errors" not in body, body
    count: int = body["extensions"]["sqlStatements"]
    return count


async def test_stats_of_100_mentors_cost_the_statements_of_one(
    gql: GraphQL, database: Database
) -> None:
    ledger = [
        act(f"m{n}-{k}", mentor=f"mentor-{n:03}", at=f"2026-03-{10 + k}T08:00Z", minutes=10 * n)
        for n in range(100)
        for k in range(3)
    ]
    await record(database, *ledger)
    cold_one = await _statements(gql, STATS_OF_MENTORS, first=1)
    warm_one = await _statements(gql, STATS_OF_MENTORS, first=1)
    await record(database, act("late", mentor="mentor-000", at="2026-03-20T08:00Z"))  # new version
    cold_hundred = await _statements(gql, STATS_OF_MENTORS, first=100)
    warm_hundred = await _statements(gql, STATS_OF_MENTORS, first=100)
    assert (cold_one, warm_one) == (cold_hundred, warm_hundred)
    # mentors page, summary, ledger version, monthly, breakdown, history (+ BEGIN on SQLite);
    # computing the peer ranking (when no cached one matches the ledger version) is one more.
    assert warm_hundred <= 7
    assert cold_hundred == warm_hundred + 1
