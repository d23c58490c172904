"""docs/contracts/milestones.md: all 7 endpoints, at canonical and doubled paths."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import activity, add_ledger, make_mentor

BASE = "/api/v1/milestones"
PREFIXES = pytest.mark.parametrize("prefix", ["", BASE], ids=["canonical", "doubled"])
SUMMARY = {
    "mentor_id": "mentor_001",
    "period": {"year": 2025, "start_date": "2025-01-01", "end_date": "2025-12-31"},
    "summary": {"total_hours": 312.5, "unique_contacts_helped": 47, "activity_count": 198},
}


async def _detect(client: httpx.AsyncClient, body: dict[str, Any] = SUMMARY) -> dict[str, Any]:
    response = await client.post(BASE, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@PREFIXES
async def test_detect_then_read_every_way(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await make_mentor(database, id="mentor_001")
    url = f"{prefix}{BASE}"
    detected = (await client.post(url, json=SUMMARY)).json()
    by_key = {m["definition_key"]: m for m in detected["data"]}

    assert detected["pagination"] == {"page": 1, "limit": 20, "total": 12}
    assert by_key["milestone_100h"]["status"] == "achieved"
    assert by_key["milestone_100h"]["achieved_value"] == 312.5
    assert by_key["milestone_100h"]["accessibility_label"] == (
        "You reached 100 hours of mentoring on December 31, 2025"
    )
    assert by_key["milestone_50contacts"]["progress_percentage"] == 94
    assert by_key["milestone_250activities"]["progress_percentage"] == 79

    single = await client.get(f"{url}/{by_key['milestone_100h']['id']}")
    assert single.json()["badge_image_url"] == "/assets/badges/100h.png"
    assert single.headers["etag"]

    progress = (await client.get(f"{url}/mentor_001/in-progress")).json()["data"]
    assert {(m["definition_key"], m["current_value"], m["remaining"]) for m in progress} == {
        ("milestone_500h", 312.5, 187.5),
        ("milestone_50contacts", 47, 3),
        ("milestone_250activities", 198, 52),
    }
    assert {m["accessibility_label"] for m in progress} >= {
        "You have helped 47 out of 50 unique contacts, 3 remaining"
    }
    achieved_2025 = (await client.get(f"{url}/mentor_001/new?year=2025")).json()
    achieved_2024 = (
        await client.get(f"{url}/mentor_001/new?start_date=2024-01-01&end_date=2024-12-31")
    ).json()
    assert achieved_2025["pagination"]["total"] == 9
    assert achieved_2024["pagination"]["total"] == 0


async def test_list_filters(client: httpx.AsyncClient, database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await _detect(client)
    hours = (
        await client.get(f"{BASE}?mentor_id=mentor_001&type=hours_logged&status=achieved")
    ).json()
    assert [m["threshold"] for m in hours["data"]] == [10, 50, 100, 300]
    assert (await client.get(f"{BASE}?type=sleep")).status_code == 422


async def test_correct_and_delete(client: httpx.AsyncClient, database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await _detect(client)
    target = f"{BASE}/milestone_500h:mentor_001"
    etag = (await client.get(target)).headers["etag"]

    corrected = await client.put(
        target,
        json={"status": "achieved", "achieved_value": 515, "achieved_at": "2026-01-03T09:00:00Z"},
        headers={"If-Match": etag},
    )
    assert corrected.status_code == 200, corrected.text
    assert (
        corrected.json()["accessibility_label"]
        == "You reached 500 hours of mentoring on January 3, 2026"
    )
    assert (
        await client.put(target, json={"status": "in_progress"}, headers={"If-Match": etag})
    ).status_code == 412

    assert (await client.delete(target)).json() == {
        "deleted": True,
        "id": "milestone_500h:mentor_001",
    }
    assert (await client.get(target)).status_code == 404
    assert (await client.delete(target)).status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"mentor_id": "nobody"}, 404),
        ({"summary": {"total_hours": -1, "unique_contacts_helped": 1, "activity_count": 1}}, 422),
        ({"period": {"start_date": "2025-12-31", "end_date": "2025-01-01"}}, 422),
        ({"period": {}}, 422),
        ({"summary": {"total_hours": 1}}, 422),
    ],
)
async def test_bad_detections(
    client: httpx.AsyncClient, database: Database, change: dict[str, Any], status: int
) -> None:
    await make_mentor(database, id="mentor_001")
    response = await client.post(BASE, json={**SUMMARY, **change})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_new_rejects_a_bad_period(client: httpx.AsyncClient, database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    assert (await client.get(f"{BASE}/mentor_001/new?start_date=2025-01-01")).status_code == 422
    assert (
        await client.get(
            f"{BASE}/mentor_001/new?year=2025&start_date=2025-01-01&end_date=2025-02-01"
        )
    ).status_code == 422


async def test_ledger_milestones_over_graphql(gql: GraphQL, database: Database) -> None:
    from api.maintenance import recompute_milestones

    await make_mentor(database, id="mentor_001")
    crossing = datetime(2025, 11, 22, 14, tzinfo=UTC)
    await add_ledger(
        database,
        activity(
            "a1", mentor_id="mentor_001", started_at=datetime(2025, 1, 5, tzinfo=UTC), minutes=5940
        ),
        activity("a2", mentor_id="mentor_001", started_at=crossing, minutes=120),
    )
    summary = await recompute_milestones(database.url)
    data = await gql.data(
        '{ newMilestones(mentorId: "mentor_001", year: 2025) { nodes { definitionKey achievedAt } }'
        ' mentor(id: "mentor_001") { milestones(status: in_progress) { definitionKey value } } }'
    )

    assert summary.startswith("1 mentors")
    achieved = {m["definitionKey"]: m["achievedAt"] for m in data["newMilestones"]["nodes"]}
    assert achieved["milestone_100h"] == "2025-11-22T14:00:00Z"  # 99 h, then 2 h more
    assert achieved["milestone_50h"] == "2025-01-05T00:00:00Z"
    assert {"definitionKey": "milestone_300h", "value": 101.0} in data["mentor"]["milestones"]


RECORD = """
mutation Record($input: RecordActivityInput!) { recordActivity(input: $input) { id } }"""


def _activity_input(id: str, started_at: str, minutes: int) -> dict[str, Any]:
    return {
        "id": id,
        "mentorId": "mentor_001",
        "mentorName": "Ada Obi",
        "activityTypeId": "act_type_001",
        "contactId": "contact_7",
        "startedAt": started_at,
        "durationMinutes": minutes,
        "status": "completed",
    }


async def test_recording_an_activity_that_crosses_100_hours_lists_it_as_new(
    client: httpx.AsyncClient, gql: GraphQL
) -> None:
    year = datetime.now(UTC).year - 1  # a whole year in the past, whatever today is
    # 66 activities of 90 minutes = 99 h; the 67th (the crossing one) brings 100.5 h.
    for n in range(66):
        await gql.data(
            RECORD, input=_activity_input(f"a{n:02}", f"{year}-01-01T{n % 10 + 8:02}:00:00Z", 90)
        )
    before = (await client.get(f"{BASE}/mentor_001/new?year={year}")).json()["data"]
    crossing = f"{year}-01-02T09:30:00Z"
    await gql.data(RECORD, input=_activity_input("a66", crossing, 90))

    rest = (await client.get(f"{BASE}/mentor_001/new?year={year}")).json()["data"]
    graph = await gql.data(
        'query($year: Int) { newMilestones(mentorId: "mentor_001", year: $year) { nodes { definitionKey achievedAt accessibilityLabel } } }',
        year=year,
    )
    assert "milestone_100h" not in {m["definition_key"] for m in before}
    hundred = next(m for m in rest if m["definition_key"] == "milestone_100h")
    assert hundred["achieved_at"] == crossing
    assert {
        "definitionKey": "milestone_100h",
        "achievedAt": crossing,
        "accessibilityLabel": f"You reached 100 hours of mentoring on January 2, {year}",
    } in graph["newMilestones"]["nodes"]


async def test_counts_are_integers_and_hours_add_up_as_printed(
    client: httpx.AsyncClient, database: Database
) -> None:
    """455 h 10 min: hours to hundredths, value + remaining == threshold as printed."""
    await make_mentor(database, id="mentor_001")
    body = {
        **SUMMARY,
        "summary": {
            "total_hours": 455 + 10 / 60,
            "unique_contacts_helped": 47,
            "activity_count": 198,
        },
    }
    await _detect(client, body)
    response = await client.get(f"{BASE}/mentor_001/in-progress")
    progress = {m["type"]: m for m in response.json()["data"]}

    counts = [progress["contacts_helped"], progress["activity_count"]]
    assert [(m["current_value"], m["remaining"], m["threshold"]) for m in counts] == [
        (47, 3, 50),
        (198, 52, 250),
    ]
    assert '"current_value":47,' in response.text  # a JSON integer, not 47.0
    assert '"remaining":3,' in response.text
    hours = progress["hours_logged"]
    assert (hours["current_value"], hours["remaining"]) == (455.17, 44.83)
    assert Decimal(str(hours["current_value"])) + Decimal(str(hours["remaining"])) == Decimal(
        hours["threshold"]
    )
    listed = (await client.get(f"{BASE}?mentor_id=mentor_001&type=contacts_helped")).text
    assert '"achieved_value":47,' in listed


async def test_graphql_figures_follow_the_same_rule(gql: GraphQL, database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await gql.data(
        'mutation { detectMilestones(input: {mentorId: "mentor_001", period: {year: 2025}, '
        "summary: {totalHours: 455.1666666, uniqueContactsHelped: 47, activityCount: 198}}) "
        "{ count } }"
    )
    response = await gql.client.post(
        "/graphql",
        json={
            "query": '{ milestones(mentorId: "mentor_001", status: in_progress) '
            "{ nodes { type value remaining threshold } } }"
        },
    )
    nodes = {n["type"]: n for n in response.json()["data"]["milestones"]["nodes"]}
    assert (nodes["contacts_helped"]["value"], nodes["contacts_helped"]["remaining"]) == (47, 3)
    assert isinstance(nodes["contacts_helped"]["value"], int)
    assert (nodes["hours_logged"]["value"], nodes["hours_logged"]["remaining"]) == (455.17, 44.83)
