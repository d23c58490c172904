"""OpenTelemetry traces, configured only by the standard `OTEL_*` environment variables.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and
`OTEL_SDK_DISABLED` is not `true`): then nothing is instrumented and requests pay nothing. On,
each request gets a server span (FastAPI's instrumentation, named by route template; an incoming
W3C `traceparent` is continued), each GraphQL operation a span, on `/graphql` and the REST routes
alike (graph.tracing), and each SQL statement a span (SQLAlchemy's instrumentation: the
statement's text, never its parameters). Spans leave in batches over OTLP/HTTP (protobuf); the
rest (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`, ...) the SDK reads itself.

The tracer provider is the app's own, handed to each instrumentation, and never installed as
OpenTelemetry's process-global one: that can be set only once per process, and tests build many
apps. For the same reason the engine is instrumented through its `EngineTracer` rather than
`SQLAlchemyInstrumentor().instrument()`, which is a process-wide singleton that also patches
every engine created afterwards. (`FastAPIInstrumentor.instrument_app` is per app, but the first
call also patches Starlette's `BackgroundTask` for the whole process, with that app's tracer;
the gateway runs no background tasks.) The SDK is imported only when tracing is on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from graph.schema import GatewaySchema
from models.database import Database

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

DEFAULT_SERVICE_NAME = "mentor-gateway"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# Probes and scrapes arrive every few seconds and would bury the traces that matter; the
# instrumentation's own variables replace this list.
EXCLUDED_URL_VARIABLES = ("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS")
DEFAULT_EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled."""
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return not disabled and any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def install_tracing(
    app: FastAPI, *, schema: GatewaySchema, database: Database
) -> TracerProvider | None:
    """Trace `app` if the environment asks for it; the provider (also `app.state.tracer_provider`)
    is flushed and shut down when the app's lifespan ends."""
    app.state.tracer_provider = None
    if not tracing_enabled():
        return None  # without even importing the SDK (~0.2 s at start-up)
    # Imported here: a process that does not trace does not pay for importing them.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sql_version
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=_resource(app.version))
    # The exporter reads its endpoint, headers, timeout and compression from OTEL_EXPORTER_*.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    no_metrics = NoOpMeterProvider()  # metrics are Prometheus's (/metrics), not these
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        meter_provider=no_metrics,
        excluded_urls=_excluded_urls(),
        # A span per ASGI message (each websocket frame, each body chunk) says nothing the
        # server span does not, at a cost per message.
        exclude_spans=["receive", "send"],
    )
    # Listens on the engine's events (held by the engine, as long as it lives); its pool
    # gauge goes to the no-op meter.
    EngineTracer(  # type: ignore[no-untyped-call]
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", sql_version),
        database.engine.sync_engine,
        no_metrics.get_meter(__name__).create_up_down_counter("unused"),
    )
    schema.trace_operations(provider.get_tracer("mentor_gateway.graph", app.version))
    _shut_down_with_lifespan(app, provider)
    app.state.tracer_provider = provider
    return provider


def _resource(version: str) -> Resource:
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource

    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, else names the
    # service "unknown_service:<executable>".
    resource = Resource({SERVICE_VERSION: version}).merge(Resource.create())
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def _excluded_urls() -> str:
    for name in EXCLUDED_URL_VARIABLES:
        if name in os.environ:
            return os.environ[name]
    return DEFAULT_EXCLUDED_URLS


def _shut_down_with_lifespan(app: FastAPI, provider: TracerProvider) -> None:
    lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def traced_lifespan(app: Any) -> AsyncIterator[Any]:
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            # Exports what the batch still holds (bounded by OTEL_BSP_EXPORT_TIMEOUT), in a
            # thread: the export is a blocking HTTP request.
            await asyncio.to_thread(provider.shutdown)

    app.router.lifespan_context = traced_lifespan
