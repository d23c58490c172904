"""Request-level limits: body size, batching, the timeout, and what production mode hides."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.context import Context
from models.database import Database
from tests.resolver_calls import Calls, serving

LIMIT = 100 * 1024
LIST = "{ mentors(first: 1) { totalCount } }"


def graphql_body(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes."""
    empty = json.dumps({"query": LIST, "variables": {"pad": ""}}).encode()
    return json.dumps({"query": LIST, "variables": {"pad": "x" * (size - len(empty))}}).encode()


def assert_too_large(response: httpx.Response, calls: Calls) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert calls.fields == []


async def test_graphql_body_size(client: httpx.AsyncClient, resolvers: Calls) -> None:
    headers = {"content-type": "application/json"}
    response = await client.post("/graphql", content=graphql_body(LIMIT + 1), headers=headers)
    assert_too_large(response, resolvers)
    accepted = await client.post("/graphql", content=graphql_body(LIMIT), headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert len(resolvers) > 0


async def test_rest_body_size(client: httpx.AsyncClient, resolvers: Calls) -> None:
    body = {"mentor_id": "m1", "reason": "x" * LIMIT}
    assert_too_large(await client.post("/api/v1/pause-records", json=body), resolvers)


async def test_a_chunked_body_is_counted_as_it_streams(
    client: httpx.AsyncClient, resolvers: Calls
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: known only by reading
        yield b'{"query": "' + LIST.encode() + b'", "variables": {"pad": "'
        for _ in range(11):
            yield b"x" * 10_000
        yield b'"}}'

    headers = {"content-type": "application/json"}
    response = await client.post("/graphql", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert_too_large(response, resolvers)


async def test_batching_is_off_by_default(client: httpx.AsyncClient, resolvers: Calls) -> None:
    response = await client.post("/graphql", json=[{"query": LIST}, {"query": LIST}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"
    assert resolvers.fields == []


async def test_batching_when_enabled(database: Database, resolvers: Calls) -> None:
    async with serving(database, graphql_batching=True, graphql_max_batch_operations=2) as client:
        create = 'mutation { createMentor(input: {id: "b1", name: "B"}) { id } }'
        read = '{ mentor(id: "b1") { name } }'
        too_many = await client.post("/graphql", json=[{"query": read}] * 3)
        assert too_many.status_code == 400
        assert too_many.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS"
        assert resolvers.fields == []
        # In order, one after the other: the read sees the mutation's commit.
        answers = (await client.post("/graphql", json=[{"query": create}, {"query": read}])).json()
        assert [answer["data"] for answer in answers] == [
            {"createMentor": {"id": "b1"}},
            {"mentor": {"name": "B"}},
        ]


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    read = Context.read

    async def slow(self: Context, statement: Any) -> Any:
        await asyncio.sleep(5)
        return await read(self, statement)

    monkeypatch.setattr(Context, "read", slow)


@pytest.mark.usefixtures("slow_reads")
async def test_timeout(database: Database) -> None:
    async with serving(database, request_timeout_seconds=0.2) as client:
        started = time.monotonic()
        body = (await client.post("/graphql", json={"query": LIST})).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert "0.2 s" in body["errors"][0]["message"]
        rest = await client.get("/api/v1/mentor-statuses")
        assert rest.status_code == 503
        assert rest.headers["content-type"] == "application/problem+json"
        assert rest.json()["code"] == "TIMEOUT"
        assert time.monotonic() - started < 3


async def test_a_timed_out_mutation_is_rolled_back(database: Database) -> None:
    async with serving(database, request_timeout_seconds=0.2) as client:
        broker = client.app.state.broker  # type: ignore[attr-defined]
        before_commit = broker.before_commit

        async def stalled(*args: Any) -> None:  # the write is flushed, not yet committed
            await asyncio.sleep(5)
            await before_commit(*args)

        broker.before_commit = stalled
        create = 'mutation { createMentor(input: {id: "late", name: "L"}) { id } }'
        body = (await client.post("/graphql", json={"query": create})).json()
        assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
        broker.before_commit = before_commit
    # Read back under the default deadline: after a cancelled transaction the next request may
    # first replace the connection, which a 0.2 s deadline would not always leave room for.
    async with serving(database) as client:
        found = await client.post("/graphql", json={"query": '{ mentor(id: "late") { id } }'})
        assert found.json()["data"] == {"mentor": None}, found.json()


@pytest.fixture
async def production(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database, environment="production") as client:
        yield client


async def test_production_refuses_introspection(
    production: httpx.AsyncClient, resolvers: Calls
) -> None:
    query = "{ __schema { queryType { name } } }"
    body = (await production.post("/graphql", json={"query": query})).json()
    assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert body["data"] is None
    assert resolvers.fields == []
    typename = (await production.post("/graphql", json={"query": "{ __typename }"})).json()
    assert typename["data"] == {"__typename": "Query"}


async def test_production_serves_no_graphiql_or_docs(production: httpx.AsyncClient) -> None:
    page = await production.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await production.get("/docs")).status_code == 404


@pytest.mark.parametrize(
    "query", ["{ mentorz { id } }", "{ mentorStatuses(status: pausd) { totalCount } }"]
)
async def test_production_gives_no_suggestions(
    production: httpx.AsyncClient, client: httpx.AsyncClient, query: str
) -> None:
    development = (await client.post("/graphql", json={"query": query})).json()
    assert "Did you mean" in development["errors"][0]["message"]
    body = (await production.post("/graphql", json={"query": query})).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_production_masks_unexpected_errors(
    production: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: Context, statement: Any) -> Any:
        raise RuntimeError("SELECT secret_column FROM mentor")

    monkeypatch.setattr(Context, "read", broken)
    with caplog.at_level(logging.ERROR):
        response = await production.post("/graphql", json={"query": LIST})
        rest = await production.get("/api/v1/mentor-statuses")
    assert "secret" not in response.text
    assert "secret" not in rest.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    assert rest.status_code == 500
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert "secret_column" in str(logged[0].exc_info[1])  # type: ignore[index]
