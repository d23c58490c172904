"""The one generic handler: every route of the table becomes a FastAPI endpoint through here.

It turns path, query, body and headers into GraphQL variables, runs the route's prepared
operation with a fresh per-request context, maps error codes to HTTP statuses and reshapes the
answer into the contract's envelope.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

import strawberry
from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import BaseModel
from pydantic.alias_generators import to_snake
from starlette.requests import HTTPConnection
from starlette.responses import Response

from api.encoding import dump_json
from api.rest.problems import Problem, problem_response, unavailable_problem
from api.rest.route import RestRoute, camel, operation_variables
from domain.idempotency import MAX_KEY_LENGTH
from domain.validation import NO_NUL_PATTERN
from graph.access import FORBIDDEN, UNAUTHENTICATED
from graph.context import Context
from graph.cost import QUERY_TOO_COSTLY
from graph.executor import Outcome, PreparedOperation
from graph.limits import TIMEOUT
from graph.pagination import DEFAULT_PAGE_SIZE
from models.database import SERVICE_UNAVAILABLE

ContextFactory = Callable[[HTTPConnection], Context]

HTTP_STATUS = {
    UNAUTHENTICATED: 401,
    FORBIDDEN: 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 422,
    "GRAPHQL_VALIDATION_FAILED": 422,
    "CONFLICT": 409,
    "PRECONDITION_FAILED": 412,
    QUERY_TOO_COSTLY: 422,
    TIMEOUT: 503,
    SERVICE_UNAVAILABLE: 503,
}
# What the domain accepts in a header, declared so that /openapi.json says it too.
HEADER_PARAMS: dict[str, Any] = {
    "Idempotency-Key": Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH),
}
# Every method a client might send; a path answers the ones it lacks with 405 and its Allow.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
ETAG_KEY = "_etag"  # documents select `_etag: etag`; it leaves as the ETag header
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (401, "No bearer token, or one that is not valid (`WWW-Authenticate` says which)"),
        (403, "The caller's role may not do this, or not to this mentor (`FORBIDDEN`)"),
        (404, "No such record"),
        (409, "Conflicts with the current state"),
        (412, "If-Match does not match the current ETag"),
        (413, "The request body is too large"),
        (422, "Invalid input"),
        (429, "The client's rate limit is spent (`RATE_LIMITED`); retry after `Retry-After`"),
        (503, "The operation timed out, or the database is unavailable; retry later"),
    )
}
# FastAPI answers a body it cannot decode (not UTF-8) with 400 before the route runs.
BODY_ERROR_RESPONSES = {
    **ERROR_RESPONSES,
    400: {"model": Problem, "description": "The body is not UTF-8 JSON text"},
}


def parse_if_match(value: str | None) -> str | None:
    """The entity tag a client sent in If-Match (`"abc"`, or `*`); a weak tag never matches."""
    if value is None:
        return None
    value = value.strip()
    if value == "*":
        return value
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return value[1:-1]
    return f"unmatchable:{value}"  # weak or malformed: If-Match uses strong comparison


def _rest_name(field: str) -> str:
    """A field as the contract names it: `input.pauseReason` (a GraphQL variable path, from
    checks made before execution) is `pause_reason`; the domain's names pass unchanged."""
    return ".".join(to_snake(part) for part in field.removeprefix("input.").split("."))


def _error_response(outcome: Outcome) -> Response:
    error = outcome.errors[0]
    code = (error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")
    status = HTTP_STATUS.get(code, 500)
    fields = (error.extensions or {}).get("fields") or {}
    errors = [{"field": _rest_name(name), "message": text} for name, text in fields.items()]
    if status == 500:
        return problem_response(500, error.message)
    if code == UNAUTHENTICATED:
        headers = {"WWW-Authenticate": "Bearer"}
        return problem_response(401, error.message, code=code, headers=headers)
    if code == FORBIDDEN:
        return problem_response(403, error.message, code=code)
    if code == SERVICE_UNAVAILABLE:
        return unavailable_problem(error.message)
    if code == TIMEOUT:  # a limit, named like the GraphQL error, so clients can tell it apart
        return problem_response(503, error.message, code=code, headers={"Retry-After": "1"})
    if code == QUERY_TOO_COSTLY:  # a limit too: its code tells it apart from bad input
        return problem_response(422, error.message, code=code)
    return problem_response(status, error.message, errors=errors or None)


def _json(body: Any, status: int, etag: str | None = None) -> Response:
    headers = {"ETag": f'"{etag}"'} if etag else None
    return Response(
        dump_json(body), status_code=status, media_type="application/json", headers=headers
    )


def _answer(
    route: RestRoute, outcome: Outcome, variables: dict[str, Any], page: tuple[int, int] | None
) -> Response:
    if outcome.errors:
        return _error_response(outcome)
    assert outcome.data is not None
    result = outcome.data[route.result]
    if result is None:
        key = " ".join(f"'{variables[camel(name)]}'" for name in route.path_params)
        return problem_response(404, f"{route.not_found or 'Record'} {key} was not found")
    if route.paginated:
        assert page is not None
        pagination = {"page": page[0], "limit": page[1], "total": result["totalCount"]}
        return _json({"data": result["nodes"], "pagination": pagination}, route.status)
    etag = result.pop(ETAG_KEY, None)
    status = route.status_of(result) if route.status_of else route.status
    return _json(result, status, etag)


def _signature(route: RestRoute) -> inspect.Signature:
    """The parameters FastAPI reads (and documents) for this route."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    ]
    for name in route.path_params:
        path = Path(pattern=NO_NUL_PATTERN)
        parameters.append(inspect.Parameter(name, keyword, annotation=Annotated[str, path]))
    if route.query is not None:
        parameters.append(
            inspect.Parameter("query", keyword, annotation=Annotated[route.query, Query()])
        )
    if route.body is not None:
        parameters.append(inspect.Parameter("body", keyword, annotation=route.body))
    for header in route.headers:
        parameters.append(
            inspect.Parameter(
                header.lower().replace("-", "_"),
                keyword,
                annotation=Annotated[str | None, HEADER_PARAMS.get(header) or Header(alias=header)],
                default=None,
            )
        )
    return inspect.Signature(parameters)


def _endpoint(
    route: RestRoute, operation: PreparedOperation, make_context: ContextFactory
) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, **arguments: Any) -> Response:
        query: BaseModel | None = arguments.get("query")
        headers = {
            header: arguments.get(header.lower().replace("-", "_")) for header in route.headers
        }
        if "If-Match" in headers:
            headers["If-Match"] = parse_if_match(headers["If-Match"])
        variables = operation_variables(
            route,
            path={name: arguments[name] for name in route.path_params},
            query=query,
            body=arguments.get("body"),
            headers=headers,
        )
        # A list answered by a mutation (no page/limit) is one whole page.
        page = (
            (getattr(query, "page", 1), getattr(query, "limit", DEFAULT_PAGE_SIZE))
            if route.paginated
            else None
        )
        context = make_context(request)
        try:
            outcome = await operation.run(context, variables)
        finally:
            await context.close()
        return _answer(route, outcome, variables, page)

    endpoint.__signature__ = _signature(route)  # type: ignore[attr-defined]
    endpoint.__name__ = route.result
    return endpoint


def _method_not_allowed(allowed: str) -> Callable[[], Awaitable[Response]]:
    async def method_not_allowed() -> Response:
        return problem_response(405, "Method Not Allowed", headers={"Allow": allowed})

    return method_not_allowed


def _refuse_other_methods(router: APIRouter, methods_by_path: dict[str, set[str]]) -> None:
    """405 with an Allow header naming every method of the path (Starlette would name only
    the first route's, as each method is a route of its own)."""
    # Literal paths first: `/events` must answer for itself, not as `/{mentor_id}`.
    for path, methods in sorted(methods_by_path.items(), key=lambda item: item[0].count("{")):
        allowed = methods | {"HEAD"} if "GET" in methods else methods
        others = [method for method in HTTP_METHODS if method not in allowed]
        endpoint = _method_not_allowed(", ".join(m for m in HTTP_METHODS if m in allowed))
        router.add_api_route(path, endpoint, methods=others, include_in_schema=False)


def build_router(
    routes: Iterable[RestRoute],
    schema: strawberry.Schema,
    make_context: ContextFactory,
    *,
    timeout: float | None = None,
) -> APIRouter:
    """An APIRouter serving every route at its canonical and its doubled (catalogue) path;
    `timeout` (seconds) cancels an operation that runs longer (503)."""
    router = APIRouter()
    methods_by_path: dict[str, set[str]] = defaultdict(set)
    for route in routes:
        if not route.tag:  # every operation is grouped under its legacy service
            raise ValueError(f"{route.method} {route.path} has no tag; declare it with service()")
        methods_by_path[route.path].add(route.method)
        methods_by_path[route.doubled_path].add(route.method)
        operation = PreparedOperation(schema, route.operation, timeout=timeout)
        endpoint = _endpoint(route, operation, make_context)
        description = (
            f"Runs the GraphQL operation below. Also served at `{route.doubled_path}`.\n\n"
            f"```graphql\n{route.operation.strip()}\n```"
        )
        successes = {
            status: {"model": route.response, "description": description}
            for status, description in route.also.items()
        }
        common: dict[str, Any] = {
            "methods": [route.method],
            "response_model": route.response,
            "status_code": route.status,
            "summary": route.summary,
            "tags": [route.tag],
            "responses": {**(BODY_ERROR_RESPONSES if route.body else ERROR_RESPONSES), **successes},
        }
        router.add_api_route(
            route.path,
            endpoint,
            description=description,
            operation_id=route.operation_id,
            **common,
        )
        # The doubled path is not in /openapi.json, and the endpoint answers with a Response of
        # its own: the models would only be built (~5 ms a route, at every start) to go unused.
        router.add_api_route(
            route.doubled_path,
            endpoint,
            methods=[route.method],
            status_code=route.status,
            include_in_schema=False,
        )
    _refuse_other_methods(router, methods_by_path)
    return router
