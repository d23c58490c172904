"""Issue 10, "Poisoned rows": nothing a client sends is stored unless it can be read back, reads
survive the rows older versions stored, bodies that cannot be decoded are 400s, ranges are bounded.

Every probe runs on both transports (REST and /graphql), on SQLite and on PostgreSQL
(TEST_DATABASE_URL). Old rows are planted with raw SQL, as an older version could have left them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from domain.periods import MAX_PERIOD_YEARS
from domain.validation import MAX_METADATA_BYTES, MAX_METADATA_DEPTH
from models.database import Database
from tests.conftest import GraphQL
from tests.factories import make_mentor

JSON_HEADERS = {"content-type": "application/json"}
SURROGATE = "\ud800"
SURROGATE_PROBLEM_WORD = "surrogate"
SUMMARY = {
    "mentor_id": "m1",
    "period": {"year": 2025},
    "summary": {"total_hours": 10, "unique_contacts_helped": 1, "activity_count": 1},
}
DETECT = """
mutation($input: MilestoneSummaryInput!) { detectMilestones(input: $input) { count } }"""
CREATE_STATUS = """
mutation($input: CreateMentorStatusInput!) { createMentorStatus(input: $input) { metadata } }"""
UPDATE_STATUS = """
mutation($id: ID!, $input: UpdateMentorStatusInput!) {
  updateMentorStatus(mentorId: $id, input: $input) { metadata }
}"""
LIST_STATUSES = "{ mentorStatuses(first: 100) { totalCount nodes { mentorId metadata } } }"
LIST_MILESTONES = """{ milestones(first: 100) {
  totalCount nodes { id value remaining progressPercentage accessibilityLabel }
} }"""


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def raw_json(value: Any) -> bytes:
    """JSON as a client may send it: lone surrogates escaped, NaN and Infinity as tokens."""
    return json.dumps(value, allow_nan=True).encode()


def assert_bad_input(body: dict[str, Any], field: str) -> str:
    """The one error is BAD_USER_INPUT naming `field`; returns what it says is wrong."""
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    fields: dict[str, str] = error["extensions"]["fields"]
    assert field in fields, fields
    return fields[field]


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in {error["field"] for error in response.json()["errors"]}, response.text


async def graphql_raw(client: httpx.AsyncClient, body: bytes) -> dict[str, Any]:
    response = await client.post("/graphql", content=body, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def milestone_total(gql: GraphQL) -> int:
    total: int = (await gql.data(LIST_MILESTONES))["milestones"]["totalCount"]
    return total


# --- figures: finite and within the domain's range, one bound for both transports ------------


async def test_graphql_summary_hours_are_capped_like_rest(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="m1")
    figures = {"totalHours": 1.7e308, "uniqueContactsHelped": 1, "activityCount": 1}
    graphql = {"mentorId": "m1", "period": {"year": 2025}, "summary": figures}
    problem = assert_bad_input(await gql(DETECT, input=graphql), "summary.total_hours")
    assert "1,000,000,000" in problem  # the bound REST's model declares (domain.validation)
    huge = {
        **SUMMARY,
        "summary": {"total_hours": 1.7e308, "unique_contacts_helped": 1, "activity_count": 1},
    }
    assert_problem(await client.post("/api/v1/milestones", json=huge), 422, "summary.total_hours")
    assert await milestone_total(gql) == 0  # nothing stored by either
    # ... and the list that broke (cannot convert float NaN to integer) answers.
    listed = await client.get("/api/v1/milestones?limit=100")
    assert listed.status_code == 200, listed.text


async def test_a_corrected_value_is_capped_on_both_transports(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="m1")
    await gql.data(
        DETECT,
        input={
            "mentorId": "m1",
            "period": {"year": 2025},
            "summary": {"totalHours": 10, "uniqueContactsHelped": 1, "activityCount": 1},
        },
    )
    update = 'mutation($v: Float) { updateMilestone(id: "milestone_10h:m1", input: {value: $v}) { value } }'
    assert_bad_input(await gql(update, v=1e300), "achieved_value")
    response = await client.put(
        "/api/v1/milestones/milestone_10h:m1", json={"achieved_value": 1e300}
    )
    assert_problem(response, 422, "achieved_value")
    moment = 'mutation { updateMilestone(id: "milestone_10h:m1", input: {achievedAt: "0001-01-01T00:00:00Z"}) { id } }'
    assert_bad_input(await gql(moment), "achieved_at")


# --- metadata: a JSON object of bounded depth and size, finite numbers, real text ------------

BAD_METADATA = [
    pytest.param({"s": SURROGATE}, "metadata.s", id="lone-surrogate"),
    pytest.param({SURROGATE: 1}, "metadata", id="lone-surrogate-key"),
    pytest.param({"n": float("nan")}, "metadata.n", id="nan"),
    pytest.param({"i": float("inf")}, "metadata.i", id="infinity"),
    pytest.param({"deep": [nested(300)]}, "metadata", id="nested-300"),
    pytest.param(nested(MAX_METADATA_DEPTH + 1), "metadata", id="one-level-too-deep"),
    pytest.param({"big": "x" * MAX_METADATA_BYTES}, "metadata", id="too-large"),
]


@pytest.mark.parametrize(("metadata", "field"), BAD_METADATA)
async def test_unstorable_metadata_is_refused_on_rest(
    client: httpx.AsyncClient, gql: GraphQL, metadata: dict[str, Any], field: str
) -> None:
    body = raw_json({"mentor_id": "m1", "metadata": metadata})
    response = await client.post("/api/v1/mentor-statuses", content=body, headers=JSON_HEADERS)
    assert_problem(response, 422, "metadata")
    assert field in response.text  # named to the key that is wrong
    assert (await client.get("/api/v1/mentor-statuses/m1")).status_code == 404  # not stored
    assert (await client.get("/api/v1/mentor-statuses")).status_code == 200


@pytest.mark.parametrize(("metadata", "field"), BAD_METADATA)
async def test_unstorable_metadata_is_refused_on_graphql(
    client: httpx.AsyncClient, gql: GraphQL, metadata: dict[str, Any], field: str
) -> None:
    request = {
        "query": CREATE_STATUS,
        "variables": {"input": {"mentorId": "m1", "metadata": metadata}},
    }
    body = await graphql_raw(client, raw_json(request))
    # A surrogate is refused before execution (input.metadata...), the rest by the domain.
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert any(name.removeprefix("input.") == field for name in error["extensions"]["fields"])
    assert (await gql.data(LIST_STATUSES))["mentorStatuses"]["totalCount"] == 0


async def test_non_finite_numbers_are_never_stored_as_null(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    """NaN, Infinity and 1e309 (which decodes to Infinity) were stored as null."""
    await make_mentor(database, id="m1")
    body = b'{"metadata": {"n": NaN, "i": Infinity, "e": 1e309}}'
    response = await client.put("/api/v1/mentor-statuses/m1", content=body, headers=JSON_HEADERS)
    assert_problem(response, 422, "metadata")
    literal = 'mutation { updateMentorStatus(mentorId: "m1", input: {metadata: {e: 1e309}}) { metadata } }'
    assert_bad_input(await gql(literal), "metadata.e")
    assert (await client.get("/api/v1/mentor-statuses/m1")).json()["metadata"] == {}


async def test_storable_metadata_round_trips_at_its_bounds(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="m1")
    deepest = nested(MAX_METADATA_DEPTH)
    deepest["nul"] = "a\x00b"  # stored as JSON text, where a NUL is an escape
    deepest["emoji"] = "\U0001f600"  # a surrogate *pair* in JSON is one real character
    response = await client.put(
        "/api/v1/mentor-statuses/m1", content=raw_json({"metadata": deepest}), headers=JSON_HEADERS
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/api/v1/mentor-statuses/m1")).json()["metadata"] == deepest
    data = await gql.data(UPDATE_STATUS, id="m1", input={"metadata": deepest})
    assert data["updateMentorStatus"]["metadata"] == deepest


# --- strings: Unicode scalar values, and never echoed into an answer that cannot be encoded --

SURROGATE_VARIABLES = [
    pytest.param("query($id: ID!) { mentor(id: $id) { id } }", {"id": SURROGATE}, "id", id="id"),
    pytest.param(
        "query($s: MentorStatusValue) { mentorStatuses(status: $s) { totalCount } }",
        {"s": SURROGATE},
        "s",
        id="enum",
    ),
    pytest.param(
        CREATE_STATUS,
        {"input": {"mentorId": "m1", "pauseReason": "a" + SURROGATE}},
        "input.pauseReason",
        id="text",
    ),
    pytest.param(CREATE_STATUS, {"input": {"mentorId": "m1", SURROGATE: 1}}, "input", id="key"),
    pytest.param(LIST_STATUSES, {SURROGATE: 1}, "variables", id="undeclared-variable"),
]


@pytest.mark.parametrize(("query", "variables", "field"), SURROGATE_VARIABLES)
async def test_lone_surrogates_in_variables_are_bad_input(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], field: str
) -> None:
    body = await graphql_raw(client, raw_json({"query": query, "variables": variables}))
    assert SURROGATE_PROBLEM_WORD in assert_bad_input(body, field)


async def test_lone_surrogates_in_rest_text_and_names(client: httpx.AsyncClient) -> None:
    body = raw_json({"mentor_id": "m1", "reason": SURROGATE})
    assert_problem(
        await client.post("/api/v1/pause-records", content=body, headers=JSON_HEADERS),
        422,
        "reason",
    )
    named = raw_json({"query": LIST_STATUSES, "operationName": SURROGATE})
    response = await client.post("/graphql", content=named, headers=JSON_HEADERS)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- bodies that cannot be decoded: 400, coded ------------------------------------------------

UNDECODABLE = [
    pytest.param(b'{"mentor_id": "m1", "reason": "\xff"}', id="invalid-utf8"),
    pytest.param(b'{"mentor_id": "m1", "reason": ', id="truncated-json"),
    pytest.param(b'{"mentor_id": "m1", "x": ' + b"[" * 40_000 + b"]" * 40_000 + b"}", id="deep"),
    pytest.param(b'{"mentor_id": "m1", "x": ' + b"1" * 5_000 + b"}", id="5000-digit-integer"),
]


@pytest.mark.parametrize("body", UNDECODABLE)
async def test_undecodable_rest_bodies_are_400_problems(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/api/v1/pause-records", content=body, headers=JSON_HEADERS)
    assert_problem(response, 400)
    assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("body", UNDECODABLE)
async def test_undecodable_graphql_bodies_are_coded_400s(
    client: httpx.AsyncClient, body: bytes
) -> None:
    query = b'{"query": "{ mentors(first: 1) { totalCount } }", "variables": ' + body + b"}"
    response = await client.post("/graphql", content=query, headers=JSON_HEADERS)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- dates the domain can compute with ----------------------------------------------------------


async def test_a_summary_period_ending_9999_12_31(
    client: httpx.AsyncClient, gql: GraphQL, database: Database
) -> None:
    await make_mentor(database, id="m1")
    period = {"endDate": "9999-12-31"}
    figures = {"totalHours": 1, "uniqueContactsHelped": 1, "activityCount": 1}
    body = await gql(DETECT, input={"mentorId": "m1", "period": period, "summary": figures})
    assert_bad_input(body, "period.end_date")
    far_year = await gql(
        DETECT, input={"mentorId": "m1", "period": {"year": 99999}, "summary": figures}
    )
    assert_bad_input(far_year, "period.year")
    rest = {**SUMMARY, "period": {"end_date": "9999-12-31"}}
    assert_problem(await client.post("/api/v1/milestones", json=rest), 422, "period.end_date")
    last = {**SUMMARY, "period": {"end_date": "9998-12-31"}}  # the last day the contract names
    assert (await client.post("/api/v1/milestones", json=last)).status_code == 200


# --- ranges are bounded (item 2) ----------------------------------------------------------------

SPAN_LIMIT = f"at most {MAX_PERIOD_YEARS} years"
WIDE = {"startDate": "1970-01-01", "endDate": "2999-12-31"}
PERIODS = "startDate: $startDate, endDate: $endDate"
PERIOD_FIELDS = [
    pytest.param(f'personalStats(mentorId: "m1", {PERIODS}) {{ totalActivities }}', id="stats"),
    pytest.param(f'monthlySeries(mentorId: "m1", {PERIODS}) {{ totalCount }}', id="series"),
    pytest.param(f'activityBreakdown(mentorId: "m1", {PERIODS}) {{ totalCount }}', id="breakdown"),
    pytest.param(f'newMilestones(mentorId: "m1", {PERIODS}) {{ totalCount }}', id="new-milestones"),
    pytest.param(
        f'mentor(id: "m1") {{ monthlySeriesConnection({PERIODS}) {{ totalCount }} }}',
        id="mentor-series-connection",
    ),
    pytest.param(
        f'mentor(id: "m1") {{ personalStats({PERIODS}) {{ totalActivities }} }}', id="mentor-stats"
    ),
]


@pytest.mark.parametrize("field", PERIOD_FIELDS)
async def test_period_arguments_are_bounded_on_graphql(
    gql: GraphQL, database: Database, field: str
) -> None:
    await make_mentor(database, id="m1")
    query = f"query($startDate: Date, $endDate: Date) {{ {field} }}"
    assert SPAN_LIMIT in assert_bad_input(await gql(query, **WIDE), "end_date")
    exactly = {"startDate": "2016-01-01", "endDate": "2025-12-31"}  # ten years, 3,653 days
    assert "errors" not in await gql(query, **exactly)
    one_more = {"startDate": "2016-01-01", "endDate": "2026-01-01"}
    assert_bad_input(await gql(query, **one_more), "end_date")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/personal-stats/m1",
        "/api/v1/personal-stats/m1/monthly-series",
        "/api/v1/personal-stats/m1/activity-breakdown",
        "/api/v1/milestones/m1/new",
    ],
)
async def test_period_arguments_are_bounded_on_rest(
    client: httpx.AsyncClient, database: Database, path: str
) -> None:
    await make_mentor(database, id="m1")
    response = await client.get(f"{path}?start_date=1970-01-01&end_date=2999-12-31")
    assert_problem(response, 422, "end_date")
    assert SPAN_LIMIT in response.text
    fits = await client.get(f"{path}?start_date=2016-01-01&end_date=2025-12-31")
    assert fits.status_code == 200, fits.text


# --- reads survive rows older versions stored -------------------------------------------------


async def plant_milestone(database: Database, key: str, value: float) -> None:
    """A milestone row written straight into the table, as an older version could have."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO milestone (id, mentor_id, definition_key, status, value, "
                "achieved_at, created_at, updated_at, version) VALUES "
                "(:id, 'm1', :key, 'in_progress', :value, NULL, :now, :now, 'v1')"
            ),
            {"id": f"{key}:m1", "key": key, "value": value, "now": now},
        )


def bad_figures(database: Database) -> list[float]:
    figures = [1.7e308, float("inf"), -5.0]  # 1.7e308 is what GraphQL accepted before
    if database.dialect == "postgresql":
        figures.append(float("nan"))  # SQLite keeps no NaN (it becomes NULL, refused here)
    return figures


async def test_lists_survive_milestones_with_unreadable_figures(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await make_mentor(database, id="m1")
    keys = ["milestone_100h", "milestone_500h", "milestone_1000h", "milestone_50contacts"]
    figures = bad_figures(database)
    for key, value in zip(keys, figures, strict=False):
        await plant_milestone(database, key, value)
    await plant_milestone(database, "milestone_25activities", 4.0)  # a good row among them
    bad_ids = {f"{key}:m1" for key in keys[: len(figures)]}

    with caplog.at_level(logging.WARNING, logger="mentor_gateway.unreadable"):
        listed = await client.get("/api/v1/milestones?limit=100")
        assert listed.status_code == 200, listed.text
        rows = {row["id"]: row for row in listed.json()["data"]}
        assert set(rows) == bad_ids | {"milestone_25activities:m1"}  # none skipped
        for milestone_id in bad_ids:
            assert rows[milestone_id]["achieved_value"] is None
            assert rows[milestone_id]["progress_percentage"] is None
            assert rows[milestone_id]["accessibility_label"].startswith("You are working towards")
        good = rows["milestone_25activities:m1"]
        assert (good["achieved_value"], good["progress_percentage"]) == (4, 16)

        nodes = (await gql.data(LIST_MILESTONES))["milestones"]["nodes"]
        assert {n["id"] for n in nodes if n["value"] is None} == bad_ids
        assert all(n["remaining"] is None for n in nodes if n["id"] in bad_ids)
        progress = await client.get("/api/v1/milestones/m1/in-progress?limit=100")
        assert progress.status_code == 200, progress.text
        single = await client.get("/api/v1/milestones/milestone_100h:m1")
        assert single.status_code == 200, single.text
        assert single.json()["achieved_value"] is None
    reported = [r for r in caplog.records if r.name == "mentor_gateway.unreadable"]
    assert len(reported) == len(bad_ids)  # once per value, though read four times

    # Detection rewrites what it can compute: the unreadable figure gives way to the summary's.
    detected = await client.post("/api/v1/milestones", json=SUMMARY)
    assert detected.status_code == 200, detected.text


def planted_metadata(database: Database) -> dict[str, str]:
    """mentor id -> metadata text an older version (or a person) could have stored."""
    found = {
        "surrogate": '{"s": "\\ud800"}',
        "array": "[1, 2]",
        "deep": json.dumps(nested(300)),
    }
    if database.dialect == "sqlite":  # PostgreSQL's json type refuses these itself
        found |= {"not-json": "{not json", "nan": '{"n": NaN}'}
    return found


async def plant_metadata(database: Database, mentor_id: str, metadata: str) -> None:
    value = "CAST(CAST(:m AS TEXT) AS JSON)" if database.dialect == "postgresql" else ":m"
    async with database.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE mentor_status SET metadata = {value} WHERE mentor_id = :id"),
            {"m": metadata, "id": mentor_id},
        )


async def test_lists_survive_statuses_with_unreadable_metadata(
    client: httpx.AsyncClient, gql: GraphQL, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    planted = planted_metadata(database)
    await make_mentor(database, id="good")
    for mentor_id, metadata in planted.items():
        await make_mentor(database, id=mentor_id)
        await plant_metadata(database, mentor_id, metadata)

    with caplog.at_level(logging.WARNING, logger="mentor_gateway.unreadable"):
        listed = await client.get("/api/v1/mentor-statuses?limit=100")
        assert listed.status_code == 200, listed.text
        assert listed.json()["pagination"]["total"] == len(planted) + 1
        for mentor_id in planted:
            single = await client.get(f"/api/v1/mentor-statuses/{mentor_id}")
            assert single.status_code == 200, single.text
            assert single.json()["metadata"] is None
            assert single.json()["mentor_id"] == mentor_id
        nodes = (await gql.data(LIST_STATUSES))["mentorStatuses"]["nodes"]
        read = {node["mentorId"]: node["metadata"] for node in nodes}
        assert read == {"good": {}} | dict.fromkeys(planted)
    reported = {r.getMessage() for r in caplog.records if r.name == "mentor_gateway.unreadable"}
    assert len(reported) == len(planted)

    # A write replaces the unreadable value with one that can be read back.
    fixed = await client.put("/api/v1/mentor-statuses/surrogate", json={"metadata": {"s": "ok"}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["metadata"] == {"s": "ok"}
