"""Logs: one access line per request (api/logs.py), the request's id on every line of it and in
its X-Request-ID, JSON in production's format, and the served app (`mentor-gateway serve`)
writing nothing else: no uvicorn access line, no `server` banner."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
import websockets
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from typer.testing import CliRunner

import api.cli
from api.app import create_app
from api.logs import ACCESS_LOGGER, configure_logging
from api.settings import Settings
from auth.principal import Role
from graph.context import Context
from graph.executor import PreparedOperation
from tests.live import free_port, wait_until_healthy
from tests.tokens import TEST_SECRET, bearer

# One app and one event loop for the module's in-process tests.
in_module_loop = pytest.mark.asyncio(loop_scope="module")
MISSING_STATUS = "/api/v1/mentor-statuses/nobody"  # 404: no data needed, the operation runs
STATUS_ROUTE = "/api/v1/mentor-statuses/{mentor_id}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(module_database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(database_url=module_database_url, auth_jwt_secret=TEST_SECRET)
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # The error handler's 500 is re-raised after it is sent (for the server to log): not here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture(autouse=True)
def json_logs() -> None:
    """Logging is process-wide: each test starts from JSON lines at INFO."""
    configure_logging("json", "INFO")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def access_lines(text: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if line["logger"] == ACCESS_LOGGER]


def only_access_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = access_lines(capsys.readouterr().err)
    assert len(lines) == 1, lines
    return lines[0]


@in_module_loop
async def test_a_json_access_line_carries_the_request_id_the_response_shows(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get(
        MISSING_STATUS, headers=bearer(Role.COORDINATOR, subject="coordinator-9")
    )
    assert response.status_code == 404
    line = only_access_line(capsys)
    assert line["request_id"] == response.headers["x-request-id"]
    assert len(line["request_id"]) == 32  # made here: the client sent none
    assert line["level"] == "info"
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["route"]) == ("GET", MISSING_STATUS, STATUS_ROUTE)
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] > 0
    assert line["graphql_operation"] == "GetMentorStatus"  # the REST route's document
    assert line["caller"] == "coordinator-9"
    assert "trace_id" not in line  # nothing traced
    logged_at = datetime.fromisoformat(line["time"])  # ISO 8601, in UTC, and just now
    assert logged_at.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - logged_at).total_seconds()) < 60


@in_module_loop
async def test_graphql_lines_name_the_operation_that_ran(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    one = await client.post(
        "/graphql", json={"query": "query Named { __typename }"}, headers=bearer()
    )
    two = await client.post(
        "/graphql",
        json={"query": "query First { __typename } query Second { __typename }"}
        | {"operationName": "Second"},
        headers=bearer(),
    )
    anonymous = await client.post("/graphql", json={"query": "{ __typename }"}, headers=bearer())
    assert [r.status_code for r in (one, two, anonymous)] == [200, 200, 200]
    lines = access_lines(capsys.readouterr().err)
    assert [line["route"] for line in lines] == ["/graphql"] * 3
    assert [line.get("graphql_operation") for line in lines] == ["Named", "Second", None]
    assert [line["request_id"] for line in lines] == [
        r.headers["x-request-id"] for r in (one, two, anonymous)
    ]


@in_module_loop
async def test_the_audit_trail_records_the_request_id_the_response_shows(
    client: httpx.AsyncClient,
) -> None:
    create = 'mutation { createMentor(input: {id: "logs-audited", name: "M"}) { id } }'
    written = await client.post(
        "/graphql",
        json={"query": create},
        headers={**bearer(subject="logs-writer"), "X-Request-ID": "audited-1"},
    )
    assert "errors" not in written.json(), written.json()
    events = '{ auditEvents(actor: "logs-writer") { nodes { entityId requestId } } }'
    read = await client.post("/graphql", json={"query": events}, headers=bearer())
    nodes = read.json()["data"]["auditEvents"]["nodes"]
    assert nodes == [{"entityId": "logs-audited", "requestId": "audited-1"}]


@in_module_loop
async def test_a_client_request_id_is_kept_only_if_short_and_plain(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = ["abc-123_X.y:z", "a" * 64]
    replaced = [b"a" * 65, b"two words", b'quote"d', b"caf\xe9", b"slash/ed", b""]
    for value in [item.encode() for item in kept] + replaced:
        capsys.readouterr()
        response = await client.get("/healthz", headers=[(b"x-request-id", value)])
        returned = response.headers["x-request-id"]
        if value.decode("latin-1") in kept:
            assert returned == value.decode()
        else:
            assert returned != value.decode("latin-1"), value
            assert len(returned) == 32
        assert only_access_line(capsys)["request_id"] == returned


@in_module_loop
async def test_refused_and_unmatched_requests_are_logged_too(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    refused = await client.get(MISSING_STATUS)  # no token: authentication answers, no route ran
    unknown = await client.get("/no/such/path/42", headers=bearer())
    assert (refused.status_code, unknown.status_code) == (401, 404)
    lines = access_lines(capsys.readouterr().err)
    assert [(line["status"], line["route"]) for line in lines] == [
        (401, "<unmatched>"),
        (404, "<unmatched>"),
    ]
    assert "caller" not in lines[0]  # nobody was authenticated
    assert lines[0]["request_id"] == refused.headers["x-request-id"]


@in_module_loop
async def test_every_line_of_a_failing_request_carries_its_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Context, statement: Any) -> Any:
        raise RuntimeError("the resolver's bug")

    monkeypatch.setattr(Context, "read", broken)
    capsys.readouterr()
    graphql = await client.post(
        "/graphql",
        json={"query": '{ mentor(id: "m1") { name } }'},
        headers={**bearer(), "X-Request-ID": "graphql-500"},
    )
    rest = await client.get(MISSING_STATUS, headers={**bearer(), "X-Request-ID": "rest-500"})
    error = graphql.json()["errors"][0]
    assert error["extensions"] == {"requestId": "graphql-500", "code": "INTERNAL_SERVER_ERROR"}
    assert "quote request id graphql-500" in error["message"]
    assert rest.status_code == 500
    assert "quote request id rest-500" in rest.json()["detail"]
    lines = json_lines(capsys.readouterr().err)
    errors = [line for line in lines if line["level"] == "error"]
    assert [(line["logger"], line["request_id"]) for line in errors] == [
        ("mentor_gateway.errors", "graphql-500"),
        ("mentor_gateway.errors", "rest-500"),
    ]
    assert all("the resolver's bug" in line["exception"] for line in errors)
    assert [line["request_id"] for line in lines if line["logger"] == ACCESS_LOGGER] == [
        "graphql-500",
        "rest-500",
    ]


@in_module_loop
async def test_an_unexpected_exception_still_gets_its_id_and_headers(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside GraphQL (here: the executor itself), the app's error handler answers the 500
    outside every `add_middleware` middleware; the request id and headers still reach it."""

    async def broken(self: PreparedOperation, context: Context, variables: Any) -> Any:
        raise RuntimeError("the executor's bug")

    monkeypatch.setattr(PreparedOperation, "run", broken)
    capsys.readouterr()
    response = await client.get(MISSING_STATUS, headers={**bearer(), "X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "quote request id bug-1" in response.json()["detail"]
    lines = json_lines(capsys.readouterr().err)
    assert [(line["logger"], line["request_id"]) for line in lines if line["level"] == "error"] == [
        ("mentor_gateway.rest", "bug-1")
    ]
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    assert [(line["status"], line["route"]) for line in access] == [(500, STATUS_ROUTE)]


@in_module_loop
async def test_the_current_trace_id_is_logged(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    tracer = TracerProvider().get_tracer("tests")
    capsys.readouterr()
    with tracer.start_as_current_span("caller") as span:  # in-process: the app runs inside it
        await client.get("/healthz")
    assert only_access_line(capsys)["trace_id"] == format(span.get_span_context().trace_id, "032x")


@in_module_loop
async def test_log_level_drops_lines_below_it(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "WARNING")
    capsys.readouterr()
    assert (await client.get("/healthz")).status_code == 200
    assert access_lines(capsys.readouterr().err) == []


async def test_development_logs_readable_text(
    module_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(Settings(database_url=module_database_url))  # LOG_FORMAT unset: text
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            capsys.readouterr()
            response = await client.get("/healthz", headers={"X-Request-ID": "text-1"})
    finally:
        await app.state.database.dispose()
    assert response.headers["x-request-id"] == "text-1"
    lines = [line for line in capsys.readouterr().err.splitlines() if ACCESS_LOGGER in line]
    assert len(lines) == 1, lines
    assert not lines[0].startswith("{")
    for field in ("request", "request_id=text-1", "route=/healthz", "status=200"):
        assert field in lines[0]


def test_serve_turns_off_uvicorns_access_log_and_server_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multi-worker path (its workers build their apps where no test can reach them): what
    `serve` asks uvicorn for. The one-process path is served for real below."""
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **options: runs.append(options))
    monkeypatch.setenv("DATABASE_URL", "unused")  # `serve --workers` sets it for its workers
    previous = signal.getsignal(signal.SIGTERM)
    try:
        result = CliRunner().invoke(
            api.cli.cli,
            ["serve", "--workers", "2", "--database-url", f"sqlite:///{tmp_path}/serve.db"],
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 0, result.output
    assert len(runs) == 1
    assert runs[0]["workers"] == 2
    assert (runs[0]["server_header"], runs[0]["access_log"], runs[0]["log_config"]) == (
        False,
        False,
        None,
    )


# --- `mentor-gateway serve`, for real ---------------------------------------------------------


class Served:
    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log

    def lines_until(
        self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The server's log lines, once `done(lines)` holds (it logs after responding)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text()
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
            if done(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`mentor-gateway serve` on its own SQLite file (it migrates it), with JSON logs."""
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    log = folder / "stderr.log"
    environment = {
        **os.environ,
        "LOG_FORMAT": "json",
        "AUTH_JWT_SECRET": TEST_SECRET,  # and so no "no authentication" banner on stderr
        "DATABASE_URL": f"sqlite:///{folder}/served.db",
    }
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve"]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(
            process, base, 30, lambda: f"mentor-gateway serve did not start: {log.read_text()}"
        )
        yield Served(base, log)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_served_app_logs_only_json_lines_and_shows_no_server_banner(served: Served) -> None:
    response = httpx.get(
        served.base + MISSING_STATUS, headers={**bearer(), "X-Request-ID": "served-1"}
    )
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "served-1"
    assert "server" not in response.headers
    lines = served.lines_until(lambda lines: any(x.get("request_id") == "served-1" for x in lines))
    ours = [line for line in lines if line.get("request_id") == "served-1"]
    assert [(line["logger"], line["route"], line["status"]) for line in ours] == [
        (ACCESS_LOGGER, STATUS_ROUTE, 404)
    ]
    # Every line parsed as JSON (uvicorn's own too); none is uvicorn's access line.
    assert "uvicorn.error" in {line["logger"] for line in lines}
    assert "uvicorn.access" not in {line["logger"] for line in lines}


async def test_websockets_log_a_line_when_they_connect_and_when_they_close(
    served: Served,
) -> None:
    url = served.base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"X-Request-ID": "ws-1"},
    ) as connection:
        assert connection.response is not None
        assert connection.response.headers["x-request-id"] == "ws-1"
        init = {"type": "connection_init", "payload": bearer()}
        await connection.send(json.dumps(init))
        async with asyncio.timeout(10):
            assert json.loads(await connection.recv())["type"] == "connection_ack"
    lines = served.lines_until(lambda lines: any(x["event"] == "websocket closed" for x in lines))
    ours = [x for x in lines if x.get("request_id") == "ws-1" and x["logger"] == ACCESS_LOGGER]
    assert [(line["event"], line["route"]) for line in ours] == [
        ("websocket connected", "/graphql"),
        ("websocket closed", "/graphql"),
    ]
    assert ours[1]["close_code"] == 1000
    assert ours[1]["duration_ms"] > 0
