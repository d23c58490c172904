"""Health checks, OpenAPI and the command line."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from api.cli import cli
from api.rest.table import ROUTES
from graph.schema import export_sdl
from tests.aiosqlite_threads import settle_aiosqlite_threads


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    from api.app import create_app
    from api.settings import Settings

    missing = tmp_path / "no-such-dir" / "x.db"
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{missing}"))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/readyz")
    finally:
        await app.state.database.dispose()
        await settle_aiosqlite_threads()  # the failed connects' threads, before the loop closes
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "retry-after" in response.headers


async def test_openapi_documents_bodies_and_problems(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    put = spec["paths"]["/api/v1/mentor-statuses/{mentor_id}"]["put"]
    body_schema = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_schema.endswith("/StatusFieldsBody")
    assert {"200", "404", "409", "412", "422"} <= set(put["responses"])
    listed = spec["paths"]["/api/v1/pause-records"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"page", "limit", "mentor_id", "is_active"}
    documented = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path.startswith("/api/")
    ]
    assert sorted(documented) == sorted((route.method, route.path) for route in ROUTES)


def test_cli_migrates_and_exports_the_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    migrated = runner.invoke(cli, ["migrate", "--database-url", url])
    assert migrated.exit_code == 0, migrated.output
    assert (tmp_path / "cli.db").exists()

    exported = runner.invoke(cli, ["export-schema", str(tmp_path / "schema.graphql")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "schema.graphql").read_text() == export_sdl()
