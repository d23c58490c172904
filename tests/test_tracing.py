"""Traces (api/tracing.py, graph/tracing.py): what an OTLP collector receives from the app.

Calls carry a caller's W3C `traceparent`; the spans must continue that trace: the server span a
child of the caller's span, the GraphQL operation span a child of it (on `/graphql` and on a
REST route, which runs its operation without Strawberry's extensions), SQL spans below that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace

from api.app import create_app
from api.settings import Settings
from models.database import Database
from tests.factories import make_mentor
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan, running_receiver

CALLER_SPAN = "00f067aa0ba902b7"
REST_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
GRAPHQL_TRACE = "5bf92f3577b34da6a3ce929d0e0e4737"
INVALID_TRACE = "6bf92f3577b34da6a3ce929d0e0e4738"
NAMED_TRACE = "7bf92f3577b34da6a3ce929d0e0e4739"
OFF_TRACE = "8bf92f3577b34da6a3ce929d0e0e473a"
OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
)


def traceparent(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{CALLER_SPAN}-01"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def otel_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No OTEL_* variable from the machine running the tests."""
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _one(spans: list[ReceivedSpan], **fields: str) -> ReceivedSpan:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in fields.items())]
    assert len(found) == 1, (fields, spans)
    return found[0]


def _descends_from(span: ReceivedSpan, ancestor: ReceivedSpan, spans: list[ReceivedSpan]) -> bool:
    by_id = {s.span_id: s for s in spans}
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        if span.span_id == ancestor.span_id:
            return True
    return False


def _check_trace(
    receiver: OtlpReceiver, trace_id: str, *, server: str, route: str, operation: str
) -> list[ReceivedSpan]:
    spans = receiver.in_trace(trace_id)
    served = _one(spans, kind="SERVER")
    assert served.name == server
    assert served.attributes["http.route"] == route
    assert served.parent_span_id == CALLER_SPAN  # the caller's span, continued
    assert served.resource["service.name"] == "mentor-gateway"  # OTEL_SERVICE_NAME unset
    assert served.resource["deployment.environment"] == "test"
    ran = _one(spans, kind="INTERNAL", name=operation)
    assert ran.parent_span_id == served.span_id
    operation_type, operation_name = operation.split(" ")
    assert ran.attributes["graphql.operation.type"] == operation_type
    assert ran.attributes["graphql.operation.name"] == operation_name
    return spans


async def test_rest_and_graphql_calls_continue_the_callers_trace(
    settings: Settings,
    database: Database,
    otel_environment: pytest.MonkeyPatch,
    receiver: OtlpReceiver,
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    otel_environment.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")  # none leave before shutdown
    otel_environment.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
    await make_mentor(database, id="mentor-042")
    mentor_status = "query MentorStatus($id: ID!) { mentorStatus(mentorId: $id) { status } }"
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        rest = await client.get(
            "/api/v1/mentor-statuses/mentor-042", headers=traceparent(REST_TRACE)
        )
        assert rest.status_code == 200, rest.text
        graphql = await client.post(
            "/graphql",
            json={"query": mentor_status, "variables": {"id": "mentor-042"}},
            headers=traceparent(GRAPHQL_TRACE),
        )
        assert graphql.json()["data"]["mentorStatus"] is not None, graphql.text
        invalid = await client.post(
            "/graphql", json={"query": "query Broken { nope }"}, headers=traceparent(INVALID_TRACE)
        )
        assert invalid.json()["errors"], invalid.text
        assert receiver.in_trace(REST_TRACE) == []  # still in the batch
    # The lifespan's end flushed the batch (the engine was disposed there too).

    for trace_id, route, server, operation in [
        (
            REST_TRACE,
            "/api/v1/mentor-statuses/{mentor_id}",  # the template: ids never name spans
            "GET /api/v1/mentor-statuses/{mentor_id}",
            "query GetMentorStatus",  # the operation the route runs
        ),
        (GRAPHQL_TRACE, "/graphql", "POST /graphql", "query MentorStatus"),
    ]:
        spans = _check_trace(receiver, trace_id, server=server, route=route, operation=operation)
        ran = _one(spans, kind="INTERNAL", name=operation)
        assert ran.status == "UNSET"
        sql = [s for s in spans if s.kind == "CLIENT" and "db.statement" in s.attributes]
        assert sql, spans
        assert all(_descends_from(s, ran, spans) for s in sql)  # run by the operation
        # The statement's text, never its parameters.
        assert not any("mentor-042" in str(s.attributes) for s in sql)

    spans = _check_trace(
        receiver, INVALID_TRACE, server="POST /graphql", route="/graphql", operation="query Broken"
    )
    refused = _one(spans, kind="INTERNAL")
    assert (refused.status, refused.status_message) == ("ERROR", "GRAPHQL_VALIDATION_FAILED")
    assert not [s for s in spans if s.kind == "CLIENT"]


async def test_otel_service_name_names_the_service(
    settings: Settings, otel_environment: pytest.MonkeyPatch, receiver: OtlpReceiver
) -> None:
    otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    otel_environment.setenv("OTEL_SERVICE_NAME", "gateway-under-test")
    app = create_app(settings)
    try:
        async with _client(app) as client:
            response = await client.get("/api/v1/mentor-statuses", headers=traceparent(NAMED_TRACE))
            assert response.status_code == 200, response.text
        assert app.state.tracer_provider.force_flush()
    finally:
        app.state.tracer_provider.shutdown()
        await app.state.database.dispose()
    spans = receiver.in_trace(NAMED_TRACE)
    assert spans
    assert {span.resource["service.name"] for span in spans} == {"gateway-under-test"}


@pytest.mark.parametrize("disabled", [False, True], ids=["no endpoint", "sdk disabled"])
async def test_without_an_endpoint_nothing_is_traced(
    settings: Settings,
    otel_environment: pytest.MonkeyPatch,
    receiver: OtlpReceiver,
    disabled: bool,
) -> None:
    if disabled:  # the endpoint is named, but OTEL_SDK_DISABLED wins
        otel_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        otel_environment.setenv("OTEL_SDK_DISABLED", "true")
    app = create_app(settings)
    try:
        assert app.state.tracer_provider is None
        async with _client(app) as client:
            response = await client.get("/api/v1/mentor-statuses", headers=traceparent(OFF_TRACE))
            assert response.status_code == 200, response.text
        # Nothing wraps the app (FastAPIInstrumentor marks the apps it instruments).
        assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    finally:
        await app.state.database.dispose()
    # Nor did any app install a process-global provider (each keeps its own).
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
