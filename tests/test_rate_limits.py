"""Per-client rate limits: budgets per client, the 429 answers and their headers, the trusted
proxy header, the exempt health checks, the defaults, failing open, and one budget in Redis
across two workers."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import coredis
import httpx
import pytest
import websockets
from pydantic import ValidationError
from starlette.types import Message

import api.ratelimit
from api.app import create_app
from api.settings import Settings
from models.database import Database
from tests.live import free_port, running_server
from tests.resolver_calls import Calls
from tests.tcp_proxy import TcpProxy
from tests.tokens import with_auth_if_production

LIMIT = 3
REST = "/api/v1/mentor-statuses"
TYPENAME = {"query": "{ __typename }"}
REDIS_URL = "redis://127.0.0.1:6379/0"
RATELIMIT = re.compile(r'"default";r=(\d+);t=(\d+)')


@asynccontextmanager
async def clients(
    database: Database, peers: Sequence[str], **settings: Any
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per peer address, all on one app limited to LIMIT requests a minute."""
    settings.setdefault("rate_limit", f"{LIMIT}/minute")
    headers = with_auth_if_production(settings)
    app = create_app(Settings(database_url=database.url, expose_sql_count=True, **settings))
    async with AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=(peer, 4711)),
                    base_url="http://test",
                    headers=headers,
                )
            )
            for peer in peers
        ]
        yield opened
    await app.state.database.dispose()


async def statuses(client: httpx.AsyncClient, times: int, **kwargs: Any) -> list[int]:
    return [(await client.get(REST, **kwargs)).status_code for _ in range(times)]


def remaining_and_reset(response: httpx.Response) -> tuple[int, int]:
    assert response.headers["RateLimit-Policy"] == f'"default";q={LIMIT};w=60'
    match = RATELIMIT.fullmatch(response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return int(match[1]), int(match[2])


def assert_refusal_headers(response: httpx.Response) -> None:
    remaining, reset = remaining_and_reset(response)
    assert remaining == 0
    assert 0 < reset <= 60
    # draft-ietf-httpapi-ratelimit-headers-11 section 6: Retry-After not before the window ends.
    assert int(response.headers["Retry-After"]) == reset


async def test_each_peer_has_its_own_budget(database: Database) -> None:
    async with clients(database, ["192.0.2.1", "192.0.2.2"]) as (first, second):
        answers = [await first.get(REST) for _ in range(LIMIT)]
        assert [answer.status_code for answer in answers] == [200] * LIMIT
        assert [remaining_and_reset(answer)[0] for answer in answers] == [2, 1, 0]
        assert await statuses(first, 2) == [429, 429]
        assert await statuses(second, LIMIT + 1) == [200] * LIMIT + [429]


async def test_rest_refusal_is_a_problem_that_runs_nothing(
    database: Database, resolvers: Calls
) -> None:
    async with clients(database, ["192.0.2.1"]) as (client,):
        assert await statuses(client, LIMIT) == [200] * LIMIT
        assert len(resolvers) > 0
        resolvers.fields.clear()
        response = await client.post(
            "/api/v1/pause-records", json={"mentor_id": "mentor-1", "reason": "personal_leave"}
        )
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 429
    assert body["code"] == "RATE_LIMITED"
    assert "3 requests per 60 s" in body["detail"]
    assert_refusal_headers(response)
    assert resolvers.fields == []


async def test_graphql_refusal_is_a_coded_error_and_shares_the_budget(
    database: Database, resolvers: Calls
) -> None:
    async with clients(database, ["192.0.2.1"]) as (client,):
        assert await statuses(client, LIMIT - 1) == [200] * (LIMIT - 1)
        accepted = await client.post("/graphql", json=TYPENAME)  # the last of the budget
        assert accepted.status_code == 200
        assert remaining_and_reset(accepted)[0] == 0
        resolvers.fields.clear()
        posted = await client.post("/graphql", json=TYPENAME)
        fetched = await client.get("/graphql", params=TYPENAME)
    for response in (posted, fetched):
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert "data" not in body
        [error] = body["errors"]
        assert error["extensions"] == {
            "code": "RATE_LIMITED",
            "limit": LIMIT,
            "windowSeconds": 60,
            "retryAfter": int(response.headers["Retry-After"]),
        }
        assert_refusal_headers(response)
    assert resolvers.fields == []


async def test_the_trusted_proxy_header_names_the_client(database: Database) -> None:
    trusted = {"trusted_proxy_header": "X-Forwarded-For"}
    async with clients(database, ["10.0.0.1"], **trusted) as (proxy,):
        for client in ("198.51.100.7", "198.51.100.8"):
            header = {"X-Forwarded-For": client}
            assert await statuses(proxy, LIMIT + 1, headers=header) == [200] * LIMIT + [429]
        # Entries left of the proxy's own are the client's to forge: they change nothing.
        forged = [{"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.9"} for n in range(LIMIT)]
        assert [(await proxy.get(REST, headers=h)).status_code for h in forged] == [200] * LIMIT
        two_lines = [("X-Forwarded-For", "203.0.113.99"), ("X-Forwarded-For", "198.51.100.9")]
        assert (await proxy.get(REST, headers=two_lines)).status_code == 429
        # The proxy's own budget (requests without the header) is untouched.
        assert await statuses(proxy, 1) == [200]


@pytest.mark.parametrize(
    "hostile",
    [b"garbage", b"", b",", b"198.51.100.7,", b"999.1.1.1", b"\xff\xfe\x00", b"[::1", b"1" * 8000],
)
async def test_hostile_proxy_header_values_count_against_the_proxy(
    database: Database, hostile: bytes
) -> None:
    trusted = {"trusted_proxy_header": "X-Forwarded-For"}
    async with clients(database, ["10.0.0.1"], **trusted) as (proxy,):
        header = [(b"X-Forwarded-For", hostile)]
        assert await statuses(proxy, LIMIT + 1, headers=header) == [200] * LIMIT + [429]
        assert await statuses(proxy, 1) == [429]  # the same budget: the proxy's address
        assert await statuses(proxy, 1, headers={"X-Forwarded-For": "198.51.100.7"}) == [200]


async def test_a_forwarded_header_is_ignored_unless_trusted(database: Database) -> None:
    async with clients(database, ["192.0.2.1"]) as (client,):
        forged = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(LIMIT + 1)]
        assert [(await client.get(REST, headers=h)).status_code for h in forged] == [
            *[200] * LIMIT,
            429,
        ]


async def test_an_ipv6_client_is_its_64(database: Database) -> None:
    peers = ["2001:db8::1", "2001:db8::ffff:2", "2001:db8:0:1::1"]
    async with clients(database, peers) as (first, same_64, other_64):
        assert await statuses(first, LIMIT) == [200] * LIMIT
        assert await statuses(same_64, 1) == [429]
        assert await statuses(other_64, 1) == [200]


async def test_health_checks_are_exempt(database: Database) -> None:
    async with clients(database, ["192.0.2.1"]) as (client,):
        assert await statuses(client, LIMIT + 1) == [200] * LIMIT + [429]
        for path in ("/healthz", "/readyz") * 3:
            response = await client.get(path)
            assert response.status_code == 200
            assert "RateLimit" not in response.headers
        assert await statuses(client, 1) == [429]


def test_rate_limit_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().rate_limit_policy is None
    assert Settings(environment="production").rate_limit_policy == "600/minute"
    monkeypatch.setenv("RATE_LIMIT", "off")
    assert Settings(environment="production").rate_limit_policy is None
    monkeypatch.setenv("RATE_LIMIT", "10/second")
    assert Settings().rate_limit_policy == "10/second"
    for invalid in ("lots", "0/minute", "5/minute;100/hour"):
        with pytest.raises(ValidationError, match="not one rate limit"):
            Settings(rate_limit=invalid)
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", REDIS_URL)
    assert Settings().rate_limit_storage_url == "async+redis://127.0.0.1:6379/0"
    assert Settings(rate_limit_storage_url="memory://").rate_limit_storage_url == "async+memory://"
    with pytest.raises(ValidationError, match="use memory:// or redis://"):
        Settings(rate_limit_storage_url="mongodb://127.0.0.1")
    assert Settings().trusted_proxy_header is None
    monkeypatch.setenv("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    assert Settings().trusted_proxy_header == "X-Forwarded-For"
    with pytest.raises(ValidationError, match="not a header name"):
        Settings(trusted_proxy_header="X Forwarded: For")


@pytest.mark.parametrize(
    ("environment", "policy"), [("production", '"default";q=600;w=60'), ("development", None)]
)
async def test_production_limits_by_default_and_development_does_not(
    database: Database, environment: str, policy: str | None
) -> None:
    async with clients(database, ["192.0.2.1"], rate_limit=None, environment=environment) as (
        client,
    ):
        response = await client.get(REST)
    assert response.status_code == 200
    assert response.headers.get("RateLimit-Policy") == policy


@pytest.mark.parametrize(("environment", "status"), [("production", 404), ("development", 200)])
async def test_openapi_json_is_off_in_production(
    database: Database, environment: str, status: int
) -> None:
    async with clients(database, ["192.0.2.1"], environment=environment) as (client,):
        assert (await client.get("/openapi.json")).status_code == status
        assert (await client.get("/docs")).status_code == status


def outage_lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "mentor_gateway.ratelimit" and text in record.getMessage()
    ]


async def test_an_unreachable_storage_fails_open_with_one_log_line(
    database: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.ratelimit, "RETRY_STORAGE_SECONDS", 0.0)  # ask it every time
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with caplog.at_level(logging.WARNING, "mentor_gateway.ratelimit"):
        async with clients(database, ["192.0.2.1"], rate_limit_storage_url=nowhere) as (client,):
            answers = [await client.get(REST) for _ in range(2 * LIMIT)]
    assert [answer.status_code for answer in answers] == [200] * 2 * LIMIT
    assert all("RateLimit" not in answer.headers for answer in answers)
    assert len(outage_lines(caplog, "unreachable")) == 1


async def require_redis() -> None:
    """Fail loudly, never skip: this suite's Redis tests must run."""
    try:
        await coredis.Redis.from_url(REDIS_URL).ping()
    except (coredis.exceptions.RedisError, OSError) as error:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable: {error}")


@pytest.mark.parametrize("outage", ["refuse", "hang"])
async def test_the_limiter_recovers_when_its_storage_returns(
    database: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    outage: str,
) -> None:
    """Redis refusing connections, or hanging (only timeouts notice): requests pass unlimited
    and promptly; once it answers again the budget it kept holds, without a restart."""
    await require_redis()
    monkeypatch.setattr(api.ratelimit, "RETRY_STORAGE_SECONDS", 0.0)  # ask it every time
    async with TcpProxy("127.0.0.1", 6379) as proxy:
        settings = {
            "rate_limit_storage_url": f"redis://127.0.0.1:{proxy.port}/0",
            "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}",
        }
        with caplog.at_level(logging.WARNING, "mentor_gateway.ratelimit"):
            async with clients(database, ["192.0.2.1"], **settings) as (client,):
                assert await statuses(client, LIMIT + 1) == [200] * LIMIT + [429]
                await (proxy.refuse() if outage == "refuse" else proxy.hang())
                for _ in range(3):
                    started = time.monotonic()
                    assert await statuses(client, 1) == [200]  # open while Redis is out
                    assert time.monotonic() - started < 2 * api.ratelimit.STORAGE_TIMEOUT_SECONDS
                await proxy.restore()
                assert await statuses(client, 1) == [429]  # the budget Redis kept
    assert len(outage_lines(caplog, "unreachable")) == 1
    assert len(outage_lines(caplog, "answers again")) == 1


async def test_a_websocket_handshake_spends_the_budget(
    database: Database, database_url: str
) -> None:
    env = {"RATE_LIMIT": "2/minute"}
    with running_server(database_url, env=env, timeout=60) as base:
        url = base.replace("http", "ws", 1) + "/graphql"
        for expected_remaining in (1, 0):
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
                handshake = socket.response
                assert handshake is not None
                assert handshake.headers["RateLimit"].startswith(
                    f'"default";r={expected_remaining};'
                )
                await socket.send(json.dumps({"type": "connection_init"}))
                assert json.loads(await socket.recv())["type"] == "connection_ack"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        response = refused.value.response
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["RateLimit-Policy"] == '"default";q=2;w=60'
        body = json.loads(response.body or b"{}")
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get(REST)).status_code == 429  # one budget for both
            assert (await client.get("/healthz")).status_code == 200


async def test_a_server_without_denial_responses_gets_close_code_4429() -> None:
    async def never_called(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a refused handshake reached the app")

    limiter = api.ratelimit.ClientLimiter("1/minute", "async+memory://", "test")
    middleware = api.ratelimit.RateLimit(never_called, limiter=limiter, trusted_proxy_header=None)
    await limiter.hit("address:192.0.2.1")  # the budget is spent
    scope = {"type": "websocket", "path": "/graphql", "headers": [], "client": ("192.0.2.1", 1)}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 4429, "reason": "rate limited"}]


async def burst(base: str, requests: int) -> Counter[int]:
    """`requests` concurrent requests, each on a fresh connection (REST and GraphQL alike), so
    that the kernel hands them to whichever worker accepts first."""
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=fresh, timeout=30) as client:

        async def one(n: int) -> int:
            if n % 2:
                return (await client.post("/graphql", json=TYPENAME)).status_code
            return (await client.get(REST, params={"limit": 1})).status_code

        return Counter(await asyncio.gather(*(one(n) for n in range(requests))))


def two_workers(database_url: str, env: dict[str, str]) -> AbstractContextManager[str]:
    # Two workers start and stop slowly on a busy 2-core machine: generous time for both.
    return running_server(database_url, workers=2, env=env, timeout=120, stop_timeout=60)


async def test_one_budget_in_redis_across_two_workers(
    database: Database, database_url: str
) -> None:
    """With memory storage, two workers give a client two budgets (the control: this load
    reaches both processes); with Redis it gets exactly one."""
    await require_redis()
    budget = 20
    limited = {"RATE_LIMIT": f"{budget}/minute"}
    with two_workers(database_url, limited) as base:
        served: Counter[int] = Counter()
        for _ in range(30):
            served += await burst(base, 10)
            if served[200] > budget:
                break
        assert served[200] > budget, f"one worker served everything: {served}"

    shared = {
        **limited,
        "RATE_LIMIT_STORAGE_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    with two_workers(database_url, shared) as base:
        served = Counter()
        for _ in range(6):
            served += await burst(base, 10)
    assert served == Counter({200: budget, 429: 60 - budget})
