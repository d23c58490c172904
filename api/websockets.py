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

A stopping server (SIGTERM or SIGINT) closes every open socket with 1001 "going away" as its
shutdown begins, and any socket opened in the moment before it stops listening: see
`going_away_on_stop_signals` for why that takes a signal hook. Their operations end (contexts
closed) like those of a socket the client closed; clients reconnect, to another instance.

The upgrade request's own `Authorization` header is deliberately not a fallback: browsers cannot
send it, so it would be a second way in for other clients only, with its own precedence questions
(both sent, and different?) and a token in handshake logs; one place, the one graphql-ws clients
use (`connectionParams`), keeps the rule simple. A client sending only the header gets 4403 with
a reason naming the payload.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import aclosing, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
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
from api.metrics import WEBSOCKET_CONNECTIONS
from auth.principal import Principal
from auth.tokens import InvalidToken
from graph.context import Context

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
CLOSE_INVALID_MESSAGE = 4400
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_FORBIDDEN = 4403
CLOSE_GOING_AWAY = 1001  # RFC 6455 section 7.4.1: "such as a server going down"
GOING_AWAY_REASON = "Server shutting down"
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
        WEBSOCKET_CONNECTIONS.inc()
        return True

    def give_back(self) -> None:
        self.open -= 1
        WEBSOCKET_CONNECTIONS.dec()


class OpenConnections:
    """The process's open connections, every app's (a stop signal is the process's), so that a
    stopping server can close them all with 1001 "going away"."""

    def __init__(self) -> None:
        self.handlers: set[BoundedTransportWSHandler] = set()
        self.going_away = False
        self._closing: asyncio.Task[None] | None = None  # held: the loop keeps only weak refs

    def go_away(self, then: Callable[[], None]) -> None:
        """Close every open connection with 1001 (concurrently: a client that reads slowly
        holds up only its own), and from now on each new one as soon as it opens; call `then`
        once the close frames are out (at most CLOSING_SECONDS later), or at once if this is a
        second stop signal (the server's own handler then forces the exit)."""
        self.going_away = True
        if self._closing is not None:
            then()
            return
        self._closing = asyncio.get_running_loop().create_task(self._close_all(then))

    async def _close_all(self, then: Callable[[], None]) -> None:
        try:
            async with asyncio.timeout(CLOSING_SECONDS):
                await asyncio.gather(*(handler.go_away() for handler in list(self.handlers)))
        except TimeoutError:
            pass
        finally:
            then()


OPEN_CONNECTIONS = OpenConnections()
# How long a stop waits for its close frames before the server's own shutdown goes on.
CLOSING_SECONDS = 1.0
# The signals servers stop on (uvicorn's HANDLED_SIGNALS, less Windows' SIGBREAK).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def going_away_on_stop_signals() -> Iterator[None]:
    """While open (the app's lifespan), a stop signal first has the process's websockets closed
    with 1001, then runs the handler the server installed for it, unchanged.

    Why a signal hook: uvicorn's graceful shutdown (uvicorn/server.py `Server.shutdown`) stops
    listening, then calls `shutdown()` on each connection, which lets an HTTP request finish but
    closes a websocket at once with 1012 "service restart"; the app hears of the shutdown (the
    lifespan's) only once every connection is gone. ASGI has no "shutdown begins" event, and
    uvicorn leaves 1001 to the app (github.com/Kludex/uvicorn/pull/1753: "If the application
    wants, it can send a websocket.close with 1001"), so the signal that begins it is the moment:
    the sockets are closed on the loop's next turn, before uvicorn's next tick (0.1 s) acts on
    the signal. A `uvicorn.Server` subclass would do the same in one process only: the workers
    of `--workers N` each build uvicorn's own Server. This covers every way of running the app.

    Only a handler that a server installed is wrapped (a Python callable, not Python's own
    KeyboardInterrupt default), and only in the main thread (where signals are handled): under
    a test harness nothing changes. The server's handlers are put back when this closes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    servers = {
        number: handler
        for number in STOP_SIGNALS
        if callable(handler := signal.getsignal(number))
        and handler is not signal.default_int_handler
    }

    def on_stop(number: int, frame: FrameType | None) -> None:
        # The server hears of the signal only once the close frames are out: were it to start
        # its shutdown first (its next tick), it would close the sockets with 1012 itself.
        server = servers[signal.Signals(number)]
        loop.call_soon_threadsafe(OPEN_CONNECTIONS.go_away, lambda: server(number, frame))

    for number in servers:
        signal.signal(number, on_stop)
    try:
        yield
    finally:
        for number, handler in servers.items():
            if signal.getsignal(number) is on_stop:  # nobody has replaced it since
                signal.signal(number, handler)


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
        OPEN_CONNECTIONS.handlers.add(self)
        try:
            if OPEN_CONNECTIONS.going_away:  # opened after the stop signal: go elsewhere
                await self.go_away()
                return
            await super().handle()
        finally:
            OPEN_CONNECTIONS.handlers.discard(self)
            self.slots.give_back()

    async def go_away(self) -> None:
        """Close with 1001: the server is stopping. `handle` then ends as for a client's close
        (its operations ended, their contexts closed)."""
        # The client may have gone meanwhile (Starlette: WebSocketDisconnect; uvicorn: OSError).
        with suppress(WebSocketDisconnect, OSError, RuntimeError):
            await self.websocket.close(CLOSE_GOING_AWAY, GOING_AWAY_REASON)

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
