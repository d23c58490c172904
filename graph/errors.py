"""Every GraphQL error leaves with an `extensions.code`; unexpected ones leave with nothing else.

Domain errors keep their message (written for clients); a database outage, wherever it
surfaced, is `SERVICE_UNAVAILABLE` (logged once per outage, not per error); anything else is
logged with the request's id and replaced by a generic message quoting it, so no stack trace
or SQL ever reaches a client.

The request's id, and the operation's name, live in the log context (structlog contextvars):
api/logs.py binds the id for each request, `ErrorCodes` and the REST executor the name, and every
line logged while serving the request (its access line too) carries both.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import BadInput, DomainError
from graph.limits import TOO_MANY_TOKENS
from models.database import database_unavailable

logger = logging.getLogger("mentor_gateway.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
REQUEST_ID_KEY = "request_id"  # in the log context (and the ASGI scope's `state`: api/logs.py)
OPERATION_KEY = "graphql_operation"
# graphql-core's only signal that MaxTokensLimiter stopped the parser is this message.
_TOKEN_LIMIT = "Syntax Error: Document contains more than"


def current_request_id() -> str | None:
    """The id of the request being served (api/logs.py), None outside one."""
    request_id = structlog.contextvars.get_contextvars().get(REQUEST_ID_KEY)
    return request_id if isinstance(request_id, str) else None


def name_operation(name: str | None) -> None:
    """Name the GraphQL operation being run in this request's log lines (its access line)."""
    if name:
        structlog.contextvars.bind_contextvars(**{OPERATION_KEY: name})


def _code_of(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if error.path is not None:
        return INTERNAL  # raised while resolving, and not by the domain: a bug, never input
    if error.message.startswith(_TOKEN_LIMIT):
        return TOO_MANY_TOKENS
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"  # variables that do not fit their declared types
    return "GRAPHQL_VALIDATION_FAILED"


def _outage_as_unavailable(error: GraphQLError) -> GraphQLError:
    """`error`, or SERVICE_UNAVAILABLE in its place if it says the database cannot answer."""
    original = error.original_error
    if original is None or (error.extensions or {}).get("code"):
        return error
    unavailable = database_unavailable(original)
    if unavailable is None:
        return error
    return GraphQLError(
        unavailable.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=unavailable,
        extensions={**(error.extensions or {}), "code": unavailable.code},
    )


def with_code(error: GraphQLError) -> GraphQLError:
    """The error a client may see: coded, and masked if it was not meant for clients."""
    error = _outage_as_unavailable(error)
    extensions = dict(error.extensions or {})
    code = extensions.get("code") or _code_of(error)
    message = error.message
    if code == INTERNAL:
        request_id = current_request_id() or uuid.uuid4().hex[:12]
        logger.error("unexpected error (request id %s)", request_id, exc_info=error.original_error)
        message = f"Unexpected error; quote request id {request_id} when reporting it."
        extensions = {"requestId": request_id}
    extensions["code"] = code
    if isinstance(error.original_error, BadInput) and error.original_error.fields:
        extensions["fields"] = error.original_error.fields
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error if code != INTERNAL else None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Codes (and, where needed, masks) every error of the operation, and names the operation
    in the request's log lines."""

    def on_execute(self) -> Iterator[None]:
        name_operation(self.execution_context.operation_name)
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        code_errors(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription (or another streamed operation) sends, coded alike."""
        code_errors(result)
        yield


def code_errors(result: Any) -> None:
    """Code every error of `result` not coded yet (each is logged and masked once at most)."""
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [error if _is_coded(error) else with_code(error) for error in errors]


def _is_coded(error: GraphQLError) -> bool:
    return bool((error.extensions or {}).get("code"))
