"""Issue 10, item 4: no row in the database can turn a list into a 500.

Each case plants, with raw SQL, a value this version never writes but an older version or a
manual edit could have stored, then reads every list (REST and /graphql) and single read of
that table, on SQLite and PostgreSQL (TEST_DATABASE_URL). Complements the "planted" tests of
tests/test_poisoned_input.py (figures, metadata).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from models.database import Database
from tests.conftest import GraphQL
from tests.factories import activity, add_ledger, make_mentor

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
# Each unreadable value is logged once per process (models.unreadable), so row keys here are
# not shared with other test files.
UNREADABLE_LOG = "mentor_gateway.unreadable"


async def execute(database: Database, sql: str, **values: Any) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text(sql), values)


def reported(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == UNREADABLE_LOG]


async def make_status(client: httpx.AsyncClient, mentor_id: str) -> None:
    response = await client.post("/api/v1/mentor-statuses", json={"mentor_id": mentor_id})
    assert response.status_code == 201, response.text


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


# --- stored enum values this version does not know --------------------------------------------

STATUS_LIST = "{ mentorStatuses(first: 100) { totalCount nodes { mentorId status isEligibleForAssignment } } }"


async def test_an_unknown_mentor_status_reads_as_inactive(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    for mentor_id in ("frozen", "good"):
        await make_status(client, mentor_id)
    await execute(database, "UPDATE mentor_status SET status = 'frozen' WHERE mentor_id = 'frozen'")

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        rows = ok(await client.get("/api/v1/mentor-statuses?limit=100"))["data"]
        assert {r["mentor_id"]: r["status"] for r in rows} == {
            "frozen": "inactive",
            "good": "active",
        }
        assert ok(await client.get("/api/v1/mentor-statuses/frozen"))["status"] == "inactive"
        snapshot = ok(await client.get("/api/v1/mentor-status-sync/frozen"))
        assert snapshot["is_eligible_for_assignment"] is False  # never assignable
        nodes = (await gql.data(STATUS_LIST))["mentorStatuses"]["nodes"]
        assert {n["mentorId"]: n["status"] for n in nodes} == {
            "frozen": "inactive",
            "good": "active",
        }
        nested = await gql.data('{ mentor(id: "frozen") { status { status } } }')
        assert nested["mentor"]["status"]["status"] == "inactive"
        # Filtering by inactive does not list it: the filter is on what is stored.
        assert ok(await client.get("/api/v1/mentor-statuses?status=inactive"))["data"] == []
    [line] = reported(caplog)  # once, though read five times
    assert "'frozen'" in line
    assert "'inactive'" in line

    # The way back: the state machine reads it as inactive, so reactivating is allowed.
    event = {
        "mentor_id": "frozen",
        "event_type": "ReactivateMentorEvent",
        "client_timestamp": datetime.now(UTC).isoformat(),
    }
    submitted = await client.post("/api/v1/mentor-status-sync/events", json=event)
    assert submitted.status_code == 201, submitted.text
    assert ok(await client.get("/api/v1/mentor-statuses/frozen"))["status"] == "active"


SYNC_LIST = """{ syncEvents(first: 100) {
  totalCount nodes { id eventType resultingStatus rejectionReason }
} }"""


async def test_unknown_sync_event_values_read_as_their_fallbacks(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_status(client, "m1")
    ids = []
    for event_type in ("PauseMentorEvent", "PauseMentorEvent"):  # the second is rejected
        event = {
            "mentor_id": "m1",
            "event_type": event_type,
            "client_timestamp": datetime.now(UTC).isoformat(),
        }
        submitted = await client.post("/api/v1/mentor-status-sync/events", json=event)
        assert submitted.status_code in (200, 201), submitted.text
        ids.append(submitted.json()["sync_event_id"])
    old, good = ids
    await execute(
        database,
        "UPDATE sync_event SET event_type = 'ArchiveMentorEvent', resulting_status = 'archived',"
        " rejection_reason = 'quota' WHERE id = :id",
        id=old,
    )

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        rows = {
            r["sync_event_id"]: r
            for r in ok(await client.get("/api/v1/mentor-status-sync"))["data"]
        }
        assert set(rows) == {old, good}
        assert rows[old]["event_type"] == "DeactivateMentorEvent"
        assert rows[old]["resulting_status"] == "inactive"
        pending = ok(await client.get("/api/v1/mentor-status-sync/m1"))["pending_events"]
        assert len(pending) == 2
        nodes = {n["id"]: n for n in (await gql.data(SYNC_LIST))["syncEvents"]["nodes"]}
        assert nodes[old] == {
            "id": old,
            "eventType": "DeactivateMentorEvent",
            "resultingStatus": "inactive",
            "rejectionReason": None,
        }
        assert nodes[good]["rejectionReason"] == "invalid_transition"
        single = await gql.data(
            "query($id: ID!) { syncEvent(id: $id) { eventType rejectionReason } }", id=old
        )
        assert single["syncEvent"] == {
            "eventType": "DeactivateMentorEvent",
            "rejectionReason": None,
        }
    assert len(reported(caplog)) == 3  # one per unknown value
    acknowledged = await client.put(
        f"/api/v1/mentor-status-sync/events/{old}", json={"acknowledged": True}
    )
    assert acknowledged.status_code == 200, acknowledged.text


ACTIVITY_LIST = "{ activities(first: 100) { totalCount nodes { id status } } }"


async def test_an_unknown_activity_status_reads_as_cancelled(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_mentor(database, id="m1")
    await add_ledger(
        database,
        activity("a1", mentor_id="m1", started_at=NOW),
        activity("a2", mentor_id="m1", started_at=NOW.replace(hour=14)),
    )
    await execute(database, "UPDATE activity SET status = 'no_show' WHERE id = 'a1'")

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        nodes = (await gql.data(ACTIVITY_LIST))["activities"]["nodes"]
        assert {n["id"]: n["status"] for n in nodes} == {"a1": "cancelled", "a2": "completed"}
        single = await gql.data('{ activity(id: "a1") { status } mentor(id: "m1") { id } }')
        assert single["activity"]["status"] == "cancelled"
        # The figures agree: they count completed activities only.
        stats = ok(
            await client.get("/api/v1/personal-stats/m1?start_date=2025-01-01&end_date=2025-12-31")
        )
        assert (stats["total_activities"], stats["completed_activities"]) == (2, 1)
    assert len(reported(caplog)) == 1


MILESTONE_LIST = "{ milestones(first: 100) { totalCount nodes { id status progressPercentage } } }"


async def plant_milestone(database: Database, key: str, *, status: str, value: float) -> None:
    now = NOW.replace(tzinfo=None)
    await execute(
        database,
        "INSERT INTO milestone (id, mentor_id, definition_key, status, value, achieved_at, "
        "created_at, updated_at, version) VALUES "
        "(:id, 'm1', :key, :status, :value, NULL, :now, :now, 'v1')",
        id=f"{key}:m1",
        key=key,
        status=status,
        value=value,
        now=now,
    )


async def plant_definition(database: Database, key: str, *, type: str, threshold: int) -> None:
    await execute(
        database,
        "INSERT INTO milestone_definition (key, type, threshold, name, badge_image_url) "
        "VALUES (:key, :type, :threshold, :key, NULL)",
        key=key,
        type=type,
        threshold=threshold,
    )


PLANTED_DEFINITIONS = ("streak_7d", "zero_hours")


@pytest.fixture
async def planted_catalogue(database: Database) -> AsyncIterator[None]:
    """The catalogue outlives a test on PostgreSQL (only data tables are truncated): restore it."""
    yield
    for table, column in (("milestone", "definition_key"), ("milestone_definition", "key")):
        for key in PLANTED_DEFINITIONS:
            await execute(database, f"DELETE FROM {table} WHERE {column} = :key", key=key)


@pytest.mark.usefixtures("planted_catalogue")
async def test_milestones_survive_old_catalogue_entries_and_statuses(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_mentor(database, id="m1")
    await plant_definition(database, "streak_7d", type="streak_days", threshold=7)
    await plant_definition(database, "zero_hours", type="hours_logged", threshold=0)
    await plant_milestone(database, "streak_7d", status="in_progress", value=3)
    await plant_milestone(database, "zero_hours", status="in_progress", value=3)
    await plant_milestone(database, "milestone_100h", status="revoked", value=40)
    await plant_milestone(database, "milestone_25activities", status="in_progress", value=5)

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        rows = {r["id"]: r for r in ok(await client.get("/api/v1/milestones?limit=100"))["data"]}
        # A type this version cannot count is left out of every read, the rest is listed.
        assert set(rows) == {"zero_hours:m1", "milestone_100h:m1", "milestone_25activities:m1"}
        assert rows["milestone_100h:m1"]["status"] == "in_progress"
        assert rows["zero_hours:m1"]["progress_percentage"] is None
        assert rows["milestone_25activities:m1"]["progress_percentage"] == 20
        data = await gql.data(MILESTONE_LIST)
        assert data["milestones"]["totalCount"] == 3
        nodes = {n["id"]: n for n in data["milestones"]["nodes"]}
        assert nodes["milestone_100h:m1"]["status"] == "in_progress"
        assert nodes["zero_hours:m1"]["progressPercentage"] is None
        ok(await client.get("/api/v1/milestones/m1/in-progress?limit=100"))
        assert (
            ok(await client.get("/api/v1/milestones/milestone_100h:m1"))["status"] == "in_progress"
        )
        assert (await client.get("/api/v1/milestones/streak_7d:m1")).status_code == 404
        nested = await gql.data('{ mentor(id: "m1") { milestones { id } } }')
        assert len(nested["mentor"]["milestones"]) == 3
        catalogue = await gql.data("{ milestoneDefinitions { key type } }")
        assert "streak_7d" not in {d["key"] for d in catalogue["milestoneDefinitions"]}
    assert len(reported(caplog)) == 2  # the unknown status, the threshold of 0

    # Detection still runs over such a catalogue.
    summary = {
        "mentor_id": "m1",
        "period": {"year": 2025},
        "summary": {"total_hours": 10, "unique_contacts_helped": 1, "activity_count": 1},
    }
    detected = await client.post("/api/v1/milestones", json=summary)
    assert detected.status_code == 200, detected.text


# --- SQLite text that is not UTF-8 ------------------------------------------------------------


async def test_text_that_is_not_utf8_reads_with_replacement_characters(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL refuses invalid UTF-8 itself (a server encoding of UTF8)")
    for mentor_id in ("m1", "m2"):
        await make_mentor(database, id=mentor_id)  # with its status
    await execute(
        database,
        "UPDATE mentor SET name = CAST(x'4eff6f' AS TEXT) WHERE id = 'm1';",
    )
    await execute(
        database,
        "UPDATE mentor_status SET pause_reason = CAST(x'c328' AS TEXT) WHERE mentor_id = 'm1'",
    )

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        mentors = (await gql.data("{ mentors(first: 100) { nodes { id name } } }"))["mentors"]
        assert {n["id"]: n["name"] for n in mentors["nodes"]} == {
            "m1": "N\ufffdo",
            "m2": "Mentor m2",
        }
        ok(await client.get("/api/v1/mentor-statuses?limit=100"))
        single = ok(await client.get("/api/v1/mentor-statuses/m1"))
        assert single["pause_reason"] == "\ufffd("
    assert len(reported(caplog)) == 2


# --- PostgreSQL json that Python cannot decode ------------------------------------------------


def deep_json(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


async def test_json_that_python_cannot_decode_reads_as_null(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    planted = {"too-deep": deep_json(5_000), "digits": '{"n": ' + "7" * 5_000 + "}"}
    for mentor_id in (*planted, "good"):
        await make_status(client, mentor_id)
    cast = "CAST(CAST(:m AS TEXT) AS JSON)" if database.dialect == "postgresql" else ":m"
    for mentor_id, metadata in planted.items():
        await execute(
            database,
            f"UPDATE mentor_status SET metadata = {cast} WHERE mentor_id = :id",
            m=metadata,
            id=mentor_id,
        )
    await execute(
        database,
        f"UPDATE mentor_status SET metadata = {cast} WHERE mentor_id = 'good'",
        m=json.dumps({"ok": [1, 2]}),
    )

    with caplog.at_level(logging.WARNING, logger=UNREADABLE_LOG):
        assert ok(await client.get("/api/v1/mentor-statuses?limit=100"))["pagination"]["total"] == 3
        for mentor_id in planted:
            assert ok(await client.get(f"/api/v1/mentor-statuses/{mentor_id}"))["metadata"] is None
        nodes = await gql.data("{ mentorStatuses(first: 100) { nodes { mentorId metadata } } }")
        read = {n["mentorId"]: n["metadata"] for n in nodes["mentorStatuses"]["nodes"]}
        assert read == {"too-deep": None, "digits": None, "good": {"ok": [1, 2]}}
    assert len(reported(caplog)) == 2
