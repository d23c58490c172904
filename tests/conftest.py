"""A fresh database per test (SQLite file, or PostgreSQL when TEST_DATABASE_URL names one) and
an httpx client on the app in process."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import fastapi.dependencies.models
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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


# FastAPI memoises what kind of callable each dependency and endpoint is in module-level LRU
# caches (4,096 entries each) that hold the callables. Ours are closures over their app, so every
# app a test built stayed alive (~21k objects each): the heap grew through the run, and each full
# garbage collection with it, until late tests spent seconds in setup. Cleared after each test.
_FASTAPI_CALL_CACHES = [
    cached
    for cached in vars(fastapi.dependencies.models).values()
    if callable(getattr(cached, "cache_clear", None))
]


def release_built_apps() -> None:
    for cached in _FASTAPI_CALL_CACHES:
        cached.cache_clear()


@pytest.fixture(autouse=True)
def _release_apps() -> Iterator[None]:
    yield
    release_built_apps()


async def empty_data_tables(
    connection: AsyncConnection, tables: Sequence[str] = DATA_TABLES
) -> None:
    """Delete every row of `tables` (children first). DELETE, not TRUNCATE: on tables holding a
    test's few rows it takes 0.3 ms, TRUNCATE 23 ms (new files for each table and index)."""
    for table in tables:
        await connection.execute(text(f"DELETE FROM {table}"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run leaves out the tests marked `own_databases`: they make their own
    PostgreSQL databases (and SQLite files) whichever run this is, so the SQLite run has run
    them exactly as this one would (and fails if PostgreSQL is unreachable)."""
    if not POSTGRES_URL:
        return
    repeated = [item for item in items if item.get_closest_marker("own_databases")]
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = [item for item in items if not item.get_closest_marker("own_databases")]


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
            await empty_data_tables(connection)
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
