"""Prometheus metrics at `GET /metrics` (prometheus-client; README "Deployment" lists the series).

- HTTP: every request, by method, route template and status, and its duration by method and
  route. The template is the route the app matched (`/api/v1/mentor-statuses/{mentor_id}`),
  read from the scope once the app has answered; a request no route took (an unknown path, or
  one answered before routing: 401, 429, a declared 413) is `<unmatched>`, and a method outside
  HTTP's usual ones `OTHER`, so neither ids nor scans become series.
- GraphQL operations and errors, and the cost refusals: graph/metrics.py.
- The database: statements sent, and each pool's connections (in use, open, at most).
- Websockets: open connections (api/websockets.py); rate-limited requests (api/ratelimit.py).

`METRICS_ENABLED=false` installs none of it: no route, no middleware, no listeners. In
production `/metrics` answers only the callers METRICS_ALLOW names (addresses or networks, and/or
`token:<secret>` sent as `Authorization: Bearer <secret>`, compared in constant time); anyone
else gets what any path the app does not serve gets (401 without a token, 404 with one), so the
endpoint is not even confirmed to exist. Development serves it to everyone. It is answered here,
before authentication and rate limiting: a scraper holds no identity-provider token, and its
own token is not a JWT.

Several workers (`mentor-gateway serve --workers N`): prometheus-client's multiprocess mode. The
command makes a fresh directory and names it in PROMETHEUS_MULTIPROC_DIR before the workers
start; each worker writes its values there and `/metrics`, whichever worker answers, adds them
up (gauges: over the live workers). One process without the variable keeps the normal registry
(with the process and Python collectors, which multiprocess mode does not offer).
"""

from __future__ import annotations

import glob
import hashlib
import hmac
import ipaddress
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.asgi import make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event
from sqlalchemy.pool import QueuePool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.clients import IPAddress, parse_address, proxied_entry
from api.routes import route_template
from api.settings import Settings

if TYPE_CHECKING:
    from graph.schema import GatewaySchema
    from models.database import Database

logger = logging.getLogger("mentor_gateway.metrics")
# A `_created` series beside every counter doubles the series for a timestamp Prometheus does
# not use (and multiprocess mode does not write): off, for the process.
disable_created_metrics()  # type: ignore[no-untyped-call]

METRICS_PATH = "/metrics"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
OTHER_METHOD = "OTHER"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TOKEN_PREFIX = "token:"
MIN_TOKEN_LENGTH = 16
# From a single-record GET (about a millisecond) to the request deadline (10 s by default).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to its last response byte, by method and route template.",
    ["method", "route"],
    buckets=DURATION_BUCKETS,
)
WEBSOCKET_CONNECTIONS = Gauge(
    "websocket_connections",
    "Websocket connections open at /graphql now.",
    multiprocess_mode="livesum",
)
RATE_LIMITED_REQUESTS = Counter(
    "rate_limited_total",
    "Requests and websocket handshakes refused with 429 for the client's rate limit.",
)
STATEMENTS = Counter("db_statements_total", "SQL statements sent to the database.")
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections lent out of the pool now.",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "db_pool_connections_open",
    "Database connections the pool holds open now (in use or idle).",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "db_pool_connections_max",
    "The most connections the pool will open (pool size plus overflow).",
    multiprocess_mode="livesum",
)


# --- HTTP ------------------------------------------------------------------------------------


# (method, route, status) -> the counter's child; (method, route) -> the histogram's. Bounded by
# the app's routes, so they are looked up once each and not per request.
_requests: dict[tuple[str, str, int], Any] = {}
_durations: dict[tuple[str, str], Any] = {}


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    counter = _requests.get((method, route, status))
    if counter is None:
        counter = _requests[method, route, status] = REQUESTS.labels(method, route, str(status))
    counter.inc()
    histogram = _durations.get((method, route))
    if histogram is None:
        histogram = _durations[method, route] = DURATION.labels(method, route)
    histogram.observe(seconds)


class HttpMetrics:
    """Counts and times every HTTP request; answers `GET /metrics` for the callers `access`
    lets in (everyone else's request goes on into the app, which serves no such path)."""

    def __init__(self, app: ASGIApp, *, access: MetricsAccess, exposition: ASGIApp) -> None:
        self.app = app
        self.access = access
        self.exposition = exposition
        # What a scrape's scope names as its route, for whoever labels requests by route.
        self.route = Route(METRICS_PATH, exposition, methods=["GET"], include_in_schema=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # unless the app starts a response: it raised
        served = (
            scope["path"] == METRICS_PATH
            and scope["method"] in ("GET", "HEAD")
            and self.access.allows(scope)
        )

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if served:
                scope["route"] = self.route
                await self.exposition(scope, receive, send_status)
            else:
                await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
            record_request(method, route_template(scope), status, perf_counter() - started)


# --- who may read /metrics ---------------------------------------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _digest(token: bytes) -> bytes:
    """What tokens are compared as: equal lengths, so the comparison does not reveal one."""
    return hashlib.sha256(token).digest()


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read /metrics: everyone (`open`), or callers from `networks` or with a bearer
    whose digest is in `tokens`. `proxy_header` (TRUSTED_PROXY_HEADER) names the client as it
    does for rate limits."""

    open: bool
    networks: tuple[IPNetwork, ...] = ()
    tokens: tuple[bytes, ...] = ()
    proxy_header: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsAccess:
        """Development: open. Production: METRICS_ALLOW, parsed (a ValueError names a bad entry)."""
        header = settings.trusted_proxy_header
        proxy_header = header.lower().encode() if header else None
        if not settings.is_production:
            return cls(open=True, proxy_header=proxy_header)
        networks: list[IPNetwork] = []
        tokens: list[bytes] = []
        for entry in (part.strip() for part in settings.metrics_allow.split(",")):
            if entry.startswith(TOKEN_PREFIX):
                token = entry.removeprefix(TOKEN_PREFIX)
                if len(token) < MIN_TOKEN_LENGTH:
                    raise ValueError(
                        f"METRICS_ALLOW: a token must be {MIN_TOKEN_LENGTH}+ characters"
                    )
                tokens.append(_digest(token.encode()))
            elif entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(
                        f"METRICS_ALLOW: {entry!r} is neither an address, a network"
                        " (10.0.0.0/8) nor token:<secret>"
                    ) from None
        if not networks and not tokens:
            logger.warning("METRICS_ALLOW names nobody: /metrics answers no one in production")
        return cls(
            open=False, networks=tuple(networks), tokens=tuple(tokens), proxy_header=proxy_header
        )

    def allows(self, scope: Scope) -> bool:
        if self.open:
            return True
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if self.tokens:
            authorization = next((v for k, v in headers if k == b"authorization"), b"")
            scheme, _, token = authorization.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                presented = _digest(token.strip())
                if any(hmac.compare_digest(presented, allowed) for allowed in self.tokens):
                    return True
        address = self._caller(scope)
        return address is not None and any(address in network for network in self.networks)

    def _caller(self, scope: Scope) -> IPAddress | None:
        """The trusted proxy's right-most entry when configured and present, else the peer."""
        if self.proxy_header is not None:
            entry = proxied_entry(scope, self.proxy_header)
            if entry is not None:
                return parse_address(entry)
        peer = scope.get("client")
        return parse_address(str(peer[0])) if peer else None


# --- the exposition, one process or several ------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(directory: str) -> None:
    """Drop the live gauges of workers that are gone (a worker that crashed and was replaced
    would otherwise count its last connections forever); their counters stay in the totals."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = Path(path).stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]


def exposition_app() -> ASGIApp:
    """prometheus-client's ASGI app: this process's registry, or every worker's values."""
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if not directory:
        served: ASGIApp = make_asgi_app(REGISTRY)
        return served
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    workers: ASGIApp = make_asgi_app(registry)

    async def all_workers(scope: Scope, receive: Receive, send: Send) -> None:
        forget_dead_workers(directory)
        await workers(scope, receive, send)

    return all_workers


@contextmanager
def multiprocess_directory() -> Iterator[Path]:
    """The directory the workers about to be started write their values to, named in
    PROMETHEUS_MULTIPROC_DIR (which they inherit): a fresh one, removed afterwards, unless the
    variable names one already (then emptied of old values first, as prometheus-client asks)."""
    named = os.environ.get(MULTIPROCESS_VARIABLE)
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="mentor-gateway-metrics-"))
    os.environ[MULTIPROCESS_VARIABLE] = str(path)
    try:
        yield path
    finally:
        del os.environ[MULTIPROCESS_VARIABLE]
        shutil.rmtree(path, ignore_errors=True)


# --- the database ---------------------------------------------------------------------------------

# The process's pool connection records lent out and open, every engine's: sets (not counts)
# because SQLAlchemy may check a record in without its checkout event having fired (a failed
# pre-ping reconnect), and a count would drift; a record's own state cannot.
_in_use: set[object] = set()
_open: set[object] = set()


def _statement(*_: Any) -> None:
    STATEMENTS.inc()


def _checked_out(_dbapi: Any, record: object, _proxy: Any) -> None:
    _in_use.add(record)
    POOL_IN_USE.set(len(_in_use))


def _checked_in(_dbapi: Any, record: object) -> None:
    _in_use.discard(record)
    POOL_IN_USE.set(len(_in_use))


def _connected(_dbapi: Any, record: object) -> None:
    _open.add(record)
    POOL_OPEN.set(len(_open))


def _closed(_dbapi: Any, record: object) -> None:
    _open.discard(record)
    POOL_OPEN.set(len(_open))


def _detached(dbapi: Any, record: object) -> None:
    """No longer the pool's: never checked in, nor closed by it."""
    _checked_in(dbapi, record)
    _closed(dbapi, record)


def instrument_database(database: Database) -> None:
    """Count `database`'s statements and follow its pool."""
    engine = database.engine.sync_engine
    listeners: dict[str, Callable[..., None]] = {
        "before_cursor_execute": _statement,
        "checkout": _checked_out,
        "checkin": _checked_in,
        "connect": _connected,
        "close": _closed,
        "detach": _detached,
    }
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    pool = engine.pool
    # Other pools (SQLite in memory: one connection) and an unlimited overflow state no bound.
    if isinstance(pool, QueuePool) and pool._max_overflow >= 0:  # it has no public reader
        most = pool.size() + pool._max_overflow
        POOL_MAX.inc(most)

        def disposed(_engine: Any) -> None:
            nonlocal most
            POOL_MAX.dec(most)
            most = 0  # the engine may be used (and disposed) again: it is uncounted once

        event.listen(engine, "engine_disposed", disposed)


# --- the app ------------------------------------------------------------------------------------


def install_metrics(
    app: FastAPI, *, settings: Settings, schema: GatewaySchema, database: Database
) -> None:
    """Metrics for `app` (nothing if METRICS_ENABLED is off). Add it after authentication and
    rate limiting, so that it runs before them: it times and counts their refusals too, and
    answers scrapes without a JWT."""
    if not settings.metrics_enabled:
        return
    access = MetricsAccess.from_settings(settings)
    schema.count_operations()
    instrument_database(database)
    app.add_middleware(HttpMetrics, access=access, exposition=exposition_app())
