"""`/metrics` (api/metrics.py, graph/metrics.py): every series moves by exactly what was done.

One app for most of the module (the registry is the process's, so each test compares the scrape
after with the scrape before); a production app for METRICS_ALLOW; and two real uvicorn workers
in multiprocess mode, whose total must be the sum of what both answered, and whose websocket
gauges follow a socket up and down whichever worker holds it and whichever answers the scrape.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

import api.cli
from api.app import create_app
from api.metrics import MetricsAccess, forget_dead_workers
from api.settings import Settings
from auth.principal import Role
from graph.metrics import MAX_NAME_LENGTH, OTHER, OperationNames
from tests.api.test_websocket_limits import socket
from tests.live import running_server
from tests.tokens import TEST_SECRET, bearer

# One event loop for the module, as its app is the module's.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

LIMIT = 20  # the module app's rate limit per client a minute; each test has a client of its own
STATUS = "/api/v1/mentor-statuses/{mentor_id}"
METRICS_TOKEN = "scraper-token-0123456789"
COSTLY = (
    "query Costly($n: Int) { pauseRecords(first: $n) { nodes { mentor {"
    " pauseRecords(first: $n) { id } } } } }"
)
_peers = itertools.count(1)


class Scrape:
    """One `/metrics` answer, parsed."""

    def __init__(self, text: str) -> None:
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def __call__(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels (0 while the series does not exist)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, **headers: str) -> Scrape:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


@asynccontextmanager
async def client_of(app: FastAPI, peer: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` from `peer` (default: an address of its own, so a budget of its own)."""
    peer = peer or f"10.20.0.{next(_peers)}"
    transport = httpx.ASGITransport(app=app, client=(peer, 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# --- the app, once for the module -------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def metrics_app(module_database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=module_database_url, expose_sql_count=True, rate_limit=f"{LIMIT}/minute"
    )
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@pytest_asyncio.fixture(loop_scope="module")
async def http(metrics_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(metrics_app) as client:
        yield client


# --- HTTP -------------------------------------------------------------------------------------


@in_module_loop
async def test_requests_are_counted_once_each_under_their_route_template(
    http: httpx.AsyncClient,
) -> None:
    before = await scrape(http)
    for mentor_id in ("metrics-nobody-1", "metrics-nobody-2"):
        assert (await http.get(f"/api/v1/mentor-statuses/{mentor_id}")).status_code == 404
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/no/such/path/12345")).status_code == 404
    assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert moved("http_requests_total", method="GET", route=STATUS, status="404") == 2
    assert moved("http_request_duration_seconds_count", method="GET", route=STATUS) == 2
    assert moved("http_requests_total", method="GET", route="/healthz", status="200") == 1
    assert moved("http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert moved("http_requests_total", method="POST", route="/graphql", status="200") == 1
    # The scrape before counts as /metrics (the one after is counted once it has answered).
    assert moved("http_requests_total", method="GET", route="/metrics", status="200") == 1
    routes = {dict(labels).get("route") for (_, labels) in after.samples}
    assert not any(route and "metrics-nobody" in route for route in routes)
    assert "/no/such/path/12345" not in routes


@in_module_loop
async def test_an_unknown_method_is_one_label_whatever_its_name(http: httpx.AsyncClient) -> None:
    before = await scrape(http)
    for method in ("BREW", "PROPFIND"):
        await http.request(method, "/healthz")
    after = await scrape(http)
    labels = {"method": "OTHER", "route": "/healthz", "status": "405"}
    assert after("http_requests_total", **labels) - before("http_requests_total", **labels) == 2


# --- GraphQL ------------------------------------------------------------------------------------


@in_module_loop
async def test_graphql_operations_are_counted_by_name_and_type_and_errors_by_code(
    http: httpx.AsyncClient,
) -> None:
    named = 'query MetricsStatus { mentorStatus(mentorId: "metrics-nobody") { status } }'
    before = await scrape(http)
    for query in (named, named, "{ __typename }", "query MetricsBad { nope }", "query {"):
        assert (await http.post("/graphql", json={"query": query})).status_code == 200
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    operations = "graphql_operations_total"
    assert moved(operations, operation_name="MetricsStatus", operation_type="query") == 2
    assert moved("graphql_errors_total", operation_name="MetricsStatus", code="NOT_FOUND") == 2
    assert moved(operations, operation_name="<anonymous>", operation_type="query") == 1
    # A document that does not validate is counted, but not under the name it claims.
    assert moved(operations, operation_name="<invalid>", operation_type="query") == 1
    assert moved(operations, operation_name="<invalid>", operation_type="unknown") == 1
    errors = "graphql_errors_total"
    assert moved(errors, operation_name="<invalid>", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved(errors, operation_name="<invalid>", code="GRAPHQL_PARSE_FAILED") == 1
    assert not any(
        dict(labels).get("operation_name") == "MetricsBad" for _, labels in after.samples
    )


@in_module_loop
async def test_a_rest_route_is_counted_as_the_graphql_operation_it_runs(
    http: httpx.AsyncClient,
) -> None:
    before = await scrape(http)
    assert (await http.get("/api/v1/mentor-statuses/metrics-nobody")).status_code == 404
    after = await scrape(http)
    labels = {"operation_name": "GetMentorStatus", "operation_type": "query"}
    operations = "graphql_operations_total"
    assert after(operations, **labels) - before(operations, **labels) == 1
    errors = {"operation_name": "GetMentorStatus", "code": "NOT_FOUND"}
    assert after("graphql_errors_total", **errors) - before("graphql_errors_total", **errors) == 1


@in_module_loop
async def test_names_that_would_grow_the_series_are_bounded(http: httpx.AsyncClient) -> None:
    long_name = "Q" + "x" * MAX_NAME_LENGTH
    before = await scrape(http)
    response = await http.post("/graphql", json={"query": f"query {long_name} {{ __typename }}"})
    assert response.json()["data"] == {"__typename": "Query"}
    after = await scrape(http)
    labels = {"operation_name": OTHER, "operation_type": "query"}
    operations = "graphql_operations_total"
    assert after(operations, **labels) - before(operations, **labels) == 1
    # Past the distinct-name budget, new names share one label; admitted ones keep theirs.
    names = OperationNames(limit=2)
    assert [names.label(n) for n in ("A", "B", "C", "A", "D")] == ["A", "B", OTHER, "A", OTHER]


@in_module_loop
async def test_a_costly_operation_is_counted_as_refused(http: httpx.AsyncClient) -> None:
    before = await scrape(http)
    response = await http.post("/graphql", json={"query": COSTLY, "variables": {"n": 100}})
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    after = await scrape(http)
    assert after("query_cost_rejected_total") - before("query_cost_rejected_total") == 1
    refused = {"operation_name": "<invalid>", "code": "QUERY_TOO_COSTLY"}
    assert after("graphql_errors_total", **refused) - before("graphql_errors_total", **refused) == 1


@in_module_loop
async def test_rate_limited_requests_are_counted(http: httpx.AsyncClient) -> None:
    before = await scrape(http)  # /metrics is answered before the limit: it spends nothing
    statuses = [
        (await http.get("/api/v1/mentor-statuses/m-limited")).status_code for _ in range(LIMIT + 3)
    ]
    assert statuses.count(429) == 3
    after = await scrape(http)
    assert after("rate_limited_total") - before("rate_limited_total") == 3
    # Refused before routing: no template is known.
    labels = {"method": "GET", "route": "<unmatched>", "status": "429"}
    assert after("http_requests_total", **labels) - before("http_requests_total", **labels) == 3


# --- the database ---------------------------------------------------------------------------------


@in_module_loop
async def test_statements_are_counted_and_the_pool_followed(
    http: httpx.AsyncClient, metrics_app: FastAPI
) -> None:
    before = await scrape(http)
    query = '{ a: mentorStatus(mentorId: "m-a") { status } b: mentor(id: "m-b") { name } }'
    body = (await http.post("/graphql", json={"query": query})).json()
    after = await scrape(http)
    ran = body["extensions"]["sqlStatements"]  # EXPOSE_SQL_COUNT's own count
    assert ran >= 2
    assert after("db_statements_total") - before("db_statements_total") == ran
    assert after("db_pool_connections_in_use") == 0  # every request has given its connection back
    assert after("db_pool_connections_open") >= 1
    pool = metrics_app.state.database.engine.sync_engine.pool
    assert after("db_pool_connections_max") >= pool.size()


@in_module_loop
async def test_metrics_disabled_serves_no_route_and_counts_nothing(
    http: httpx.AsyncClient, module_database_url: str
) -> None:
    app = create_app(Settings(database_url=module_database_url, metrics_enabled=False))
    try:
        before = await scrape(http)
        async with client_of(app) as off:
            assert (await off.get("/metrics")).status_code == 404
            assert (await off.get("/api/v1/mentor-statuses/metrics-off")).status_code == 404
        after = await scrape(http)
    finally:
        await app.state.database.dispose()
    for name, labels in (
        ("http_requests_total", {"method": "GET", "route": STATUS, "status": "404"}),
        (
            "graphql_operations_total",
            {"operation_name": "GetMentorStatus", "operation_type": "query"},
        ),
        ("db_statements_total", {}),
    ):
        assert after(name, **labels) == before(name, **labels), name


# --- production: METRICS_ALLOW --------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def production_app(module_database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=module_database_url,
        environment="production",
        auth_jwt_secret=TEST_SECRET,
        metrics_allow=f"10.30.0.0/16, 2001:db8::7, token:{METRICS_TOKEN}",
        trusted_proxy_header="X-Forwarded-For",
    )
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@in_module_loop
async def test_production_serves_metrics_only_to_the_callers_metrics_allow_names(
    production_app: FastAPI,
) -> None:
    async def status(peer: str, **headers: str) -> int:
        async with client_of(production_app, peer) as client:
            return (await client.get("/metrics", headers=headers)).status_code

    assert await status("10.30.4.5") == 200  # in the allowed network, and no JWT needed
    assert await status("2001:db8::7") == 200
    assert await status("192.0.2.9", Authorization=f"Bearer {METRICS_TOKEN}") == 200
    assert await status("192.0.2.9", **{"X-Forwarded-For": "198.51.100.1, 10.30.0.1"}) == 200
    # Anyone else: what any path the app does not serve answers (401 without a token, 404 with).
    assert await status("192.0.2.9") == 401
    assert await status("192.0.2.9", Authorization="Bearer not-the-token-at-all") == 401
    assert await status("192.0.2.9", **bearer()) == 404
    assert await status("192.0.2.9", **{"X-Forwarded-For": "10.30.0.1, 198.51.100.1"}) == 401


@in_module_loop
async def test_a_forbidden_answer_is_counted_by_its_code(production_app: FastAPI) -> None:
    async with client_of(production_app, "10.30.0.2") as scraper:
        before = await scrape(scraper)
        mentor = bearer(Role.MENTOR, "metrics-mentor")
        async with client_of(production_app) as client:
            response = await client.get("/api/v1/mentor-statuses/metrics-other", headers=mentor)
        assert response.status_code == 403
        after = await scrape(scraper)
    labels = {"operation_name": "GetMentorStatus", "code": "FORBIDDEN"}
    assert after("graphql_errors_total", **labels) - before("graphql_errors_total", **labels) == 1


@pytest.mark.parametrize(
    ("allow", "problem"),
    [("token:short", "16+ characters"), ("10.0.0.0/8, intranet", "'intranet' is neither")],
)
@in_module_loop
async def test_a_bad_metrics_allow_is_refused_at_start(allow: str, problem: str) -> None:
    settings = Settings(environment="production", metrics_allow=allow)
    with pytest.raises(ValueError, match=re.escape(problem)):
        MetricsAccess.from_settings(settings)


# --- several workers ------------------------------------------------------------------------------


def test_serve_with_workers_gives_them_a_fresh_multiprocess_directory(
    module_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mentor-gateway serve --workers N`: the directory exists, empty, named in the environment
    the workers inherit, while uvicorn runs them; it is gone afterwards."""
    seen: dict[str, object] = {}

    def run(app: str, **options: object) -> None:
        named = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        seen.update(
            app=app, workers=options["workers"], directory=named, files=list(named.iterdir())
        )

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the command sets it for the workers
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # the command's SIGTERM handler
    result = CliRunner().invoke(
        api.cli.cli, ["serve", "--workers", "2", "--database-url", module_database_url]
    )
    assert result.exit_code == 0, result.output
    directory = seen["directory"]
    assert isinstance(directory, Path)
    assert directory.parent == tmp_path
    assert (seen["app"], seen["workers"], seen["files"]) == ("api.app:create_app", 2, [])
    assert not directory.exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_a_dead_workers_gauges_leave_the_sums_and_its_counters_stay(tmp_path: Path) -> None:
    """A worker that died (and was replaced) must not count its last connections forever."""
    dead = 4_194_304 + 1  # above Linux's largest pid: no such process
    for name in (
        f"gauge_livesum_{dead}.db",
        f"gauge_livesum_{os.getpid()}.db",
        f"counter_{dead}.db",
    ):
        (tmp_path / name).touch()
    forget_dead_workers(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",
        f"gauge_livesum_{os.getpid()}.db",
    ]


@dataclass(frozen=True)
class Workers:
    base: str
    directory: Path  # where they write their values


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str
) -> Iterator[Workers]:
    """Two uvicorn workers in multiprocess mode, as `serve --workers 2` starts them."""
    directory = tmp_path_factory.mktemp("multiprocess")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    # Two processes importing the app at once: slow on a busy machine.
    with running_server(module_database_url, workers=2, env=env, timeout=60) as base:
        yield Workers(base, directory)


def served_by_each_worker(directory: Path) -> dict[str, float]:
    """pid -> the STATUS 404s that worker counted, from its own file in the directory."""
    counted = {}
    for path in directory.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
        counted[path.stem.removeprefix("counter_")] = sum(
            sample.value
            for family in families
            for sample in family.samples
            if sample.name == "http_requests_total" and sample.labels.get("route") == STATUS
        )
    return counted


@in_module_loop
async def test_several_workers_add_up_to_one_total(workers: Workers) -> None:
    # A connection of its own for every request, several at once, so both workers take some.
    fresh = httpx.Limits(max_keepalive_connections=0)
    sent = 0
    async with httpx.AsyncClient(base_url=workers.base, limits=fresh) as client:
        for _ in range(20):
            batch = [client.get(f"/api/v1/mentor-statuses/m-{sent + i}") for i in range(10)]
            assert {r.status_code for r in await asyncio.gather(*batch)} == {404}
            sent += len(batch)
            if sum(1 for n in served_by_each_worker(workers.directory).values() if n) == 2:
                break
        # A worker counts a request once it has sent the answer: the last may still be counting.
        deadline = time.monotonic() + 10
        while sum((per_worker := served_by_each_worker(workers.directory)).values()) < sent:
            assert time.monotonic() < deadline, (per_worker, sent)
            await asyncio.sleep(0.02)
        assert sorted(n > 0 for n in per_worker.values()) == [True, True], per_worker
        total = (await scrape(client))(
            "http_requests_total", method="GET", route=STATUS, status="404"
        )
    assert total == sum(per_worker.values()) == sent


@in_module_loop
async def test_websocket_gauges_follow_a_socket_and_its_subscription(workers: Workers) -> None:
    async with httpx.AsyncClient(base_url=workers.base) as client:

        async def until(name: str, expected: float) -> None:
            deadline = time.monotonic() + 10
            while (value := (await scrape(client))(name)) != expected:
                assert time.monotonic() < deadline, (name, value, expected)
                await asyncio.sleep(0.05)

        await until("websocket_connections", 0)
        async with socket(workers.base) as ws:
            await until("websocket_connections", 1)
            await ws.subscribe("w", "subscription { mentorStatusChanged { status } }")
            await until("graphql_subscriptions", 1)
            await ws.send({"id": "w", "type": "complete"})
            await until("graphql_subscriptions", 0)
            await until("websocket_connections", 1)
        await until("websocket_connections", 0)
