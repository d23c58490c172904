"""Counting resolver calls, so a test can prove a refused operation never reached execution.

graphql-core's `Executor.execute_field` runs every resolver, for `/graphql` (Strawberry) and for
the REST layer (graph/executor.py) alike; tests that assert zero calls also assert more than
zero for an accepted operation, so the counter is known to work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from graphql.execution.executor import Executor

from api.app import create_app
from api.settings import Settings
from models.database import Database
from tests.tokens import with_auth_if_production


class Calls:
    """The fields resolved since counting started, as `Type.field`."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def __len__(self) -> int:
        return len(self.fields)


def count_resolvers(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Record every field execution until the test ends."""
    calls = Calls()
    execute_field = Executor.execute_field

    def counted(self: Executor[Any], parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        calls.fields.append(f"{parent_type.name}.{args[1][0].node.name.value}")
        return execute_field(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(Executor, "execute_field", counted)
    return calls


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST `query` to /graphql; the answer must be HTTP 200 (a GraphQL answer, errors or not)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(body: dict[str, Any], code: str, calls: Calls) -> str:
    """Assert the operation was refused with `code` before any resolver; return the message."""
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code], body
    assert body.get("extensions", {}).get("sqlStatements", 0) == 0
    assert calls.fields == []
    message: str = body["errors"][0]["message"]
    return message


def accepted(body: dict[str, Any], calls: Calls) -> None:
    """Assert the operation ran: no errors, and resolvers were called."""
    assert "errors" not in body, body["errors"]
    assert len(calls) > 0


@asynccontextmanager
async def serving(database: Database, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app built with these settings (over the test's fresh database); in
    production, an admin's (tests/tokens.py)."""
    headers = with_auth_if_production(settings)
    app = create_app(Settings(database_url=database.url, expose_sql_count=True, **settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as client:
        client.app = app  # type: ignore[attr-defined]  # for tests that reach into its state
        yield client
    await app.state.database.dispose()
