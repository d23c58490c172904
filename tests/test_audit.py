"""The audit trail (graph/audit.py): every successful write leaves its rows (who, what, when, the
request id) in its own transaction, a failed one none; admins page it with `auditEvents`.

One app for the module, with bearer tokens: each test writes as subjects of its own, so its rows
are told apart by `actor` on a database the module's tests share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import column, insert, table

from api.app import create_app
from api.settings import Settings
from auth.principal import Role
from auth.tokens import mint_token
from graph.schema import build_schema
from models.database import Database
from tests.conftest import POSTGRES_URL, empty_data_tables

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "audit-trail-test-secret-of-enough-length"
EVENTS = """query Audit($actor: String, $entityId: ID, $first: Int, $after: String) {
  auditEvents(actor: $actor, entityId: $entityId, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id actor role action entityType entityId at requestId }
  }
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(module_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    url = module_database_url
    if url == POSTGRES_URL:
        database = Database(url)
        async with database.engine.begin() as connection:
            await empty_data_tables(connection)
        await database.dispose()
    app = create_app(Settings(database_url=url, auth_jwt_secret=SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.database.dispose()


@dataclass
class Caller:
    """Requests as one subject with one role."""

    client: httpx.AsyncClient
    subject: str
    role: Role = Role.ADMIN

    @property
    def headers(self) -> dict[str, str]:
        token = mint_token(SECRET, role=self.role, subject=self.subject)
        return {"Authorization": f"Bearer {token}"}

    async def rest(self, method: str, path: str, **options: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers, **options)

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.graphql(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


async def audit(client: httpx.AsyncClient, **filters: Any) -> dict[str, Any]:
    """The `auditEvents` connection, read by an admin who writes nothing."""
    reader = Caller(client, "audit-reader")
    connection: dict[str, Any] = (await reader.data(EVENTS, **filters))["auditEvents"]
    return connection


def what(node: dict[str, Any]) -> tuple[str, str, str]:
    return node["action"], node["entityType"], node["entityId"]


CREATE_MENTOR = 'mutation($id: ID!) { createMentor(input: {id: $id, name: "M"}) { id } }'


async def test_a_rest_write_and_a_graphql_mutation_each_leave_their_row(
    api: httpx.AsyncClient,
) -> None:
    admin, coordinator = Caller(api, "admin-001"), Caller(api, "coord-007", Role.COORDINATOR)
    before = datetime.now(UTC).replace(microsecond=0)
    await admin.data(CREATE_MENTOR, id="audit-rest")
    created = await coordinator.rest(
        "POST", "/api/v1/pause-records", json={"mentor_id": "audit-rest", "reason": "relocation"}
    )
    assert created.status_code == 201, created.text
    record_id = created.json()["pause_record_id"]
    closed = await coordinator.rest(
        "PUT", f"/api/v1/pause-records/{record_id}", json={"is_active": False}
    )
    assert closed.status_code == 200, closed.text
    after = datetime.now(UTC)

    [mentor] = (await audit(api, actor="admin-001"))["nodes"]
    assert {k: mentor[k] for k in ("actor", "role")} == {"actor": "admin-001", "role": "admin"}
    assert what(mentor) == ("createMentor", "Mentor", "audit-rest")
    # Newest first: the PUT, then the POST; each request its own id.
    update, create = (await audit(api, actor="coord-007"))["nodes"]
    assert what(create) == ("createPauseRecord", "PauseRecord", record_id)
    assert what(update) == ("updatePauseRecord", "PauseRecord", record_id)
    for node in (mentor, create, update):
        assert before <= datetime.fromisoformat(node["at"]) <= after
        assert node["requestId"]
    assert create["actor"] == update["actor"] == "coord-007"
    assert create["role"] == update["role"] == "coordinator"
    assert len({mentor["requestId"], create["requestId"], update["requestId"]}) == 3


async def test_a_failed_write_leaves_no_row(api: httpx.AsyncClient) -> None:
    writer = Caller(api, "failing-writer")
    await writer.data(CREATE_MENTOR, id="audit-fail")
    paused = {"mentor_id": "audit-fail", "reason": "personal_leave"}
    assert (await writer.rest("POST", "/api/v1/pause-records", json=paused)).status_code == 201
    # Already paused (409), an unknown mentor (404), input out of range (422), a GraphQL error.
    again = await writer.rest("POST", "/api/v1/pause-records", json=paused)
    assert again.status_code == 409, again.text
    unknown = {"mentor_id": "audit-nobody", "reason": "personal_leave"}
    assert (await writer.rest("POST", "/api/v1/pause-records", json=unknown)).status_code == 404
    bad = await writer.rest("POST", "/api/v1/pause-records", json={**paused, "reason": "x" * 501})
    assert bad.status_code == 422, bad.text
    body = await writer.graphql(CREATE_MENTOR, id="audit-fail")  # exists: CONFLICT
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"

    events = await audit(api, actor="failing-writer")
    assert [what(node)[:2] for node in events["nodes"]] == [
        ("createPauseRecord", "PauseRecord"),
        ("createMentor", "Mentor"),
    ]
    assert events["totalCount"] == 2


async def test_a_write_whose_audit_row_fails_is_rolled_back(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Caller(api, "unaudited-writer")
    await writer.data(CREATE_MENTOR, id="audit-tx")
    # The audit insert now targets a table that does not exist: the statement fails.
    missing = table("no_audit_table", *(column(name) for name in ("actor", "role")))
    monkeypatch.setattr("graph.audit.insert_audit_events", lambda: insert(missing))
    paused = {"mentor_id": "audit-tx", "reason": "personal_leave"}
    failed = await writer.rest("POST", "/api/v1/pause-records", json=paused)
    assert failed.status_code == 500, failed.text
    monkeypatch.undo()

    status = await writer.rest("GET", "/api/v1/mentor-statuses/audit-tx")
    assert status.json()["status"] == "active"
    listed = await writer.rest("GET", "/api/v1/pause-records?mentor_id=audit-tx")
    assert listed.json()["data"] == []
    assert [what(n) for n in (await audit(api, entityId="audit-tx"))["nodes"]] == [
        ("createMentor", "Mentor", "audit-tx")
    ]


async def test_a_mutation_that_records_nothing_is_refused_and_rolled_back(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard that makes a new mutation without `audited(...)` fail its first test."""
    writer = Caller(api, "forgetful-writer")
    monkeypatch.setattr("graph.mutations.statuses.audited", lambda *_: None)
    body = await writer.graphql(CREATE_MENTOR, id="audit-forgot")
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR", body
    monkeypatch.undo()
    assert (await writer.rest("GET", "/api/v1/mentor-statuses/audit-forgot")).status_code == 404
    assert (await audit(api, actor="forgetful-writer"))["totalCount"] == 0


# --- every mutation field writes its rows -----------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One successful mutation and the rows it must leave: (entity type, ids) from its data."""

    field: str
    document: str
    variables: Callable[[dict[str, Any]], dict[str, Any]]
    entity_type: str
    ids: Callable[[dict[str, Any], dict[str, Any]], list[str]]


M1, M2 = "audit-all-1", "audit-all-2"
NOW = "2026-01-15T10:00:00Z"


def _activity(id: str) -> dict[str, Any]:
    return {
        "id": id,
        "mentorId": M1,
        "activityTypeId": "act_type_001",
        "contactId": "contact_1",
        "startedAt": NOW,
        "durationMinutes": 90,
        "status": "completed",
    }


def _same(key: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    """The ids are one variable's value (a delete, or an id the client chose)."""
    return lambda variables, _: [variables[key]]


def _returned(path: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    """The id is in the mutation's answer: `path` is `field.key`."""
    field, key = path.split(".")
    return lambda _, data: [data[field][key]]


# Each step may use what earlier ones answered (`seen`: field name -> data).
STEPS = [
    Step(
        "createMentor",
        'mutation($id: ID!) { createMentor(input: {id: $id, name: "A"}) { id } }',
        lambda seen: {"id": M1},
        "Mentor",
        _same("id"),
    ),
    Step(
        "createMentorStatus",
        "mutation($m: ID!) { createMentorStatus(input: {mentorId: $m}) { mentorId } }",
        lambda seen: {"m": M2},
        "MentorStatus",
        _returned("createMentorStatus.mentorId"),
    ),
    Step(
        "updateMentorStatus",
        "mutation($m: ID!) { updateMentorStatus(mentorId: $m, input: {status: inactive})"
        " { mentorId } }",
        lambda seen: {"m": M2},
        "MentorStatus",
        _same("m"),
    ),
    Step(
        "deleteMentorStatus",
        "mutation($m: ID!) { deleteMentorStatus(mentorId: $m) { deleted } }",
        lambda seen: {"m": M2},
        "MentorStatus",
        _same("m"),
    ),
    Step(
        "createPauseRecord",
        "mutation($m: ID!) { createPauseRecord(input: {mentorId: $m}) { id } }",
        lambda seen: {"m": M1},
        "PauseRecord",
        _returned("createPauseRecord.id"),
    ),
    Step(
        "updatePauseRecord",
        "mutation($id: ID!) { updatePauseRecord(id: $id, input: {isActive: false}) { id } }",
        lambda seen: {"id": seen["createPauseRecord"]["createPauseRecord"]["id"]},
        "PauseRecord",
        _same("id"),
    ),
    Step(
        "deletePauseRecord",
        "mutation($id: ID!) { deletePauseRecord(id: $id) { deleted } }",
        lambda seen: {"id": seen["createPauseRecord"]["createPauseRecord"]["id"]},
        "PauseRecord",
        _same("id"),
    ),
    Step(
        "submitStatusEvent",
        "mutation($m: ID!, $at: DateTime!) { submitStatusEvent(input: {mentorId: $m,"
        " eventType: PauseMentorEvent, clientTimestamp: $at}) { id } }",
        lambda seen: {"m": M1, "at": datetime.now(UTC).isoformat()},
        "SyncEvent",
        _returned("submitStatusEvent.id"),
    ),
    Step(
        "updateSyncEvent",
        "mutation($id: ID!) { updateSyncEvent(id: $id, input: {acknowledged: true}) { id } }",
        lambda seen: {"id": seen["submitStatusEvent"]["submitStatusEvent"]["id"]},
        "SyncEvent",
        _same("id"),
    ),
    Step(
        "deleteSyncEvent",
        "mutation($id: ID!) { deleteSyncEvent(id: $id) { deleted } }",
        lambda seen: {"id": seen["submitStatusEvent"]["submitStatusEvent"]["id"]},
        "SyncEvent",
        _same("id"),
    ),
    Step(
        "recordActivity",
        "mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id } }",
        lambda seen: {"input": _activity("audit-act-1")},
        "Activity",
        lambda variables, _: [variables["input"]["id"]],
    ),
    Step(
        "recordActivities",
        "mutation($input: [RecordActivityInput!]!) { recordActivities(input: $input)"
        " { inserted } }",
        lambda seen: {"input": [_activity("audit-act-2"), _activity("audit-act-3")]},
        "Activity",
        lambda variables, _: [item["id"] for item in variables["input"]],
    ),
    Step(
        "detectMilestones",
        "mutation($m: ID!) { detectMilestones(input: {mentorId: $m, period: {year: 2026},"
        " summary: {totalHours: 12, uniqueContactsHelped: 3, activityCount: 4}})"
        " { milestones { id } } }",
        lambda seen: {"m": M1},
        "Mentor",
        _same("m"),
    ),
    Step(
        "updateMilestone",
        "mutation($id: ID!) { updateMilestone(id: $id, input: {value: 13}) { id } }",
        lambda seen: {"id": seen["detectMilestones"]["detectMilestones"]["milestones"][0]["id"]},
        "Milestone",
        _same("id"),
    ),
    Step(
        "deleteMilestone",
        "mutation($id: ID!) { deleteMilestone(id: $id) { deleted } }",
        lambda seen: {"id": seen["detectMilestones"]["detectMilestones"]["milestones"][0]["id"]},
        "Milestone",
        _same("id"),
    ),
]


async def test_every_mutation_writes_its_audit_rows(api: httpx.AsyncClient) -> None:
    mutation_type = build_schema()._schema.mutation_type
    assert mutation_type is not None
    missing = sorted(set(mutation_type.fields) - {step.field for step in STEPS})
    assert missing == [], "each mutation needs a Step in tests/test_audit.py STEPS"
    assert len(STEPS) == len(mutation_type.fields)
    writer = Caller(api, "every-mutation")
    seen: dict[str, dict[str, Any]] = {}
    expected: list[tuple[str, str, str]] = []
    for step in STEPS:
        variables = step.variables(seen)
        seen[step.field] = data = await writer.data(step.document, **variables)
        expected += [(step.field, step.entity_type, id) for id in step.ids(variables, data)]
    events = await audit(api, actor="every-mutation", first=100)
    assert [what(node) for node in reversed(events["nodes"])] == expected
    assert {node["action"] for node in events["nodes"]} == {step.field for step in STEPS}
    # One request, one id: a batch's rows share theirs.
    by_action: dict[str, set[str]] = {}
    for node in events["nodes"]:
        by_action.setdefault(node["action"], set()).add(node["requestId"])
    assert all(len(ids) == 1 for ids in by_action.values())
    assert len({ids.pop() for ids in by_action.values()}) == len(STEPS)


async def test_an_empty_batch_changes_nothing_and_writes_no_row(api: httpx.AsyncClient) -> None:
    writer = Caller(api, "empty-batch")
    data = await writer.data(
        "mutation { recordActivities(input: []) { inserted updated unchanged } }"
    )
    assert data["recordActivities"] == {"inserted": 0, "updated": 0, "unchanged": 0}
    assert (await audit(api, actor="empty-batch"))["totalCount"] == 0


# --- reading the trail --------------------------------------------------------------------------


async def test_audit_events_filter_by_actor_and_entity_and_page_newest_first(
    api: httpx.AsyncClient,
) -> None:
    first, second = Caller(api, "pager-1"), Caller(api, "pager-2")
    for n in range(3):
        await first.data(CREATE_MENTOR, id=f"audit-page-{n}")
    await second.data(
        "mutation($m: ID!) { createPauseRecord(input: {mentorId: $m}) { id } }", m="audit-page-0"
    )
    await second.data(
        "mutation($m: ID!) { updateMentorStatus(mentorId: $m, input: {status: inactive})"
        " { mentorId } }",
        m="audit-page-1",
    )

    # By actor, newest first, two a page.
    page = await audit(api, actor="pager-1", first=2)
    assert page["totalCount"] == 3
    assert [n["entityId"] for n in page["nodes"]] == ["audit-page-2", "audit-page-1"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await audit(api, actor="pager-1", first=2, after=page["pageInfo"]["endCursor"])
    assert [n["entityId"] for n in rest["nodes"]] == ["audit-page-0"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["totalCount"] == 3
    # By entity: every actor's rows about it (a status lives under its mentor's id).
    about = await audit(api, entityId="audit-page-1")
    assert [(n["actor"], n["action"]) for n in about["nodes"]] == [
        ("pager-2", "updateMentorStatus"),
        ("pager-1", "createMentor"),
    ]
    assert about["totalCount"] == 2
    # Both filters at once, and a filter nothing matches.
    both = await audit(api, actor="pager-2", entityId="audit-page-1")
    assert [what(n) for n in both["nodes"]] == [
        ("updateMentorStatus", "MentorStatus", "audit-page-1")
    ]
    assert both["totalCount"] == 1
    nobody = await audit(api, actor="pager-9")
    assert (nobody["totalCount"], nobody["nodes"]) == (0, [])
