"""graphql-transport-ws at `/graphql`, bounded: how many sockets, how many operations on each, how
large a frame, and an answer in the protocol for every frame a client can send.

Strawberry's handler trusts each frame's shape (a JSON array or a `payload` string raises inside
the ASGI app, and the socket drops without a close code), decodes with `json.loads` (a deeply
nested frame is a RecursionError), closes the whole socket on one subscription's syntax error,
and counts subscriptions without a code. Here, per the protocol
(github.com/enisdenjo/graphql-ws, PROTOCOL.md):

- a frame over `max_message_bytes`: close 1009 (RFC 6455 "message too big"), before decoding;
- a frame that is not JSON, nested deeper than MAX_FRAME_DEPTH, or not a message of the
  protocol's shape: close 4400 (the protocol's "invalid message");
- a socket over `max_connections` in this process: close 4429 ("too many requests");
- a `subscribe` over `max_subscriptions` in flight on the socket: an `error` message for that id,
  code TOO_MANY_SUBSCRIPTIONS; the socket and its other operations go on;
- an operation that does not parse or validate (limits and cost included): an `error` message
  with the error's code, never a close.

Each operation (each `subscribe`: query, mutation or subscription) runs with a context of its
own (`Context.for_operation`), closed when it ends: the connection's context, which lives as long
as the socket, never opens a session. A subscription's context is renewed after each event, so no
event reads another's loader cache and no session is held while it waits for the next.

Deadlines are the schema's (graph/schema.py `GatewaySchema.stream`).

Authentication (README "Access control") happens in `connection_init`, since browsers cannot set
headers on a websocket: its payload carries `{"Authorization": "Bearer <token>"}` (the key in any
case), checked by the same Authenticator as HTTP requests. No token, or a bad one: close 4403
(the protocol's "Forbidden"), the reason saying why. The principal is the connection's, so every
operation on the socket (query, mutation, subscription) runs as it, under the one policy
(graph/access.py). When the token expires (`exp` plus the verifier's leeway), its operations are
ended, their contexts closed, and the socket is closed with 4403 "Token expired": the client
reconnects with a fresh token. Without auth settings (development) everyone is DEVELOPMENT_ADMIN,
whose token never expires: no payload is needed and no timer runs.

The upgrade request's own `Authorization` header is deliberately not a fallback: browsers cannot
send it, so it would be a second way in for other clients only, with its own precedence questions
(both sent, and different?) and a token in handshake logs; one place, the one graphql-ws clients
use (`connectionParams`), keeps the rule simple. A client sending only the header gets 4403 with
a reason naming the payload.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.fastapi import GraphQLRouter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.schema.schema import StreamResult
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from api.authentication import Authenticator
from auth.principal import Principal
from auth.tokens import InvalidToken
from graph.context import Context

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
CLOSE_INVALID_MESSAGE = 4400
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_FORBIDDEN = 4403
# RFC 6455 section 5.5: a close frame's payload is at most 125 bytes, 2 of them the code.
MAX_CLOSE_REASON_BYTES = 123
NO_TOKEN_REASON = 'Forbidden: send {"Authorization": "Bearer <token>"} in connection_init'
EXPIRED_REASON = "Token expired"
# No message of the protocol needs more: a subscribe is 4 levels above its variables, which the
# domain bounds well below this (metadata depth); deeper frames only exhaust recursion later.
MAX_FRAME_DEPTH = 64


@dataclass(frozen=True, kw_only=True)
class WebSocketLimits:
    """What websocket clients may hold; the defaults are the safe ones (api/settings.py)."""

    max_connections: int = 1_000
    max_subscriptions: int = 20
    max_message_bytes: int = 100 * 1024


class ConnectionSlots:
    """Open sockets of one app: a process-wide count (the event loop is single-threaded)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def give_back(self) -> None:
        self.open -= 1


class FrameRefused(Exception):
    """A frame answered by closing the socket with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _too_deep(value: object, limit: int) -> bool:
    """Whether `value` nests containers more than `limit` deep (iterative: no recursion)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children: Any = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def decode_frame(text: str, max_bytes: int) -> object:
    """A text frame's JSON, size checked first; raises FrameRefused or NonJsonMessageReceived.

    orjson refuses nesting past 1,024 levels itself (json.loads would recurse until a
    RecursionError); MAX_FRAME_DEPTH is then checked on the decoded value.
    """
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise FrameRefused(CLOSE_MESSAGE_TOO_BIG, f"Message larger than {max_bytes} bytes")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise NonJsonMessageReceived from error
    if _too_deep(value, MAX_FRAME_DEPTH):
        raise FrameRefused(
            CLOSE_INVALID_MESSAGE, f"Message nested deeper than {MAX_FRAME_DEPTH} levels"
        )
    return value


def message_problem(message: object) -> str | None:
    """Why `message` is not a graphql-transport-ws message Strawberry can handle, or None."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string 'type'"
    payload = message.get("payload")
    if kind in {"subscribe", "complete"}:
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return f"A '{kind}' message needs a non-empty string 'id'"
    if kind != "subscribe":
        if payload is not None and not isinstance(payload, dict):
            return f"A '{kind}' message's payload must be an object"
        return None
    if not isinstance(payload, dict):
        return "A 'subscribe' message needs an object payload"
    if not isinstance(payload.get("query"), str):
        return "A 'subscribe' payload needs a string 'query'"
    for name, expected, kind_name in (
        ("variables", dict, "an object"),
        ("extensions", dict, "an object"),
        ("operationName", str, "a string"),
    ):
        if payload.get(name) is not None and not isinstance(payload[name], expected):
            return f"A 'subscribe' payload's '{name}' must be {kind_name} or null"
    return None


class BoundedWebSocketAdapter(ASGIWebSocketAdapter):
    """Receives size-checked, depth-bounded frames; sends every message as a text frame, as
    graphql-transport-ws requires (ours are orjson bytes, which would go out as binary frames
    that clients refuse)."""

    max_message_bytes: ClassVar[int] = WebSocketLimits().max_message_bytes

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    yield decode_frame(text, self.max_message_bytes)
                except FrameRefused as refused:
                    await self.close(refused.code, refused.reason)
                    return
                except NonJsonMessageReceived:
                    if not ignore_parsing_errors:
                        raise
        except KeyError as error:  # Starlette's receive_text on a binary frame
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            return

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except (WebSocketDisconnect, RuntimeError) as error:
            # RuntimeError: Starlette's "send once a close message has been sent".
            raise WebSocketDisconnected from error


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, on a character boundary."""
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


def authorization_in(payload: Mapping[str, object]) -> str | None:
    """The Authorization value of a connection_init payload (its key in any case), or None for
    none; raises InvalidToken for one that is not a string, or for several keys (which to
    believe?)."""
    values = [value for key, value in payload.items() if key.lower() == "authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidToken("Send one Authorization in connection_init, not several")
    value = values[0]
    if not isinstance(value, str):
        raise InvalidToken("The Authorization value must be a string: Bearer <token>")
    return value


# The context of the operation whose task is running: `run_operation` sets it in that task (each
# operation has one, with its own copy of the context variables).
_operation_context: ContextVar[Context | None] = ContextVar("operation_context", default=None)


async def renewed_after_each(results: StreamResult, context: Context) -> StreamResult:
    """`results`, with `context` renewed once each result is sent, before the next is awaited."""
    async for result in results:
        yield result
        await context.renew()


class BoundedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler within `limits`, with a context per operation
    (see the module docstring)."""

    limits: ClassVar[WebSocketLimits] = WebSocketLimits()
    slots: ClassVar[ConnectionSlots] = ConnectionSlots(WebSocketLimits().max_connections)
    # None: connection_init is not checked and the connection's principal stays None.
    authenticator: ClassVar[Authenticator | None] = None
    # Instance state: the timer ending the connection when its token expires, and whether it has.
    _expiry: asyncio.Task[None] | None = None
    _expired: bool = False

    @property
    def context(self) -> Context:
        """Inside an operation's task, the operation's own context; elsewhere (connection_init,
        `on_ws_connect`) the connection's. Strawberry's `run_operation` streams with this."""
        operation_context = _operation_context.get()
        return self.connection_context if operation_context is None else operation_context

    @context.setter
    def context(self, value: Context) -> None:
        self.connection_context = value

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        context = self.connection_context.for_operation()
        _operation_context.set(context)
        try:
            await super().run_operation(operation)
        finally:
            await context.close()

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: StreamResult
    ) -> None:
        async with aclosing(renewed_after_each(result_source, self.context)) as results:
            await super()._send_result_stream(operation, results)

    async def handle(self) -> None:
        if not self.slots.take():
            await self.websocket.close(CLOSE_TOO_MANY_CONNECTIONS, "Too many connections")
            return
        try:
            await super().handle()
        finally:
            self.slots.give_back()

    async def shutdown(self) -> None:
        if self._expiry is not None:
            # Once fired, the timer is ending the operations itself: let it finish.
            if not self._expired:
                self._expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if (
            self.authenticator is None
            or self.connection_timed_out
            or self.connection_init_received
            or not isinstance(payload, dict)
        ):
            await super().handle_connection_init(message)  # Strawberry's: 4429, 4400, ...
            return
        # As Strawberry does, before anything is awaited: verifying may fetch the JWKS.
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        try:
            principal = await self.authenticator.principal_for(authorization_in(payload))
        except InvalidToken as error:
            await self._refuse(f"Forbidden: {error}")
            return
        if principal is None:
            await self._refuse(NO_TOKEN_REASON)
            return
        # Set before the ack: no operation runs without it.
        self.connection_context.principal = principal
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self._expire_with(principal)

    async def _refuse(self, reason: str) -> None:
        self.connection_init_received = True  # a second connection_init finds a closed socket
        await self.websocket.close(CLOSE_FORBIDDEN, close_reason(reason))

    def _expire_with(self, principal: Principal) -> None:
        """Arm the timer that ends the connection when `principal`'s token expires."""
        if principal.expires_at is None:
            return
        verifier = self.authenticator.verifier if self.authenticator else None
        leeway = verifier.rules.leeway_seconds if verifier else 0.0
        self._expiry = asyncio.create_task(self._end_at(principal.expires_at + leeway))
        self._expiry.add_done_callback(self._task_done)

    async def _end_at(self, deadline: float) -> None:
        """At `deadline` (epoch seconds): end every operation (their contexts closed, so no
        session outlives the token), then close the socket 4403; the client reconnects."""
        await asyncio.sleep(max(0.0, deadline - time.time()))
        self._expired = True
        tasks = [operation.task for operation in self.operations.values() if operation.task]
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        for task in tasks:
            with suppress(Exception, asyncio.CancelledError):
                await task
        # The client may have gone meanwhile (Starlette: WebSocketDisconnect; uvicorn: OSError).
        with suppress(WebSocketDisconnect, OSError, RuntimeError):
            await self.websocket.close(CLOSE_FORBIDDEN, EXPIRED_REASON)

    async def handle_message(self, message: Message) -> None:
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self._expired:  # read before the timer closed the socket: nothing runs as it now
            return
        # Strawberry's own checks (unacknowledged: 4401, a reused id: 4409) come first.
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= self.limits.max_subscriptions
        ):
            error = GraphQLError(
                f"At most {self.limits.max_subscriptions} operations may run at once on one"
                " connection; complete one first.",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        """Never close the socket for one operation's error: send it as an `error` message."""
        return None


def bound_websockets(
    router: GraphQLRouter[Context, None],
    limits: WebSocketLimits,
    authenticator: Authenticator | None = None,
) -> None:
    """Serve `router`'s websockets within `limits`, each connection_init authenticated by
    `authenticator` (None: not checked, no principal): graphql-transport-ws only (the legacy
    graphql-ws protocol, which nothing here documents, gets Strawberry's 4406)."""
    slots = ConnectionSlots(limits.max_connections)
    router.protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    router.max_subscriptions_per_connection = None  # counted, with a code, by the handler
    router.websocket_adapter_class = type(  # type: ignore[assignment]
        "AppWebSocketAdapter",
        (BoundedWebSocketAdapter,),
        {"max_message_bytes": limits.max_message_bytes},
    )
    router.graphql_transport_ws_handler_class = type(
        "AppTransportWSHandler",
        (BoundedTransportWSHandler,),
        {"limits": limits, "slots": slots, "authenticator": authenticator},
    )
