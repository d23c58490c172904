"""The query cost budget (graph/cost.py): the rule, the refusals (no resolver, no SQL), the
documents that must pass (REST routes, a screen query, introspection), and the deadline proof:
the costliest operations the budget admits, on a database where every list is full, finish well
inside REQUEST_TIMEOUT_SECONDS. `python -m tests.test_cost` prints README's cost table."""

from __future__ import annotations

import asyncio
import json
import re
import time
import tracemalloc
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_introspection_query,
    get_named_type,
    graphql_sync,
    parse,
)
from sqlalchemy import insert
from strawberry.types.execution import PreExecutionError

from api.app import create_app
from api.rest.table import ROUTES
from api.settings import Settings
from graph.cost import LIST_SIZES, QUERY_TOO_COSTLY, SIZED_BY_ARGUMENT, operation_cost
from graph.limits import Limits
from graph.pagination import MAX_PAGE_SIZE
from graph.schema import build_schema
from models.activities import Activity
from models.database import Database, begin_write
from models.mentors import Mentor
from models.milestones import Milestone, MilestoneDefinition
from models.statuses import MentorStatus, PauseRecord
from tests.live import running_server
from tests.resolver_calls import Calls, accepted, post, refused, serving

SAFE = Limits()
SCHEMA = build_schema()._schema
README = Path(__file__).resolve().parents[1] / "README.md"


def cost(query: str, operation_name: str | None = None, **variables: Any) -> int:
    return operation_cost(SCHEMA, parse(query), operation_name, variables)


# --- the rule ---------------------------------------------------------------------------------


def test_scalars_cost_nothing_objects_one_lists_their_page() -> None:
    assert cost('{ mentor(id: "m") { id name createdAt } }') == 1
    assert cost('{ mentor(id: "m") { status { mentorId } } }') == 2
    # A plain list: 1 + first * (1 + selection).
    assert cost('{ mentor(id: "m") { pauseRecords(first: 7) { id } } }') == 1 + 1 + 7
    assert cost('{ mentor(id: "m") { pauseRecords(first: 7) { mentor { id } } } }') == 2 + 7 * 2
    # A connection's `first` sizes its `nodes` and `edges`, not `totalCount` or `pageInfo`.
    connection = "{ mentors(first: 7) { totalCount pageInfo { hasNextPage } nodes { id } } }"
    assert cost(connection) == 1 + 1 + (1 + 7)
    assert cost("{ mentors(first: 7) { edges { cursor node { id } } } }") == 1 + 1 + 7 * (1 + 1)
    # Without `first`: the argument's declared default (20; 100 for pending sync events).
    assert cost("{ mentors { nodes { id } } }") == 2 + 20
    assert cost('{ mentorStatus(mentorId: "m") { pendingEvents { id } } }') == 2 + 100
    # Lists without `first` have a declared bound: a mentor's milestones are one per entry.
    assert (
        cost('{ mentor(id: "m") { milestones { id } } }') == 2 + LIST_SIZES["Mentor", "milestones"]
    )


def test_variables_defaults_fragments_and_operation_names() -> None:
    query = "query Q($n: Int = 9) { mentors(first: $n) { nodes { id } } }"
    assert cost(query) == 2 + 9
    assert cost(query, n=3) == 2 + 3
    assert cost(query, n=None) == 2 + 20  # null: the field's own default, as Window does
    assert cost(query, n=3.0) == 2 + 3  # GraphQL's Int accepts an integral JSON float
    spread = (
        "{ mentors(first: 5) { nodes { ...M ...M ... on Mentor { status { mentorId } } } } }"
        " fragment M on Mentor { status { mentorId } }"
    )
    assert cost(spread) == 2 + 5 * (1 + 3 * 1)  # each spread counts
    two = "query A { mentors(first: 2) { nodes { id } } } query B { mentors(first: 50) { nodes { id } } }"
    assert (cost(two, "A"), cost(two, "B")) == (2 + 2, 2 + 50)
    batch = "mutation($input: [RecordActivityInput!]!) { recordActivities(input: $input) { activities { id } } }"
    assert cost(batch, input=[{}] * 30) == 1 + 1 + 30  # the payload holds one per input


def test_fragments_spread_into_fragments_are_costed_once() -> None:
    """30 fragments each spreading the next twice: 2^30 spreads, costed in a blink (memoised)."""
    fragments = " ".join(
        f"fragment F{n} on Mentor {{ ...F{n + 1} ...F{n + 1} }}" for n in range(30)
    )
    query = f'{{ mentor(id: "m") {{ ...F0 }} }} {fragments} fragment F30 on Mentor {{ status {{ mentorId }} }}'
    started = time.perf_counter()
    assert cost(query) == 1 + 2**30
    assert time.perf_counter() - started < 0.5


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


def _object_types() -> list[GraphQLObjectType]:
    return [
        t
        for t in SCHEMA.type_map.values()
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
    ]


def _paged_results() -> set[str]:
    """Types some field returns as one object sized by its `first` (or batch argument), and
    only such fields return: their lists take that size."""
    paged: set[str] = set()
    unpaged: set[str] = set()
    for type_ in _object_types():
        for name, field in type_.fields.items():
            if not _is_list(field.type):
                sized = "first" in field.args or (type_.name, name) in SIZED_BY_ARGUMENT
                (paged if sized else unpaged).add(get_named_type(field.type).name)
    return paged - unpaged


def test_every_list_in_the_schema_has_a_bound() -> None:
    """A new list field must say what bounds it, or the budget would price it as a guess."""
    paged, unbounded = _paged_results(), []
    for type_ in _object_types():
        for name, field in type_.fields.items():
            if not _is_list(field.type) or "first" in field.args:
                continue
            if (type_.name, name) not in LIST_SIZES and type_.name not in paged:
                unbounded.append(f"{type_.name}.{name}")
    assert unbounded == []


def test_introspection_is_costed_by_the_schema_itself() -> None:
    """The full query GraphiQL and client tools send passes; re-walking the schema does not."""
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert cost(get_introspection_query()) == cost(full) < SAFE.max_cost
    # What it answers: at least one per object of the real answer (lists and nulls count too).
    answer = graphql_sync(SCHEMA, full).data

    def objects(value: object) -> int:
        if isinstance(value, dict):
            return 1 + sum(objects(v) for v in value.values())
        if isinstance(value, list):
            return sum(objects(v) for v in value)
        return 0

    assert objects(answer) - 1 <= cost(full) <= 2 * objects(answer)
    # Walking the schema again multiplies as the answer would (graphql-core's own
    # MaxIntrospectionDepthRule refuses deeper walks at validation); costing stays quick.
    walk = "fields { type { ofType { NEXT } } }"
    twice = "{ __schema { types { " + walk.replace("NEXT", walk.replace("NEXT", "name")) + " } } }"
    thrice = "{ __schema { types { " + walk.replace("NEXT", walk.replace("NEXT", walk)) + " } } }"
    started = time.perf_counter()
    assert cost(thrice.replace("NEXT", "name")) > cost(twice) > cost(full)
    assert time.perf_counter() - started < 0.5
    mentor = SCHEMA.type_map["Mentor"]
    assert isinstance(mentor, GraphQLObjectType)
    assert cost('{ __type(name: "Mentor") { fields { name } } }') == 2 + len(mentor.fields)


# --- the documents that must pass, and README's table ------------------------------------------

NESTED_3 = (  # the issue's 230-byte probe, three levels of 100
    "{ pauseRecords(first: 100) { nodes { mentor { pauseRecords(first: 100) { mentor {"
    " pauseRecords(first: 100) { mentor { id name status { status } } } } } } } } }"
)
NESTED_2 = (
    "{ pauseRecords(first: 100) { nodes { mentor { pauseRecords(first: 100) { id mentor {"
    " id } } } } } }"
)
SCREEN = """query Screen {
  mentors(first: 50) {
    totalCount
    nodes {
      id name
      status { status isPaused pauseReason expectedReturnDate lastUpdated }
      pauseRecords(first: 5) { id startDate endDate reason isActive }
      milestones { id name type status value threshold remaining progressPercentage }
      personalStats { totalHoursLogged totalActivities completionRate streakDays peerRankPercentile }
    }
  }
}"""


def _readme_operations() -> list[tuple[str, str | None, str]]:
    """README "Using it"'s GraphQL examples: (label, operation name, document)."""
    section = README.read_text().split("## Using it", 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", section, re.S):
        names = re.findall(r"^(query|mutation|subscription) (\w+)", block, re.M)
        if names:
            found += [(f"README `{kind} {name}`", name, block) for kind, name in names]
        else:
            found.append((f"README `{block.split('(', 1)[0].strip()} … }}`", None, block))
    return found


def cost_table() -> str:
    """README's table of computed costs, from the code (a test asserts README holds it)."""
    rows = ["| operation | cost |", "|---|---|"]
    for route in ROUTES:
        paged = route.paginated and route.query is not None  # a mutation's list is not paged
        variables = {"first": MAX_PAGE_SIZE} if paged else {}
        page = " (`limit=100`)" if paged else ""
        value = operation_cost(SCHEMA, parse(route.operation), None, variables)
        rows.append(f"| `{route.method} {route.path}`{page} | {value:,} |")
    for label, name, document in _readme_operations():
        rows.append(f"| {label} | {cost(document, name):,} |")
    rows.append(f"| the screen query below (50 mentors) | {cost(SCREEN):,} |")
    rows.append(
        f"| full introspection (`get_introspection_query()`) | {cost(get_introspection_query()):,} |"
    )
    rows.append(f"| the issue's probe: 2 nested pages of 100 | {cost(NESTED_2):,} |")
    rows.append(f"| the issue's probe: 3 nested pages of 100 | {cost(NESTED_3):,} |")
    rows.append(f"| **`GRAPHQL_MAX_COST`** (default) | **{SAFE.max_cost:,}** |")
    return "\n".join(rows)


def test_readme_lists_the_cost_of_every_rest_route_and_example() -> None:
    assert cost_table() in README.read_text(), "README is stale; run python -m tests.test_cost"
    assert SCREEN in README.read_text()


def test_the_budget_admits_every_rest_document_the_screen_and_not_the_nestings() -> None:
    for route in ROUTES:
        variables = {"first": MAX_PAGE_SIZE} if route.paginated else {}
        assert operation_cost(SCHEMA, parse(route.operation), None, variables) <= SAFE.max_cost
    for _, name, document in _readme_operations():
        assert cost(document, name) <= SAFE.max_cost
    assert cost(SCREEN) <= SAFE.max_cost
    assert cost(NESTED_2) > SAFE.max_cost
    assert cost(NESTED_3) > SAFE.max_cost


# --- refusals over every transport ----------------------------------------------------------------


async def test_the_issues_probe_is_refused_before_any_resolver_or_sql(
    client: httpx.AsyncClient, resolvers: Calls
) -> None:
    assert len(NESTED_3.encode()) <= 230
    for query in (NESTED_3, NESTED_2):
        body = await post(client, query)
        message = refused(body, QUERY_TOO_COSTLY, resolvers)  # no resolver, sqlStatements 0
        assert "sqlStatements" in body["extensions"]  # counted (EXPOSE_SQL_COUNT), and zero
        extensions = body["errors"][0]["extensions"]
        assert extensions == {
            "code": QUERY_TOO_COSTLY,
            "cost": cost(query),
            "maxCost": SAFE.max_cost,
        }
        assert f"at most {SAFE.max_cost:,}" in message


async def test_pages_given_as_json_floats_are_counted_as_the_ints_they_become(
    client: httpx.AsyncClient, resolvers: Calls
) -> None:
    query = (
        "query($n: Int) { pauseRecords(first: $n) { nodes { mentor {"
        " pauseRecords(first: $n) { id } } } } }"
    )
    refused(await post(client, query, n=100.0), QUERY_TOO_COSTLY, resolvers)


async def test_a_costly_mutation_writes_nothing(
    client: httpx.AsyncClient, resolvers: Calls
) -> None:
    mutation = (
        'mutation { createMentorStatus(input: { mentorId: "m1" }) { mentor {'
        " pauseRecords(first: 100) { mentor { pauseRecords(first: 100) { id } } } } } }"
    )
    refused(await post(client, mutation), QUERY_TOO_COSTLY, resolvers)
    assert (await client.get("/api/v1/mentor-statuses/m1")).status_code == 404


async def test_accepted_operations_report_their_cost(
    client: httpx.AsyncClient, database: Database, resolvers: Calls
) -> None:
    body = await post(client, SCREEN)
    accepted(body, resolvers)
    assert body["extensions"]["cost"] == cost(SCREEN)
    app = create_app(Settings(database_url=database.url, expose_sql_count=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as quiet:
        assert "cost" not in (await post(quiet, SCREEN)).get("extensions", {})
    await app.state.database.dispose()


async def test_introspection_passes_where_it_is_on(database: Database) -> None:
    async with serving(database) as client:
        body = await post(client, get_introspection_query(input_value_deprecation=True))
        assert "errors" not in body
        assert body["data"]["__schema"]["types"]
    async with serving(database, environment="production") as client:
        body = await post(client, get_introspection_query())
        assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"


async def test_a_configured_budget_is_the_one_enforced_on_rest_too(
    database: Database, resolvers: Calls
) -> None:
    async with serving(database, graphql_max_cost=10) as client:
        response = await client.get("/api/v1/mentor-statuses?limit=100")
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == QUERY_TOO_COSTLY
        assert "costs 102" in problem["detail"]
        assert resolvers.fields == []
        assert (await client.get("/api/v1/mentor-statuses?limit=5")).status_code == 200
        assert len(resolvers) > 0
        refused(
            await post(client, "{ mentors(first: 9) { nodes { id } } }"), QUERY_TOO_COSTLY, Calls()
        )


def test_the_budget_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().graphql_limits().max_cost == SAFE.max_cost == 6_000
    monkeypatch.setenv("GRAPHQL_MAX_COST", "77")
    assert Settings().graphql_limits().max_cost == 77


async def test_subscriptions_are_costed_in_strawberrys_subscribe_path(resolvers: Calls) -> None:
    """The check is a validation error: `Schema.subscribe`/`stream` stop on it as `execute`
    does, so no subscription resolver (nor any source) ever starts."""
    query = (
        "subscription { mentorStatusChanged { mentor { pauseRecords(first: 100) {"
        " mentor { pauseRecords(first: 100) { id } } } } } }"
    )
    stream = await build_schema().subscribe(query)
    assert isinstance(stream, AsyncGenerator)
    results = [result async for result in stream]  # ends by itself: nothing was subscribed
    assert len(results) == 1
    assert isinstance(results[0], PreExecutionError)
    assert [e.extensions for e in results[0].errors or []] == [
        {"code": QUERY_TOO_COSTLY, "cost": cost(query), "maxCost": SAFE.max_cost}
    ]
    assert resolvers.fields == []


async def test_a_costly_subscription_over_a_real_websocket_gets_an_error(database_url: str) -> None:
    query = (
        "subscription { mentorStatusChanged { mentor { pauseRecords(first: 100) {"
        " mentor { pauseRecords(first: 100) { id } } } } } }"
    )
    with running_server(database_url) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            message = {"id": "1", "type": "subscribe", "payload": {"query": query}}
            await socket.send(json.dumps(message))
            async with asyncio.timeout(10):
                answer = json.loads(await socket.recv())
    assert answer["type"] == "error", answer
    assert answer["payload"][0]["extensions"]["code"] == QUERY_TOO_COSTLY


# --- the deadline: the worst accepted operations, on full lists ---------------------------------

MENTORS = 120
PAUSES_PER_MENTOR = 100
ACTIVITIES_PER_MENTOR = 40


async def seed_full(database: Database) -> None:
    """Every list full: 120 mentors, each with a status, 100 pause records (one open), one
    milestone per catalogue entry, and activities across 40 years and every activity type."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    ids = [f"mentor-{n:03}" for n in range(MENTORS)]
    async with database.sessions() as session:
        await begin_write(session)
        definitions = (await session.execute(MilestoneDefinition.__table__.select())).all()  # type: ignore[attr-defined]
        await session.execute(insert(Mentor), [{"id": i, "name": f"Mentor {i}"} for i in ids])
        await session.execute(
            insert(MentorStatus),
            [
                {
                    "mentor_id": i,
                    "status": "paused",
                    "extra": {},
                    "pause_start_date": now,
                    "version": "v",
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(PauseRecord),
            [
                {
                    "id": f"{i}-p{n:03}",
                    "mentor_id": i,
                    "start_date": now - timedelta(days=10 * n + 10),
                    "end_date": None if n == 0 else now - timedelta(days=10 * n + 5),
                    "is_active": n == 0,
                    "reason": "personal_leave",
                    "created_at": now,
                    "version": "v",
                }
                for i in ids
                for n in range(PAUSES_PER_MENTOR)
            ],
        )
        await session.execute(
            insert(Milestone),
            [
                {
                    "id": f"{d.key}:{i}",
                    "mentor_id": i,
                    "definition_key": d.key,
                    "status": "in_progress",
                    "value": 1.0,
                    "created_at": now,
                    "updated_at": now,
                    "version": "v",
                }
                for i in ids
                for d in definitions
            ],
        )
        await session.execute(
            insert(Activity),
            [
                {
                    "id": f"{i}-a{n:03}",
                    "mentor_id": i,
                    "activity_type_id": f"act_type_00{n % 5 + 1}",
                    "contact_id": f"contact-{n % 7}",
                    "started_at": now - timedelta(days=365 * n // 1 + n),
                    "duration_minutes": 60,
                    "status": "completed",
                }
                for i in ids
                for n in range(ACTIVITIES_PER_MENTOR)
            ],
        )
        from domain.ledger import refresh_running_totals

        await refresh_running_totals(session, ids)
        await session.commit()


def largest(template: Callable[[int], str]) -> tuple[str, int]:
    """The document `template(n)` for the largest n (≤ 100) the default budget admits."""
    low, high = 0, MAX_PAGE_SIZE
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if cost(template(middle)) <= SAFE.max_cost else (low, middle - 1)
    return template(low), low


WORST: dict[str, Callable[[int], str]] = {
    # Pause records of mentors of pause records, every field, nested page as large as allowed.
    "pause nesting": lambda n: (
        "{ pauseRecords(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor"
        " node { id mentorId startDate endDate isActive reason createdAt etag mentor { id name"
        " status { status isPaused lastUpdated etag metadata } pauseRecordsConnection(first: "
        f"{n}) {{ totalCount nodes {{ id startDate endDate reason etag mentor {{ id name }} }} }}"
        " } } } } }"
    ),
    # Computed lists over a 10-year period (the widest range a period may span, issue 10 item 2):
    # a mentor page of monthly series with totals, breakdowns and milestones.
    "stats": lambda n: (
        "{ mentors(first: 100) { nodes { id milestones { id name status value remaining"
        " progressPercentage accessibilityLabel } activityBreakdown(period: all_time) {"
        ' activityTypeName count totalHours } monthlySeriesConnection(startDate: "2016-03-01",'
        f' endDate: "2026-02-28", first: {n}) {{ totalCount nodes {{ monthLabel totalActivities'
        " totalHours } } } } }"
    ),
    # The most figures per object the alias limit allows: 15 periods of personal stats.
    "aliased stats": lambda n: (
        "{ mentors(first: 100) { nodes { id "
        + " ".join(
            f'p{k}: personalStats(startDate: "{2016 - k // 4}-0{k % 4 + 3}-01",'
            f' endDate: "{2026 - k // 4}-02-28") {{ totalHoursLogged completionRate streakDays'
            " peerRankPercentile mostActiveWeekday mostCommonActivityType }"
            for k in range(min(n, SAFE.max_aliases))
        )
        + " } } }"
    ),
    "history": lambda n: (
        "{ mentors(first: 100) { nodes { id personalStats(period: all_time) { totalHoursLogged"
        " streakDays peerRankPercentile } contributionHistory(first: "
        f"{n}) {{ year totalHours monthlyBreakdown {{ month count }} }} }} }} }}"
    ),
    "introspection": lambda n: get_introspection_query(input_value_deprecation=True),
}


async def test_the_worst_accepted_operation_finishes_well_inside_the_deadline(
    database: Database,
) -> None:
    """Every shape of WORST on one full database (seeding it is most of this test's time)."""
    await seed_full(database)
    # Half the deadline: over 4x the idle figures (README), for a machine shared with
    # other work; the point is that nothing the budget admits comes near the deadline.
    budget = SAFE.timeout_seconds / 2
    async with serving(database) as client:
        await post(client, "{ mentors(first: 1) { totalCount } }")  # warm: connections, caches
        for shape, build in WORST.items():
            query, page = largest(build)
            started = time.perf_counter()
            body = await post(client, query)
            elapsed = time.perf_counter() - started
            assert "errors" not in body, (shape, body["errors"][:2])
            tracemalloc.start()
            await post(client, query)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            spent = body["extensions"]["cost"]
            print(f"{shape}: n={page} cost={spent} {elapsed:.2f}s peak={peak / 2**20:.0f} MiB")
            assert spent <= SAFE.max_cost
            assert elapsed < budget, f"{shape} took {elapsed:.2f} s (cost {spent})"
            assert peak < 256 * 2**20, shape
            if shape == "pause nesting":  # the lists really were full
                edges = body["data"]["pauseRecords"]["edges"]
                assert len(edges) == 100
                assert all(
                    len(e["node"]["mentor"]["pauseRecordsConnection"]["nodes"]) == page
                    for e in edges
                )
                assert spent > 0.9 * SAFE.max_cost


if __name__ == "__main__":
    print(cost_table())
