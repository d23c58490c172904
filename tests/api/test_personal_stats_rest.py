"""docs/contracts/personal-stats.md: the 4 endpoints, at canonical and doubled paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from domain import clock
from models.database import Database
from tests.factories import make_mentor
from tests.ledgers import act, record

BASE = "/api/v1/personal-stats"
PREFIXES = pytest.mark.parametrize("prefix", ["", BASE], ids=["canonical", "doubled"])
NOON_25_MARCH = datetime(2026, 3, 25, 12, tzinfo=UTC)  # a Wednesday
SUMMARY_KEYS = [  # in the contract's order
    "mentor_id",
    "mentor_name",
    "period",
    "start_date",
    "end_date",
    "total_activities",
    "completed_activities",
    "cancelled_activities",
    "completion_rate",
    "avg_session_duration_minutes",
    "total_hours_logged",
    "most_common_activity_type",
    "most_active_weekday",
    "peer_rank_percentile",
    "streak_days",
]
LEDGER = [
    act("j1", mentor="mentor_b2c91a", at="2026-03-25T08:00Z", minutes=50),  # Wed
    act("j2", mentor="mentor_b2c91a", at="2026-03-24T08:00Z", minutes=55, type="act_type_003"),
    act("j3", mentor="mentor_b2c91a", at="2026-03-10T08:00Z", minutes=40, cancelled=True),
    act("j4", mentor="mentor_b2c91a", at="2025-12-31T23:30Z", minutes=30),  # 2025 in UTC
    act("k1", mentor="mentor-042", at="2026-03-20T08:00Z", minutes=10),
]


@pytest.fixture(autouse=True)
def _wednesday_noon() -> Iterator[None]:
    with clock.pinned(NOON_25_MARCH):
        yield


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@PREFIXES
async def test_personal_stats_summary(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await record(database, *LEDGER)
    await make_mentor(database, id="mentor_001")
    response = await client.get(f"{prefix}{BASE}/mentor_b2c91a")
    assert response.status_code == 200, response.text
    assert response.headers["etag"].startswith('"')
    body = response.json()
    assert list(body) == SUMMARY_KEYS
    # Last 30 days = 24 Feb .. 25 Mar: j1, j2 completed (105 min = 1.75 h -> 1.8), j3
    # cancelled. Types 001 and 003 tie at one each -> 001. Wed and Tue tie -> Tuesday.
    # Three mentors: mentor-042 has 10 min, mentor_001 none -> both fewer -> 100.
    assert body == {
        "mentor_id": "mentor_b2c91a",
        "mentor_name": "Mentor mentor_b2c91a",
        "period": "last_30_days",
        "start_date": "2026-02-24",
        "end_date": "2026-03-25",
        "total_activities": 3,
        "completed_activities": 2,
        "cancelled_activities": 1,
        "completion_rate": 0.667,
        "avg_session_duration_minutes": 53,  # 52.5 rounds half up
        "total_hours_logged": 1.8,
        "most_common_activity_type": "one_on_one_session",
        "most_active_weekday": "Tuesday",
        "peer_rank_percentile": 100,
        "streak_days": 2,
    }


async def test_period_parameters(client: httpx.AsyncClient, database: Database) -> None:
    await record(database, *LEDGER)
    url = f"{BASE}/mentor_b2c91a"
    week = (await client.get(url, params={"period": "last_7_days"})).json()
    assert (week["start_date"], week["total_activities"]) == ("2026-03-19", 2)
    explicit = (
        await client.get(url, params={"start_date": "2025-12-31", "end_date": "2025-12-31"})
    ).json()
    assert (explicit["period"], explicit["total_activities"]) == ("custom", 1)
    everything = (await client.get(url, params={"period": "all_time"})).json()
    assert (everything["start_date"], everything["total_activities"]) == ("2025-12-31", 4)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=last_week", "period"),
        ("start_date=2026-03-02&end_date=2026-03-01", "start_date"),
        ("start_date=2026-03-02", "end_date"),
        ("period=last_7_days&start_date=2026-03-01&end_date=2026-03-02", "period"),
        ("start_date=yesterday&end_date=2026-03-01", "start_date"),
    ],
)
async def test_bad_periods_are_422_naming_the_field(
    client: httpx.AsyncClient, database: Database, query: str, field: str
) -> None:
    await make_mentor(database, id="mentor_001")
    for path in ("", "/monthly-series", "/activity-breakdown"):
        body = _problem(await client.get(f"{BASE}/mentor_001{path}?{query}"), 422)
        assert [error["field"] for error in body["errors"]] == [field]


@pytest.mark.parametrize(
    "path", ["", "/monthly-series", "/activity-breakdown", "/contribution-history"]
)
async def test_unknown_mentor_is_404(client: httpx.AsyncClient, path: str) -> None:
    body = _problem(await client.get(f"{BASE}/nobody{path}"), 404)
    assert "nobody" in body["detail"]


@PREFIXES
async def test_monthly_series_pages_through_12_months(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await record(database, *LEDGER)
    url = f"{prefix}{BASE}/mentor_b2c91a/monthly-series"
    first = (await client.get(url)).json()
    # Default: April 2025 .. March 2026, zero months included.
    assert first["pagination"] == {"page": 1, "limit": 20, "total": 12}
    assert first["data"][0] == {
        "year": 2025,
        "month": 4,
        "month_label": "Apr 2025",
        "total_activities": 0,
        "completed_activities": 0,
        "total_hours": 0.0,
    }
    # December: j4 (30 min); March: j1 and j2 completed (105 min), j3 cancelled.
    last = (await client.get(url, params={"page": 3, "limit": 5})).json()
    assert last["pagination"] == {"page": 3, "limit": 5, "total": 12}
    assert [(m["month_label"], m["total_activities"], m["total_hours"]) for m in last["data"]] == [
        ("Feb 2026", 0, 0.0),
        ("Mar 2026", 3, 1.8),
    ]
    december = (await client.get(url, params={"page": 9, "limit": 1})).json()["data"]
    assert [(m["month_label"], m["completed_activities"], m["total_hours"]) for m in december] == [
        ("Dec 2025", 1, 0.5)
    ]


@PREFIXES
async def test_activity_breakdown(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await record(database, *LEDGER)
    body = (await client.get(f"{prefix}{BASE}/mentor_b2c91a/activity-breakdown")).json()
    # Two completed in the last 30 days, one each of 001 (50 min) and 003 (55 min).
    assert body == {
        "data": [
            {
                "activity_type_id": "act_type_001",
                "activity_type_name": "One-on-One Session",
                "count": 1,
                "percentage": 50.0,
                "avg_duration_minutes": 50,
                "total_hours": 0.8,
            },
            {
                "activity_type_id": "act_type_003",
                "activity_type_name": "Check-in",
                "count": 1,
                "percentage": 50.0,
                "avg_duration_minutes": 55,
                "total_hours": 0.9,
            },
        ],
        "pagination": {"page": 1, "limit": 20, "total": 2},
    }


@PREFIXES
async def test_contribution_history(
    client: httpx.AsyncClient, database: Database, prefix: str
) -> None:
    await record(database, *LEDGER)
    body = (await client.get(f"{prefix}{BASE}/mentor_b2c91a/contribution-history")).json()
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 2}
    first, current = body["data"]
    # 2025: December only (j4, 30 min). 2026: up to March; j3 is cancelled.
    assert first == {
        "year": 2025,
        "total_activities": 1,
        "total_hours": 0.5,
        "monthly_breakdown": [{"month": m, "count": int(m == 12)} for m in range(1, 13)],
        "peak_month": 12,
        "zero_activity_months": 11,
    }
    assert current == {
        "year": 2026,
        "total_activities": 2,
        "total_hours": 1.8,
        "monthly_breakdown": [
            {"month": 1, "count": 0},
            {"month": 2, "count": 0},
            {"month": 3, "count": 2},
        ],
        "peak_month": 3,
        "zero_activity_months": 2,
    }


@pytest.fixture
async def oslo_client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database.url, timezone="Europe/Oslo"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oslo") as client:
        yield client
    await app.state.database.dispose()


async def test_timezone_setting_moves_day_and_year_boundaries(
    client: httpx.AsyncClient, oslo_client: httpx.AsyncClient, database: Database
) -> None:
    await record(database, *LEDGER)
    url = f"{BASE}/mentor_b2c91a/contribution-history"
    # j4, 23:30Z on 31 December 2025, is 00:30 on 1 January 2026 in Oslo.
    utc_years = [(y["year"], y["total_activities"]) for y in (await client.get(url)).json()["data"]]
    oslo = (await oslo_client.get(url)).json()["data"]
    assert utc_years == [(2025, 1), (2026, 2)]
    assert [(y["year"], y["total_activities"]) for y in oslo] == [(2026, 3)]
    assert oslo[0]["monthly_breakdown"][0] == {"month": 1, "count": 1}
