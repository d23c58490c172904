"""Every GraphQL error leaves with an `extensions.code`; unexpected ones leave with nothing else.

Domain errors keep their message (written for clients); a database outage, wherever it
surfaced, is `SERVICE_UNAVAILABLE` (logged once per outage, not per error); anything else is
logged with a request id and replaced by a generic message, so no stack trace or SQL ever
reaches a client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import BadInput, DomainError
from graph.limits import TOO_MANY_TOKENS
from models.database import database_unavailable

logger = logging.getLogger("mentor_gateway.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
# graphql-core's only signal that MaxTokensLimiter stopped the parser is this message.
_TOKEN_LIMIT = "Syntax Error: Document contains more than"


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
        request_id = uuid.uuid4().hex[:12]
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
    """Codes (and, where needed, masks) every error of the operation."""

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
