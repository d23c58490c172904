"""CORS for browser clients on the origins CORS_ORIGINS names (api/headers.py): preflights are
answered before authentication, so they need no token; and the security headers on every
response, whoever answered it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from graph.context import Context
from graph.executor import PreparedOperation
from tests.tokens import TEST_SECRET, bearer

in_module_loop = pytest.mark.asyncio(loop_scope="module")
ALLOWED = "https://app.example.org"
STATUS = "/api/v1/mentor-statuses/mentor-1"
# What is not a page may load nothing, and nothing may frame it.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


async def _client(url: str, **settings: Any) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, auth_jwt_secret=TEST_SECRET, **settings))
    # The error handler's 500 is re-raised after it is sent (for the server to log): not here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return app, httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(module_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Authentication on, one more origin allowed, credentials not."""
    app, client = await _client(module_database_url, cors_origins=f"{ALLOWED}, https://b.example")
    async with client:
        yield client
    await app.state.database.dispose()


def preflight(method: str, origin: str = ALLOWED, headers: str = "") -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    return asked | ({"Access-Control-Request-Headers": headers} if headers else {})


@in_module_loop
@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/graphql", "POST", "authorization, content-type, x-request-id"),
        (STATUS, "PUT", "authorization, content-type, if-match, idempotency-key"),
        (STATUS, "GET", "authorization"),
    ],
)
async def test_a_preflight_is_answered_without_a_token(
    client: httpx.AsyncClient, path: str, method: str, headers: str
) -> None:
    response = await client.options(path, headers=preflight(method, headers=headers))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert method in response.headers["access-control-allow-methods"].split(", ")
    allowed = {
        name.lower() for name in response.headers["access-control-allow-headers"].split(", ")
    }
    assert {name.strip() for name in headers.split(",")} <= allowed
    assert "access-control-allow-credentials" not in response.headers  # not configured
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]


@in_module_loop
async def test_a_disallowed_origin_gets_no_cors_headers(client: httpx.AsyncClient) -> None:
    evil = await client.options(
        "/graphql", headers=preflight("POST", origin="https://evil.example")
    )
    odd_method = await client.options(STATUS, headers=preflight("PATCH"))
    odd_header = await client.options(STATUS, headers=preflight("GET", headers="x-secret"))
    simple = await client.get(STATUS, headers={**bearer(), "Origin": "https://evil.example"})
    for refused in (evil, odd_method, odd_header):
        assert refused.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in simple.headers


@in_module_loop
async def test_a_cross_origin_response_shows_the_script_its_headers(
    client: httpx.AsyncClient,
) -> None:
    found = await client.get(STATUS, headers={**bearer(), "Origin": ALLOWED})
    refused = await client.get(STATUS, headers={"Origin": ALLOWED})  # no token
    for response in (found, refused):
        assert response.headers["access-control-allow-origin"] == ALLOWED
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"etag", "x-request-id", "ratelimit", "ratelimit-policy", "retry-after"} <= exposed
    assert refused.status_code == 401  # and the page's script can read why
    assert "www-authenticate" in exposed


async def test_credentials_are_allowed_only_when_configured(module_database_url: str) -> None:
    app, client = await _client(
        module_database_url, cors_origins=ALLOWED, cors_allow_credentials=True
    )
    async with client:
        response = await client.options("/graphql", headers=preflight("POST"))
    await app.state.database.dispose()
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_without_cors_origins_there_is_no_cors(module_database_url: str) -> None:
    app, client = await _client(module_database_url)  # CORS_ORIGINS unset: the default
    async with client:
        response = await client.options("/graphql", headers=preflight("POST"))
    await app.state.database.dispose()
    assert response.status_code == 401  # an OPTIONS like any other, and it has no token
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_any_origin_with_credentials_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
        cors_origins="*",
        cors_allow_credentials=True,
    )
    with pytest.raises(ValueError, match="CORS_ALLOW_CREDENTIALS"):
        create_app(settings)


@in_module_loop
async def test_every_response_has_the_security_headers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = {
        "ok": await client.get("/healthz"),
        "graphql": await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers=bearer()
        ),
        "rest 404": await client.get(STATUS, headers=bearer()),
        "no token": await client.get(STATUS),
        "no route": await client.get("/nowhere", headers=bearer()),
        "too large": await client.post("/graphql", content=b"x" * 200_000, headers=bearer()),
        "preflight": await client.options("/graphql", headers=preflight("POST")),
    }

    async def broken(self: PreparedOperation, context: Context, variables: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(PreparedOperation, "run", broken)
    responses["500"] = await client.get(STATUS, headers=bearer())  # the app's error handler
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {
        "ok": 200,
        "graphql": 200,
        "rest 404": 404,
        "no token": 401,
        "no route": 404,
        "too large": 413,
        "preflight": 200,
        "500": 500,
    }
    for name, response in responses.items():
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert response.headers["content-security-policy"] == NOT_A_PAGE_POLICY, name
        assert "server" not in response.headers, name
