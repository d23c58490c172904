"""Structured logs (structlog): one access line per request, and the request's id on every line.

`configure_logging` sends structlog's loggers and the standard library's (`mentor_gateway.*`,
uvicorn's) through one formatter: JSON lines (LOG_FORMAT=json, production's default) or readable
text (development's), on stderr, so a CLI command's stdout stays clean.

`RequestLog`, the outermost middleware (`log_requests`), gives each HTTP request and websocket
an id (the client's `X-Request-ID` when it is short and plain, else a new one), binds it to the
log context (structlog contextvars) so that every line logged while serving it carries it, puts
it in `scope["state"]` (the GraphQL context's `request_id`, audit rows), returns it as
`X-Request-ID`, and logs the access line once the response is sent. What the request ran binds
itself to the same context: the GraphQL operation's name (graph/errors.py `name_operation`).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any, Literal, TextIO

import orjson
import structlog
from fastapi import FastAPI
from opentelemetry import trace
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, clear_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

from api.authentication import PRINCIPAL_KEY
from api.routes import route_template
from api.settings import Settings
from graph.errors import REQUEST_ID_KEY

ACCESS_LOGGER = "mentor_gateway.access"
REQUEST_ID_HEADER = b"x-request-id"
# A client's id is kept only if it is this plain and short: it goes into every log line, audit
# rows and response headers, so it must not carry separators, quotes or megabytes.
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")

access_log = structlog.stdlib.get_logger(ACCESS_LOGGER)


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID if it is at most 64 of `A-Za-z0-9._:-`, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            if _CLIENT_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


def trace_id() -> str | None:
    """The current OpenTelemetry trace's id (32 hex digits), if a span is being recorded."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _add_trace_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    if "trace_id" not in event:
        current = trace_id()
        if current is not None:
            event["trace_id"] = current
    return event


def _dumps(value: Any, **options: Any) -> str:
    return orjson.dumps(value, **options).decode()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a line is logged (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """StreamHandler sets it on construction; the property above always wins."""


def configure_logging(
    log_format: Literal["text", "json"], level: str = "INFO", *, colors: bool | None = None
) -> None:
    """Route structlog and stdlib logging through one stderr handler in `log_format`.

    Idempotent: calling it again (one app per test) replaces the handler it installed before
    and leaves the others (pytest's) alone.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _add_trace_id,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # before any work, for lines below LOG_LEVEL
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: list[Processor]
    if log_format == "json":
        renderer = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ]
    else:
        # Plain tracebacks: the rich formatter would print every frame's locals (tokens too).
        renderer = [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty() if colors is None else colors,
                exception_formatter=structlog.dev.plain_traceback,
            )
        ]
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    # Run by plain `uvicorn` rather than `mentor-gateway serve`: its lines in this format too,
    # and no second access line (RequestLog's replaces it).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def _caller(scope: Scope) -> str | None:
    principal = scope.get("state", {}).get(PRINCIPAL_KEY)
    return getattr(principal, "subject", None)


def _begin(scope: Scope) -> str:
    """Give the request (or websocket) its id, in the log context and in its scope."""
    request_id = request_id_from(scope["headers"])
    clear_contextvars()
    bind_contextvars(**{REQUEST_ID_KEY: request_id})
    state: MutableMapping[str, Any] = scope.setdefault("state", {})
    state[REQUEST_ID_KEY] = request_id
    return request_id


def _present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class RequestLog:
    """Request ids and access lines for HTTP requests and websockets (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        header = (REQUEST_ID_HEADER, _begin(scope).encode("ascii"))
        status: int | None = None
        traced: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, traced
            if message["type"] == "http.response.start":
                status = message["status"]
                traced = trace_id()  # the server span may end before the line is logged
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500  # the ServerErrorMiddleware outside sends it
            raise
        finally:
            access_log.info(
                "request",
                **_present(
                    method=scope["method"],
                    path=scope["path"],
                    route=route_template(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    caller=_caller(scope),
                    trace_id=traced or trace_id(),
                ),
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        header = (REQUEST_ID_HEADER, _begin(scope).encode("ascii"))
        close_code: int | None = None
        refused: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal close_code, refused
            kind = message["type"]
            if kind == "websocket.accept":
                message = {**message, "headers": [*message.get("headers", ()), header]}
                access_log.info(
                    "websocket connected",
                    route=route_template(scope),
                    path=scope["path"],
                )
            elif kind == "websocket.close" and close_code is None:
                close_code = message.get("code", 1000)
            elif kind == "websocket.http.response.start":
                refused = message["status"]
            await send(message)

        async def receive_close() -> Message:
            nonlocal close_code
            message = await receive()
            if message["type"] == "websocket.disconnect" and close_code is None:
                close_code = message.get("code", 1005)
            return message

        try:
            await self.app(scope, receive_close, send_with_id)
        finally:
            access_log.info(
                "websocket closed",
                **_present(
                    path=scope["path"],
                    route=route_template(scope),
                    close_code=close_code,
                    status=refused,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                ),
            )


def outside_error_handling(app: FastAPI, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
    """Run `middleware` around Starlette's ServerErrorMiddleware, so that it also sees (and can
    add headers to) the 500 that the app's error handler sends for an unexpected exception,
    which `add_middleware`'s middleware, inside it, never does.

    The result is wrapped in a plain ServerErrorMiddleware again: OpenTelemetry's FastAPI
    instrumentation, applied before or after this, expects the stack to start with one.
    Applied twice, the later middleware runs first.
    """
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return ServerErrorMiddleware(middleware(build()))

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def log_requests(app: FastAPI, settings: Settings) -> None:
    """Configure logging from `settings` and give `app` request ids and access lines; call it
    after every other middleware is installed, so that its line covers them all."""
    configure_logging(settings.log_format_in_force, settings.log_level)
    outside_error_handling(app, RequestLog)
