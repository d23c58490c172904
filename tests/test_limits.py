"""GraphQL operation limits: each refuses with its own code and runs no resolver; the
largest operation each limit allows still runs (tests/resolver_calls.py counts the calls)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.rest.table import ROUTES
from api.settings import Settings
from auth.principal import DEVELOPMENT_ADMIN
from domain.validation import NUL_PROBLEM
from graph.broker import broker_for
from graph.context import Context, GraphConfig
from graph.executor import PreparedOperation
from graph.limits import Limits
from graph.schema import build_schema
from models.database import Database
from tests.resolver_calls import Calls, accepted, post, refused, serving

SAFE = Limits()
MENTOR = "mentor-1"


@pytest.fixture
async def mentor(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/mentor-statuses", json={"mentor_id": MENTOR})
    assert response.status_code == 201, response.text
    return MENTOR


def deep(levels: int) -> str:
    """A query whose deepest field sits `levels` below the root field `mentor`."""
    chain = ["status" if level % 2 else "mentor" for level in range(1, levels)]
    leaf = "mentorId" if chain and chain[-1] == "status" else "id"
    inner = leaf
    for field in reversed(chain):
        inner = f"{field} {{ {inner} }}"
    return f'{{ mentor(id: "{MENTOR}") {{ {inner} }} }}'


async def test_depth(client: httpx.AsyncClient, mentor: str, resolvers: Calls) -> None:
    message = refused(await post(client, deep(SAFE.max_depth + 1)), "QUERY_TOO_DEEP", resolvers)
    assert f"maximum operation depth of {SAFE.max_depth}" in message
    accepted(await post(client, deep(SAFE.max_depth)), resolvers)
    assert len(resolvers) > SAFE.max_depth  # the whole chain resolved


def aliased(count: int) -> str:
    """`count` aliases, all inside a fragment (they count like any other)."""
    fields = " ".join(f"a{n}: id" for n in range(count))
    return f'{{ mentor(id: "{MENTOR}") {{ ...F }} }} fragment F on Mentor {{ {fields} }}'


async def test_aliases(client: httpx.AsyncClient, mentor: str, resolvers: Calls) -> None:
    body = await post(client, aliased(SAFE.max_aliases + 1))
    assert "aliases found. Allowed: 15" in refused(body, "TOO_MANY_ALIASES", resolvers)
    accepted(await post(client, aliased(SAFE.max_aliases)), resolvers)


def tokens(count: int) -> str:
    """A query of exactly `count` tokens: 11 for the query, comments for the rest."""
    return f'{{ mentor(id: "{MENTOR}") {{ id }} }}' + "\n#" * (count - 11)


async def test_tokens(client: httpx.AsyncClient, mentor: str, resolvers: Calls) -> None:
    body = await post(client, tokens(SAFE.max_tokens + 1))
    assert "more than 2000 tokens" in refused(body, "TOO_MANY_TOKENS", resolvers)
    accepted(await post(client, tokens(SAFE.max_tokens)), resolvers)


def root_fields(count: int) -> str:
    """`count` root fields, half of them through a fragment spread."""
    fields = [f'r{n}: mentor(id: "{MENTOR}") {{ id }}' for n in range(count)]
    half = len(fields) // 2
    return (
        f"{{ {' '.join(fields[:half])} ...R }} fragment R on Query {{ {' '.join(fields[half:])} }}"
    )


async def test_root_fields(client: httpx.AsyncClient, mentor: str, resolvers: Calls) -> None:
    body = await post(client, root_fields(SAFE.max_root_fields + 1))
    assert "11 root fields" in refused(body, "TOO_MANY_ROOT_FIELDS", resolvers)
    accepted(await post(client, root_fields(SAFE.max_root_fields)), resolvers)


@pytest.mark.parametrize(
    ("query", "by_variable"),
    [
        ("{ mentors(first: SIZE) { totalCount } }", False),
        ("query($n: Int) { mentors(first: $n) { totalCount } }", True),
        ("query($n: Int = SIZE) { mentors(first: $n) { totalCount } }", False),
        # Nested, even in a fragment: refused before the parent `mentor` resolves.
        (f'{{ mentor(id: "{MENTOR}") {{ pauseRecords(first: SIZE) {{ id }} }} }}', False),
        (
            f'{{ mentor(id: "{MENTOR}") {{ ...P }} }} '
            "fragment P on Mentor { p: pauseRecordsConnection(first: SIZE) { totalCount } }",
            False,
        ),
    ],
    ids=["literal", "variable", "default", "nested", "fragment"],
)
async def test_page_size(
    client: httpx.AsyncClient, mentor: str, resolvers: Calls, query: str, by_variable: bool
) -> None:
    async def ask(size: int) -> dict[str, Any]:
        variables = {"n": size} if by_variable else {}
        return await post(client, query.replace("SIZE", str(size)), **variables)

    body = await ask(101)
    assert refused(body, "BAD_USER_INPUT", resolvers).startswith("first: must be between 0 and 100")
    assert body["errors"][0]["extensions"]["fields"] == {"first": "must be between 0 and 100"}
    accepted(await ask(100), resolvers)


async def test_rest_page_size(client: httpx.AsyncClient, resolvers: Calls) -> None:
    response = await client.get("/api/v1/mentor-statuses?limit=101")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"
    assert resolvers.fields == []
    assert (await client.get("/api/v1/mentor-statuses?limit=100")).status_code == 200
    assert len(resolvers) > 0


def test_limits_are_settings_with_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    defaults = Settings()
    assert defaults.graphql_limits() == Limits()  # build_schema's defaults are the safe ones
    assert defaults.max_body_bytes == 100 * 1024
    assert defaults.graphql_batching is False
    monkeypatch.setenv("GRAPHQL_MAX_DEPTH", "4")
    monkeypatch.setenv("GRAPHQL_MAX_ALIASES", "3")
    monkeypatch.setenv("GRAPHQL_MAX_TOKENS", "50")
    monkeypatch.setenv("GRAPHQL_MAX_ROOT_FIELDS", "2")
    monkeypatch.setenv("REQUEST_TIMEOUT_SECONDS", "0.5")
    assert Settings().graphql_limits() == Limits(
        max_depth=4, max_aliases=3, max_tokens=50, max_root_fields=2, timeout_seconds=0.5
    )


async def test_a_configured_limit_is_the_one_enforced(database: Database, resolvers: Calls) -> None:
    async with serving(database, graphql_max_depth=2, graphql_max_root_fields=1) as client:
        refused(await post(client, deep(3)), "QUERY_TOO_DEEP", resolvers)
        refused(await post(client, root_fields(2)), "TOO_MANY_ROOT_FIELDS", resolvers)
        accepted(await post(client, deep(2)), resolvers)


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ('{ mentor(id: "a\\u0000b") { id } }', {}, "query"),
        ("query($id: ID!) { mentor(id: $id) { id } }", {"id": "a\x00b"}, "id"),
        (
            "mutation($input: UpdateMentorStatusInput!) { updateMentorStatus("
            'mentorId: "m", input: $input) { mentorId } }',
            {"input": {"metadata": {"note": "a JSON value may hold \x00"}, "pauseReason": "\x00"}},
            "input.pauseReason",
        ),
    ],
    ids=["literal", "variable", "nested"],
)
async def test_nul_characters(
    client: httpx.AsyncClient, resolvers: Calls, query: str, variables: Any, field: str
) -> None:
    body = await post(client, query, **variables)
    assert "must not contain the NUL character" in refused(body, "BAD_USER_INPUT", resolvers)
    assert list(body["errors"][0]["extensions"]["fields"]) == [field]


async def test_rest_nul_characters(client: httpx.AsyncClient, resolvers: Calls) -> None:
    """The contracts declare it (so /openapi.json says it): refused before any resolver."""
    path = await client.get("/api/v1/pause-records/a%00b")
    body = await client.post("/api/v1/pause-records", json={"mentor_id": "m", "reason": "\x00"})
    assert [r.status_code for r in (path, body)] == [422, 422]
    assert [r.json()["errors"][0]["field"] for r in (path, body)] == ["id", "reason"]
    assert resolvers.fields == []


async def test_the_rest_layer_refuses_nul_a_contract_let_through(
    database: Database, resolvers: Calls
) -> None:
    """A contract without the pattern is still safe: the prepared operation checks too."""
    route = next(r for r in ROUTES if r.method == "PUT" and r.path.endswith("pause-records/{id}"))
    operation = PreparedOperation(build_schema(), route.operation)
    context = Context(
        database=database,
        config=GraphConfig(),
        broker=broker_for(database.url),
        principal=DEVELOPMENT_ADMIN,
    )
    variables = {"id": "p1", "input": {"reason": "a\x00b"}}
    outcome = await operation.run(context, variables)
    await context.close()
    assert outcome.data is None
    assert [(e.extensions or {}).get("fields") for e in outcome.errors] == [
        {"input.reason": NUL_PROBLEM}
    ]
    assert resolvers.fields == []


async def test_json_values_may_hold_nul(client: httpx.AsyncClient, mentor: str) -> None:
    """Free-form JSON is stored as JSON text, where U+0000 is an escape like any other."""
    metadata = {"note": "a\x00b", "a\x00": 1}
    url = f"/api/v1/mentor-statuses/{mentor}"
    assert (await client.put(url, json={"metadata": metadata})).status_code == 200
    assert (await client.get(url)).json()["metadata"] == metadata
