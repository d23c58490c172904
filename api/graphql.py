"""`/graphql`: Strawberry's router with a per-request context, and GraphiQL that works offline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import strawberry
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter

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


class OfflineGraphQLRouter(GraphQLRouter[Context, None]):
    """Serves GraphiQL with its JS/CSS from this app, so it renders without internet access."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(
            offline_graphiql_html(self.graphql_ide_html, root_path + GRAPHIQL_ASSETS_PATH)
        )


def graphql_router(
    schema: strawberry.Schema, make_context: ContextFactory, *, graphiql: bool
) -> GraphQLRouter[Context, None]:
    # HTTPConnection, not Request: FastAPI injects it for websocket (subscription) requests too.
    async def context_getter(connection: HTTPConnection) -> AsyncIterator[Context]:
        context = make_context(connection)
        try:
            yield context
        finally:
            await context.close()

    return OfflineGraphQLRouter(
        schema,
        # FastAPI runs a generator dependency and closes it after the response; Strawberry's
        # annotation only lists plain and awaitable getters.
        context_getter=context_getter,  # type: ignore[arg-type]
        graphql_ide="graphiql" if graphiql else None,
    )
