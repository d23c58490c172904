"""Builds the FastAPI app: `/graphql`, the REST compatibility layer, health checks and docs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.authentication import PRINCIPAL_KEY, Authenticator, authenticate
from api.graphql import GRAPHIQL_ASSETS_DIR, GRAPHIQL_ASSETS_PATH, graphql_router
from api.headers import secure_responses
from api.logs import log_requests
from api.metrics import install_metrics
from api.middleware import limit_body_size
from api.ratelimit import limit_rate
from api.rest.problems import document_problems, install_problem_handlers, unavailable_problem
from api.rest.register import build_router
from api.rest.table import ROUTES
from api.settings import Settings
from api.tracing import install_tracing
from api.websockets import WebSocketLimits, going_away_on_stop_signals
from domain.idempotency import purge_periodically
from graph.broker import broker_for
from graph.context import Context, GraphConfig
from graph.errors import REQUEST_ID_KEY
from graph.schema import build_schema
from models.database import Database, database_unavailable

DESCRIPTION = """\
One gateway for peer-mentoring data. **GraphQL** at [`/graphql`](/graphql) (GraphiQL in a browser)
is the primary API; the legacy REST contracts below are served by running the same GraphQL
operations (each route's description shows its operation). Errors are RFC 9457 problem details.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # First: production without a token source refuses to start before anything is opened.
    authenticator = Authenticator.from_settings(settings)
    database = Database(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout_seconds,
        command_timeout=settings.database_command_timeout_seconds,
    )
    config = GraphConfig(timezone=settings.zone, expose_sql_count=settings.expose_sql_count)
    schema = build_schema(
        expose_sql_count=settings.expose_sql_count, limits=settings.graphql_limits()
    )
    broker = broker_for(settings.database_url)

    def make_context(connection: HTTPConnection) -> Context:
        # The middleware's principal; a websocket's comes later, from its connection_init.
        state = connection.scope.get("state", {})
        return Context(
            database=database,
            config=config,
            broker=broker,
            principal=state.get(PRINCIPAL_KEY),
            request_id=state.get(REQUEST_ID_KEY),  # api/logs.py: the X-Request-ID returned
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.start()
        # Start-up objects (schema, routes, prepared documents) live as long as the process:
        # keeping them out of the collector's passes shortens its pauses (docs/performance.md: p99).
        gc.freeze()
        # Shutdown: the stop signal has the websockets closed 1001 as it begins (uvicorn would
        # close them 1012 before this lifespan hears of it); the server lets in-flight requests
        # finish (SHUTDOWN_GRACE_SECONDS, api/cli.py); then the broker and the pools go.
        purging = asyncio.create_task(purge_periodically(database))  # expired Idempotency-Keys
        with going_away_on_stop_signals():
            yield
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging
        await broker.stop()
        await database.dispose()

    about: dict[str, Any] = {"title": "mentor-gateway", "version": "0.1.0", "lifespan": lifespan}
    if settings.is_production:
        # /docs and /openapi.json list every route's operation: production serves neither.
        # (FastAPIOffline insists on an /openapi.json, and offline docs have nothing to show.)
        app = FastAPI(**about, docs_url=None, redoc_url=None, openapi_url=None)
    else:
        app = FastAPIOffline(**about, description=DESCRIPTION, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.database = database
    app.state.broker = broker
    app.state.graph_config = config
    app.state.authenticator = authenticator
    # OTEL_* variables: a span around every middleware (it wraps the whole stack, wherever called).
    install_tracing(app, schema=schema, database=database)
    install_problem_handlers(app)
    limit_body_size(app, settings.max_body_bytes)
    authenticate(app, authenticator, development=not settings.is_production)
    limit_rate(  # added last, so it runs first: a refused request costs no body read
        app,
        limit=settings.rate_limit_policy,
        storage_url=settings.rate_limit_storage_url,
        key_prefix=settings.rate_limit_key_prefix,
        trusted_proxy_header=settings.trusted_proxy_header,
    )
    # CORS after the rate limit and authentication, so it answers preflights (no token) before
    # them; the security headers and the access log wrap even the error handler's 500s.
    secure_responses(app, settings)
    log_requests(app, settings)
    # Outside the rate limit and authentication: counts and times their refusals too, and
    # answers scrapes itself (METRICS_ALLOW, not a JWT).
    install_metrics(app, settings=settings, schema=schema, database=database)
    document_problems(app)
    app.include_router(
        graphql_router(
            schema,
            make_context,
            graphiql=not settings.is_production,
            authenticator=authenticator,
            websockets=WebSocketLimits(
                max_connections=settings.ws_max_connections,
                max_subscriptions=settings.ws_max_subscriptions_per_connection,
                max_message_bytes=settings.ws_max_message_bytes,
            ),
        ),
        prefix="/graphql",
        include_in_schema=False,
    )
    if not settings.is_production:  # GraphiQL's JS/CSS, served locally (works without internet)
        app.mount(
            GRAPHIQL_ASSETS_PATH, StaticFiles(directory=GRAPHIQL_ASSETS_DIR), "graphql-assets"
        )
    app.include_router(
        build_router(ROUTES, schema, make_context, timeout=settings.request_timeout_seconds)
    )

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database answers",
        responses={503: {"description": "The database does not answer"}},
    )
    async def readyz() -> Response:
        try:
            await database.ping()
        except Exception as error:  # any failure to reach the database means "not ready"
            database_unavailable(error)  # logs the outage (once) if it is one
            return unavailable_problem("The database does not answer.")
        return Response(b'{"status":"ready"}', media_type="application/json")

    return app
