"""`/graphql`: Strawberry's router with a per-request context, and GraphiQL that works offline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from traceback import walk_tb
from typing import Any

import strawberry
from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.authentication import Authenticator
from api.encoding import dump_json
from api.websockets import BoundedWebSocketAdapter, WebSocketLimits, bound_websockets
from graph.context import Context

ContextFactory = Callable[[HTTPConnection], Context]

# Where the vendored GraphiQL files live and the URL path the app mounts them at.
GRAPHIQL_ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
GRAPHIQL_ASSETS_PATH = "/graphql-assets"

# Every CDN URL in Strawberry's graphiql.html -> the byte-identical copy from the npm registry in
# GRAPHIQL_ASSETS_DIR (the template's `integrity` hashes match them, so they are kept). If a
# Strawberry upgrade changes these URLs, `offline_graphiql_html` raises instead of going online.
UNPKG_ASSETS: dict[str, str] = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}

_EXTERNAL_ASSET = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def offline_graphiql_html(template: str, assets_url: str) -> str:
    """Strawberry's GraphiQL page with its CDN assets served from `assets_url` instead."""
    html = template
    for cdn_url, filename in UNPKG_ASSETS.items():
        html = html.replace(cdn_url, f"{assets_url}/{filename}")
    if _EXTERNAL_ASSET.search(html):
        raise RuntimeError(
            "Strawberry's GraphiQL template loads an asset that is not vendored in "
            f"{GRAPHIQL_ASSETS_DIR}; update UNPKG_ASSETS and the vendored files."
        )
    return html


# Strawberry refuses malformed requests with a bare reason; these get a code of their own.
REQUEST_ERROR_CODES = {
    "Batching is not enabled": "BATCHING_DISABLED",
    "Too many operations": "TOO_MANY_OPERATIONS",
}
STATUS_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


# Strawberry decodes the body with `json.loads` and turns only JSONDecodeError into a 400; these
# other failures of that decoder are about the body too, not the server.
UNDECODABLE_BODY = "The request body is not UTF-8 JSON text that can be decoded"
_DECODER_FRAMES = {"parse_json", "decode_json"}  # strawberry.http.base.BaseView


def _undecodable_body(error: Exception) -> bool:
    """Whether `error` was raised decoding the request body (invalid UTF-8, nesting past the
    decoder's depth, an integer past Python's 4,300 digits), not later."""
    return isinstance(error, UnicodeDecodeError | RecursionError | ValueError) and any(
        frame.f_code.co_name in _DECODER_FRAMES for frame, _ in walk_tb(error.__traceback__)
    )


def request_error(error: HTTPException) -> Response:
    """A request Strawberry refused before running it, as a GraphQL error with a code."""
    code = REQUEST_ERROR_CODES.get(error.reason) or STATUS_CODES.get(
        error.status_code, "BAD_REQUEST"
    )
    # The reason may quote the client (an unknown operationName), lone surrogates included.
    message = error.reason.encode("utf-8", "backslashreplace").decode()
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(dump_json(body), error.status_code, media_type="application/json")


class OfflineGraphQLRouter(GraphQLRouter[Context, None]):
    """Serves GraphiQL with its JS/CSS from this app, so it renders without internet access;
    answers refused requests with coded errors, runs batches in order, and encodes with orjson
    (websocket messages as text frames, within limits: api/websockets.py)."""

    websocket_adapter_class = BoundedWebSocketAdapter

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(
            offline_graphiql_html(self.graphql_ide_html, root_path + GRAPHIQL_ASSETS_PATH)
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            return request_error(error)
        except (UnicodeDecodeError, RecursionError, ValueError) as error:
            if not _undecodable_body(error):
                raise
            return request_error(HTTPException(400, UNDECODABLE_BODY))

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        # Strawberry runs a batch concurrently, but its operations share one context, whose
        # database session cannot serve two statements at once: run them in order.
        results: list[ExecutionResult] = []
        for data in request_data:
            result = await self.execute_single(
                request, request_adapter, sub_response, context, root_value, data
            )
            results.append(result)
        return results

    def encode_json(self, data: object) -> bytes:
        return dump_json(data)


def graphql_router(
    schema: strawberry.Schema,
    make_context: ContextFactory,
    *,
    graphiql: bool,
    authenticator: Authenticator | None = None,
    websockets: WebSocketLimits | None = None,
) -> GraphQLRouter[Context, None]:
    # HTTPConnection, not Request: FastAPI injects it for websocket (subscription) requests too.
    # A websocket's context is the connection's: each operation runs with one of its own
    # (api/websockets.py), so this one opens no session.
    async def context_getter(connection: HTTPConnection) -> AsyncIterator[Context]:
        context = make_context(connection)
        try:
            yield context
        finally:
            await context.close()

    router = OfflineGraphQLRouter(
        schema,
        # FastAPI runs a generator dependency and closes it after the response; Strawberry's
        # annotation only lists plain and awaitable getters.
        context_getter=context_getter,  # type: ignore[arg-type]
        graphql_ide="graphiql" if graphiql else None,
    )
    bound_websockets(router, websockets or WebSocketLimits(), authenticator)
    return router
