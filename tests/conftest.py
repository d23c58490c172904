"""A fresh database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL names one) and
an httpx client on the app in process."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings
from models.database import Database
from models.migrate import migrate
from tests.resolver_calls import Calls, count_resolvers

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
# Rows the migrations seed (activity types, milestone catalogue) survive between tests.
DATA_TABLES = (
    "audit_events",
    "activity",
    "sync_event",
    "idempotency_record",
    "milestone",
    "pause_record",
    "mentor_status",
    "mentor",
)


async def _prepare_postgres(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await migrate(database)
    finally:
        await database.dispose()


async def _migrate_file(url: str) -> None:
    database = Database(url)
    try:
        await migrate(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Migrate once per run: a SQLite file to copy, or the PostgreSQL schema itself."""
    if POSTGRES_URL:
        try:
            asyncio.run(_prepare_postgres(POSTGRES_URL))
        except OSError as error:  # fail loudly: a PostgreSQL run must never pass by skipping
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}", 2)
        return None
    template = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate_file(f"sqlite+aiosqlite:///{template}"))
    return template


@pytest.fixture(scope="module")
def module_database_url(
    migrated_template: Path | None, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """One database for a whole module (its tests share one app): a copy of the migrated
    SQLite file, or the PostgreSQL test database the session migrated."""
    if migrated_template is None:
        return POSTGRES_URL
    copy = tmp_path_factory.mktemp("module") / "module.db"
    shutil.copy(migrated_template, copy)
    return f"sqlite+aiosqlite:///{copy}"


@pytest.fixture
def database_url(migrated_template: Path | None, tmp_path: Path) -> Iterator[str]:
    if migrated_template is None:
        yield POSTGRES_URL
        return
    copy = tmp_path / "test.db"
    shutil.copy(migrated_template, copy)
    yield f"sqlite+aiosqlite:///{copy}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if database.dialect == "postgresql":
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, expose_sql_count=True)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class GraphQL:
    """Posts operations to /graphql and returns the parsed answer."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of an operation that must succeed."""
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def resolvers(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Every field resolved during the test (tests/resolver_calls.py)."""
    return count_resolvers(monkeypatch)
