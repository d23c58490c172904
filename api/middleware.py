"""Request body size limit for every HTTP route (`/graphql` and REST): 413 past the limit.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it adds no task or stream
per request, and it counts a chunked body as it streams instead of buffering it first.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rest.problems import problem_response

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit.

    An HTTPException, so FastAPI's body parsing passes it on instead of calling it a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def too_large(limit: int) -> Response:
    """The 413 problem for a body over `limit` bytes."""
    return problem_response(413, BodyTooLarge(limit).detail, code=PAYLOAD_TOO_LARGE)


async def _too_large_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return too_large(exc.limit)


def limit_body_size(app: FastAPI, max_bytes: int) -> None:
    """Refuse request bodies over `max_bytes` on every route with a 413 problem."""
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)
    app.add_exception_handler(BodyTooLarge, _too_large_problem)


def declared_length(scope: Scope) -> int:
    """The request's Content-Length, or 0 if it sent none (or a malformed one)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the streamed count below still applies
    return 0


class BodySizeLimit:
    """Answers 413 to a request whose body (declared or streamed) exceeds `max_bytes`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_length(scope) > self.max_bytes:
            # Refused unread: a client announcing a huge body need not send it.
            await too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # FastAPI's exception handler answers it wherever a route reads the body; this
            # covers anything that lets it escape unanswered.
            if started:
                raise
            await too_large(self.max_bytes)(scope, receive, send)
