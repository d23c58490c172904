"""docs/contracts/mentor-statuses.md: all 10 endpoints, at canonical and doubled paths."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from models.database import Database
from tests.factories import make_mentor, make_pause

BASE = "/api/v1/mentor-statuses"
PREFIXES = pytest.mark.parametrize("prefix", ["", BASE], ids=["canonical", "doubled"])
STATUS_ITEM = {
    "mentor_id",
    "status",
    "is_paused",
    "pause_start_date",
    "expected_return_date",
    "last_updated",
}
PAUSE_ITEM = {
    "pause_record_id",
    "mentor_id",
    "start_date",
    "expected_return_date",
    "end_date",
    "is_active",
    "reason",
}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


@PREFIXES
async def test_list_statuses_pages_and_filters(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    for n in range(1, 6):
        await make_mentor(database, id=f"mentor-00{n}")
    await make_pause(database, mentor_id="mentor-002")

    page = (await client.get(f"{prefix}/api/v1/mentor-statuses?page=2&limit=2")).json()
    paused = (await client.get(f"{prefix}/api/v1/mentor-statuses?status=paused")).json()

    assert page["pagination"] == {"page": 2, "limit": 2, "total": 5}
    assert [item["mentor_id"] for item in page["data"]] == ["mentor-003", "mentor-004"]
    assert set(page["data"][0]) == STATUS_ITEM
    assert [item["mentor_id"] for item in paused["data"]] == ["mentor-002"]
    assert paused["data"][0]["is_paused"] is True
    assert paused["pagination"] == {"page": 1, "limit": 20, "total": 1}


@pytest.mark.parametrize("query", ["page=0", "limit=0", "limit=101", "status=sleeping", "page=x"])
async def test_list_rejects_bad_parameters(client: httpx.AsyncClient, query: str) -> None:
    body = _problem(await client.get(f"/api/v1/mentor-statuses?{query}"), 422)
    assert body["errors"][0]["field"] == query.split("=")[0]


@PREFIXES
async def test_create_get_update_delete_a_status(client: httpx.AsyncClient, prefix: str) -> None:
    url = f"{prefix}/api/v1/mentor-statuses"
    created = await client.post(
        url, json={"mentor_id": "mentor-099", "status": "active", "is_paused": False}
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    assert created.json()["last_updated"].endswith("Z")

    fetched = await client.get(f"{url}/mentor-099")
    assert fetched.status_code == 200
    assert fetched.headers["etag"]

    body = {
        "status": "paused",
        "is_paused": True,
        "pause_start_date": "2026-03-26T00:00:00Z",
        "expected_return_date": "2026-05-01T00:00:00Z",
        "pause_reason": "personal_leave",
        "metadata": {"initiated_by": "coordinator-007", "notes": "Mentor requested leave"},
    }
    updated = await client.put(f"{url}/mentor-099", json=body)
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in body} == body
    assert updated.headers["etag"] != fetched.headers["etag"]

    deleted = await client.delete(f"{url}/mentor-099")
    assert deleted.json() == {"deleted": True, "mentor_id": "mentor-099"}
    _problem(await client.get(f"{url}/mentor-099"), 404)


async def test_creating_a_status_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    body = {"mentor_id": "mentor-099"}
    assert (await client.post("/api/v1/mentor-statuses", json=body)).status_code == 201
    _problem(await client.post("/api/v1/mentor-statuses", json=body), 409)


async def test_creating_a_paused_status_opens_a_pause_record(client: httpx.AsyncClient) -> None:
    body = {"mentor_id": "mentor-100", "status": "paused", "pause_reason": "health"}
    assert (await client.post("/api/v1/mentor-statuses", json=body)).status_code == 201
    records = (await client.get("/api/v1/pause-records?mentor_id=mentor-100")).json()["data"]
    assert [(r["is_active"], r["reason"]) for r in records] == [(True, "health")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "mentor_id"),
        ({"mentor_id": ""}, "mentor_id"),
        ({"mentor_id": "has space"}, "mentor_id"),
        ({"mentor_id": "m1", "status": "asleep"}, "status"),
        ({"mentor_id": "m1", "pause_start_date": "2026-03-26T00:00:00"}, "pause_start_date"),
        ({"mentor_id": "m1", "status": "active", "is_paused": True}, "is_paused"),
        ({"mentor_id": "m1", "metadata": [1, 2]}, "metadata"),
    ],
)
async def test_create_rejects_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    problem = _problem(await client.post("/api/v1/mentor-statuses", json=body), 422)
    assert field in {error["field"] for error in problem["errors"]}


async def test_update_unknown_mentor_is_404(client: httpx.AsyncClient) -> None:
    _problem(await client.put("/api/v1/mentor-statuses/nobody", json={"status": "active"}), 404)
    _problem(await client.delete("/api/v1/mentor-statuses/nobody"), 404)


async def test_illegal_transition_is_409(client: httpx.AsyncClient, database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    await client.put("/api/v1/mentor-statuses/mentor-001", json={"status": "inactive"})
    _problem(await client.put("/api/v1/mentor-statuses/mentor-001", json={"status": "paused"}), 409)


async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id="mentor-001")
    etag = (await client.get("/api/v1/mentor-statuses/mentor-001")).headers["etag"]
    fresh = await client.put(
        "/api/v1/mentor-statuses/mentor-001",
        json={"metadata": {"a": 1}},
        headers={"If-Match": etag},
    )
    assert fresh.status_code == 200

    stale = await client.put(
        "/api/v1/mentor-statuses/mentor-001", json={"status": "paused"}, headers={"If-Match": etag}
    )
    _problem(stale, 412)
    _problem(
        await client.delete("/api/v1/mentor-statuses/mentor-001", headers={"If-Match": etag}), 412
    )
    after = (await client.get("/api/v1/mentor-statuses/mentor-001")).json()
    assert after["status"] == "active"
    assert after["metadata"] == {"a": 1}


@PREFIXES
async def test_pause_record_lifecycle(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await make_mentor(database, id="mentor-042")
    url = f"{prefix}/api/v1/pause-records"
    created = await client.post(
        url,
        json={
            "mentor_id": "mentor-042",
            "start_date": "2026-03-26T00:00:00Z",
            "expected_return_date": "2026-05-01T00:00:00Z",
            "reason": "personal_leave",
        },
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert set(record) == PAUSE_ITEM | {"created_at"}
    assert record["is_active"] is True
    assert record["end_date"] is None
    record_id = record["pause_record_id"]

    fetched = (await client.get(f"{url}/{record_id}")).json()
    assert fetched == record
    listed = (await client.get(f"{url}?mentor_id=mentor-042&is_active=true")).json()
    assert [r["pause_record_id"] for r in listed["data"]] == [record_id]
    assert set(listed["data"][0]) == PAUSE_ITEM

    closed = await client.put(
        f"{url}/{record_id}", json={"end_date": "2026-04-15T00:00:00Z", "is_active": False}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["end_date"] == "2026-04-15T00:00:00Z"
    assert closed.json()["is_active"] is False
    status = (await client.get("/api/v1/mentor-statuses/mentor-042")).json()
    assert status["status"] == "active"

    deleted = await client.delete(f"{url}/{record_id}")
    assert deleted.json() == {"deleted": True, "pause_record_id": record_id}
    _problem(await client.get(f"{url}/{record_id}"), 404)


async def test_deleting_an_active_pause_record_ends_the_pause(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id="mentor-042")
    url = "/api/v1/pause-records"
    created = await client.post(url, json={"mentor_id": "mentor-042", "reason": "travel"})
    record_id = created.json()["pause_record_id"]

    deleted = await client.delete(f"{url}/{record_id}")

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"deleted": True, "pause_record_id": record_id}
    status = (await client.get("/api/v1/mentor-statuses/mentor-042")).json()
    assert (status["status"], status["is_paused"], status["pause_reason"]) == (
        "active",
        False,
        None,
    )
    active = (await client.get(f"{url}?mentor_id=mentor-042&is_active=true")).json()
    assert active["pagination"]["total"] == 0


async def test_pause_records_filter_overdue(client: httpx.AsyncClient, database: Database) -> None:
    for mentor in ("mentor-001", "mentor-002"):
        await make_mentor(database, id=mentor)
    await make_pause(
        database,
        mentor_id="mentor-001",
        expected_return_date=datetime.fromisoformat("2020-02-01T00:00:00Z"),
        start_date=datetime.fromisoformat("2020-01-01T00:00:00Z"),
    )
    await make_pause(
        database,
        mentor_id="mentor-002",
        expected_return_date=datetime.fromisoformat("2999-01-01T00:00:00Z"),
    )

    overdue = (await client.get("/api/v1/pause-records?overdue=true")).json()["data"]
    assert [r["mentor_id"] for r in overdue] == ["mentor-001"]


async def test_pause_record_errors(client: httpx.AsyncClient, database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    _problem(await client.get("/api/v1/pause-records/pause-rec-nope"), 404)
    _problem(
        await client.put("/api/v1/pause-records/pause-rec-nope", json={"is_active": False}), 404
    )
    _problem(await client.delete("/api/v1/pause-records/pause-rec-nope"), 404)
    _problem(await client.post("/api/v1/pause-records", json={"mentor_id": "nobody"}), 404)
    _problem(await client.post("/api/v1/pause-records", json={"start_date": "yesterday"}), 422)
    assert (
        await client.post("/api/v1/pause-records", json={"mentor_id": "mentor-001"})
    ).status_code == 201
    _problem(await client.post("/api/v1/pause-records", json={"mentor_id": "mentor-001"}), 409)
    _problem(await client.get("/api/v1/pause-records?is_active=maybe"), 422)


async def test_unknown_path_is_a_problem(client: httpx.AsyncClient) -> None:
    _problem(await client.get("/api/v1/nothing-here"), 404)
