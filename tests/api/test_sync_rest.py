"""docs/contracts/mentor-status-sync.md: the 5 endpoints, the event flow, and idempotent retries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.database import Database
from models.statuses import PauseRecord
from models.sync import SyncEvent
from tests.factories import make_mentor

BASE = "/api/v1/mentor-status-sync"
PREFIXES = pytest.mark.parametrize("prefix", ["", BASE], ids=["canonical", "doubled"])
MENTOR = "mntr_01HX4V2K8P"


def _now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat().replace("+00:00", "Z")


def _event(event_type: str = "PauseMentorEvent", **fields: Any) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "mentor_id": MENTOR,
        "reason": "Taking a short break",
        "client_timestamp": _now(),
        **fields,
    }


async def _count(database: Database, table: Any, *conditions: Any) -> int:
    async with database.sessions() as session:
        statement = select(func.count()).select_from(table).where(*conditions)
        return int((await session.execute(statement)).scalar_one())


@PREFIXES
async def test_the_contract_flow(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await make_mentor(database, id=MENTOR)
    url = f"{prefix}{BASE}"

    submitted = await client.post(f"{url}/events", json=_event())
    assert submitted.status_code == 201, submitted.text
    event = submitted.json()
    assert event["accepted"] is True
    assert event["resulting_status"] == "paused"
    assert event["sync_event_id"].startswith("evt_")
    assert len(event["sync_event_id"]) == 12

    pending = (await client.get(f"{url}?mentor_id={MENTOR}")).json()
    assert [e["sync_event_id"] for e in pending["data"]] == [event["sync_event_id"]]
    assert pending["data"][0]["acknowledged"] is False
    snapshot = (await client.get(f"{url}/{MENTOR}")).json()
    assert snapshot["status"] == "paused"
    assert snapshot["is_eligible_for_assignment"] is False
    assert [e["sync_event_id"] for e in snapshot["pending_events"]] == [event["sync_event_id"]]

    acked = await client.put(
        f"{url}/events/{event['sync_event_id']}",
        json={"acknowledged": True, "reason": "Corrected: extended personal leave"},
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged"] is True
    assert acked.json()["reason"] == "Corrected: extended personal leave"
    assert set(acked.json()) == {"sync_event_id", "acknowledged", "reason", "updated_at"}

    after = (await client.get(f"{url}/{MENTOR}")).json()
    assert after["pending_events"] == []
    assert (await client.get(url)).json()["pagination"]["total"] == 0
    assert (await client.get(f"{url}?acknowledged=true")).json()["pagination"]["total"] == 1

    deleted = await client.delete(f"{url}/events/{event['sync_event_id']}")
    assert deleted.json()["deleted"] is True
    assert deleted.json()["deleted_at"].endswith("Z")
    assert (await client.delete(f"{url}/events/{event['sync_event_id']}")).status_code == 404


async def test_an_illegal_transition_is_logged_but_not_applied(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id=MENTOR)
    response = await client.post(f"{BASE}/events", json=_event("ResumeMentorEvent"))
    assert response.status_code == 200
    assert response.json()["accepted"] is False
    assert response.json()["rejection_reason"] == "invalid_transition"
    assert response.json()["resulting_status"] == "active"
    assert await _count(database, SyncEvent) == 1


async def test_a_stale_event_leaves_the_newer_status(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id=MENTOR)
    written_before = _now(timedelta(seconds=-30))  # the phone paused offline, 30 s ago
    coordinator = await client.put(
        f"{BASE.replace('-sync', 'es')}/{MENTOR}", json={"status": "inactive"}
    )
    assert coordinator.status_code == 200

    stale = await client.post(f"{BASE}/events", json=_event(client_timestamp=written_before))

    assert stale.status_code == 200
    assert stale.json()["rejection_reason"] == "stale"
    assert stale.json()["resulting_status"] == "inactive"
    status = (await client.get(f"{BASE}/{MENTOR}")).json()
    assert status["status"] == "inactive"
    assert await _count(database, PauseRecord) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_event("SleepMentorEvent"), 422, "event_type"),
        ({"event_type": "PauseMentorEvent", "mentor_id": MENTOR}, 422, "client_timestamp"),
        ({"client_timestamp": "six minutes ahead"}, 422, "client_timestamp"),
        (_event(client_timestamp="2026-03-26T09:14:55"), 422, "client_timestamp"),
        (_event(mentor_id="nobody"), 404, None),
    ],
)
async def test_bad_events(
    client: httpx.AsyncClient,
    database: Database,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    await make_mentor(database, id=MENTOR)
    if body.get("client_timestamp") == "six minutes ahead":  # computed now, not at collection
        body = _event(client_timestamp=_now(timedelta(minutes=6)))
    response = await client.post(f"{BASE}/events", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert field in {error["field"] for error in response.json()["errors"]}
    assert await _count(database, SyncEvent) == 0


async def test_idempotency_key_replays_and_rejects_a_different_body(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id=MENTOR)
    body = _event()
    first = await client.post(f"{BASE}/events", json=body, headers={"Idempotency-Key": "k-1"})
    again = await client.post(f"{BASE}/events", json=body, headers={"Idempotency-Key": "k-1"})
    other = await client.post(
        f"{BASE}/events", json={**body, "reason": "else"}, headers={"Idempotency-Key": "k-1"}
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 422
    assert await _count(database, SyncEvent) == 1


async def test_50_concurrent_identical_submissions_apply_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    await make_mentor(database, id=MENTOR)
    body = _event()

    responses = await asyncio.gather(
        *(
            client.post(f"{BASE}/events", json=body, headers={"Idempotency-Key": "retry-storm"})
            for _ in range(50)
        )
    )

    assert {r.status_code for r in responses} <= {201, 409}
    assert len({r.json()["sync_event_id"] for r in responses if r.status_code == 201}) == 1
    assert await _count(database, SyncEvent) == 1
    assert await _count(database, PauseRecord) == 1
    assert await _count(database, SyncEvent, col(SyncEvent.accepted)) == 1


async def test_unknown_event_and_snapshot_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{BASE}/nobody")).status_code == 404
    assert (
        await client.put(f"{BASE}/events/evt_NOPE0000", json={"acknowledged": True})
    ).status_code == 404
