"""Every REST route and every GraphQL root field, for every kind of caller: allowed (a success,
and a mentor's answer holds only their own rows) or refused with the exact status and code.

The expectations are written out here, independently of graph/access.py: a route or a root
field with no row in these tables fails `test_every_route_has_a_case` /
`test_every_root_field_has_a_case`, so nothing new is served without a decided policy.

Each case runs on rows of its own (a fresh mentor, made by an admin through the API), so every
allowed write really succeeds.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.rest.table import ROUTES
from api.settings import Settings
from auth.principal import Role
from auth.tokens import mint_token
from graph.access import RULES, install_policy
from graph.context import Context
from graph.schema import build_schema
from tests.conftest import empty_data_tables

SECRET = "access-table-test-secret-0123456789abcdef"
CALLERS = ("anonymous", "self", "other", "coordinator", "admin")
STAFF = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})
MENTORS_AND_STAFF = frozenset({"self", "other", "coordinator", "admin"})
SELF_AND_STAFF = frozenset({"self", "coordinator", "admin"})
OTHER_MENTOR = "mentor-other"  # a mentor who exists, and is never the case's subject
_serial = itertools.count()
# One app and one event loop for the module: ~200 cases would otherwise build ~200 apps.
in_module_loop = pytest.mark.asyncio(loop_scope="module")


# --- the app, once for the module ---------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secured_app(module_database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url=module_database_url, auth_jwt_secret=SECRET))
    if app.state.database.dialect == "postgresql":
        async with app.state.database.engine.begin() as connection:
            await empty_data_tables(connection)
    async with app.router.lifespan_context(app):
        yield app
    await app.state.database.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(secured_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=secured_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        api = Api(client)
        await api.graphql(
            "admin",
            "mutation($input: CreateMentorInput!) { createMentor(input: $input) { id } }",
            input={"id": OTHER_MENTOR, "name": "The other mentor"},
        )
        yield api


def token_for(caller: str, subject: str) -> dict[str, str]:
    """The Authorization header of `caller` ("self" is the mentor `subject`)."""
    if caller == "anonymous":
        return {}
    role, sub = {
        "self": (Role.MENTOR, subject),
        "other": (Role.MENTOR, OTHER_MENTOR),
        "coordinator": (Role.COORDINATOR, "coordinator-007"),
        "admin": (Role.ADMIN, "admin-001"),
    }[caller]
    return {"Authorization": f"Bearer {mint_token(SECRET, role=role, subject=sub)}"}


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def graphql(
        self, caller: str, query: str, subject: str = "", **variables: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=token_for(caller, subject),
        )
        body: dict[str, Any] = response.json()
        if caller == "admin":
            assert "errors" not in body, body
        return body

    async def rest(
        self, caller: str, method: str, path: str, subject: str, **kw: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=token_for(caller, subject), **kw)


# --- what a case needs: a fresh mentor and, by need, its records --------------------------------


@dataclass
class Subject:
    mentor_id: str
    ids: dict[str, str] = field(default_factory=dict)  # "pause", "event", "milestone", "activity"


async def make_subject(api: Api, needs: frozenset[str]) -> Subject:
    subject = Subject(f"mentor-case-{next(_serial):03d}")
    m = subject.mentor_id
    await api.graphql(
        "admin",
        "mutation($input: CreateMentorInput!) { createMentor(input: $input) { id } }",
        input={"id": m, "name": f"Case {m}"},
    )
    admin = {"caller": "admin", "subject": m}
    if "pause" in needs:
        response = await api.rest(
            **admin, method="POST", path="/api/v1/pause-records", json={"mentor_id": m}
        )
        assert response.status_code == 201, response.text
        subject.ids["pause"] = response.json()["pause_record_id"]
    if "event" in needs:
        event = {
            "mentor_id": m,
            "event_type": "ResumeMentorEvent",
            "client_timestamp": "2026-01-01T00:00:00Z",
        }
        response = await api.rest(
            **admin, method="POST", path="/api/v1/mentor-status-sync/events", json=event
        )
        assert response.is_success, response.text
        subject.ids["event"] = response.json()["sync_event_id"]
    if "milestone" in needs:
        response = await api.rest(
            **admin, method="POST", path="/api/v1/milestones", json=_detection(m)
        )
        assert response.is_success, response.text
        found = await api.rest(**admin, method="GET", path=f"/api/v1/milestones?mentor_id={m}")
        subject.ids["milestone"] = found.json()["data"][0]["id"]
    if "activity" in needs:
        body = await api.graphql("admin", RECORD_ACTIVITY, input=_activity(m, f"act-{m}"))
        subject.ids["activity"] = body["data"]["recordActivity"]["id"]
    return subject


def _detection(mentor_id: str) -> dict[str, Any]:
    summary = {"total_hours": 120, "unique_contacts_helped": 30, "activity_count": 60}
    return {"mentor_id": mentor_id, "period": {"year": 2026}, "summary": summary}


def _activity(mentor_id: str, activity_id: str) -> dict[str, Any]:
    return {
        "id": activity_id,
        "mentorId": mentor_id,
        "activityTypeId": "act_type_001",
        "contactId": "contact_1",
        "startedAt": "2026-03-01T10:00:00Z",
        "durationMinutes": 60,
        "status": "completed",
    }


RECORD_ACTIVITY = (
    "mutation($input: RecordActivityInput!) { recordActivity(input: $input) { id mentorId } }"
)


def _owners(value: Any) -> Iterator[str]:
    """Every mentor id an answer names (REST's snake_case and GraphQL's camelCase)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"mentor_id", "mentorId"} and isinstance(item, str):
                yield item
            yield from _owners(item)
    elif isinstance(value, list):
        for item in value:
            yield from _owners(item)


def assert_only_own_rows(caller: str, subject: Subject, answer: Any) -> None:
    """A mentor's answer never names another mentor."""
    own = {"self": subject.mentor_id, "other": OTHER_MENTOR}.get(caller)
    if own is not None:
        assert set(_owners(answer)) <= {own}, answer


# --- REST ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestCase:
    allowed: frozenset[str]
    needs: frozenset[str] = frozenset()
    query: Callable[[Subject], str] = lambda _: ""
    body: Callable[[Subject], Any] | None = None


def _filtered(s: Subject) -> str:
    return f"?mentor_id={s.mentor_id}"


NEEDS_PAUSE = frozenset({"pause"})
NEEDS_EVENT = frozenset({"event"})
NEEDS_MILESTONE = frozenset({"milestone"})
REST_CASES: dict[tuple[str, str], RestCase] = {
    # mentor statuses
    ("GET", "/api/v1/mentor-statuses"): RestCase(MENTORS_AND_STAFF),
    ("GET", "/api/v1/mentor-statuses/{mentor_id}"): RestCase(SELF_AND_STAFF),
    ("POST", "/api/v1/mentor-statuses"): RestCase(
        STAFF, body=lambda s: {"mentor_id": f"{s.mentor_id}-new", "status": "active"}
    ),
    ("PUT", "/api/v1/mentor-statuses/{mentor_id}"): RestCase(
        STAFF, body=lambda _: {"status": "inactive"}
    ),
    ("DELETE", "/api/v1/mentor-statuses/{mentor_id}"): RestCase(ADMIN),
    # pause records
    ("GET", "/api/v1/pause-records"): RestCase(SELF_AND_STAFF, NEEDS_PAUSE, query=_filtered),
    ("GET", "/api/v1/pause-records/{id}"): RestCase(SELF_AND_STAFF, NEEDS_PAUSE),
    ("POST", "/api/v1/pause-records"): RestCase(STAFF, body=lambda s: {"mentor_id": s.mentor_id}),
    ("PUT", "/api/v1/pause-records/{id}"): RestCase(
        STAFF, NEEDS_PAUSE, body=lambda _: {"reason": "relocation"}
    ),
    ("DELETE", "/api/v1/pause-records/{id}"): RestCase(ADMIN, NEEDS_PAUSE),
    # status sync
    ("GET", "/api/v1/mentor-status-sync"): RestCase(SELF_AND_STAFF, NEEDS_EVENT, query=_filtered),
    ("GET", "/api/v1/mentor-status-sync/{mentor_id}"): RestCase(SELF_AND_STAFF, NEEDS_EVENT),
    ("POST", "/api/v1/mentor-status-sync/events"): RestCase(
        SELF_AND_STAFF,
        body=lambda s: {
            "mentor_id": s.mentor_id,
            "event_type": "PauseMentorEvent",
            "client_timestamp": "2026-06-01T00:00:00Z",
        },
    ),
    ("PUT", "/api/v1/mentor-status-sync/events/{id}"): RestCase(
        SELF_AND_STAFF, NEEDS_EVENT, body=lambda _: {"acknowledged": True}
    ),
    ("DELETE", "/api/v1/mentor-status-sync/events/{id}"): RestCase(ADMIN, NEEDS_EVENT),
    # milestones
    ("GET", "/api/v1/milestones"): RestCase(SELF_AND_STAFF, NEEDS_MILESTONE, query=_filtered),
    ("GET", "/api/v1/milestones/{id}"): RestCase(SELF_AND_STAFF, NEEDS_MILESTONE),
    ("POST", "/api/v1/milestones"): RestCase(ADMIN, body=lambda s: _detection(s.mentor_id)),
    ("PUT", "/api/v1/milestones/{id}"): RestCase(
        ADMIN, NEEDS_MILESTONE, body=lambda _: {"status": "achieved", "achieved_value": 150}
    ),
    ("DELETE", "/api/v1/milestones/{id}"): RestCase(ADMIN, NEEDS_MILESTONE),
    ("GET", "/api/v1/milestones/{mentor_id}/new"): RestCase(SELF_AND_STAFF, NEEDS_MILESTONE),
    ("GET", "/api/v1/milestones/{mentor_id}/in-progress"): RestCase(SELF_AND_STAFF),
    # personal stats
    ("GET", "/api/v1/personal-stats/{mentor_id}"): RestCase(SELF_AND_STAFF),
    ("GET", "/api/v1/personal-stats/{mentor_id}/monthly-series"): RestCase(SELF_AND_STAFF),
    ("GET", "/api/v1/personal-stats/{mentor_id}/activity-breakdown"): RestCase(SELF_AND_STAFF),
    ("GET", "/api/v1/personal-stats/{mentor_id}/contribution-history"): RestCase(SELF_AND_STAFF),
}


def test_every_route_has_a_case() -> None:
    assert {(route.method, route.path) for route in ROUTES} == set(REST_CASES)


def _record_id(path: str, subject: Subject) -> str:
    for prefix, need in (
        ("pause-records", "pause"),
        ("events", "event"),
        ("milestones", "milestone"),
    ):
        if f"/{prefix}/{{id}}" in path:
            return subject.ids[need]
    raise AssertionError(f"which record does {path} name?")


@in_module_loop
@pytest.mark.parametrize(("method", "path"), list(REST_CASES))
async def test_rest_route_for_every_caller(api: Api, method: str, path: str) -> None:
    case = REST_CASES[(method, path)]
    route = next(r for r in ROUTES if (r.method, r.path) == (method, path))
    for caller in CALLERS:
        subject = await make_subject(api, case.needs)
        url = path.replace("{mentor_id}", subject.mentor_id)
        if "{id}" in url:
            url = url.replace("{id}", _record_id(path, subject))
        body = case.body(subject) if case.body else None
        response = await api.rest(
            caller, method, url + case.query(subject), subject.mentor_id, json=body
        )
        where = f"{caller}: {method} {url} -> {response.status_code} {response.text[:300]}"
        if caller == "anonymous":
            assert response.status_code == 401, where
            assert response.headers["WWW-Authenticate"] == "Bearer", where
            assert response.json()["code"] == "UNAUTHENTICATED", where
        elif caller in case.allowed:
            assert response.status_code in {route.status, *route.also}, where
            assert_only_own_rows(caller, subject, response.json())
        else:
            assert response.status_code == 403, where
            assert response.json()["code"] == "FORBIDDEN", where


# --- GraphQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldCase:
    allowed: frozenset[str]
    document: str
    variables: Callable[[Subject], dict[str, Any]] = lambda _: {}
    needs: frozenset[str] = frozenset()


def _mentor(s: Subject) -> dict[str, Any]:
    return {"m": s.mentor_id}


PAGE = "totalCount nodes { mentorId }"
FIELD_CASES: dict[str, FieldCase] = {
    "Query.mentor": FieldCase(
        SELF_AND_STAFF,
        "query($m: ID!) { mentor(id: $m) { id status { pendingEvents { mentorId } } } }",
        _mentor,
        NEEDS_EVENT,
    ),
    "Query.mentors": FieldCase(
        MENTORS_AND_STAFF, "{ mentors(first: 100) { totalCount nodes { id } } }"
    ),
    "Query.activityTypes": FieldCase(MENTORS_AND_STAFF, "{ activityTypes { totalCount } }"),
    "Query.mentorStatus": FieldCase(
        SELF_AND_STAFF, "query($m: ID!) { mentorStatus(mentorId: $m) { mentorId } }", _mentor
    ),
    "Query.mentorStatuses": FieldCase(
        MENTORS_AND_STAFF, f"{{ mentorStatuses(first: 100) {{ {PAGE} }} }}"
    ),
    "Query.pauseRecord": FieldCase(
        SELF_AND_STAFF,
        "query($id: ID!) { pauseRecord(id: $id) { mentorId } }",
        lambda s: {"id": s.ids["pause"]},
        NEEDS_PAUSE,
    ),
    "Query.pauseRecords": FieldCase(
        SELF_AND_STAFF,
        f"query($m: ID) {{ pauseRecords(mentorId: $m) {{ {PAGE} }} }}",
        _mentor,
        NEEDS_PAUSE,
    ),
    "Query.syncEvent": FieldCase(
        SELF_AND_STAFF,
        "query($id: ID!) { syncEvent(id: $id) { mentorId } }",
        lambda s: {"id": s.ids["event"]},
        NEEDS_EVENT,
    ),
    "Query.syncEvents": FieldCase(
        SELF_AND_STAFF,
        f"query($m: ID) {{ syncEvents(mentorId: $m) {{ {PAGE} }} }}",
        _mentor,
        NEEDS_EVENT,
    ),
    "Query.milestone": FieldCase(
        SELF_AND_STAFF,
        "query($id: ID!) { milestone(id: $id) { mentorId } }",
        lambda s: {"id": s.ids["milestone"]},
        NEEDS_MILESTONE,
    ),
    "Query.milestones": FieldCase(
        SELF_AND_STAFF,
        f"query($m: ID) {{ milestones(mentorId: $m) {{ {PAGE} }} }}",
        _mentor,
        NEEDS_MILESTONE,
    ),
    "Query.newMilestones": FieldCase(
        SELF_AND_STAFF, f"query($m: ID!) {{ newMilestones(mentorId: $m) {{ {PAGE} }} }}", _mentor
    ),
    "Query.milestoneDefinitions": FieldCase(MENTORS_AND_STAFF, "{ milestoneDefinitions { key } }"),
    "Query.activity": FieldCase(
        SELF_AND_STAFF,
        "query($id: ID!) { activity(id: $id) { mentorId } }",
        lambda s: {"id": s.ids["activity"]},
        frozenset({"activity"}),
    ),
    "Query.activities": FieldCase(
        SELF_AND_STAFF,
        f"query($m: ID) {{ activities(mentorId: $m) {{ {PAGE} }} }}",
        _mentor,
        frozenset({"activity"}),
    ),
    "Query.personalStats": FieldCase(
        SELF_AND_STAFF, "query($m: ID!) { personalStats(mentorId: $m) { mentorId } }", _mentor
    ),
    "Query.monthlySeries": FieldCase(
        SELF_AND_STAFF, "query($m: ID!) { monthlySeries(mentorId: $m) { totalCount } }", _mentor
    ),
    "Query.activityBreakdown": FieldCase(
        SELF_AND_STAFF, "query($m: ID!) { activityBreakdown(mentorId: $m) { totalCount } }", _mentor
    ),
    "Query.contributionHistory": FieldCase(
        SELF_AND_STAFF,
        "query($m: ID!) { contributionHistory(mentorId: $m) { totalCount } }",
        _mentor,
    ),
    "Query.auditEvents": FieldCase(ADMIN, "{ auditEvents(first: 5) { totalCount } }"),
    "Mutation.createMentor": FieldCase(
        ADMIN,
        'mutation($m: ID!) { createMentor(input: {id: $m, name: "New"}) { id } }',
        lambda s: {"m": s.mentor_id + "-new"},
    ),
    "Mutation.createMentorStatus": FieldCase(
        STAFF,
        "mutation($m: ID!) { createMentorStatus(input: {mentorId: $m, status: active}) { mentorId } }",
        lambda s: {"m": s.mentor_id + "-new"},
    ),
    "Mutation.updateMentorStatus": FieldCase(
        STAFF,
        "mutation($m: ID!) { updateMentorStatus(mentorId: $m, input: {status: inactive}) { mentorId } }",
        _mentor,
    ),
    "Mutation.deleteMentorStatus": FieldCase(
        ADMIN, "mutation($m: ID!) { deleteMentorStatus(mentorId: $m) { deleted } }", _mentor
    ),
    "Mutation.createPauseRecord": FieldCase(
        STAFF,
        "mutation($m: ID!) { createPauseRecord(input: {mentorId: $m}) { mentorId } }",
        _mentor,
    ),
    "Mutation.updatePauseRecord": FieldCase(
        STAFF,
        'mutation($id: ID!) { updatePauseRecord(id: $id, input: {reason: "relocation"}) { mentorId } }',
        lambda s: {"id": s.ids["pause"]},
        NEEDS_PAUSE,
    ),
    "Mutation.deletePauseRecord": FieldCase(
        ADMIN,
        "mutation($id: ID!) { deletePauseRecord(id: $id) { deleted } }",
        lambda s: {"id": s.ids["pause"]},
        NEEDS_PAUSE,
    ),
    "Mutation.submitStatusEvent": FieldCase(
        SELF_AND_STAFF,
        'mutation($m: ID!) { submitStatusEvent(input: {mentorId: $m, eventType: PauseMentorEvent, clientTimestamp: "2026-06-01T00:00:00Z"}) { mentorId } }',
        _mentor,
    ),
    "Mutation.updateSyncEvent": FieldCase(
        SELF_AND_STAFF,
        "mutation($id: ID!) { updateSyncEvent(id: $id, input: {acknowledged: true}) { mentorId } }",
        lambda s: {"id": s.ids["event"]},
        NEEDS_EVENT,
    ),
    "Mutation.deleteSyncEvent": FieldCase(
        ADMIN,
        "mutation($id: ID!) { deleteSyncEvent(id: $id) { deleted } }",
        lambda s: {"id": s.ids["event"]},
        NEEDS_EVENT,
    ),
    "Mutation.detectMilestones": FieldCase(
        ADMIN,
        "mutation($m: ID!) { detectMilestones(input: {mentorId: $m, period: {year: 2026}, summary: {totalHours: 120, uniqueContactsHelped: 30, activityCount: 60}}) { milestones { mentorId } } }",
        _mentor,
    ),
    "Mutation.updateMilestone": FieldCase(
        ADMIN,
        "mutation($id: ID!) { updateMilestone(id: $id, input: {status: achieved, value: 150}) { mentorId } }",
        lambda s: {"id": s.ids["milestone"]},
        NEEDS_MILESTONE,
    ),
    "Mutation.deleteMilestone": FieldCase(
        ADMIN,
        "mutation($id: ID!) { deleteMilestone(id: $id) { deleted } }",
        lambda s: {"id": s.ids["milestone"]},
        NEEDS_MILESTONE,
    ),
    "Mutation.recordActivity": FieldCase(
        SELF_AND_STAFF,
        RECORD_ACTIVITY,
        lambda s: {"input": _activity(s.mentor_id, f"new-{s.mentor_id}")},
    ),
    "Mutation.recordActivities": FieldCase(
        SELF_AND_STAFF,
        "mutation($input: [RecordActivityInput!]!) { recordActivities(input: $input) { inserted activities { mentorId } } }",
        lambda s: {"input": [_activity(s.mentor_id, f"batch-{s.mentor_id}")]},
    ),
}
SUBSCRIPTION_CASES: dict[str, frozenset[str]] = {
    # With the subject's mentorId: self and staff. Without one (everyone's): staff only, below.
    "Subscription.mentorStatusChanged": SELF_AND_STAFF,
    "Subscription.milestoneAchieved": SELF_AND_STAFF,
}


def test_every_root_field_has_a_case() -> None:
    schema = build_schema()._schema
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    fields = {f"{root.name}.{name}" for root in roots if root for name in root.fields}
    assert fields == set(FIELD_CASES) | set(SUBSCRIPTION_CASES)


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@in_module_loop
@pytest.mark.parametrize("name", list(FIELD_CASES))
async def test_graphql_root_field_for_every_caller(api: Api, name: str) -> None:
    case = FIELD_CASES[name]
    for caller in CALLERS:
        subject = await make_subject(api, case.needs)
        response = await api.client.post(
            "/graphql",
            json={"query": case.document, "variables": case.variables(subject)},
            headers=token_for(caller, subject.mentor_id),
        )
        body = response.json()
        where = f"{caller}: {name} -> {response.status_code} {body}"
        if caller == "anonymous":
            assert response.status_code == 401, where
            assert _codes(body) == ["UNAUTHENTICATED"], where
        elif caller in case.allowed:
            assert response.status_code == 200, where
            assert "errors" not in body, where
            assert_only_own_rows(caller, subject, body["data"])
        else:
            assert _codes(body) == ["FORBIDDEN"], where
            assert body["data"] is None or all(v is None for v in body["data"].values()), where


@in_module_loop
@pytest.mark.parametrize("name", list(SUBSCRIPTION_CASES))
async def test_subscription_for_every_caller(secured_app: FastAPI, api: Api, name: str) -> None:
    """The policy as every transport meets it (the schema); websockets carry the token in
    connection_init (tests/api/test_websocket_auth.py)."""
    field_name = name.removeprefix("Subscription.")
    subject = await make_subject(api, frozenset())
    schema = build_schema()
    for caller in ("self", "other", "coordinator", "admin"):
        for mentor_id in (subject.mentor_id, None):
            allowed = caller in STAFF or (caller == "self" and mentor_id is not None)
            argument = "" if mentor_id is None else f'(mentorId: "{mentor_id}")'
            principal = await _principal(secured_app, caller, subject.mentor_id)
            context = Context(
                database=secured_app.state.database,
                config=secured_app.state.graph_config,
                broker=secured_app.state.broker,
                principal=principal,
            )
            stream = await schema.subscribe(
                f"subscription {{ {field_name}{argument} {{ mentorId }} }}", context_value=context
            )
            assert isinstance(stream, AsyncGenerator)
            try:
                # A refusal is the stream's first result, within milliseconds; an allowed
                # subscription has nothing to say until an event comes.
                first = await asyncio.wait_for(anext(stream), 0.2 if allowed else 5)
            except TimeoutError:
                first = None
            where = f"{caller}, mentorId={mentor_id}: {first}"
            if allowed:
                assert first is None, where
            else:
                assert first is not None, where
                codes = [(e.extensions or {}).get("code") for e in first.errors or []]
                assert codes == ["FORBIDDEN"], where
            await stream.aclose()
            await context.close()


async def _principal(app: FastAPI, caller: str, subject: str) -> Any:
    authenticator = app.state.authenticator
    return await authenticator.principal_for(token_for(caller, subject)["Authorization"])


@in_module_loop
async def test_a_mentors_lists_count_only_their_own_rows(api: Api) -> None:
    subject = await make_subject(api, frozenset({"pause", "event", "milestone", "activity"}))
    staff = await api.graphql("coordinator", "{ mentors { totalCount } }")
    assert staff["data"]["mentors"]["totalCount"] > 2  # the others are there to be hidden
    lists = ["mentors", "mentorStatuses", "pauseRecords", "syncEvents", "milestones", "activities"]
    query = "{ " + " ".join(f"{name} {{ totalCount }}" for name in lists) + " }"
    own = await api.graphql("self", query, subject.mentor_id)
    totals = {name: own["data"][name]["totalCount"] for name in lists}
    milestones = await api.rest(
        "admin", "GET", f"/api/v1/milestones?mentor_id={subject.mentor_id}", ""
    )
    assert totals == {
        "mentors": 1,
        "mentorStatuses": 1,
        "pauseRecords": 1,
        "syncEvents": 1,
        "milestones": milestones.json()["pagination"]["total"],
        "activities": 1,
    }
    rest = await api.rest("self", "GET", "/api/v1/mentor-statuses", subject.mentor_id)
    assert rest.json()["pagination"]["total"] == 1
    assert [row["mentor_id"] for row in rest.json()["data"]] == [subject.mentor_id]


@in_module_loop
async def test_a_list_that_forgets_its_scope_is_refused_not_leaked(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owned-record guard: were a list to show a mentor everyone's rows, the answer is
    FORBIDDEN, at the root or nested under the mentor's own record."""
    subject = await make_subject(api, frozenset())
    monkeypatch.setattr("graph.queries.mentors.visible_mentor", lambda context, mentor_id: None)
    body = await api.graphql("self", "{ mentors(first: 100) { nodes { id } } }", subject.mentor_id)
    assert _codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


def test_a_root_field_without_a_rule_is_not_served() -> None:
    """The schema refuses to build around a field the policy does not name."""
    schema = build_schema()._schema
    rules = {name: rule for name, rule in RULES.items() if name != "Query.mentors"}
    with pytest.raises(RuntimeError, match=r"no access rule for Query\.mentors"):
        install_policy(schema, rules)


@in_module_loop
async def test_development_pages_load_without_a_token_but_run_nothing(api: Api) -> None:
    """GraphiQL and the REST docs hold no data: a browser loads them, then sends its token
    from GraphiQL's headers pane. Everything they run needs one."""
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert (await api.client.get("/docs")).status_code == 200
    assert (await api.client.get("/openapi.json")).status_code == 200
    introspection = await api.client.post(
        "/graphql", json={"query": "{ __schema { queryType { name } } }"}
    )
    assert introspection.status_code == 401
    smuggled = await api.client.get(
        "/graphql", params={"query": "{ mentors { totalCount } }"}, headers={"Accept": "text/html"}
    )
    assert smuggled.status_code == 401
    assert (await api.client.get("/no/such/path")).status_code == 401  # routes are not revealed
