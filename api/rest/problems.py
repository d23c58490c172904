"""RFC 9457 problem details: the one shape of every REST error."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from graph.errors import current_request_id
from models.database import RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE, database_unavailable

logger = logging.getLogger("mentor_gateway.rest")

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    429: "Too many requests",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldProblem(BaseModel):
    field: str = Field(description="The offending field, dotted for nested ones.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="For 422: each invalid field and what is wrong with it."
    )
    code: str | None = Field(
        default=None,
        description="A machine-readable code, for limits (`PAYLOAD_TOO_LARGE`) and bodies that "
        "cannot be decoded (`BAD_REQUEST`).",
    )


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    """An RFC 9457 problem details response (`code` is an extension member, as the RFC allows)."""
    body = problem_body(status, detail, errors=errors, code=code)
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def problem_body(
    status: int,
    detail: str,
    *,
    errors: Sequence[Mapping[str, str]] | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The members of a problem details document."""
    slug = TITLES.get(status, "error").lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": f"urn:mentor-gateway:problem:{slug}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = list(errors)
    if code:
        body["code"] = code
    return body


def _field_name(location: Sequence[Any]) -> str:
    # FastAPI prefixes where the value came from ("body", "query", "path", "header").
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


# FastAPI reports a body that is not JSON as a validation error of type `json_invalid`; it is
# not an invalid field but an unreadable request: 400, like the body that is not UTF-8.
UNREADABLE_BODY = "BAD_REQUEST"


async def _validation_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return problem_response(400, "The request body is not valid JSON.", code=UNREADABLE_BODY)
    errors = [
        {"field": _field_name(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    return problem_response(422, "The request has invalid fields.", errors=errors)


async def _http_problem(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI's own 400 is a body it could not decode (not UTF-8, nested past the decoder).
    code = UNREADABLE_BODY if exc.status_code == 400 else None
    return problem_response(exc.status_code, str(exc.detail), headers=exc.headers, code=code)


def unavailable_problem(detail: str) -> Response:
    """The 503 of a database outage: coded, with the Retry-After that clients and proxies honour
    (they retry a 503, never a 500)."""
    return problem_response(
        503, detail, code=SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def _unexpected_problem(_: Request, exc: Exception) -> Response:
    unavailable = database_unavailable(exc)  # e.g. closing a session on a dropped connection
    if unavailable is not None:
        return unavailable_problem(unavailable.message)
    request_id = current_request_id() or uuid.uuid4().hex[:12]
    logger.error("unexpected error (request id %s)", request_id, exc_info=exc)
    return problem_response(
        500, f"Unexpected error; quote request id {request_id} when reporting it."
    )


def document_problems(app: FastAPI) -> None:
    """Make /openapi.json say what error responses are: `application/problem+json` Problems.

    FastAPI documents every response under the route's media type and its own 422 shape;
    the handlers above answer with neither.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        if status.startswith(("4", "5")):
                            response["content"] = content
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Exception, _unexpected_problem)
