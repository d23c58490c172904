"""The one generic handler: every route of the table becomes a FastAPI endpoint through here.

It turns path, query, body and headers into GraphQL variables, runs the route's prepared
operation with a fresh per-request context, maps error codes to HTTP statuses and reshapes the
answer into the contract's envelope.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

import orjson
import strawberry
from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import BaseModel
from starlette.requests import HTTPConnection
from starlette.responses import Response

from api.rest.problems import Problem, problem_response
from api.rest.route import RestRoute, camel, operation_variables
from graph.context import Context
from graph.executor import Outcome, PreparedOperation

ContextFactory = Callable[[HTTPConnection], Context]

HTTP_STATUS = {
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 422,
    "GRAPHQL_VALIDATION_FAILED": 422,
    "CONFLICT": 409,
    "PRECONDITION_FAILED": 412,
}
ETAG_KEY = "_etag"  # documents select `_etag: etag`; it leaves as the ETag header
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (404, "No such record"),
        (409, "Conflicts with the current state"),
        (412, "If-Match does not match the current ETag"),
        (422, "Invalid input"),
    )
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


def _error_response(outcome: Outcome) -> Response:
    error = outcome.errors[0]
    code = (error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")
    status = HTTP_STATUS.get(code, 500)
    fields = (error.extensions or {}).get("fields") or {}
    errors = [{"field": name, "message": message} for name, message in fields.items()]
    if status == 500:
        return problem_response(500, error.message)
    return problem_response(status, error.message, errors=errors or None)


def _json(body: Any, status: int, etag: str | None = None) -> Response:
    headers = {"ETag": f'"{etag}"'} if etag else None
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
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
        parameters.append(inspect.Parameter(name, keyword, annotation=Annotated[str, Path()]))
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
                annotation=Annotated[str | None, Header(alias=header)],
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
        page = (getattr(query, "page", 1), getattr(query, "limit", 20)) if route.paginated else None
        context = make_context(request)
        try:
            outcome = await operation.run(context, variables)
        finally:
            await context.close()
        return _answer(route, outcome, variables, page)

    endpoint.__signature__ = _signature(route)  # type: ignore[attr-defined]
    endpoint.__name__ = route.result
    return endpoint


def build_router(
    routes: Iterable[RestRoute], schema: strawberry.Schema, make_context: ContextFactory
) -> APIRouter:
    """An APIRouter serving every route at its canonical and its doubled (catalogue) path."""
    router = APIRouter()
    for route in routes:
        endpoint = _endpoint(route, PreparedOperation(schema, route.operation), make_context)
        description = (
            f"Runs the GraphQL operation below. Also served at `{route.doubled_path}`.\n\n"
            f"```graphql\n{route.operation.strip()}\n```"
        )
        common: dict[str, Any] = {
            "methods": [route.method],
            "response_model": route.response,
            "status_code": route.status,
            "summary": route.summary,
            "responses": ERROR_RESPONSES,
        }
        router.add_api_route(
            route.path,
            endpoint,
            description=description,
            operation_id=route.operation_id,
            **common,
        )
        router.add_api_route(route.doubled_path, endpoint, include_in_schema=False, **common)
    return router
